/**
 * `vmmsim sweep SWEEP.yaml`: runs a grid of scenarios (src/cli/sweep/spec.ts) on worker threads,
 * one per core by default, with a progress bar and ETA on a terminal. Resumable: each finished run
 * is one JSON line in OUT/runs.jsonl, and a restart skips the runs found there. `--shard I/N`
 * runs the runs whose index is I-1 modulo N (into runs-shard-I-of-N.jsonl), so a batch system
 * can spread a sweep over machines; `--merge` joins every runs*.jsonl of the folder into
 * results.csv and summary.csv (mean and 95% CI per grid point and metric) and reports any run
 * still missing.
 */
import { availableParallelism } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Scenario } from '../core/scenario/schema.js';
import { InputError } from './errors.js';
import { formatNumber, estimate } from './stats.js';
import { runPool, type PoolProgress } from './sweep/pool.js';
import type { WorkerTask } from './sweep/protocol.js';
import { readResults, resultFiles, type ResultLine } from './sweep/results.js';
import { queueSweep } from './sweep/queueSweep.js';
import { loadSweep, type Sweep } from './sweep/spec.js';

export interface SweepOptions {
  readonly workers?: string;
  readonly shard?: string;
  readonly merge?: boolean;
  readonly out?: string;
  /** redis://HOST:PORT[/DB]: run on the work queue (sweep/queueSweep.ts) instead of here. */
  readonly queue?: string;
  readonly status?: boolean;
  readonly collect?: boolean;
}

export interface SweepIo {
  readonly stdout: { write(text: string): void };
  readonly stderr: { write(text: string): void };
  /** Whether stderr is a terminal (progress bar). */
  readonly tty: boolean;
}

export interface SweepOutcome {
  readonly total: number;
  readonly ranNow: number;
  readonly skipped: number;
  readonly failed: number;
  readonly missing: number;
}

function parseShard(value: string | undefined): { index: number; count: number } | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)\/(\d+)$/.exec(value);
  const index = match === null ? 0 : Number(match[1]);
  const count = match === null ? 0 : Number(match[2]);
  if (match === null || count < 1 || index < 1 || index > count) throw new InputError(`--shard: expected I/N with 1 <= I <= N, such as 2/8, got '${value}'`);
  return { index, count };
}

function parseWorkers(value: string | undefined): number {
  if (value === undefined) return availableParallelism();
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1024) throw new InputError(`--workers: expected an integer from 1 to 1024, got '${value}'`);
  return Number(value);
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  return `${Math.floor(seconds / 60)}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`;
}

/** The progress bar: `workers` is a count of local workers, or 'queue'. */
export function progressBar(io: SweepIo, workers: number | 'queue'): (progress: PoolProgress) => void {
  const started = Date.now();
  return (progress) => {
    if (!io.tty) return;
    const width = 30;
    const fraction = progress.total === 0 ? 1 : progress.done / progress.total;
    const filled = Math.round(fraction * width);
    const elapsed = (Date.now() - started) / 1000;
    const eta = progress.done === 0 ? Number.NaN : (elapsed / progress.done) * (progress.total - progress.done);
    io.stderr.write(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${progress.done}/${progress.total} ${String(Math.floor(fraction * 100)).padStart(3)}%  ${workers === 'queue' ? 'on the queue' : `${workers} workers`}  ETA ${formatSeconds(eta)}${progress.failed > 0 ? `  ${progress.failed} failed` : ''}   `,
    );
  };
}

export function sweepCommand(path: string, options: SweepOptions, io: SweepIo): SweepOutcome | Promise<SweepOutcome> {
  const sweep = loadSweep(path);
  const out = options.out ?? sweep.out;
  try {
    mkdirSync(out, { recursive: true });
  } catch (error) {
    throw new InputError(`--out ${out}: cannot create the folder: ${(error as Error).message}`);
  }
  if (options.queue !== undefined) {
    if (options.shard !== undefined || options.merge === true || options.workers !== undefined) throw new InputError('--queue does not go with --shard, --merge or --workers (workers run `vmmsim worker`)');
    if (options.status === true && options.collect === true) throw new InputError('--status and --collect do not go together');
    return queueSweep(sweep, out, { queue: options.queue, status: options.status, collect: options.collect }, io);
  }
  if (options.status === true || options.collect === true) throw new InputError('--status and --collect go with --queue');
  if (options.merge === true) {
    if (options.shard !== undefined) throw new InputError('--merge and --shard do not go together');
    return merge(sweep, out, io);
  }
  const shard = parseShard(options.shard);
  const workers = parseWorkers(options.workers);
  const resultsFile = join(out, shard === undefined ? 'runs.jsonl' : `runs-shard-${shard.index}-of-${shard.count}.jsonl`);
  const finished = new Set<string>();
  for (const file of resultFiles(out)) for (const line of readResults(file, file === resultsFile)) if (line.error === undefined) finished.add(line.key);
  const mine = sweep.runs.filter((run) => shard === undefined || run.index % shard.count === shard.index - 1);
  const todo = mine.filter((run) => !finished.has(run.key));
  const scenarioIndex = new Map<Scenario, number>();
  const scenarios: Scenario[] = [];
  const tasks: WorkerTask[] = todo.map((run) => {
    let index = scenarioIndex.get(run.scenario);
    if (index === undefined) {
      index = scenarios.length;
      scenarios.push(run.scenario);
      scenarioIndex.set(run.scenario, index);
    }
    return {
      index: run.index,
      key: run.key,
      seed: run.seed,
      replication: run.replication,
      point: run.point,
      scenario: index,
      ...(run.policyModule === undefined ? {} : { policyModule: { file: run.policyModule.file, path: run.policyModule.path, sha256: run.policyModule.sha256 } }),
    };
  });
  io.stdout.write(
    `${sweep.name}: ${sweep.runs.length} runs${shard === undefined ? '' : `, shard ${shard.index}/${shard.count}: ${mine.length}`}; ${mine.length - todo.length} already done, ${todo.length} to run on ${Math.min(workers, Math.max(1, todo.length))} workers\n`,
  );
  let progress: PoolProgress = { done: 0, total: 0, failed: 0 };
  if (tasks.length > 0) {
    progress = runPool(tasks, scenarios, sweep.scenarioFile, resultsFile, workers, progressBar(io, Math.min(workers, tasks.length)));
    if (io.tty) io.stderr.write('\n');
  }
  if (progress.failed > 0) io.stderr.write(`vmmsim: ${progress.failed} runs failed (their lines in ${resultsFile} carry the error); they run again on the next start\n`);
  if (shard !== undefined) {
    io.stdout.write(`shard ${shard.index}/${shard.count} done: ${resultsFile}\n`);
    return { total: mine.length, ranNow: progress.done, skipped: mine.length - todo.length, failed: progress.failed, missing: 0 };
  }
  const merged = merge(sweep, out, io);
  return { ...merged, ranNow: progress.done, skipped: mine.length - todo.length, failed: progress.failed };
}

function csvCell(value: unknown): string {
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Joins every results file of the folder: results.csv, summary.csv, summary.json. */
export function merge(sweep: Sweep, out: string, io: SweepIo): SweepOutcome {
  const byKey = new Map<string, ResultLine>();
  for (const file of resultFiles(out)) for (const line of readResults(file, false)) if (line.error === undefined && !byKey.has(line.key)) byKey.set(line.key, line);
  const known = new Set(sweep.runs.map((run) => run.key));
  const lines = sweep.runs.map((run) => byKey.get(run.key)).filter((line): line is ResultLine => line !== undefined);
  const missing = sweep.runs.length - lines.length;
  const stray = [...byKey.keys()].filter((key) => !known.has(key)).length;
  const axes = sweep.axes.map((axis) => axis.path);
  const metricNames = [...new Set(lines.flatMap((line) => Object.keys(line.metrics ?? {})))];
  writeFileSync(
    join(out, 'results.csv'),
    [[...axes, 'replication', 'seed', 'key', ...metricNames].map(csvCell).join(','), ...lines.map((line) => [...axes.map((axis) => line.point[axis]), line.replication, line.seed, line.key, ...metricNames.map((name) => line.metrics?.[name] ?? '')].map(csvCell).join(','))].join('\n') + '\n',
  );
  const groups = new Map<string, ResultLine[]>();
  for (const line of lines) {
    const point = line.key.replace(/#\d+$/, '');
    groups.set(point, [...(groups.get(point) ?? []), line]);
  }
  const summaryRows = [[...axes, 'metric', 'n', 'mean', 'ci95'].map(csvCell).join(',')];
  const summary: Record<string, Record<string, { n: number; mean: number; ci95: number }>> = {};
  for (const [point, group] of groups) {
    summary[point] = {};
    for (const name of metricNames) {
      const e = estimate(group.map((line) => line.metrics?.[name] ?? Number.NaN));
      summary[point][name] = { n: e.n, mean: e.mean, ci95: e.ci95 };
      summaryRows.push([...axes.map((axis) => group[0].point[axis]), name, e.n, e.mean, e.ci95].map(csvCell).join(','));
    }
  }
  writeFileSync(join(out, 'summary.csv'), summaryRows.join('\n') + '\n');
  writeFileSync(join(out, 'summary.json'), JSON.stringify({ sweep: sweep.name, runs: sweep.runs.length, finished: lines.length, missing, summary }, null, 2) + '\n');
  io.stdout.write(`${sweep.name}: ${lines.length}/${sweep.runs.length} runs in ${out} (results.csv, summary.csv, summary.json)${missing > 0 ? `; ${missing} missing` : ''}${stray > 0 ? `; ${stray} results not in this sweep ignored` : ''}\n`);
  const show = ['jain', 'wake_p99_us', 'deadline_miss_ratio', 'utilisation'].filter((name) => metricNames.includes(name));
  for (const [point, values] of [...Object.entries(summary)].slice(0, 20)) {
    io.stdout.write(`  ${point}: ${show.map((name) => `${name} ${formatNumber(values[name].mean)} ± ${formatNumber(values[name].ci95)}`).join(', ')}\n`);
  }
  if (groups.size > 20) io.stdout.write(`  ... (${groups.size - 20} more grid points in summary.csv)\n`);
  return { total: sweep.runs.length, ranNow: 0, skipped: 0, failed: 0, missing };
}
