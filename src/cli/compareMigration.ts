/**
 * `vmmsim compare --migration precopy,postcopy`: live migration measured against the guest's
 * page-dirtying rate. The scenario (default examples/hosts.yaml) must migrate one VM (its first
 * `migrate` input). When that VM runs the bundled `dirty-pages` guest, it runs at three stated
 * dirtying rates:
 *
 *   idle      one page written every 2 ms (500 pages/s)
 *   moderate  one every 40 us (25,000 pages/s: the example's rate)
 *   heavy     one every 10 us (100,000 pages/s, over a 1 Gbit/s link's 30,500): a writable
 *             working set that a round cannot send before it is dirtied again
 *
 * Every (rate, mode) pair runs once (the scenario's seed), and once without the migration (the
 * reference) for the guest's progress. Each run lasts the scenario's run time, but at least
 * MIN_AFTER_NS past the migration's start, so that a pre-copy that does not converge reaches its
 * maximum of rounds (30 rounds of 6 ms at the heavy rate). Figures come from the `migration.*` events.
 *
 * With `--seeds N` every pair runs N seeds, as `compare --seeds` does: the scenario's seed, then
 * seeds derived from it (seeds.ts); each derived seed also seeds the dirty-pages guest's LCG (its
 * SEED param), so the pages it writes differ from run to run, not only the simulation's streams.
 * Each measure is then the mean with its 95% confidence interval (stats.ts, Student's t) over
 * the runs whose migration completed; the guest's progress over every run (each against the same
 * seed unmigrated).
 */
import { Simulation } from '../actors/simulation.js';
import type { Scenario, VmSpec } from '../core/scenario/schema.js';
import type { InputSpec } from '../core/scenario/inputs.js';
import { MIGRATION_MODES, type MigrationMode } from '../core/scenario/inputs.js';
import { InputError } from './errors.js';
import { parseList } from './compareArch.js';
import { alignColumns, formatCount, formatNs } from './format.js';
import { deriveSeed } from './seeds.js';
import { estimate, formatNumber, type Estimate } from './stats.js';
import { PACKAGE_ROOT, loadScenarioFile, withGuestErrors } from './scenarioFile.js';
import { join } from 'node:path';

export const DIRTY_RATES = ['idle', 'moderate', 'heavy'] as const;
export type DirtyRate = (typeof DIRTY_RATES)[number];

/** The dirty-pages guest's work between two writes, per rate. */
const WORK_NS: Readonly<Record<DirtyRate, number>> = { idle: 2_000_000, moderate: 40_000, heavy: 10_000 };
/** A run goes on at least this long after the migration starts. */
const MIN_AFTER_NS = 400_000_000;

export interface MigrationRow {
  /** The dirtying rate's name, or `as given` when the VM is not the dirty-pages guest. */
  readonly rate: DirtyRate | 'as given';
  /** Pages written per second of guest work (null: not the dirty-pages guest). */
  readonly pagesPerSecond: number | null;
  readonly mode: MigrationMode;
  /** Whether the migration completed; else why not (refused, cancelled, or still running at the end). */
  readonly outcome: string;
  readonly rounds: number;
  readonly totalNs: number;
  readonly downtimeNs: number;
  readonly pagesSent: number;
  readonly pagesResent: number;
  /** Write faults of dirty tracking (pre-copy), or pages pulled on fault (post-copy). */
  readonly faults: number;
  /** Pre-copy: why it stopped and copied (converged under the downtime limit, or max-rounds). */
  readonly trigger: string;
  /** Pages sent in each pre-copy round, in order. */
  readonly roundPages: readonly number[];
  /** Guest instructions the VM retired over the run, as a fraction of the unmigrated run's. */
  readonly progress: number;
}

interface Outcome {
  readonly instructions: number;
  readonly events: { readonly type: string; readonly data: Record<string, unknown> }[];
}

function runOnce(scenario: Scenario, loaded: ReturnType<typeof loadScenarioFile>, vm: string, seed?: number): Outcome {
  const events: { type: string; data: Record<string, unknown> }[] = [];
  const simulation = withGuestErrors(
    () =>
      new Simulation({
        scenario,
        ...(seed === undefined ? {} : { seed }),
        readProgram: loaded.readProgram,
        scenarioFile: loaded.file,
        sink: (event) => {
          if (event.type.startsWith('migration.') && event.src === `vm/${vm}`) events.push({ type: event.type, data: event.data as Record<string, unknown> });
        },
      }),
  );
  const summary = simulation.run();
  const instructions = summary.vms.find((entry) => entry.name === vm)?.vcpus.reduce((sum, vcpu) => sum + vcpu.instructions, 0) ?? 0;
  return { instructions, events };
}

/** The VM at `rate`: the dirty-pages guest writing one page per WORK_NS, for the whole run. */
function atRate(spec: VmSpec, rate: DirtyRate, runNs: number): VmSpec {
  const work = WORK_NS[rate];
  return { ...spec, params: { ...spec.params, WORK_NS: work, WRITES: Math.max(1, Math.floor(runNs / work)) } };
}

/** The migrating VM, its input and the runs' common scenario, from the scenario file. */
function migrationSetup(path: string | undefined, modesList: string, ratesList: string | undefined) {
  const modes = parseList(modesList, MIGRATION_MODES, '--migration', [], 'mode ');
  const loaded = loadScenarioFile(path ?? join(PACKAGE_ROOT, 'examples', 'hosts.yaml'));
  const given = loaded.scenario;
  const migrateAt = given.inputs.findIndex((input) => input.kind === 'migrate');
  if (migrateAt < 0) throw new InputError(`compare --migration: ${loaded.file} has no migrate input (inputs: [{ at, vm, migrate: { to } }]); see examples/hosts.yaml`);
  const input = given.inputs[migrateAt] as Extract<InputSpec, { kind: 'migrate' }>;
  const base: Scenario = { ...given, run: { ...given.run, timeNs: Math.max(given.run.timeNs, input.atNs + MIN_AFTER_NS) } };
  const vmIndex = base.vms.findIndex((vm) => vm.name === input.vm);
  const spec = base.vms[vmIndex];
  const dirty = spec.guest.kind === 'bundled' && spec.guest.name === 'dirty-pages';
  if (!dirty && ratesList !== undefined) throw new InputError(`--dirty: VM ${spec.name} does not run the bundled dirty-pages guest, so its dirtying rate cannot be set`);
  const rates: (DirtyRate | 'as given')[] = dirty ? parseList(ratesList, DIRTY_RATES, '--dirty', DIRTY_RATES, 'rate ') : ['as given'];
  return { modes, loaded, migrateAt, input, base, vmIndex, spec, dirty, rates };
}

/**
 * Every (rate, mode) pair at each seed: `seeds[0]` undefined runs the scenario's seed as given;
 * a seed runs the simulation under it and, for the dirty-pages guest, its LCG seeded from it.
 * Rows in (rate, mode, seed) order.
 */
function migrationRows(setup: ReturnType<typeof migrationSetup>, seeds: readonly (number | undefined)[]): { readonly row: MigrationRow; readonly seed: number }[] {
  const { modes, loaded, migrateAt, input, base, vmIndex, spec, dirty, rates } = setup;
  const rows: { row: MigrationRow; seed: number }[] = [];
  for (const rate of rates) {
    const atRateVms = rate === 'as given' ? base.vms : base.vms.map((vm, index) => (index === vmIndex ? atRate(vm, rate, base.run.timeNs) : vm));
    const perSeed = seeds.map((seed) => {
      const vms = seed === undefined || !dirty ? atRateVms : atRateVms.map((vm, index) => (index === vmIndex ? { ...vm, params: { ...vm.params, SEED: guestSeed(seed) } } : vm));
      const reference = runOnce({ ...base, vms, inputs: base.inputs.filter((_, index) => index !== migrateAt) }, loaded, spec.name, seed);
      return { seed, vms, reference };
    });
    for (const mode of modes) {
      for (const { seed, vms, reference } of perSeed) {
        const inputs = base.inputs.map((entry, index) => (index === migrateAt ? { ...input, mode } : entry));
        const run = runOnce({ ...base, vms, inputs }, loaded, spec.name, seed);
        rows.push({ row: migrationRow(rate, mode, run, reference), seed: seed ?? base.seed });
      }
    }
  }
  return rows;
}

/** The dirty-pages guest's LCG seed for a run seed: a positive 32-bit integer (a guest param). */
function guestSeed(seed: number): number {
  return 1 + (seed % 2_147_483_646);
}

function migrationRow(rate: DirtyRate | 'as given', mode: MigrationMode, run: Outcome, reference: Outcome): MigrationRow {
  const completed = run.events.find((event) => event.type === 'migration.completed')?.data;
  const stopped = run.events.find((event) => event.type === 'migration.stopped-copy')?.data;
  const ended = run.events.find((event) => event.type === 'migration.refused' || event.type === 'migration.cancelled');
  const number = (value: unknown) => (typeof value === 'number' ? value : 0);
  return {
    rate,
    pagesPerSecond: rate === 'as given' ? null : Math.round(1e9 / WORK_NS[rate]),
    mode,
    outcome: completed !== undefined ? 'completed' : ended !== undefined ? `${ended.type.slice('migration.'.length)}: ${String(ended.data.reason)}` : 'not finished at the end of the run',
    rounds: number(completed?.rounds),
    totalNs: number(completed?.totalNs),
    downtimeNs: number(completed?.downtimeNs),
    pagesSent: number(completed?.pagesSent),
    pagesResent: number(completed?.pagesResent),
    faults: number(completed?.dirtyFaults),
    trigger: stopped === undefined ? '-' : String(stopped.trigger),
    roundPages: run.events.filter((event) => event.type === 'migration.round').map((event) => number(event.data.pagesSent)),
    progress: reference.instructions === 0 ? 1 : run.instructions / reference.instructions,
  };
}

export function compareMigration(path: string | undefined, modesList: string, ratesList?: string): MigrationRow[] {
  return migrationRows(migrationSetup(path, modesList, ratesList), [undefined]).map((entry) => entry.row);
}

/** The measures a cell of `compare --migration --seeds` estimates. */
export const SEEDED_MEASURES = ['rounds', 'totalNs', 'downtimeNs', 'pagesSent', 'pagesResent', 'faults', 'progress'] as const;
export type SeededMeasure = (typeof SEEDED_MEASURES)[number];

/** One (rate, mode) pair over several seeds. */
export interface MigrationCell {
  readonly rate: DirtyRate | 'as given';
  readonly pagesPerSecond: number | null;
  readonly mode: MigrationMode;
  /** Runs, and runs whose migration completed (the estimates but progress are over these). */
  readonly runs: number;
  readonly completed: number;
  /** Pre-copy: how many runs stopped and copied for each reason (converged, max-rounds). */
  readonly triggers: Readonly<Record<string, number>>;
  /** Mean, sd and 95% confidence interval of each measure. */
  readonly estimates: Readonly<Record<SeededMeasure, Estimate>>;
  /** Each seed's row, in the order of the seeds. */
  readonly perSeed: readonly (MigrationRow & { readonly seed: number })[];
}

export interface SeededMigrationComparison {
  readonly scenario: string;
  readonly seeds: readonly number[];
  readonly cells: readonly MigrationCell[];
}

/** Every (rate, mode) pair over `count` seeds: the scenario's seed, then seeds derived from it (as compare --seeds). */
export function compareMigrationSeeds(path: string | undefined, modesList: string, ratesList: string | undefined, count: number): SeededMigrationComparison {
  const setup = migrationSetup(path, modesList, ratesList);
  const first = setup.base.seed;
  const seeds = Array.from({ length: count }, (_, index) => (index === 0 ? first : deriveSeed(first, `seed/${index}`)));
  const rows = migrationRows(setup, seeds.map((seed, index) => (index === 0 ? undefined : seed)));
  const cells: MigrationCell[] = [];
  for (let start = 0; start < rows.length; start += count) {
    const perSeed = rows.slice(start, start + count).map(({ row, seed }) => ({ ...row, seed }));
    const done = perSeed.filter((row) => row.outcome === 'completed');
    const triggers: Record<string, number> = {};
    for (const row of done) if (row.trigger !== '-') triggers[row.trigger] = (triggers[row.trigger] ?? 0) + 1;
    const estimates = Object.fromEntries(SEEDED_MEASURES.map((measure) => [measure, estimate((measure === 'progress' ? perSeed : done).map((row) => row[measure]))])) as Record<SeededMeasure, Estimate>;
    const { rate, pagesPerSecond, mode } = perSeed[0];
    cells.push({ rate, pagesPerSecond, mode, runs: perSeed.length, completed: done.length, triggers, estimates, perSeed });
  }
  return { scenario: setup.base.name, seeds, cells };
}

/** `mean ± ci` of a duration, both in the unit the mean reads best in. */
function formatNsEstimate(e: Estimate): string {
  if (Number.isNaN(e.mean)) return '-';
  const [divisor, unit, digits] = e.mean < 1_000 ? [1, 'ns', 0] : e.mean < 1_000_000 ? [1_000, 'us', 1] : e.mean < 1_000_000_000 ? [1_000_000, 'ms', 2] : [1_000_000_000, 's', 3];
  return `${(e.mean / divisor).toFixed(digits)} ± ${(e.ci95 / divisor).toFixed(digits)} ${unit}`;
}

/** `mean ± ci` of a count: the interval to two significant digits, the mean to the same place. */
function formatEstimate(e: Estimate): string {
  if (Number.isNaN(e.mean)) return '-';
  if (e.ci95 === 0) return `${formatNumber(e.mean)} ± 0`;
  const decimals = Math.min(4, Math.max(0, 1 - Math.floor(Math.log10(e.ci95))));
  return `${e.mean.toFixed(decimals)} ± ${e.ci95.toFixed(decimals)}`;
}

export function seededMigrationTable(result: SeededMigrationComparison): string {
  const header = ['rate', 'pages/s written', 'mode', 'completed', 'stop-and-copy', 'rounds', 'total', 'downtime', 'pages sent', 're-sent', 'faults', 'guest progress'];
  const body = result.cells.map((cell) => {
    const e = cell.estimates;
    const triggers = Object.entries(cell.triggers);
    const stop = cell.mode === 'postcopy' || triggers.length === 0 ? '-' : triggers.length === 1 ? triggers[0][0] : triggers.map(([trigger, count]) => `${trigger} ${count}`).join(', ');
    const progress = `${(e.progress.mean * 100).toFixed(1)} ± ${(e.progress.ci95 * 100).toFixed(1)}%`;
    return [
      cell.rate,
      cell.pagesPerSecond === null ? '-' : formatCount(cell.pagesPerSecond),
      cell.mode,
      `${cell.completed}/${cell.runs}`,
      stop,
      formatEstimate(e.rounds),
      formatNsEstimate(e.totalNs),
      formatNsEstimate(e.downtimeNs),
      formatEstimate(e.pagesSent),
      formatEstimate(e.pagesResent),
      formatEstimate(e.faults),
      progress,
    ];
  });
  const aligned = alignColumns(header, body, new Set([1, 3, 5, 6, 7, 8, 9, 10, 11]));
  const seeds = result.seeds;
  return [
    `${result.scenario}: ${seeds.length} seeds per cell (${seeds[0]}, the scenario's, then seeds derived from it; each also seeds the dirty-pages guest's page choice); mean ± 95% confidence interval`,
    '',
    aligned.header,
    aligned.rule,
    ...aligned.rows,
    '',
    'over the runs whose migration completed (guest progress: over every run, each against the same seed unmigrated); faults: dirty-tracking write faults (pre-copy), pages pulled on fault (post-copy)',
  ].join('\n');
}

export function migrationTable(rows: readonly MigrationRow[]): string {
  const header = ['rate', 'pages/s written', 'mode', 'rounds', 'stop-and-copy', 'total', 'downtime', 'pages sent', 're-sent', 'faults', 'guest progress'];
  const body = rows.map((row) => {
    const done = row.outcome === 'completed';
    return [
      row.rate,
      row.pagesPerSecond === null ? '-' : formatCount(row.pagesPerSecond),
      row.mode,
      done ? String(row.rounds) : '-',
      row.mode === 'postcopy' ? '-' : row.trigger,
      done ? formatNs(row.totalNs) : row.outcome,
      done ? formatNs(row.downtimeNs) : '-',
      done ? formatCount(row.pagesSent) : '-',
      done ? formatCount(row.pagesResent) : '-',
      done ? formatCount(row.faults) : '-',
      `${(row.progress * 100).toFixed(1)}%`,
    ];
  });
  const aligned = alignColumns(header, body, new Set([1, 3, 5, 6, 7, 8, 9, 10]));
  const rounds = rows
    .filter((row) => row.mode === 'precopy' && row.roundPages.length > 0)
    .map((row) => `${row.rate} precopy, pages per round: ${row.roundPages.join(' ')}`);
  return [aligned.header, aligned.rule, ...aligned.rows, '', 'faults: dirty-tracking write faults (pre-copy), pages pulled on fault (post-copy); guest progress: guest instructions retired over the run against the same run unmigrated', ...(rounds.length === 0 ? [] : ['', ...rounds])].join('\n');
}

/** `compare --migration`: one seed (the table with each pre-copy's rounds), or `--seeds N` (means and confidence intervals). */
export function migrationCompareCommand(
  path: string | undefined,
  modes: string,
  rates: string | undefined,
  json: boolean,
  out: { write(text: string): void },
  seeds?: number,
): MigrationRow[] | SeededMigrationComparison {
  if (seeds !== undefined) {
    const result = compareMigrationSeeds(path, modes, rates, seeds);
    out.write(json ? JSON.stringify(result, null, 2) + '\n' : seededMigrationTable(result) + '\n');
    return result;
  }
  const rows = compareMigration(path, modes, rates);
  out.write(json ? JSON.stringify(rows, null, 2) + '\n' : migrationTable(rows) + '\n');
  return rows;
}
