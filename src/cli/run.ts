/**
 * `vmmsim run [scenario.yaml]`: runs a scenario, streams each VM's console as it appears
 * (prefixed by the VM's name), optionally writes the event log, and ends with the summary.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { Simulation } from '../actors/simulation.js';
import type { RunSummary } from '../actors/summary.js';
import { LogWriter } from '../core/log/writer.js';
import { InputError } from './errors.js';
import { paint, summaryTable, vmColor, type Style } from './format.js';
import { loadScenarioFile, withGuestErrors } from './scenarioFile.js';

export interface RunOptions {
  readonly seed?: string;
  readonly log?: string;
  readonly json?: boolean;
  readonly quiet?: boolean;
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

export function runCommand(path: string | undefined, options: RunOptions, out: Output, style: Style): RunSummary {
  const seed = parseSeed(options.seed);
  const loaded = loadScenarioFile(path);
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
    const simulation = withGuestErrors(
      () =>
        new Simulation({
          scenario: loaded.scenario,
          seed,
          scenarioFile: loaded.file,
          readProgram: loaded.readProgram,
          log,
        }),
    );
    const streaming = !options.json && !options.quiet;
    if (streaming) {
      const names = simulation.vms.map((vm) => vm.name);
      const width = Math.max(...names.map((name) => name.length));
      const colors = new Map(names.map((name, index) => [`vm/${name}/console`, vmColor(index)]));
      const prefixes = new Map(names.map((name) => [`vm/${name}/console`, name.padEnd(width)]));
      simulation.bus.events$.subscribe((event) => {
        if (event.type === 'console.output') {
          const prefix = paint(style, colors.get(event.src) ?? 0, `[${prefixes.get(event.src)}]`);
          out.write(`${prefix} ${event.data.text}\n`);
        } else if (event.type === 'vm.crashed') {
          out.write(paint(style, 31, `*** ${event.src.slice(3)} crashed: ${event.data.reason}`) + '\n');
        }
      });
    }
    const summary = simulation.run();
    if (options.json) {
      const consoles = Object.fromEntries(simulation.vms.map((vm) => [vm.name, vm.console.transcript.split('\n').slice(0, -1)]));
      out.write(JSON.stringify({ ...summary, console: consoles, log: options.log ?? null }, null, 2) + '\n');
    } else {
      if (streaming) out.write('\n');
      out.write(summaryTable(summary, style) + '\n');
      if (options.log !== undefined) out.write(`event log: ${options.log}\n`);
    }
    return summary;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
