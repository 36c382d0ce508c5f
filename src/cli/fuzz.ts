/**
 * `vmmsim fuzz [--runs N] [--seed S] [--property NAME[,NAME...]] [--time-budget SECONDS] [--out DIR]
 * [--mutation NAME]`: runs the isolation properties (src/testing) with fast-check, printing
 * progress and runs per second. Every property runs, whatever the others found; for each one that
 * fails it writes the shrunk counterexample as a scenario file (loadable by `vmmsim run`) and its
 * event log into --out, and prints the command that replays it; a table at the end gives each
 * property's runs, failures and counterexample. `--time-budget` shares a number of seconds among
 * the properties (for CI): a property stops drawing cases when its share is spent. `--mutation`
 * runs the properties against a deliberately broken system, to see them catch it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { isMutation, MUTATION_INFO, MUTATIONS, type Mutation } from '../testing/mutants/index.js';
import { PROPERTIES, propertyNamed, runChecked, scenarioYaml, type AnyIsolationProperty } from '../testing/index.js';
import { EXIT_FAILURE, EXIT_OK, InputError } from './errors.js';
import type { Output } from './run.js';

export interface FuzzOptions {
  readonly runs?: string;
  readonly seed?: string;
  readonly property?: string;
  readonly out?: string;
  readonly mutation?: string;
  readonly timeBudget?: string;
}

interface PropertyReport {
  readonly name: string;
  readonly runs: number;
  readonly failures: number;
  readonly counterexample: string;
}

/** Shrinking stops after this long (a counterexample found is kept, shrunk as far as it got). */
const SHRINK_LIMIT_MS = 60_000;

function integerOption(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 0) throw new InputError(`${flag}: expected a non-negative integer, got '${value}'`);
  return parsed;
}

/** Splits N runs over the properties in proportion to their default run counts. */
function share(properties: readonly AnyIsolationProperty[], runs: number): number[] {
  const total = properties.reduce((sum, property) => sum + property.numRuns, 0);
  const counts = properties.map((property) => Math.floor((runs * property.numRuns) / total));
  let left = runs - counts.reduce((sum, count) => sum + count, 0);
  for (let index = 0; left > 0; index = (index + 1) % counts.length, left--) counts[index]++;
  return counts;
}

export function fuzzCommand(options: FuzzOptions, out: Output): number {
  const runs = integerOption(options.runs, '--runs', 1000);
  const seed = integerOption(options.seed, '--seed', Date.now() % 0x7fff_ffff);
  let mutation: Mutation | undefined;
  if (options.mutation !== undefined) {
    if (!isMutation(options.mutation)) throw new InputError(`--mutation: unknown '${options.mutation}' (expected one of: ${MUTATIONS.join(', ')})`);
    mutation = options.mutation;
  }
  let properties = PROPERTIES;
  if (options.property !== undefined) {
    properties = options.property.split(',').map((name) => {
      const property = propertyNamed(name.trim());
      if (property === undefined) throw new InputError(`--property: unknown '${name}' (expected one or more, comma-separated, of: ${PROPERTIES.map((p) => p.name).join(', ')})`);
      return property;
    });
  }
  const budgetMs = options.timeBudget === undefined ? undefined : integerOption(options.timeBudget, '--time-budget', 0) * 1000;
  const outDir = options.out ?? 'fuzz-out';
  out.write(`vmmsim fuzz: ${runs} runs, seed ${seed}${mutation === undefined ? '' : `, mutation ${mutation} (${MUTATION_INFO[mutation].bug})`}\n`);
  const counts = share(properties, runs);
  const budgets = budgetMs === undefined ? undefined : share(properties, budgetMs);
  const started = performance.now();
  let done = 0;
  const reports: PropertyReport[] = [];
  for (const [index, property] of properties.entries()) {
    const numRuns = counts[index];
    if (numRuns === 0) continue;
    const propertyStarted = performance.now();
    let seen = 0;
    const step = Math.max(1, Math.floor(numRuns / 10));
    const watched = fc.property(property.arbitrary, (value) => {
      seen++;
      if (seen <= numRuns && seen % step === 0) out.write(`  ${property.name}: ${seen}/${numRuns}\r`);
      property.check(value, mutation);
    });
    const result = fc.check(watched, {
      numRuns,
      seed: seed + index,
      skipAllAfterTimeLimit: SHRINK_LIMIT_MS,
      ...(budgets === undefined ? {} : { interruptAfterTimeLimit: Math.max(1, budgets[index]), markInterruptAsFailure: false }),
    });
    const seconds = (performance.now() - propertyStarted) / 1000;
    done += result.numRuns;
    if (!result.failed) {
      const cut = result.interrupted ? ` (time budget spent after ${result.numRuns} of ${numRuns})` : '';
      out.write(`  ${property.name}: ${result.numRuns} runs passed in ${seconds.toFixed(1)} s (${Math.round(result.numRuns / Math.max(seconds, 1e-3))} runs/s)${cut}\n`);
      reports.push({ name: property.name, runs: result.numRuns, failures: 0, counterexample: '' });
      continue;
    }
    out.write(`  ${property.name}: FAILED after ${result.numRuns} runs (${result.numShrinks} shrinks), seed ${result.seed}, path ${result.counterexamplePath ?? ''}\n`);
    const value = (result.counterexample as unknown[])[0];
    const base = writeCounterexample(property, value, mutation, outDir, result.errorInstance, out);
    reports.push({ name: property.name, runs: result.numRuns, failures: 1, counterexample: `${base}.yaml --seed ${property.reproduce(value).seed}` });
  }
  const seconds = (performance.now() - started) / 1000;
  out.write('\nproperty             runs  failures  counterexample (scenario + seed)\n');
  for (const report of reports) out.write(`${report.name.padEnd(20)} ${String(report.runs).padStart(5)}  ${String(report.failures).padStart(8)}  ${report.counterexample}\n`);
  const failed = reports.filter((report) => report.failures > 0);
  if (failed.length > 0) {
    out.write(`${failed.length} of ${reports.length} properties failed: ${failed.map((report) => report.name).join(', ')} (${done} runs in ${seconds.toFixed(1)} s)\n`);
    return EXIT_FAILURE;
  }
  out.write(`all properties hold: ${done} runs in ${seconds.toFixed(1)} s, ${Math.round(done / Math.max(seconds, 1e-3))} runs/s\n`);
  return EXIT_OK;
}

/** Writes the counterexample's scenario, log and case; returns their common path without extension. */
function writeCounterexample(property: AnyIsolationProperty, value: unknown, mutation: Mutation | undefined, outDir: string, error: unknown, out: Output): string {
  const { scenario, seed } = property.reproduce(value);
  mkdirSync(outDir, { recursive: true });
  const base = join(outDir, property.name);
  const message = error instanceof Error ? error.message : String(error);
  const comment = [
    `Counterexample to ${property.name}: ${property.description}.`,
    `What broke: ${message}`,
    ...(mutation === undefined
      ? [`Reproduce: vmmsim run ${base}.yaml --seed ${seed}`]
      : [`Found against the mutant '${mutation}' (vmmsim run uses the real monitor); the log names the mutant, so vmmsim replay ${base}.jsonl rebuilds it.`]),
  ].join('\n');
  writeFileSync(`${base}.yaml`, scenarioYaml({ ...scenario, seed }, comment));
  const run = runChecked({ ...scenario, seed }, { seed, mutation, log: true });
  writeFileSync(`${base}.jsonl`, run.log);
  writeFileSync(`${base}.json`, JSON.stringify(value, null, 2) + '\n');
  out.write(`  ${message}\n`);
  out.write(`  counterexample: ${base}.yaml (scenario), ${base}.jsonl (event log), ${base}.json (the shrunk case)\n`);
  out.write(`  replay it: vmmsim replay ${base}.jsonl\n`);
  return base;
}
