/**
 * `npm run bench:sweep`: the local sweep's speed-up from 1 to 2 worker threads, and the work queue's
 * cost per run (docs/sweeps.md) against a local sweep of the same 60 runs on one thread. Both are
 * ratios or differences measured in this process, alternating the variants (best of REPEAT), so a
 * busy machine slows each alike. The queue part needs redis-server (started here on a free port
 * with a temporary folder, and stopped); without it that part is skipped, saying so.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { createServer, connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { sweepCommand, type SweepOutcome } from '../cli/sweep.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'vmmsim.js');
const REPEAT = Number(process.env.BENCH_REPEAT ?? 2);
// Runs of about 0.2 s of wall time each: shorter ones measure a worker thread's start, not the sweep.
const RUN_TIME = process.env.BENCH_SWEEP_TIME ?? '20s';

const quiet = { stdout: { write: () => undefined }, stderr: { write: (text: string) => void process.stderr.write(text) }, tty: false };

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vmmsim-bench-sweep-'));
  writeFileSync(
    join(dir, 'small.yaml'),
    `name: small\nhost: { pcpus: 2 }\nrun: { time: ${RUN_TIME} }\nvms:\n  - { name: a, guest: cpu-bound, sched: { weight: 512 } }\n  - { name: b, guest: io-bound }\n  - { name: c, guest: interactive }\n`,
  );
  writeFileSync(join(dir, 'sweep.yaml'), 'scenario: small.yaml\nseed: 11\nseeds: 5\ngrid:\n  scheduler.policy: [round-robin, credit, credit2, cfs]\n  costs.contextSwitch: [1us, 5us, 20us]\n');
  return dir;
}

let outs = 0;
async function timed(dir: string, options: Record<string, string>): Promise<number> {
  const out = join(dir, `out-${outs++}`);
  const started = performance.now();
  const outcome: SweepOutcome = await sweepCommand(join(dir, 'sweep.yaml'), { ...options, out }, quiet);
  const ms = performance.now() - started;
  if (outcome.failed > 0 || outcome.missing > 0 || outcome.total !== 60) throw new Error(`bench sweep: ${JSON.stringify(outcome)}`);
  return ms;
}

/**
 * The CLI as a user runs it (process start included, alike for both variants). Asynchronous: the
 * event loop keeps reading the worker's output meanwhile (with spawnSync, the worker filled its
 * stdout pipe, blocked on a write, and the sweep waited for ever: the hang this bench had).
 */
async function timedCli(dir: string, args: readonly string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, 'sweep', join(dir, 'sweep.yaml'), '--out', join(dir, `out-${outs++}`), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const status = await new Promise<number | null>((done) => child.once('exit', done));
  const ms = performance.now() - started;
  if (status !== 0) throw new Error(`bench sweep: ${args.join(' ')}: exit ${status}: ${stderr}`);
  return ms;
}

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await check()) return;
    await new Promise((done) => setTimeout(done, 50));
  }
  throw new Error('bench sweep: timed out');
}

const listening = (port: number): Promise<boolean> =>
  new Promise((done) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.end();
      done(true);
    });
    socket.on('error', () => done(false));
  });

async function main(): Promise<void> {
  const dir = folder();
  console.log(`sweep bench: 60 runs of ${RUN_TIME} virtual time; ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg()[0].toFixed(1)}; best of ${REPEAT}`);
  const one: number[] = [];
  const two: number[] = [];
  for (let round = 0; round < REPEAT; round++) {
    one.push(await timed(dir, { workers: '1' }));
    two.push(await timed(dir, { workers: '2' }));
  }
  const best1 = Math.min(...one);
  const best2 = Math.min(...two);
  console.log(`local sweep, 1 worker:  ${best1.toFixed(0)} ms (${(best1 / 60).toFixed(1)} ms/run)`);
  console.log(`local sweep, 2 workers: ${best2.toFixed(0)} ms; speed-up ${(best1 / best2).toFixed(2)}x (aim >= 1.8x on 2 idle cores)`);

  const redisServer = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((path) => existsSync(path));
  if (redisServer === undefined) {
    console.log('queue overhead: SKIPPED, no redis-server (apt-get install redis-server)');
    return;
  }
  const port = await freePort();
  const redisDir = mkdtempSync(join(tmpdir(), 'vmmsim-bench-redis-'));
  const redis = spawn(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  let worker: ChildProcess | undefined;
  try {
    await until(() => listening(port));
    const local: number[] = [];
    const queued: number[] = [];
    for (let round = 0; round < REPEAT; round++) {
      local.push(await timedCli(dir, ['--workers', '1']));
      // A fresh database each round (a sweep already in the queue would run nothing), and a worker
      // on that database, started before the clock: one run at a time, the same work as the local
      // sweep on one thread, plus the queue. (The worker must watch the sweep's database: this
      // bench once started it on database 0 while the sweeps used 1, 2, 3, and waited for ever.)
      const queue = `redis://127.0.0.1:${port}/${round + 1}`;
      worker = spawn(process.execPath, [BIN, 'worker', '--queue', queue, '--concurrency', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((done) => worker?.stdout?.once('data', () => done()));
      worker.stdout?.resume(); // keep draining its output
      queued.push(await timedCli(dir, ['--queue', queue]));
      const exited = new Promise((done) => worker?.once('exit', done));
      worker.kill('SIGTERM');
      await exited;
      worker = undefined;
    }
    const bestLocal = Math.min(...local);
    const bestQueue = Math.min(...queued);
    console.log(`queue, 1 worker x 1:    ${bestQueue.toFixed(0)} ms vs local 1 worker ${bestLocal.toFixed(0)} ms: ${((bestQueue - bestLocal) / 60).toFixed(1)} ms overhead per run (${(bestQueue / bestLocal).toFixed(2)}x)`);
  } finally {
    worker?.kill('SIGTERM');
    redis.kill('SIGTERM');
    await new Promise((done) => redis.once('exit', done));
    rmSync(redisDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
