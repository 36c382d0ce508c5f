/**
 * A `vmmsim worker` thread: runs the jobs its process hands it, one at a time, with the scenario
 * and files that came with the job (from Redis, by hash), and posts back each run's result line.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parentPort, threadId } from 'node:worker_threads';
import { deserialize } from 'node:v8';
import type { Scenario } from '../../core/scenario/schema.js';
import type { QueueJobData } from './queue.js';
import { policyLoader, runOne } from './runOne.js';

export interface ThreadRequest {
  readonly data: QueueJobData;
  readonly scenario: Uint8Array;
  readonly files: Readonly<Record<string, string>>;
  /** The policy module's bytes, when the job names one (data.policy). */
  readonly policy?: Uint8Array;
}

const loadPolicy = policyLoader();

/**
 * A module must be a file to be loaded: written once under the temporary folder, in a folder of
 * its hash, with its own file name (its extension decides how Node loads it).
 */
function policyFile(path: string, sha256: string, bytes: Uint8Array): string {
  const folder = join(tmpdir(), `vmmsim-policy-${sha256.slice(0, 32)}`);
  const file = join(folder, basename(path));
  if (!existsSync(file)) {
    mkdirSync(folder, { recursive: true });
    writeFileSync(file, bytes);
  }
  return file;
}

parentPort?.on('message', (request: ThreadRequest) => {
  const scenario = deserialize(request.scenario) as Scenario;
  const readProgram = (path: string): string => {
    const text = request.files[path];
    if (text === undefined) throw new Error(`no file '${path}' came with the run (it was missing where the sweep was enqueued)`);
    return text;
  };
  const module = request.data.policy;
  const bytes = request.policy;
  const policy = module === undefined || bytes === undefined ? undefined : () => loadPolicy(policyFile(module.path, module.sha256, bytes), module.sha256);
  parentPort?.postMessage(runOne(request.data, scenario, request.data.scenarioFile, readProgram, threadId, policy));
});
