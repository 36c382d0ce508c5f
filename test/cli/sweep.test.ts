/**
 * `vmmsim sweep`: a sweep of 120 small runs on 2 worker threads, both busy; killed midway and
 * restarted, it loses nothing and repeats nothing; shards merge to the same results; bad sweep
 * files give file:line:col and exit code 2. Runs the built CLI (npm test builds it first).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'vmmsim.js');

const SCENARIO = `name: small
host: { pcpus: 2 }
run: { time: 30ms }
vms:
  - { name: a, guest: cpu-bound, sched: { weight: 512 } }
  - { name: b, guest: io-bound }
  - { name: c, guest: interactive }
`;

/** The first-come-first-served policy of docs/scheduling.md, "Writing a policy". */
const FCFS = `export default function createPolicy(options) {
  const queue = [];
  return {
    name: 'fcfs',
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

function sweepFolder(seeds: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'vmmsim-sweep-'));
  writeFileSync(join(dir, 'small.yaml'), SCENARIO);
  writeFileSync(
    join(dir, 'sweep.yaml'),
    `scenario: small.yaml\nseed: 11\nseeds: ${seeds}\ngrid:\n  scheduler.policy: [round-robin, credit, credit2, cfs]\n  vms.a.sched.weight: [256, 1024]\n  costs.contextSwitch: [1us, 5us, 20us]\n`,
  );
  return dir;
}

interface Line {
  key: string;
  seed: number;
  worker: number;
  metrics: Record<string, number>;
}

function lines(dir: string, name = 'runs.jsonl'): Line[] {
  const file = join(dir, 'sweep.out', name);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => JSON.parse(line) as Line);
}

function sweep(dir: string, ...args: string[]) {
  return spawnSync(process.execPath, [BIN, 'sweep', join(dir, 'sweep.yaml'), ...args], { encoding: 'utf8' });
}

describe('vmmsim sweep', () => {
  it('completes 120 runs on 2 workers, both busy, each seed derived from its key', () => {
    const dir = sweepFolder(5);
    const result = sweep(dir, '--workers', '2');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const done = lines(dir);
    expect(done).toHaveLength(120);
    expect(new Set(done.map((line) => line.key)).size).toBe(120);
    const perWorker = new Map<number, number>();
    for (const line of done) perWorker.set(line.worker, (perWorker.get(line.worker) ?? 0) + 1);
    expect(perWorker.size).toBe(2);
    for (const count of perWorker.values()) expect(count).toBeGreaterThan(20);
    expect(readFileSync(join(dir, 'sweep.out', 'results.csv'), 'utf8').trim().split('\n')).toHaveLength(121);
    // Run again: nothing to do.
    expect(sweep(dir, '--workers', '2').stdout).toContain('120 already done, 0 to run');
  }, 60_000);

  it('loses nothing and repeats nothing when killed midway and restarted', async () => {
    const dir = sweepFolder(5);
    const child = spawn(process.execPath, [BIN, 'sweep', join(dir, 'sweep.yaml'), '--workers', '2'], { stdio: 'ignore' });
    await new Promise<void>((resolveWait, reject) => {
      const timer = setInterval(() => {
        if (lines(dir).length >= 25) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolveWait();
        }
      }, 5);
      child.on('exit', () => {
        clearInterval(timer);
        reject(new Error('the sweep finished before it could be interrupted'));
      });
    });
    await new Promise((resolveExit) => child.on('exit', resolveExit));
    const before = lines(dir);
    expect(before.length).toBeGreaterThanOrEqual(25);
    expect(before.length).toBeLessThan(120);
    const restart = sweep(dir, '--workers', '2');
    expect(restart.status).toBe(0);
    expect(restart.stdout).toContain(`${before.length} already done, ${120 - before.length} to run`);
    const after = lines(dir);
    expect(after).toHaveLength(120);
    expect(new Set(after.map((line) => line.key)).size).toBe(120);
    // The interrupted runs' results are the ones an uninterrupted sweep gives.
    const clean = sweepFolder(5);
    sweep(clean, '--workers', '1');
    const reference = new Map(lines(clean).map((line) => [line.key, line]));
    for (const line of after) {
      expect(line.seed).toBe(reference.get(line.key)?.seed);
      expect(line.metrics).toEqual(reference.get(line.key)?.metrics);
    }
  }, 60_000);

  it('runs shards separately and merges them into the full sweep', () => {
    const dir = sweepFolder(1);
    expect(sweep(dir, '--shard', '1/2', '--workers', '1').status).toBe(0);
    const partial = sweep(dir, '--merge');
    expect(partial.stdout).toContain('12/24 runs');
    expect(partial.status).toBe(1);
    expect(sweep(dir, '--shard', '2/2', '--workers', '1').status).toBe(0);
    const merged = sweep(dir, '--merge');
    expect(merged.status).toBe(0);
    expect(merged.stdout).toContain('24/24 runs');
    expect(lines(dir, 'runs-shard-1-of-2.jsonl')).toHaveLength(12);
  }, 60_000);

  it('runs a policy module of the grid as vmmsim run --policy does, and refuses one that does not load at its grid entry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmmsim-sweep-'));
    writeFileSync(join(dir, 'small.yaml'), SCENARIO);
    writeFileSync(join(dir, 'fcfs.js'), FCFS);
    writeFileSync(join(dir, 'sweep.yaml'), 'scenario: small.yaml\nseed: 11\nseeds: 2\ngrid:\n  scheduler.policy: [round-robin, ./fcfs.js]\n');
    const result = sweep(dir, '--workers', '2');
    expect(result.status, result.stderr).toBe(0);
    const done = lines(dir);
    expect(done.map((line) => line.key).sort()).toEqual(['scheduler.policy=./fcfs.js#0', 'scheduler.policy=./fcfs.js#1', 'scheduler.policy=round-robin#0', 'scheduler.policy=round-robin#1']);
    for (const line of done.filter((candidate) => candidate.key.includes('fcfs'))) {
      const alone = spawnSync(process.execPath, [BIN, 'run', join(dir, 'small.yaml'), '--policy', join(dir, 'fcfs.js'), '--seed', String(line.seed), '--json'], { encoding: 'utf8' });
      const system = (JSON.parse(alone.stdout) as { metrics: { scheduling: { policy: string; system: { contextSwitches: number; utilisation: number } } } }).metrics.scheduling;
      expect(system.policy).toBe('fcfs');
      expect([line.metrics.context_switches, line.metrics.utilisation]).toEqual([system.system.contextSwitches, system.system.utilisation]);
    }
    // The policy does change the runs: round-robin's 1 ms quantum switches more often than FCFS.
    expect(done.find((line) => line.key === 'scheduler.policy=round-robin#0')?.metrics).not.toEqual(done.find((line) => line.key === 'scheduler.policy=./fcfs.js#0')?.metrics);
    writeFileSync(join(dir, 'broken.js'), 'export default function (options) { return { name: "x" ;\n');
    writeFileSync(join(dir, 'sweep.yaml'), 'scenario: small.yaml\ngrid:\n  scheduler.policy:\n    - credit\n    - ./broken.js\n');
    const refused = sweep(dir);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/sweep\.yaml:5:7: grid\.scheduler\.policy .*broken\.js/);
  }, 60_000);

  it('reports a bad sweep file with file:line:col and exit code 2', () => {
    const dir = sweepFolder(1);
    writeFileSync(join(dir, 'sweep.yaml'), 'scenario: small.yaml\ngrid:\n  scheduler.policy: [credit, credt]\n');
    const result = sweep(dir);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/sweep\.yaml:3:3: grid\.scheduler\.policy: .*\n\s+scheduler\.policy: expected a scheduling policy.*'credt'/);
    writeFileSync(join(dir, 'sweep.yaml'), 'scenario: small.yaml\ngrid:\n  vms.zz.params.X: [1]\n');
    expect(sweep(dir).stderr).toMatch(/sweep\.yaml:3:3: grid\.vms\.zz\.params\.X: no VM named 'zz'/);
    expect(sweep(dir, '--shard', '0/2').status).toBe(2);
  });
});
