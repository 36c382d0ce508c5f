/**
 * `vmmsim run [scenario.yaml]`: runs a scenario, streams each VM's console as it appears
 * (prefixed by the VM's name), optionally writes the event log, and ends with the summary.
 * `vmmsim run --from LOG --at SEQ [--set key=value ...]` forks a logged run instead: it is rebuilt
 * up to event SEQ (checked against the log) and goes on, under changed rules if asked.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { Simulation } from '../actors/simulation.js';
import type { RunSummary } from '../actors/summary.js';
import type { SimEvent } from '../core/events.js';
import { LogError } from '../core/log/reader.js';
import { LogWriter } from '../core/log/writer.js';
import { ScenarioError } from '../core/scenario/load.js';
import { fork, ForkError } from '../replay/fork.js';
import { PolicyModuleError } from '../replay/policyModule.js';
import { InputError } from './errors.js';
import { runInteractive } from './interactive.js';
import { asInputError, moduleCopyOf, resolvePolicy, withPolicy } from './policyFile.js';
import { parseDuration } from '../core/scenario/units.js';
import { formatCount, formatNs, paint, summaryTable, vmColor, type Style } from './format.js';
import { openLog } from './replay.js';
import { MetricsCollector } from '../actors/metrics/collector.js';
import { RequestMetrics, scenarioServers } from '../actors/metrics/requests.js';
import { loadScenarioFile, readBytes, readText, withGuestErrors } from './scenarioFile.js';
import type { Scenario } from '../core/scenario/schema.js';
import type { InputSpec } from '../core/scenario/inputs.js';

export interface RunOptions {
  readonly seed?: string;
  readonly log?: string;
  readonly json?: boolean;
  readonly quiet?: boolean;
  readonly from?: string;
  readonly at?: string;
  readonly set?: readonly string[];
  readonly interactive?: boolean;
  readonly pace?: string;
  /** A registry policy or a .js policy module, instead of the scenario's (docs/scheduling.md). */
  readonly policy?: string;
  /** `VM@TIME:FILE`: save VM to FILE at virtual time TIME (docs/migration.md). */
  readonly save?: readonly string[];
}

/**
 * `--save VM@TIME:FILE` as a `save` input of the scenario. FILE is relative to the current
 * directory; inputs name files relative to the scenario's folder, so it is rewritten so.
 */
export function parseSave(text: string, scenario: Scenario, scenarioFile: string): InputSpec {
  const match = /^([^@]+)@([^:]+):(.+)$/.exec(text);
  if (match === null) throw new InputError(`--save: expected VM@TIME:FILE (e.g. web@20ms:web.img), got '${text}'`);
  const [, vm, time, file] = match;
  if (!scenario.vms.some((spec) => spec.name === vm)) {
    throw new InputError(`--save: unknown VM '${vm}' (expected one of: ${scenario.vms.map((spec) => spec.name).join(', ')})`);
  }
  let atNs: number;
  try {
    atNs = parseDuration(time);
  } catch (error) {
    throw new InputError(`--save: ${(error as Error).message}`);
  }
  if (atNs < 0 || atNs > scenario.run.timeNs) throw new InputError(`--save: ${time} is outside the run (0 to ${formatNs(scenario.run.timeNs)})`);
  return { kind: 'save', atNs, vm, file: relative(dirname(resolve(scenarioFile)), resolve(file)) };
}

/** The scenario with `--save` inputs added in time order (after inputs of the same time). */
function withSaves(scenario: Scenario, saves: readonly string[], scenarioFile: string): Scenario {
  if (saves.length === 0) return scenario;
  const added = saves.map((text) => parseSave(text, scenario, scenarioFile));
  const inputs = [...scenario.inputs, ...added].map((input, index) => ({ input, index })).sort((x, y) => x.input.atNs - y.input.atNs || x.index - y.index);
  return { ...scenario, inputs: inputs.map(({ input }) => input) };
}

/** Where an interactive run reads typed lines and writes its prompts. */
export interface Terminal {
  readonly input: NodeJS.ReadableStream;
  readonly err: Output;
}

export interface Output {
  write(text: string): void;
}

export function parseSeed(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) > 0xffff_ffff) {
    throw new InputError(`--seed: expected an integer from 0 to 4294967295, got '${value}'`);
  }
  return Number(value);
}

/** Prints console lines (and crashes) of the events it is given, prefixed by the VM's name. */
function consolePrinter(names: readonly string[], out: Output, style: Style): (event: SimEvent) => void {
  const width = Math.max(...names.map((name) => name.length));
  const colors = new Map(names.map((name, index) => [`vm/${name}/console`, vmColor(index)]));
  const prefixes = new Map(names.map((name) => [`vm/${name}/console`, name.padEnd(width)]));
  return (event) => {
    if (event.type === 'console.output') {
      const prefix = paint(style, colors.get(event.src) ?? 0, `[${prefixes.get(event.src)}]`);
      out.write(`${prefix} ${event.data.text}\n`);
    } else if (event.type === 'vm.crashed') {
      out.write(paint(style, 31, `*** ${event.src.slice(3)} crashed: ${event.data.reason}`) + '\n');
    } else if (event.type === 'vm.saved') {
      out.write(paint(style, 36, `*** ${event.src.slice(3)} saved to ${event.data.file} (${formatCount(event.data.bytes)} bytes, ${formatCount(event.data.pages)} pages) and shut off`) + '\n');
    } else if (event.type === 'vm.not-allowed' && event.data.command === 'save') {
      out.write(paint(style, 33, `*** ${event.src.slice(3)} not saved: ${event.data.reason}`) + '\n');
    } else if (event.type === 'vm.pool-moved') {
      out.write(paint(style, 36, `*** ${event.src.slice(3)} moved from cpupool ${event.data.from} to ${event.data.to} at ${formatNs(event.t)}`) + '\n');
    } else if (event.type === 'vm.not-allowed' && event.data.command === 'CPUPOOL-MIGRATE') {
      out.write(paint(style, 33, `*** ${event.src.slice(3)} not moved: ${event.data.reason}`) + '\n');
    }
  };
}

export function runCommand(path: string | undefined, options: RunOptions, out: Output, style: Style, terminal?: Terminal): RunSummary | Promise<RunSummary> {
  if (options.from === undefined && (options.at !== undefined || (options.set?.length ?? 0) > 0)) {
    throw new InputError('--at and --set go with --from LOG (fork a logged run)');
  }
  if (options.from !== undefined && path !== undefined) throw new InputError('give either a scenario or --from LOG, not both');
  if (options.from !== undefined && (options.save?.length ?? 0) > 0) throw new InputError('--save goes with a scenario, not with --from');
  const seed = parseSeed(options.seed);
  if (options.from !== undefined && seed !== undefined) throw new InputError('--seed does not go with --from: use --set seed=N');
  let fd: number | undefined;
  if (options.log !== undefined) {
    try {
      fd = openSync(options.log, 'w');
    } catch (error) {
      throw new InputError(`--log ${options.log}: cannot write: ${(error as Error).message}`);
    }
  }
  try {
    const logFd = fd;
    const log = logFd === undefined ? undefined : new LogWriter((chunk) => writeSync(logFd, chunk));
    const streaming = !options.json && !options.quiet;
    let printer: ((event: SimEvent) => void) | undefined;
    const sink = (event: SimEvent) => printer?.(event);
    let simulation: Simulation;
    if (options.from !== undefined) {
      simulation = forkFrom(options.from, options, log, sink, out, style);
    } else {
      const loaded = loadScenarioFile(path);
      const policy = options.policy === undefined ? undefined : resolvePolicy(options.policy);
      const scenario = withSaves(policy === undefined ? loaded.scenario : withPolicy(loaded.scenario, policy), options.save ?? [], loaded.file);
      const factory = policy?.registryName === undefined ? policy?.factory : undefined;
      simulation = withGuestErrors(() =>
        asInputError(
          () =>
            new Simulation({
              scenario,
              seed,
              scenarioFile: loaded.file,
              readProgram: loaded.readProgram,
              readImage: loaded.readImage,
              writeImage: loaded.writeImage,
              log,
              sink,
              policy: factory,
              policyModule: policy?.module,
            }),
        ),
      );
    }
    if (streaming) printer = consolePrinter(simulation.vms.map((vm) => vm.name), out, style);
    // --json carries every metric: the scheduling metrics and the request metrics, measured from the bus.
    const measuring = options.json === true ? { collector: new MetricsCollector(simulation.bus, simulation.vms.map((vm) => vm.name)), requests: new RequestMetrics(simulation.bus, scenarioServers(simulation.scenario.vms)) } : undefined;
    const reportRun = (summary: RunSummary) => report(simulation, summary, options, out, style, streaming, measuring);
    if (options.interactive) {
      if (terminal === undefined) throw new InputError('--interactive needs a terminal to read from');
      let pace = 10_000_000;
      if (options.pace !== undefined) {
        try {
          pace = parseDuration(options.pace);
        } catch (error) {
          throw new InputError(`--pace: ${(error as Error).message}`);
        }
        if (pace <= 0) throw new InputError('--pace: expected a positive duration of virtual time per second');
      }
      const keepFd = fd;
      fd = undefined;
      return runInteractive(simulation, pace, terminal.input, out, terminal.err, style)
        .then(() => reportRun(simulation.finishRun()))
        .finally(() => {
          if (keepFd !== undefined) closeSync(keepFd);
        });
    }
    return reportRun(simulation.run());
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function report(
  simulation: Simulation,
  summary: RunSummary,
  options: RunOptions,
  out: Output,
  style: Style,
  streaming: boolean,
  measuring: { readonly collector: MetricsCollector; readonly requests: RequestMetrics } | undefined,
): RunSummary {
  if (options.json) {
    const consoles = Object.fromEntries(simulation.vms.map((vm) => [vm.name, vm.console.transcript.split('\n').slice(0, -1)]));
    const metrics = measuring === undefined ? undefined : { scheduling: measuring.collector.finish(simulation), requests: measuring.requests.finish(simulation.kernel.now) };
    out.write(JSON.stringify({ ...summary, ...(metrics === undefined ? {} : { metrics }), console: consoles, log: options.log ?? null }, null, 2) + '\n');
  } else {
    if (streaming) out.write('\n');
    out.write(summaryTable(summary, style) + '\n');
    if (options.log !== undefined) out.write(`event log: ${options.log}\n`);
  }
  return summary;
}

function forkFrom(
  path: string,
  options: RunOptions,
  log: LogWriter | undefined,
  sink: (event: SimEvent) => void,
  out: Output,
  style: Style,
): Simulation {
  if (options.at === undefined || !/^\d+$/.test(options.at)) {
    throw new InputError(`--at: expected the seq of an event of ${path} (an integer), got ${options.at === undefined ? 'nothing' : `'${options.at}'`}`);
  }
  const at = Number(options.at);
  moduleCopyOf(options.policy, `to go on under policy ${options.policy}, use --set scheduler.policy=${options.policy}`);
  const file = openLog(path);
  try {
    const result = fork(file, {
      at,
      set: options.set,
      log,
      sink,
      policy: options.policy,
      readProgram: (program) => readText(resolve(dirname(path), program), 'the guest program'),
      readImage: (image) => readBytes(resolve(dirname(path), image), 'the VM image'),
    });
    if (!options.json) {
      const changes = result.changed ? ` with ${(options.set ?? []).join(', ')}` : ' unchanged';
      out.write(
        paint(style, 36, `forked ${path} after event ${formatCount(at)} (${formatNs(result.simulation.kernel.now)}), going on${changes}`) + '\n',
      );
    }
    return result.simulation;
  } catch (error) {
    if (error instanceof ForkError || error instanceof LogError || error instanceof PolicyModuleError) throw new InputError(error.message);
    if (error instanceof ScenarioError) throw new InputError(error.message);
    throw error;
  } finally {
    file.close();
  }
}
