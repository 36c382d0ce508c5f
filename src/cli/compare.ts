/**
 * `vmmsim compare SCENARIO --policies a,b,c --seeds N --out DIR`: runs the scenario under every
 * policy with the same N seeds (common random numbers: seed i is derived from the scenario's
 * seed and i, whatever the policy), measures each run (src/actors/metrics/), and reports each
 * metric as the mean with its 95% confidence interval per policy. Writes runs.csv (one row per
 * run), summary.csv and summary.json, one SVG per metric (the distribution over seeds, per
 * policy) and one timeline SVG per policy (seed 0: which VM ran on each physical CPU).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flattenMetrics, flattenRequestMetrics, runWithMetrics, SYSTEM_METRICS, type RunInterval } from '../actors/metrics/index.js';
import type { Scenario } from '../core/scenario/schema.js';
import { parseDuration } from '../core/scenario/units.js';
import { InputError } from './errors.js';
import { alignColumns } from './format.js';
import { distributionSvg, timelineSvg } from './plots/svg.js';
import { resolvePolicy, withPolicy } from './policyFile.js';
import { loadScenarioFile, withGuestErrors } from './scenarioFile.js';
import { deriveSeed } from './seeds.js';
import { estimate, formatNumber, type Estimate } from './stats.js';

export interface CompareOptions {
  readonly policies?: string;
  readonly seeds?: string;
  readonly out?: string;
  readonly time?: string;
  readonly timeline?: string;
}

export interface CompareResult {
  readonly scenario: string;
  readonly seeds: readonly number[];
  readonly policies: readonly string[];
  readonly metricNames: readonly string[];
  /** metric -> policy -> estimate. */
  readonly summary: Readonly<Record<string, Readonly<Record<string, Estimate>>>>;
  readonly runs: readonly { readonly policy: string; readonly seed: number; readonly metrics: Readonly<Record<string, number>> }[];
}

export const MAX_SEEDS = 10_000;
/** Metrics that get a distribution plot. */
const PLOTTED = ['req_response_p99_us', 'req_response_mean_us', 'jain', 'wake_p99_us', 'wake_p50_us', 'deadline_miss_ratio', 'utilisation', 'steal', 'work_units', 'context_switches', 'migrations'];

export function parseCount(value: string | undefined, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw new InputError(`${flag}: expected an integer from 1 to ${max}, got '${value}'`);
  return Number(value);
}

function parseTime(value: string, flag: string): number {
  try {
    const ns = parseDuration(/^\d+$/.test(value) ? Number(value) : value);
    if (ns < 1) throw new Error('must be positive');
    return ns;
  } catch (error) {
    throw new InputError(`${flag}: expected a duration such as 500ms or 2s, got '${value}' (${(error as Error).message})`);
  }
}

export function compare(path: string, options: CompareOptions): CompareResult & { readonly timelines: ReadonlyMap<string, readonly RunInterval[]> } {
  const loaded = loadScenarioFile(path);
  const specs = (options.policies ?? loaded.scenario.scheduler.policy).split(',').map((spec) => spec.trim()).filter((spec) => spec !== '');
  if (specs.length === 0) throw new InputError('--policies: expected a comma-separated list of policies');
  if (new Set(specs).size !== specs.length) throw new InputError(`--policies: a policy is listed twice in '${options.policies}'`);
  const policies = specs.map((spec) => resolvePolicy(spec, '--policies'));
  const count = parseCount(options.seeds, '--seeds', 10, MAX_SEEDS);
  const timeNs = options.time === undefined ? undefined : parseTime(options.time, '--time');
  const timelineNs = options.timeline === undefined ? Math.min(100_000_000, timeNs ?? loaded.scenario.run.timeNs) : parseTime(options.timeline, '--timeline');
  // The scenario's own seed first (the run `vmmsim run` makes), then seeds derived from it.
  const seeds = Array.from({ length: count }, (_, index) => (index === 0 ? loaded.scenario.seed : deriveSeed(loaded.scenario.seed, `seed/${index}`)));
  const runs: { policy: string; seed: number; metrics: Record<string, number> }[] = [];
  const timelines = new Map<string, readonly RunInterval[]>();
  for (const policy of policies) {
    const scenario = withPolicy(loaded.scenario, policy, timeNs);
    seeds.forEach((seed, index) => {
      const measured = withGuestErrors(() =>
        runWithMetrics(scenario, {
          seed,
          policy: policy.registryName === undefined ? policy.factory : undefined,
          scenarioFile: loaded.file,
          readProgram: loaded.readProgram,
          timelineNs: index === 0 ? timelineNs : undefined,
        }),
      );
      if (index === 0) timelines.set(policy.label, measured.timeline);
      runs.push({ policy: policy.label, seed, metrics: { ...flattenMetrics(measured.metrics), ...flattenRequestMetrics(measured.requests) } });
    });
  }
  const metricNames = Object.keys(runs[0].metrics);
  const summary: Record<string, Record<string, Estimate>> = {};
  for (const name of metricNames) {
    summary[name] = {};
    for (const policy of policies) summary[name][policy.label] = estimate(runs.filter((run) => run.policy === policy.label).map((run) => run.metrics[name]));
  }
  return { scenario: loaded.scenario.name, seeds, policies: policies.map((policy) => policy.label), metricNames, summary, runs, timelines };
}

/** The table: one row per metric, one column per policy, `mean ± ci95`. */
export function summaryText(result: CompareResult): string {
  const header = ['metric', ...result.policies.map((policy) => `${policy} (mean ± 95% CI)`)];
  const rows = result.metricNames.map((name) => [
    name,
    ...result.policies.map((policy) => {
      const estimateOf = result.summary[name][policy];
      return `${formatNumber(estimateOf.mean)} ± ${formatNumber(estimateOf.ci95)}`;
    }),
  ]);
  const table = alignColumns(header, rows);
  return [table.header, table.rule, ...table.rows].join('\n') + '\n';
}

/** The same table in Markdown (for docs). */
export function summaryMarkdown(result: CompareResult): string {
  const lines = [`| metric | ${result.policies.join(' | ')} |`, `|---|${result.policies.map(() => '---:').join('|')}|`];
  for (const name of result.metricNames) {
    lines.push(`| ${name} | ${result.policies.map((policy) => `${formatNumber(result.summary[name][policy].mean)} ± ${formatNumber(result.summary[name][policy].ci95)}`).join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

function csvCell(value: string | number): string {
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function writeCompareOutputs(dir: string, result: CompareResult & { readonly timelines: ReadonlyMap<string, readonly RunInterval[]> }, scenario: Scenario): string[] {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new InputError(`--out ${dir}: cannot create the folder: ${(error as Error).message}`);
  }
  const written: string[] = [];
  const write = (name: string, text: string): void => {
    writeFileSync(join(dir, name), text);
    written.push(name);
  };
  write('runs.csv', [['policy', 'seed', ...result.metricNames].map(csvCell).join(','), ...result.runs.map((run) => [run.policy, run.seed, ...result.metricNames.map((name) => run.metrics[name])].map(csvCell).join(','))].join('\n') + '\n');
  const summaryRows = [['metric', 'policy', 'n', 'mean', 'ci95_low', 'ci95_high', 'sd', 'min', 'max'].join(',')];
  for (const name of result.metricNames) {
    for (const policy of result.policies) {
      const e = result.summary[name][policy];
      summaryRows.push([name, policy, e.n, e.mean, e.mean - e.ci95, e.mean + e.ci95, e.sd, e.min, e.max].map(csvCell).join(','));
    }
  }
  write('summary.csv', summaryRows.join('\n') + '\n');
  // Every run is in runs.csv; the JSON holds the estimates.
  write('summary.json', JSON.stringify({ scenario: result.scenario, seeds: result.seeds, policies: result.policies, summary: result.summary }, null, 2) + '\n');
  write('summary.md', summaryMarkdown(result));
  const descriptions = new Map(SYSTEM_METRICS.map((metric) => [metric.name, metric.description]));
  const plotted = [...PLOTTED, ...scenario.vms.map((vm) => `${vm.name}.share`)].filter((name) => result.metricNames.includes(name));
  for (const name of plotted) {
    const groups = result.policies.map((policy) => ({ label: policy, values: result.runs.filter((run) => run.policy === policy).map((run) => run.metrics[name]) }));
    write(`${name.replace(/[^a-z0-9_.-]/gi, '_')}.svg`, distributionSvg(`${result.scenario}: ${name} over ${result.seeds.length} seeds`, descriptions.get(name) ?? name, groups));
  }
  for (const policy of result.policies) {
    const intervals = result.timelines.get(policy) ?? [];
    const until = intervals.reduce((max, interval) => Math.max(max, interval.endNs), 1);
    write(
      `timeline-${policy.replace(/[^a-z0-9_.-]/gi, '_')}.svg`,
      timelineSvg(`${result.scenario} under ${policy}, seed ${result.seeds[0]}: who ran where`, scenario.host.pcpus, scenario.vms.map((vm) => vm.name), intervals, 0, until),
    );
  }
  return written;
}

export function compareCommand(path: string, options: CompareOptions, out: { write(text: string): void }): CompareResult {
  if (options.out === undefined) throw new InputError('--out: expected the folder to write the results to');
  const result = compare(path, options);
  out.write(`${result.scenario}: ${result.policies.length} policies × ${result.seeds.length} seeds\n\n`);
  out.write(summaryText(result));
  const scenario = loadScenarioFile(path).scenario;
  const written = writeCompareOutputs(options.out, result, scenario);
  out.write(`\nwrote ${written.length} files to ${options.out}: ${written.slice(0, 5).join(', ')}${written.length > 5 ? ', ...' : ''}\n`);
  return result;
}
