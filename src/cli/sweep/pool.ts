/**
 * Runs sweep tasks on worker threads and waits for them without an event loop turn (the CLI is
 * synchronous): the main thread sleeps on a shared counter with Atomics.wait and wakes when a run
 * finishes (or every 200 ms) to redraw the progress bar.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Scenario } from '../../core/scenario/schema.js';
import { SLOT_DONE, SLOT_FAILED, SLOT_STARTED, SLOT_WORKERS_DONE, SLOTS, type WorkerTask } from './protocol.js';

/** The compiled worker: next to this module in dist/, or dist/'s copy when running from src/ (tests). */
export function workerPath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return here.replace(/pool\.js$/, 'worker.js');
  return here.replace(/([\\/])src([\\/])cli([\\/])sweep([\\/])pool\.ts$/, '$1dist$2cli$3sweep$4worker.js');
}

export interface PoolProgress {
  readonly done: number;
  readonly total: number;
  readonly failed: number;
}

const START_TIMEOUT_MS = 60_000;

export function runPool(
  tasks: readonly WorkerTask[],
  scenarios: readonly Scenario[],
  scenarioFile: string,
  results: string,
  workers: number,
  onProgress: (progress: PoolProgress) => void,
): PoolProgress {
  const shared = new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT);
  const counters = new Int32Array(shared);
  const count = Math.max(1, Math.min(workers, tasks.length));
  const path = workerPath();
  for (let index = 0; index < count; index++) new Worker(path, { workerData: { tasks, scenarios, scenarioFile, results, shared } });
  const startedAt = Date.now();
  let shown = -1;
  for (;;) {
    const done = Atomics.load(counters, SLOT_DONE);
    if (done !== shown) {
      shown = done;
      onProgress({ done, total: tasks.length, failed: Atomics.load(counters, SLOT_FAILED) });
    }
    if (Atomics.load(counters, SLOT_WORKERS_DONE) >= count) break;
    if (Atomics.load(counters, SLOT_STARTED) < count && Date.now() - startedAt > START_TIMEOUT_MS) {
      throw new Error(`sweep: only ${Atomics.load(counters, SLOT_STARTED)} of ${count} workers started (is ${path} built? run npm run build)`);
    }
    Atomics.wait(counters, SLOT_DONE, done, 200);
  }
  return { done: Atomics.load(counters, SLOT_DONE), total: tasks.length, failed: Atomics.load(counters, SLOT_FAILED) };
}
