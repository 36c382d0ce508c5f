/**
 * One sweep run, as a local worker thread (worker.ts) and a queue worker's thread (queueThread.ts)
 * both do it: the run with its metrics, as the result line the results files hold. The line is
 * the same wherever the run ran, but for `worker` (who ran it), which no output file shows.
 */
import { flattenMetrics, flattenRequestMetrics, runWithMetrics } from '../../actors/metrics/index.js';
import type { Scenario } from '../../core/scenario/schema.js';
import type { WorkerTask } from './protocol.js';
import type { ResultLine } from './results.js';

export function runOne(task: Omit<WorkerTask, 'scenario'>, scenario: Scenario, scenarioFile: string, readProgram: (path: string) => string, worker: number): ResultLine {
  const head = { key: task.key, index: task.index, seed: task.seed, point: task.point, replication: task.replication, worker };
  try {
    const measured = runWithMetrics(scenario, { seed: task.seed, scenarioFile, readProgram });
    return { ...head, metrics: { ...flattenMetrics(measured.metrics), ...flattenRequestMetrics(measured.requests) } };
  } catch (error) {
    return { ...head, error: (error as Error).message };
  }
}
