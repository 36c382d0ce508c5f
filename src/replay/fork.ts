/**
 * Fork a run: rebuild it from a log up to an event (by deterministic re-execution, checked event
 * by event against the log, PRNG state and all), then let it go on, under changed rules if asked
 * ("what would have happened if"). Without changes the continuation is the original's tail.
 */
import { parse as parseYaml } from 'yaml';
import { Simulation } from '../actors/simulation.js';
import type { SimEvent } from '../core/events.js';
import type { LogWriter } from '../core/log/writer.js';
import { EventSerializer } from '../core/log/writer.js';
import { resolveScenarioObject, scenarioToSource } from '../core/scenario/load.js';
import { withChangedPolicy, type Scenario } from '../core/scenario/schema.js';
import { BUNDLED_GUEST_NAMES } from '../guests/index.js';
import type { LogFile } from './logFile.js';
import { inputRecords, mutationOf, scenarioOf } from './replay.js';
import { partsOf } from '../testing/mutants/index.js';
import { policyModuleOf } from './policyModule.js';

export class ForkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForkError';
  }
}

/** `key=value` assignments into the scenario's source form (`costs.exit=1us`, `scheduler.policy=credit`, `vms.web.sched.weight=512`). */
export function applySettings(source: Record<string, unknown>, settings: readonly string[]): Record<string, unknown> {
  const copy = structuredClone(source);
  for (const setting of settings) {
    const equals = setting.indexOf('=');
    if (equals <= 0) throw new ForkError(`--set ${setting}: expected key=value, e.g. scheduler.policy=credit or costs.exit=1us`);
    const path = setting.slice(0, equals).split('.');
    const value: unknown = parseYaml(setting.slice(equals + 1));
    let node: unknown = copy;
    for (let index = 0; index < path.length - 1; index++) {
      const key = path[index];
      let next: unknown;
      if (Array.isArray(node)) {
        next = /^\d+$/.test(key) ? node[Number(key)] : node.find((item) => (item as { name?: string }).name === key);
      } else if (node !== null && typeof node === 'object') {
        const record = node as Record<string, unknown>;
        if (record[key] === undefined) record[key] = {};
        next = record[key];
      }
      if (next === undefined || next === null || typeof next !== 'object') {
        throw new ForkError(`--set ${setting}: no '${path.slice(0, index + 1).join('.')}' in the scenario`);
      }
      node = next;
    }
    const last = path[path.length - 1];
    if (Array.isArray(node) || node === null || typeof node !== 'object') throw new ForkError(`--set ${setting}: cannot set '${last}' there`);
    const record = node as Record<string, unknown>;
    // A word YAML reads as null, a boolean or a number, where the scenario has a string (the
    // scheduler `null`, a VM named `yes`), is that string: `scheduler.policy=null` picks Xen's null
    // scheduler rather than removing the policy.
    const text = setting.slice(equals + 1);
    record[last] = typeof record[last] === 'string' && typeof value !== 'string' && /^[A-Za-z0-9_.~-]+$/.test(text) ? text : value;
  }
  return copy;
}

export interface ForkOptions {
  /** Go on after the kernel step that published this event. */
  readonly at: number;
  readonly set?: readonly string[];
  readonly log?: LogWriter;
  readonly readProgram?: (path: string) => string;
  /** Reads an `image:` file the scenario names (a VM restored from an image), relative to the log's folder. */
  readonly readImage?: (path: string) => Uint8Array;
  readonly sink?: (event: SimEvent) => void;
  /**
   * A copy of the policy module the run used, when the log's header names one that is no longer
   * at the recorded path (checked against its sha256). The fork's own log records this path.
   */
  readonly policy?: string;
}

export interface Fork {
  readonly simulation: Simulation;
  /** The scenario it goes on with (the original when nothing was set). */
  readonly scenario: Scenario;
  readonly changed: boolean;
}

/** Rebuilds the run up to event `at`, applies the settings, and returns it paused there. */
export function fork(file: LogFile, options: ForkOptions): Fork {
  const original = scenarioOf(file);
  const settings = options.set ?? [];
  let next = original;
  if (settings.length > 0) {
    const source = applySettings({ ...scenarioToSource(original), seed: file.header.seed }, settings);
    next = resolveScenarioObject(source, { file: '--set', guests: BUNDLED_GUEST_NAMES });
    next = withChangedPolicy(original, next);
  }
  const changed = settings.length > 0;
  const module = policyModuleOf(file.header, file.name, options.policy, { recordCopy: true });
  // Check the rebuilt prefix against the log as it is produced.
  const serializer = new EventSerializer();
  const logged = eventBases(file, options.at);
  let checked = 0;
  const verify = (event: SimEvent): void => {
    if (event.seq > options.at) return;
    const expected = logged.next();
    const actual = serializer.serialize(event);
    if (expected.done === true || expected.value !== actual) {
      throw new ForkError(`the rebuilt run differs from ${file.name} at seq ${event.seq}: run 'vmmsim replay ${file.name}' to see where`);
    }
    checked++;
  };
  const simulation = new Simulation({
    scenario: original,
    seed: file.header.seed,
    readProgram: options.readProgram,
    readImage: options.readImage,
    log: options.log,
    inputs: inputRecords(file),
    parts: partsOf(mutationOf(file)),
    policy: module?.factory,
    policyModule: module?.record,
    fork: changed || options.log !== undefined ? { from: file.name, at: options.at, scenario: scenarioToSource(next) } : undefined,
    sink: (event) => {
      verify(event);
      options.sink?.(event);
    },
  });
  if (!simulation.runUntilEvent(options.at)) {
    throw new ForkError(`the run ends before event ${options.at} (${simulation.bus.count} events)`);
  }
  if (checked <= options.at) throw new ForkError(`${file.name} ends before event ${options.at}`);
  if (changed) {
    try {
      simulation.reconfigure({ ...next, seed: next.seed });
    } catch (error) {
      throw new ForkError(`--set: ${(error as Error).message}`);
    }
  }
  return { simulation, scenario: next, changed };
}

function* eventBases(file: LogFile, last: number): Generator<string> {
  for (const line of file.lines()) {
    if (!line.base.startsWith('{"seq":')) continue;
    yield line.base;
    if (Number.parseInt(line.base.slice(7), 10) >= last) return;
  }
}
