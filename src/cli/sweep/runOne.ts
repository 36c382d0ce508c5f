/**
 * One sweep run, as a local worker thread (worker.ts) and a queue worker's thread (queueThread.ts)
 * both do it: the run with its metrics, as the result line the results files hold. The line is
 * the same wherever the run ran, but for `worker` (who ran it), which no output file shows.
 */
import { flattenMetrics, flattenRequestMetrics, runWithMetrics } from '../../actors/metrics/index.js';
import type { Scenario } from '../../core/scenario/schema.js';
import type { PolicyFactory } from '../../actors/scheduler/policy.js';
import { loadPolicyModule } from '../../replay/policyModule.js';
import type { WorkerTask } from './protocol.js';
import type { ResultLine } from './results.js';

/**
 * Runs one task. `policy` gives the factory of the task's policy module (cached by the caller's
 * thread); a module that fails to load or throws while the run goes on is the run's error: it
 * fails the same way wherever it runs.
 */
export function runOne(
  task: Omit<WorkerTask, 'scenario' | 'policyModule'>,
  scenario: Scenario,
  scenarioFile: string,
  readProgram: (path: string) => string,
  worker: number,
  policy?: () => PolicyFactory,
): ResultLine {
  const head = { key: task.key, index: task.index, seed: task.seed, point: task.point, replication: task.replication, worker };
  try {
    const measured = runWithMetrics(scenario, { seed: task.seed, scenarioFile, readProgram, ...(policy === undefined ? {} : { policy: policy() }) });
    return { ...head, metrics: { ...flattenMetrics(measured.metrics), ...flattenRequestMetrics(measured.requests) } };
  } catch (error) {
    return { ...head, error: (error as Error).message };
  }
}

/** Loads policy modules by file and expected hash, once per thread. */
export function policyLoader(): (file: string, sha256: string) => PolicyFactory {
  const cache = new Map<string, PolicyFactory>();
  return (file, sha256) => {
    const key = `${sha256} ${file}`;
    let factory = cache.get(key);
    if (factory === undefined) {
      factory = loadPolicyModule(file, { expectedSha256: sha256, flag: 'policy module' }).factory;
      cache.set(key, factory);
    }
    return factory;
  };
}
