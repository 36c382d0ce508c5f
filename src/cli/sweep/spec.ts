/**
 * The sweep file (docs/scheduling.md, "Sweeps"): a base scenario and a grid of parameters.
 *
 *   scenario: mixed.yaml          # relative to the sweep file
 *   seed: 7                       # the sweep's seed (default 1)
 *   seeds: 5                      # runs per grid point (default 1)
 *   time: 200ms                   # optional: each run's virtual time
 *   out: results/mixed            # optional: where results go (default: next to the file, .out)
 *   grid:
 *     scheduler.policy: [credit, credit2, cfs]
 *     scheduler.ratelimit: [0, 1ms]
 *     costs.contextSwitch: [1us, 5us]
 *     vms.web.params.IO_NS: [500000, 2000000]
 *     vms.batch.copies: [1, 4, 16]   # the VM `batch` repeated (batch-1, batch-2, ...)
 *     vms.*.sched.weight: [256, 512] # every VM
 *
 * Each run has a key (`scheduler.policy=credit,...#2`: the grid point and the replication) and a
 * seed derived from the sweep's seed and that key, never from the run's position or worker.
 * Every grid point is validated as a whole scenario before anything runs.
 */
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node } from 'yaml';
import { scenarioToSource, withChangedPolicy, type Scenario } from '../../core/scenario/schema.js';
import { parseDuration } from '../../core/scenario/units.js';
import { resolveScenarioObject, ScenarioError } from '../../core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../guests/index.js';
import { InputError } from '../errors.js';
import { loadScenarioFile, readText } from '../scenarioFile.js';
import { deriveSeed } from '../seeds.js';
import { asInputError, isPolicyPath } from '../policyFile.js';
import { loadPolicyModule } from '../../replay/policyModule.js';

export type GridValue = string | number | boolean;

export interface SweepRun {
  readonly index: number;
  readonly key: string;
  readonly point: Readonly<Record<string, GridValue>>;
  readonly replication: number;
  readonly seed: number;
  readonly scenario: Scenario;
  /** A policy from a JavaScript module (`scheduler.policy: ./fcfs.js` in the grid), checked by hash. */
  readonly policyModule?: SweepPolicyModule;
}

export interface SweepPolicyModule {
  /** The path as the grid gives it (relative to the sweep file): the value in keys and results. */
  readonly path: string;
  /** Its absolute path where the sweep was loaded. */
  readonly file: string;
  readonly sha256: string;
}

export interface Sweep {
  readonly file: string;
  readonly name: string;
  readonly out: string;
  readonly scenarioFile: string;
  readonly axes: readonly { readonly path: string; readonly values: readonly GridValue[] }[];
  readonly runs: readonly SweepRun[];
}

const KEYS = ['scenario', 'seed', 'seeds', 'time', 'out', 'grid'];
const MAX_RUNS = 1_000_000;
const MAX_COPIES = 4096;

export function loadSweep(file: string): Sweep {
  const text = readText(file, 'the sweep');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const where = (node: Node | null | undefined): string => {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    const error = doc.errors[0];
    const { line, col } = lineCounter.linePos(error.pos[0]);
    throw new InputError(`${file}:${line}:${col}: could not read the YAML: ${error.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  if (!isMap(root)) throw new InputError(`${where(root)}: expected a map with scenario, grid and (optionally) seed, seeds, time, out`);
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!KEYS.includes(key)) throw new InputError(`${where(pair.key as Node)}: unknown key '${key}' (expected one of: ${KEYS.join(', ')})`);
  }
  const nodeOf = (key: string): Node | undefined => (root.get(key, true) as Node | undefined) ?? undefined;
  const scalar = (key: string): unknown => {
    const node = nodeOf(key);
    if (node === undefined) return undefined;
    if (!isScalar(node)) throw new InputError(`${where(node)}: ${key}: expected a single value`);
    return node.value;
  };
  const integerAt = (key: string, min: number, max: number, fallback: number): number => {
    const value = scalar(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new InputError(`${where(nodeOf(key))}: ${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const scenarioPath = scalar('scenario');
  if (typeof scenarioPath !== 'string' || scenarioPath === '') throw new InputError(`${where(nodeOf('scenario') ?? root)}: scenario: expected the path of a scenario file`);
  const seed = integerAt('seed', 0, 0xffff_ffff, 1);
  const seeds = integerAt('seeds', 1, 10_000, 1);
  const timeValue = scalar('time');
  let timeNs: number | undefined;
  if (timeValue !== undefined) {
    try {
      timeNs = parseDuration(timeValue as string | number);
    } catch (error) {
      throw new InputError(`${where(nodeOf('time'))}: time: ${(error as Error).message}`);
    }
  }
  const outValue = scalar('out');
  const folder = dirname(file);
  const scenarioFile = resolve(folder, scenarioPath);
  const base = loadScenarioFile(scenarioFile).scenario;
  const gridNode = nodeOf('grid');
  if (gridNode === undefined || !isMap(gridNode) || gridNode.items.length === 0) {
    throw new InputError(`${where(gridNode ?? root)}: grid: expected a map of parameter paths to lists of values`);
  }
  const axes: { path: string; values: GridValue[]; node: Node }[] = [];
  const modules = new Map<string, SweepPolicyModule>();
  for (const pair of gridNode.items) {
    const path = isScalar(pair.key) ? String(pair.key.value) : '';
    const valueNode = pair.value as Node | null;
    if (!isSeq(valueNode) || valueNode.items.length === 0) throw new InputError(`${where(valueNode ?? (pair.key as Node))}: grid.${path}: expected a non-empty list of values`);
    const values = valueNode.items.map((item) => {
      const value = isScalar(item) ? item.value : undefined;
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw new InputError(`${where(item as Node)}: grid.${path}: expected a number, a string or a boolean`);
      }
      return value;
    });
    checkPath(path, base, `${where(pair.key as Node)}: grid.${path}`);
    if (path === 'scheduler.policy') {
      // A value that is a path names a policy module: loaded now (so a module that does not load
      // is refused at its grid entry before anything runs), and run by hash wherever the run goes.
      valueNode.items.forEach((item, itemIndex) => {
        const value = values[itemIndex];
        if (typeof value !== 'string' || !isPolicyPath(value) || modules.has(value)) return;
        const moduleFile = resolve(folder, value);
        const loaded = asInputError(() => loadPolicyModule(moduleFile, { flag: `${where(item as Node)}: grid.scheduler.policy`, recordAs: value }));
        modules.set(value, { path: value, file: moduleFile, sha256: loaded.record.sha256 });
      });
    }
    axes.push({ path, values, node: pair.key as Node });
  }
  const points = axes.reduce((total, axis) => total * axis.values.length, 1);
  if (points * seeds > MAX_RUNS) throw new InputError(`${where(gridNode)}: the grid has ${points * seeds} runs, more than ${MAX_RUNS}`);
  // Every grid point, validated once; each replication shares its scenario.
  const runs: SweepRun[] = [];
  const counters = axes.map(() => 0);
  for (let pointIndex = 0; pointIndex < points; pointIndex++) {
    const point: Record<string, GridValue> = {};
    axes.forEach((axis, axisIndex) => (point[axis.path] = axis.values[counters[axisIndex]]));
    const policyValue = point['scheduler.policy'];
    const policyModule = typeof policyValue === 'string' ? modules.get(policyValue) : undefined;
    // A module's scenario keeps the base scenario's policy settings; the factory replaces the policy.
    const scenarioPoint = policyModule === undefined ? point : Object.fromEntries(Object.entries(point).filter(([path]) => path !== 'scheduler.policy'));
    const scenario = buildPoint(base, scenarioPoint, timeNs, (path) => `${where(axes.find((axis) => axis.path === path)?.node)}: grid.${path}`, file);
    const pointKey = axes.map((axis) => `${axis.path}=${String(point[axis.path])}`).join(',');
    for (let replication = 0; replication < seeds; replication++) {
      const key = `${pointKey}#${replication}`;
      runs.push({ index: runs.length, key, point, replication, seed: deriveSeed(seed, key), scenario, ...(policyModule === undefined ? {} : { policyModule }) });
    }
    for (let axisIndex = axes.length - 1; axisIndex >= 0; axisIndex--) {
      counters[axisIndex]++;
      if (counters[axisIndex] < axes[axisIndex].values.length) break;
      counters[axisIndex] = 0;
    }
  }
  const name = file.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
  const out = typeof outValue === 'string' ? resolve(folder, outValue) : resolve(folder, `${name}.out`);
  return { file, name, out, scenarioFile, axes: axes.map(({ path, values }) => ({ path, values })), runs };
}

function checkPath(path: string, base: Scenario, at: string): void {
  const parts = path.split('.');
  if (parts[0] === 'vms') {
    if (parts.length < 3) throw new InputError(`${at}: expected vms.<name or *>.<key>`);
    if (parts[1] !== '*' && !base.vms.some((vm) => vm.name === parts[1])) {
      throw new InputError(`${at}: no VM named '${parts[1]}' in the scenario (VMs: ${base.vms.map((vm) => vm.name).join(', ')})`);
    }
    return;
  }
  if (!['name', 'seed', 'host', 'scheduler', 'run', 'costs'].includes(parts[0])) throw new InputError(`${at}: expected a path into the scenario (host., scheduler., run., costs., vms.<name>.)`);
}

function setIn(target: Record<string, unknown>, parts: readonly string[], value: GridValue): void {
  let cursor = target;
  for (const part of parts.slice(0, -1)) {
    const next = cursor[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cursor[part] = {};
    cursor = cursor[part] as Record<string, unknown>;
  }
  cursor[parts[parts.length - 1]] = value;
}

/** The scenario of one grid point, validated (errors point at the grid entry). */
function buildPoint(base: Scenario, point: Readonly<Record<string, GridValue>>, timeNs: number | undefined, at: (path: string) => string, file: string): Scenario {
  const source = JSON.parse(JSON.stringify(scenarioToSource(base))) as Record<string, unknown> & { vms: Record<string, unknown>[] };
  if (timeNs !== undefined) (source.run as Record<string, unknown>).time = timeNs;
  const copies = new Map<string, number>();
  for (const [path, value] of Object.entries(point)) {
    const parts = path.split('.');
    if (parts[0] !== 'vms') {
      setIn(source, parts, value);
      continue;
    }
    if (parts[2] === 'copies' && parts.length === 3) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_COPIES) throw new InputError(`${at(path)}: copies: expected an integer from 1 to ${MAX_COPIES}, got ${JSON.stringify(value)}`);
      copies.set(parts[1], value);
      continue;
    }
    for (const vm of source.vms) if (parts[1] === '*' || vm.name === parts[1]) setIn(vm, parts.slice(2), value);
  }
  if (copies.size > 0) {
    source.vms = source.vms.flatMap((vm) => {
      const count = copies.get(vm.name as string) ?? copies.get('*') ?? 1;
      if (count === 1) return [vm];
      return Array.from({ length: count }, (_, index) => ({ ...vm, name: `${String(vm.name)}-${index + 1}` }));
    });
  }
  try {
    return withChangedPolicy(base, resolveScenarioObject(source, { file, guests: BUNDLED_GUEST_NAMES }));
  } catch (error) {
    if (error instanceof ScenarioError) {
      const first = error.diagnostics[0];
      const path = Object.keys(point).find((candidate) => first.path.startsWith(candidate.split('.')[0])) ?? Object.keys(point)[0];
      // The reason on a line of its own: the message contract cuts each line at 200 characters.
      throw new InputError(`${at(path)}: the grid point ${JSON.stringify(point)} gives an invalid scenario:\n  ${first.path}: ${first.message}`);
    }
    throw error;
  }
}
