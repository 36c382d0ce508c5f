/**
 * `vmmsim run --interactive`: the run goes on at a human pace (`--pace`, virtual time per wall
 * second) while lines typed on standard input become inputs: console text for a VM, or faults.
 * Each is applied at the current virtual time and logged as an input record, so the log replays
 * exactly although what was typed, and when, came from outside.
 *
 *   alpha: hello          type "hello" and a newline on alpha's console
 *   !error alpha timer    the device fails          !reset alpha timer   it is reset
 *   !stall alpha 0 2ms    vCPU 0 of alpha stalls for 2 ms
 *   !balloon alpha 8      alpha's balloon driver is asked to give back 8 pages in all
 *   !save alpha a.img     alpha is saved to a.img (next to the scenario file) and shut off
 *   !pool alpha rt        alpha moves to cpupool rt (xl cpupool-migrate)
 *   !migrate alpha dst    alpha migrates live to host dst (pre-copy, QEMU's defaults; `auto-converge` or `postcopy` after the host)
 *   !quit                 end the run here
 */
import { createInterface } from 'node:readline';
import type { Simulation } from '../actors/simulation.js';
import { parseDuration } from '../core/scenario/units.js';
import type { UntimedInput } from '../core/scenario/inputs.js';
import { BALLOON_PAGES_LIMIT, MIGRATE_DEFAULTS, describeInput } from '../core/scenario/inputs.js';
import { InputError } from './errors.js';
import { paint, type Style } from './format.js';
import type { Output } from './run.js';

const SLICE_MS = 50;

export const INTERACTIVE_HELP =
  "type 'VM: text' to send console input, '!error VM console|timer', '!reset VM console|timer', '!stall VM VCPU DURATION', '!balloon VM PAGES', '!save VM FILE', '!pool VM POOL', '!migrate VM HOST [auto-converge|postcopy]', '!quit'";

/** Parses one typed line into an input (without its time), or throws InputError saying why. */
export function parseTypedLine(line: string, vms: readonly string[]): UntimedInput {
  const text = line.trimEnd();
  if (text === '!quit') return { kind: 'stop' };
  const known = (vm: string) => {
    if (!vms.includes(vm)) throw new InputError(`unknown VM '${vm}' (VMs: ${vms.join(', ')})`);
    return vm;
  };
  if (text.startsWith('!')) {
    const [command, vm, ...rest] = text.slice(1).split(/\s+/);
    if (command === 'error' || command === 'reset') {
      const device = rest[0];
      if (device !== 'console' && device !== 'timer') throw new InputError(`!${command}: expected a device, console or timer`);
      return { kind: command === 'error' ? 'device-error' : 'device-reset', vm: known(vm ?? ''), device };
    }
    if (command === 'stall') {
      const vcpu = Number(rest[0]);
      if (!Number.isInteger(vcpu) || vcpu < 0) throw new InputError('!stall: expected VM VCPU DURATION, e.g. !stall web 0 2ms');
      let durationNs: number;
      try {
        durationNs = parseDuration(rest[1] ?? '');
      } catch (error) {
        throw new InputError(`!stall: ${(error as Error).message}`);
      }
      return { kind: 'vcpu-stall', vm: known(vm ?? ''), vcpu, durationNs };
    }
    if (command === 'balloon') {
      // The same input as a scenario's `{ at, vm, balloon: PAGES }`: a target, the pages to give back in all.
      const usage = `!balloon: expected VM PAGES, PAGES the balloon target (pages to give back in all) as an integer from 0 to ${BALLOON_PAGES_LIMIT}, e.g. !balloon web 8`;
      if (vm === undefined || vm === '' || rest.length !== 1) throw new InputError(usage);
      const pages = /^\d+$/.test(rest[0]) ? Number(rest[0]) : Number.NaN;
      if (!(pages <= BALLOON_PAGES_LIMIT)) throw new InputError(`${usage}; got '${rest[0]}'`);
      return { kind: 'balloon', vm: known(vm), pages };
    }
    if (command === 'save') {
      // The same input as a scenario's `{ at, vm, save: FILE }`: FILE is relative to the scenario file.
      if (vm === undefined || vm === '' || rest.length !== 1 || rest[0] === '') throw new InputError('!save: expected VM FILE, e.g. !save web web.img');
      return { kind: 'save', vm: known(vm), file: rest[0] };
    }
    if (command === 'pool') {
      // The same input as a scenario's `{ at, vm, pool: NAME }`; a pool the scenario lacks is refused by the run (vm.not-allowed).
      if (vm === undefined || vm === '' || rest.length !== 1 || rest[0] === '') throw new InputError('!pool: expected VM POOL, e.g. !pool web Pool-0');
      return { kind: 'cpupool', vm: known(vm), pool: rest[0] };
    }
    if (command === 'migrate') {
      // The same input as a scenario's `{ at, vm, migrate: { to: HOST } }` with QEMU's defaults; an unknown host is refused by the run.
      const usage = '!migrate: expected VM HOST [auto-converge|postcopy], e.g. !migrate web dst';
      const option = rest[1];
      if (vm === undefined || vm === '' || rest.length < 1 || rest.length > 2 || rest[0] === '' || (option !== undefined && option !== 'auto-converge' && option !== 'postcopy')) throw new InputError(usage);
      return { kind: 'migrate', vm: known(vm), to: rest[0], mode: option === 'postcopy' ? 'postcopy' : 'precopy', ...MIGRATE_DEFAULTS, bandwidth: null, autoConverge: option === 'auto-converge' };
    }
    throw new InputError(`unknown command '!${command}': ${INTERACTIVE_HELP}`);
  }
  const colon = text.indexOf(':');
  if (colon <= 0) throw new InputError(INTERACTIVE_HELP);
  return { kind: 'console', vm: known(text.slice(0, colon).trim()), text: text.slice(colon + 1).replace(/^ /, '') + '\n' };
}

/** Runs the simulation paced against the wall clock, feeding typed lines in as inputs. */
export async function runInteractive(
  simulation: Simulation,
  paceNsPerSecond: number,
  input: NodeJS.ReadableStream,
  out: Output,
  err: Output,
  style: Style,
): Promise<void> {
  const vms = simulation.vms.map((vm) => vm.name);
  const typed: string[] = [];
  let inputClosed = false;
  const reader = createInterface({ input, terminal: false });
  reader.on('line', (line) => typed.push(line));
  reader.on('close', () => (inputClosed = true));
  err.write(paint(style, 36, `interactive: ${INTERACTIVE_HELP}`) + '\n');
  const sliceNs = Math.max(1, Math.round((paceNsPerSecond * SLICE_MS) / 1000));
  let quit = false;
  try {
    for (;;) {
      while (typed.length > 0) {
        const line = typed.shift() as string;
        if (line.trim() === '') continue;
        try {
          const parsed = parseTypedLine(line, vms);
          const placed = simulation.inputs.inject(parsed);
          if (parsed.kind === 'stop') quit = true;
          out.write(paint(style, 36, `>>> ${describeInput(placed)}`) + '\n');
        } catch (error) {
          if (!(error instanceof InputError || error instanceof RangeError)) throw error;
          err.write(paint(style, 33, `ignored: ${error.message}`) + '\n');
        }
        if (quit) break;
      }
      if (quit) {
        // What was typed before !quit arrives, then the stop (all 1 ns after now, in order).
        simulation.runUntilTime(simulation.kernel.now + 1);
        break;
      }
      if (!simulation.runUntilTime(simulation.kernel.now + sliceNs)) break;
      // Once input has ended and nothing is left to read, there is no reason to wait.
      if (!(inputClosed && typed.length === 0)) await new Promise((resolve) => setTimeout(resolve, SLICE_MS));
    }
  } finally {
    reader.close();
  }
}
