/**
 * A `vmmsim worker` thread: runs the jobs its process hands it, one at a time, with the scenario
 * and files that came with the job (from Redis, by hash), and posts back each run's result line.
 */
import { parentPort, threadId } from 'node:worker_threads';
import { deserialize } from 'node:v8';
import type { Scenario } from '../../core/scenario/schema.js';
import type { QueueJobData } from './queue.js';
import { runOne } from './runOne.js';

export interface ThreadRequest {
  readonly data: QueueJobData;
  readonly scenario: Uint8Array;
  readonly files: Readonly<Record<string, string>>;
}

parentPort?.on('message', (request: ThreadRequest) => {
  const scenario = deserialize(request.scenario) as Scenario;
  const readProgram = (path: string): string => {
    const text = request.files[path];
    if (text === undefined) throw new Error(`no file '${path}' came with the run (it was missing where the sweep was enqueued)`);
    return text;
  };
  parentPort?.postMessage(runOne(request.data, scenario, request.data.scenarioFile, readProgram, threadId));
});
