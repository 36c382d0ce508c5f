/**
 * `vmmsim sweep --queue` and `vmmsim worker` against a real Redis (Debian's redis-server, started
 * here on a free local port with a temporary folder, stopped at the end): two worker processes give
 * the local sweep's files byte for byte; a worker kill -9'd mid-sweep loses no run and counts none
 * twice; a second sweep enqueues nothing; Redis stopped mid-sweep makes both sides say so and exit
 * 1, and after a restart the sweep completes; a run that fails deterministically fails once.
 * Without redis-server this file FAILS, unless VMMSIM_NO_REDIS=1 (then it skips, loudly).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'vmmsim.js');
const REDIS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((path) => existsSync(path));
const SKIP = REDIS === undefined && process.env.VMMSIM_NO_REDIS === '1';
if (SKIP) console.warn('\n*** VMMSIM_NO_REDIS=1 and no redis-server: SKIPPING the queue sweep tests (test/cli/sweepQueue.test.ts) ***\n');

const SCENARIO = `name: small
host: { pcpus: 2 }
run: { time: 3ms }
vms:
  - { name: a, guest: cpu-bound, sched: { weight: 512 } }
  - { name: b, guest: io-bound }
  - { name: c, guest: interactive }
`;
const FILES = ['results.csv', 'summary.csv', 'summary.json'];
/** A first-in-first-out policy module (docs/scheduling.md, "Writing a policy"). */
const FIFO = `export default function createPolicy(options) {
  const queue = [];
  return {
    name: 'fifo',
    get waiting() { return queue.length; },
    enqueue(entity) { if (!queue.includes(entity)) queue.push(entity); },
    remove(entity) { const i = queue.indexOf(entity); if (i >= 0) queue.splice(i, 1); },
    pick() { const entity = queue.shift(); return entity && { entity, sliceNs: 1e9 }; },
    shouldPreempt() { return false; },
    extend() { return 1e9; },
    charge() {},
    snapshot() { return { queue: queue.map((entity) => entity.id) }; },
  };
}
`;
// Quick to give up on a lost Redis and to hand a dead worker's run to another.
const ENV = { ...process.env, VMMSIM_QUEUE_GRACE_MS: '1500', VMMSIM_QUEUE_LOCK_MS: '1500' };

let redis: ChildProcess | undefined;
let port = 0;
let redisDir = '';
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      server.close(() => done(address.port));
    });
  });
}

async function startRedis(): Promise<void> {
  if (REDIS === undefined) throw new Error('redis-server not found (apt-get install redis-server; or set VMMSIM_NO_REDIS=1 to skip these tests)');
  redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: 'ignore' });
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await canConnect()) return;
    await sleep(50);
  }
  throw new Error('redis-server did not start');
}

async function stopRedis(): Promise<void> {
  const process = redis;
  redis = undefined;
  if (process === undefined || process.exitCode !== null) return;
  const exited = new Promise((done) => process.once('exit', done));
  process.kill('SIGTERM');
  await exited;
}

async function canConnect(): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.end();
      done(true);
    });
    socket.on('error', () => done(false));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

function sweepFolder(extra = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'vmmsim-queue-'));
  writeFileSync(join(dir, 'small.yaml'), SCENARIO);
  // 12 grid points x 5 seeds = 60 runs.
  writeFileSync(join(dir, 'sweep.yaml'), `scenario: small.yaml\nseed: 11\nseeds: 5\ngrid:\n  scheduler.policy: [round-robin, credit, credit2, cfs]\n  costs.contextSwitch: [1us, 5us, 20us]\n${extra}`);
  return dir;
}

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: readonly string[]): { child: ChildProcess; done: Promise<Outcome> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: ENV });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Outcome>((finish) => child.on('exit', (status) => finish({ status, stdout, stderr })));
  return { child, done };
}

const url = (db: number): string => `redis://127.0.0.1:${port}/${db}`;
const worker = (db: number, concurrency = 1) => cli(['worker', '--queue', url(db), '--concurrency', String(concurrency)]);

/** The local sweep's files, the reference (every test's sweep is the same file). */
const local = new Map<string, string>();

function localSweep(): void {
  const dir = sweepFolder();
  const result = spawnSync(process.execPath, [BIN, 'sweep', join(dir, 'sweep.yaml'), '--workers', '2', '--out', join(dir, 'local')], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  for (const name of FILES) local.set(name, readFileSync(join(dir, 'local', name), 'utf8'));
}

function expectSameFiles(dir: string, out: string): void {
  for (const name of FILES) expect(readFileSync(join(dir, out, name), 'utf8'), name).toBe(local.get(name));
}

function queueLines(dir: string, out: string): { key: string; error?: string }[] {
  const file = join(dir, out, 'runs-queue.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { key: string; error?: string });
}

async function stopAll(list: readonly ChildProcess[]): Promise<void> {
  await Promise.all(list.filter((child) => child.exitCode === null && child.signalCode === null).map((child) => new Promise((done) => {
    child.once('exit', done);
    child.kill('SIGTERM');
  })));
}

async function doneCount(db: number, dir: string): Promise<number> {
  const { stdout } = await cli(['sweep', join(dir, 'sweep.yaml'), '--queue', url(db), '--out', join(dir, 'status'), '--status']).done;
  return Number(/(\d+) done/.exec(stdout)?.[1] ?? 0);
}

describe.skipIf(SKIP)('vmmsim sweep --queue (real Redis)', () => {
  beforeAll(async () => {
    port = await freePort();
    redisDir = mkdtempSync(join(tmpdir(), 'vmmsim-redis-'));
    await startRedis();
    localSweep();
  }, 30_000);

  afterAll(async () => {
    await stopAll(children);
    await stopRedis();
  });

  it('two worker processes give the local sweep byte for byte; a second sweep enqueues nothing and writes the same files', async () => {
    const dir = sweepFolder();
    const workers = [worker(1), worker(1)];
    const first = await cli(['sweep', join(dir, 'sweep.yaml'), '--queue', url(1), '--out', join(dir, 'q')]).done;
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/60 enqueued/);
    expectSameFiles(dir, 'q');
    expect(queueLines(dir, 'q')).toHaveLength(60);
    const again = await cli(['sweep', join(dir, 'sweep.yaml'), '--queue', url(1), '--out', join(dir, 'q2')]).done;
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/0 enqueued, 60 already in the queue/);
    expectSameFiles(dir, 'q2');
    await stopAll(workers.map((w) => w.child));
    const ran = await Promise.all(workers.map((w) => w.done));
    // Both workers took runs, and the 60 runs ran 60 times in all.
    const counts = ran.map((outcome) => Number(/(\d+) runs done/.exec(outcome.stdout)?.[1]));
    expect(counts.every((count) => count > 0), JSON.stringify(counts)).toBe(true);
    expect(counts[0] + counts[1]).toBe(60);
  }, 60_000);

  it('a worker kill -9ed mid-sweep loses no run and counts none twice', async () => {
    const dir = sweepFolder();
    const victim = worker(2);
    const survivor = worker(2);
    const sweep = cli(['sweep', join(dir, 'sweep.yaml'), '--queue', url(2), '--out', join(dir, 'q')]);
    while ((await doneCount(2, dir)) < 8) await sleep(100);
    victim.child.kill('SIGKILL');
    const outcome = await sweep.done;
    expect(outcome.status, outcome.stderr).toBe(0);
    const lines = queueLines(dir, 'q');
    expect(lines).toHaveLength(60);
    expect(new Set(lines.map((line) => line.key)).size).toBe(60);
    expectSameFiles(dir, 'q');
    await stopAll([survivor.child]);
  }, 60_000);

  it('Redis stopped mid-sweep: workers and the sweep say so and exit 1, keeping finished runs; restarted, the sweep completes', async () => {
    const dir = sweepFolder();
    const first = worker(3);
    const sweep = cli(['sweep', join(dir, 'sweep.yaml'), '--queue', url(3), '--out', join(dir, 'q')]);
    // The sweep appends each finished run as it sees it: watch that file closely (a `--status`
    // process per look is too slow now that 60 short runs take about a second).
    while (queueLines(dir, 'q').length < 8) await sleep(10);
    await stopRedis();
    const [workerOutcome, sweepOutcome] = await Promise.all([first.done, sweep.done]);
    expect(workerOutcome.status).toBe(1);
    expect(workerOutcome.stderr).toMatch(/lost Redis/);
    expect(sweepOutcome.status).toBe(1);
    expect(sweepOutcome.stderr).toMatch(/lost Redis/);
    const kept = queueLines(dir, 'q');
    expect(kept.length).toBeGreaterThanOrEqual(8);
    await startRedis();
    const second = worker(3);
    const resumed = await cli(['sweep', join(dir, 'sweep.yaml'), '--queue', url(3), '--out', join(dir, 'q')]).done;
    expect(resumed.status, resumed.stderr).toBe(0);
    expectSameFiles(dir, 'q');
    expect(new Set(queueLines(dir, 'q').map((line) => line.key)).size).toBe(60);
    await stopAll([second.child]);
  }, 60_000);

  it('policy modules travel with their jobs: a good one gives the local sweep\'s results, one that throws fails once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmmsim-queue-'));
    writeFileSync(join(dir, 'small.yaml'), SCENARIO);
    writeFileSync(join(dir, 'fifo.js'), FIFO);
    // Loads, then throws on its first pick: a deterministic failure of every run that uses it.
    writeFileSync(join(dir, 'explodes.js'), FIFO.replace("name: 'fifo',", "name: 'explodes',").replace('pick() {', "pick() { throw new Error('explodes.js: pick is broken');"));
    writeFileSync(join(dir, 'sweep.yaml'), 'scenario: small.yaml\nseed: 3\nseeds: 2\ngrid:\n  scheduler.policy: [./fifo.js, ./explodes.js]\n');
    const localRun = spawnSync(process.execPath, [BIN, 'sweep', join(dir, 'sweep.yaml'), '--out', join(dir, 'local'), '--workers', '1'], { encoding: 'utf8' });
    expect(localRun.status, localRun.stderr).toBe(1);
    // The worker runs in another folder: the modules can only come through Redis.
    const elsewhere = mkdtempSync(join(tmpdir(), 'vmmsim-queue-worker-'));
    const one = spawn(process.execPath, [BIN, 'worker', '--queue', url(5), '--concurrency', '1'], { env: ENV, cwd: elsewhere });
    children.push(one);
    let workerOut = '';
    one.stdout?.on('data', (chunk: Buffer) => (workerOut += chunk.toString()));
    const outcome = await cli(['sweep', join(dir, 'sweep.yaml'), '--queue', url(5), '--out', join(dir, 'q')]).done;
    expect(outcome.status, outcome.stderr).toBe(1);
    expect(outcome.stderr).toMatch(/2 runs failed/);
    const failed = queueLines(dir, 'q').filter((line) => line.error !== undefined);
    expect(failed.map((line) => line.key).sort()).toEqual(['scheduler.policy=./explodes.js#0', 'scheduler.policy=./explodes.js#1']);
    for (const line of failed) expect(line.error).toMatch(/explodes\.js: pick is broken/);
    for (const name of FILES) expect(readFileSync(join(dir, 'q', name), 'utf8'), name).toBe(readFileSync(join(dir, 'local', name), 'utf8'));
    await stopAll([one]);
    expect(workerOut).toMatch(/4 runs done, 2 failed/);
  }, 30_000);

  it('a run that fails deterministically fails once, its error in the results', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmmsim-queue-'));
    // Validation now reads every file a scenario names (programs, traces, workload CSVs), so a bad
    // file is refused before anything is enqueued. What fails on every worker alike is a damaged
    // job: here the trace's blob is overwritten in Redis after enqueuing, before any worker runs.
    const csv = 'burst_ns,sleep_ns\n100000,100000\n';
    writeFileSync(join(dir, 'bad.yaml'), 'name: bad\nhost: { pcpus: 1 }\nrun: { time: 1ms }\nvms:\n  - { name: a, trace: t.csv }\n');
    writeFileSync(join(dir, 't.csv'), csv);
    writeFileSync(join(dir, 'sweep.yaml'), 'scenario: bad.yaml\ngrid:\n  costs.contextSwitch: [1us]\n');
    const blob = `vmmsim:blob:${createHash('sha256').update(csv).digest('hex')}`;
    const sweeping = cli(['sweep', join(dir, 'sweep.yaml'), '--queue', url(4), '--out', join(dir, 'q')]).done;
    const { Redis } = await import('ioredis');
    const client = new Redis(port, '127.0.0.1', { db: 4 });
    for (let attempt = 0; attempt < 200 && (await client.exists(blob)) === 0; attempt++) await sleep(50);
    expect(await client.exists(blob)).toBe(1);
    await client.set(blob, 'burst_ns,sleep_ns\n1,1\n');
    await client.quit();
    const one = worker(4);
    const outcome = await sweeping;
    expect(outcome.status).toBe(1);
    expect(outcome.stderr).toMatch(/1 runs failed/);
    const lines = queueLines(dir, 'q');
    expect(lines).toHaveLength(1);
    expect(lines[0].error).toMatch(/content does not match its hash/);
    await stopAll([one.child]);
    expect((await one.done).stdout).toMatch(/1 runs done, 1 failed/);
  }, 30_000);
});
