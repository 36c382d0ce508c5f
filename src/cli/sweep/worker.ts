/**
 * A sweep worker thread: claims runs one at a time from a shared counter (so the work spreads
 * over the workers however long each run takes), runs each with its metrics, appends one JSON
 * line per finished run to the results file, and counts it done. The runs' seeds and scenarios
 * come from the main thread; a worker adds nothing of its own to a run.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { threadId, workerData } from 'node:worker_threads';
import type { Scenario } from '../../core/scenario/schema.js';
import { SLOT_DONE, SLOT_FAILED, SLOT_NEXT, SLOT_STARTED, SLOT_WORKERS_DONE, type WorkerTask } from './protocol.js';
import { policyLoader, runOne } from './runOne.js';

interface WorkerInput {
  readonly tasks: readonly WorkerTask[];
  readonly scenarios: readonly Scenario[];
  readonly scenarioFile: string;
  readonly results: string;
  readonly shared: SharedArrayBuffer;
}

const input = workerData as WorkerInput;
const counters = new Int32Array(input.shared);
const folder = dirname(input.scenarioFile);
const readProgram = (path: string): string => readFileSync(resolve(folder, path), 'utf8');
const loadPolicy = policyLoader();
Atomics.add(counters, SLOT_STARTED, 1);

try {
for (;;) {
  const next = Atomics.add(counters, SLOT_NEXT, 1);
  if (next >= input.tasks.length) break;
  const task = input.tasks[next];
  const module = task.policyModule;
  const result = runOne(task, input.scenarios[task.scenario], input.scenarioFile, readProgram, threadId, module === undefined ? undefined : () => loadPolicy(module.file, module.sha256));
  if (result.error !== undefined) Atomics.add(counters, SLOT_FAILED, 1);
  const line = JSON.stringify(result);
  appendFileSync(input.results, line + '\n');
  Atomics.add(counters, SLOT_DONE, 1);
  Atomics.notify(counters, SLOT_DONE);
}
} finally {
  Atomics.add(counters, SLOT_WORKERS_DONE, 1);
  Atomics.notify(counters, SLOT_DONE);
}
