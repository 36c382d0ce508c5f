/**
 * `vmmsim inspect LOG`: the state of every actor at a point of a run (`--at SEQ`, `--time T`),
 * folded from the log (nearest checkpoint, then the events after it), with each vCPU's
 * registers from a deterministic re-execution; or the events that pass filters (`--vm`,
 * `--type`, `--from`, `--to`) as a table or JSON lines; or counts (`--stats`).
 * A truncated log is read up to its last whole line, with a warning; a damaged one exits 2
 * naming the line.
 */
import { dirname, resolve } from 'node:path';
import type { SimEvent } from '../core/events.js';
import { LogError } from '../core/log/reader.js';
import { ScenarioError } from '../core/scenario/load.js';
import { parseDuration } from '../core/scenario/units.js';
import { restore } from '../replay/index.js';
import { PolicyModuleError } from '../replay/policyModule.js';
import type { InspectState, VmView } from '../replay/fold/state.js';
import type { LogFile } from '../replay/logFile.js';
import { eventStats, FilterError, queryEvents, type EventFilter, type EventStats, type Point } from '../replay/query.js';
import { registersOf, type RegistersAt } from '../replay/registers.js';
import { lastSeq, PointError, stateAtSeq, stateAtTime, type StateAt } from '../replay/seek.js';
import { EXIT_OK, InputError, foldError } from './errors.js';
import { formatCount, formatNs, paint, stateColor, type Style } from './format.js';
import { openLog } from './replay.js';
import type { Output } from './run.js';
import { readBytes, readText } from './scenarioFile.js';
import { moduleCopyOf } from './policyFile.js';

export interface InspectOptions {
  readonly at?: string;
  readonly time?: string;
  readonly json?: boolean;
  /** Commander's `--no-registers` sets this to false. */
  readonly registers?: boolean;
  readonly vm?: string;
  readonly type?: string;
  readonly from?: string;
  readonly to?: string;
  readonly limit?: string;
  readonly stats?: boolean;
  /** A moved copy of the policy module the log's run used (for the re-execution that shows registers). */
  readonly policy?: string;
}

export function inspectCommand(path: string, options: InspectOptions, out: Output, err: Output, style: Style): number {
  moduleCopyOf(options.policy, "a registry policy is in the log's scenario already");
  const file = openLog(path);
  const warnings = new Set<string>();
  const note = () => {
    for (const warning of file.warnings) warnings.add(warning);
  };
  try {
    try {
      file.verify();
      const last = lastSeq(file);
      note();
      const listing = options.type !== undefined || options.from !== undefined || options.to !== undefined || options.limit !== undefined;
      const point = options.at !== undefined || options.time !== undefined;
      if (options.at !== undefined && options.time !== undefined) throw new InputError('--at and --time both name the point: give one');
      if (options.stats === true && point) throw new InputError('--stats counts events over a range (--from/--to), not at a point (--at/--time)');
      if (point && listing) throw new InputError('--at/--time show the state at a point; --type/--from/--to/--limit list events: use one or the other');
      if (options.stats === true) {
        const stats = eventStats(file, filterOf(file, options));
        out.write(options.json === true ? JSON.stringify(stats, null, 2) + '\n' : statsReport(stats, style));
      } else if (listing || (options.vm !== undefined && !point)) {
        listEvents(file, filterOf(file, options), parseLimit(options.limit), options.json === true, last, out);
      } else {
        const at = options.time !== undefined ? stateAtTime(file, parseTime(options.time, '--time')) : stateAtSeq(file, options.at === undefined ? last : parseSeq(options.at, '--at'));
        note();
        if (options.vm !== undefined && at.state.vms[options.vm] === undefined) throw new InputError(`--vm: no VM '${options.vm}' in this log (VMs: ${Object.keys(at.state.vms).join(', ')})`);
        let registers: RegistersAt | undefined;
        if (options.registers !== false) {
          let simulation;
          try {
            simulation = restore(file, at.event.seq, {
              readProgram: (program) => readText(resolve(dirname(path), program), 'the guest program'),
              readImage: (image) => readBytes(resolve(dirname(path), image), 'the VM image'),
              policy: options.policy,
            });
          } catch (error) {
            if (error instanceof PolicyModuleError) throw new InputError(`${error.message} (or --no-registers to skip the re-execution)`);
            throw error;
          }
          registers = registersOf(simulation, file);
        }
        if (options.json === true) {
          out.write(JSON.stringify({ at: at.event, foldedFrom: at.from, state: onlyVm(at.state, options.vm), registers: registers ?? null }, null, 2) + '\n');
        } else {
          out.write(stateReport(file, at, last, registers, options.vm, style));
        }
      }
    } catch (error) {
      if (error instanceof LogError || error instanceof PointError || error instanceof FilterError) throw new InputError(error.message);
      if (error instanceof ScenarioError) throw new InputError(`${path}: the header's scenario does not load: ${error.message}`);
      throw foldError(path, error);
    }
    return EXIT_OK;
  } finally {
    note();
    for (const warning of warnings) err.write(paint(style, 33, `warning: ${warning}`) + '\n');
    file.close();
  }
}

// ---------------------------------------------------------------- arguments

function parseSeq(text: string, option: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InputError(`${option}: expected an event's seq (a non-negative integer), got '${text}'`);
  return Number(text);
}

function parseTime(text: string, option: string): number {
  try {
    return parseDuration(text.trim());
  } catch (error) {
    throw new InputError(`${option}: ${(error as Error).message}`);
  }
}

/** A plain integer is a seq; a value with a unit (`5ms`, `250us`, `1200ns`) is a time. */
export function parsePoint(text: string, option: string): Point {
  return /^\s*\d+\s*$/.test(text) ? { seq: Number(text) } : { time: parseTime(text, option) };
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return Number.POSITIVE_INFINITY;
  if (!/^\d+$/.test(text)) throw new InputError(`--limit: expected a non-negative integer, got '${text}'`);
  return Number(text);
}

function filterOf(file: LogFile, options: InspectOptions): EventFilter {
  if (options.vm !== undefined) {
    const names = vmNames(file);
    if (!names.includes(options.vm)) throw new InputError(`--vm: no VM '${options.vm}' in this log (VMs: ${names.join(', ')})`);
  }
  return {
    vm: options.vm,
    type: options.type,
    from: options.from === undefined ? undefined : parsePoint(options.from, '--from'),
    to: options.to === undefined ? undefined : parsePoint(options.to, '--to'),
  };
}

function vmNames(file: LogFile): string[] {
  const scenario = file.header.scenario as { vms?: { name?: unknown }[] } | undefined;
  return (scenario?.vms ?? []).map((vm) => String(vm.name));
}

function onlyVm(state: InspectState, vm: string | undefined): InspectState {
  return vm === undefined ? state : { ...state, vms: { [vm]: state.vms[vm] } };
}

// ---------------------------------------------------------------- event listing

function listEvents(file: LogFile, filter: EventFilter, limit: number, json: boolean, last: number, out: Output): void {
  const seqWidth = Math.max(3, String(last).length);
  const names = vmNames(file);
  const srcWidth = Math.max(8, ...names.map((name) => `vm/${name}/console`.length), ...names.map((name) => `vm/${name}/vcpu/00`.length));
  const scenario = file.header.scenario as { run?: { time?: unknown } } | undefined;
  const timeWidth = Math.max(6, String(typeof scenario?.run?.time === 'number' ? scenario.run.time : 1e9).length);
  let count = 0;
  const buffer: string[] = [];
  const flush = () => {
    if (buffer.length > 0) out.write(buffer.join(''));
    buffer.length = 0;
  };
  if (!json) buffer.push(`${'seq'.padStart(seqWidth)}  ${'t (ns)'.padStart(timeWidth)}  ${'src'.padEnd(srcWidth)}  ${'type'.padEnd(16)}  data\n`);
  for (const event of queryEvents(file, filter)) {
    if (count >= limit) break;
    count++;
    buffer.push(json ? JSON.stringify(event) + '\n' : `${String(event.seq).padStart(seqWidth)}  ${String(event.t).padStart(timeWidth)}  ${event.src.padEnd(srcWidth)}  ${event.type.padEnd(16)}  ${dataText(event)}\n`);
    if (buffer.length >= 1024) flush();
  }
  flush();
}

/** `key=value` pairs: strings quoted when they hold spaces, numbers that look like addresses in hex. */
function dataText(event: SimEvent): string {
  return Object.entries(event.data as Record<string, unknown>)
    .map(([key, value]) => `${key}=${valueText(key, value)}`)
    .join(' ');
}

function valueText(key: string, value: unknown): string {
  if (typeof value === 'number' && (key === 'pc' || key === 'addr')) return hex(value);
  if (typeof value === 'string') return /^[\w./:-]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

function hex(value: number): string {
  return `0x${(value >>> 0).toString(16)}`;
}

// ---------------------------------------------------------------- stats

function statsReport(stats: EventStats, style: Style): string {
  const lines: string[] = [];
  if (stats.first === undefined || stats.last === undefined) return 'no events match\n';
  lines.push(`${formatCount(stats.events)} events, seq ${stats.first.seq}..${stats.last.seq}, ${formatNs(stats.first.t)} .. ${formatNs(stats.last.t)}`);
  const table = (title: string, counts: Readonly<Record<string, number>>) => {
    const entries = Object.entries(counts);
    if (entries.length === 0) return;
    lines.push('', paint(style, 1, title));
    const width = Math.max(...entries.map(([key]) => key.length));
    const countWidth = Math.max(...entries.map(([, count]) => formatCount(count).length));
    for (const [key, count] of entries) {
      lines.push(`  ${key.padEnd(width)}  ${formatCount(count).padStart(countWidth)}  ${((100 * count) / stats.events).toFixed(1).padStart(5)}%`);
    }
  };
  table('by type', stats.byType);
  table('by VM (- : host, monitor, physical CPUs)', stats.byVm);
  table('exits by reason', stats.byExitReason);
  table('page faults by cause', stats.byPageFaultCause);
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------- the state report

function stateReport(file: LogFile, at: StateAt, last: number, registers: RegistersAt | undefined, onlyVmName: string | undefined, style: Style): string {
  const state = at.state;
  const header = file.header;
  const scenario = header.scenario as { name?: unknown };
  const lines: string[] = [];
  const bold = (text: string) => paint(style, 1, text);
  lines.push(`${file.name}: scenario ${String(scenario.name)}, seed ${header.seed}, vmmsim ${header.engine}; events 0..${last}`);
  lines.push(bold(`at seq ${state.seq}, t = ${formatNs(state.t)} (${state.t} ns): ${at.event.src} ${at.event.type} ${dataText(at.event)}`));
  lines.push(
    at.from === 0
      ? `state folded from the top of the log (${formatCount(at.folded)} events)`
      : `state folded from the checkpoint before seq ${at.from} (${formatCount(at.folded)} events after it)`,
  );
  lines.push(`run: ${state.ended === null ? 'going on' : `ended (${state.ended})`}`);
  lines.push('', bold('physical CPUs'));
  for (const pcpu of state.pcpus) lines.push(`  pCPU${pcpu.index}  ${pcpu.running ?? (pcpu.idle ? 'idle' : '(switching)')}`);
  lines.push(`run queue (in the order they became runnable): ${state.runQueue.length === 0 ? '(empty)' : state.runQueue.join(', ')}`);
  const registersById = new Map((registers?.vcpus ?? []).map((vcpu) => [vcpu.id, vcpu]));
  if (registers !== undefined) {
    const check =
      registers.matchesLog === true
        ? 'the re-executed state matches the log'
        : registers.matchesLog === false
          ? paint(style, 31, 'WARNING: the re-executed state differs from the log (another engine version?): registers may be wrong')
          : 'the log ends before that point: not checked';
    lines.push(
      '',
      `registers: re-executed from the log's header to the end of the kernel step that published seq ${state.seq}` +
        (registers.seq !== state.seq ? ` (that step went on to seq ${registers.seq})` : '') +
        `; ${check}`,
    );
    const memory = registers.memory;
    if (memory !== undefined) {
      lines.push(
        `host memory (re-executed): ${formatCount(memory.framesUsed)} of ${formatCount(memory.frames)} frames in use; ` +
          `${formatCount(memory.sharedPages)} guest pages on ${formatCount(memory.sharedFrames)} shared frames; ` +
          `${formatCount(memory.demandPages)} pages backed on first touch, ${formatCount(memory.swappedPages)} swapped out now` +
          (memory.balloonedFrames > 0 ? `, ${formatCount(memory.balloonedFrames)} frames back from balloons` : ''),
      );
    }
  } else {
    lines.push('', 'registers: not shown (--no-registers); they are not in the log, only a re-execution gives them');
  }
  for (const vm of Object.values(state.vms)) {
    if (onlyVmName !== undefined && vm.name !== onlyVmName) continue;
    lines.push('', ...vmReport(vm, registersById, style));
  }
  return lines.join('\n') + '\n';
}

function vmReport(vm: VmView, registers: Map<string, RegistersAt['vcpus'][number]>, style: Style): string[] {
  const lines: string[] = [];
  const state = paint(style, stateColor(vm.state), vm.state);
  lines.push(paint(style, 1, `VM ${vm.name}`) + ` (guest ${vm.guest}, ${vm.memoryBytes / 1024} KiB): ${state}${vm.endReason === null ? '' : ` — ${vm.endReason}`}`);
  const { pic, timer, console: consoleDevice, power } = vm.devices;
  const lineList = (list: readonly number[]) => (list.length === 0 ? 'none' : list.join(','));
  lines.push(`  devices: pic ${pic.state} (pending ${lineList(pic.pending)}; in service ${lineList(pic.inService)})`);
  lines.push(`           timer ${timer.state} (${timer.mode === 'off' ? 'off' : `${timer.mode} ${formatNs(timer.ns)}`}; fired ${formatCount(timer.fired)})`);
  lines.push(`           console ${consoleDevice.state}, power ${power.state}`);
  lines.push(`  counters: ${exitsText(vm.counters.exitsTotal, vm.counters.exits)}; interrupts ${formatCount(vm.counters.interrupts)}; exceptions reflected ${formatCount(vm.counters.exceptions)}`);
  lines.push(`  console: ${formatCount(vm.console.lines)} line${vm.console.lines === 1 ? "" : "s"}${vm.console.last.length > 0 ? `; the last ${vm.console.last.length}:` : ''}`);
  for (const text of vm.console.last) lines.push(`    | ${text}`);
  if (vm.migration !== undefined) lines.push(...migrationReport(vm.migration));
  for (const vcpu of vm.vcpus) {
    const where = vcpu.pcpu === null ? '' : ` on pCPU${vcpu.pcpu}`;
    const exit = vcpu.lastExit === null ? 'no exit yet' : `last exit ${vcpu.lastExit.reason} at pc ${hex(vcpu.lastExit.pc)}${vcpu.lastExit.mode === null ? '' : ` (${vcpu.lastExit.mode})`}`;
    lines.push(`  vCPU ${vcpu.index}: ${paint(style, stateColor(vcpu.state), vcpu.state)}${where}; ${exit}`);
    const counters = vcpu.counters;
    const total = Object.values(counters.exits).reduce((sum, count) => sum + count, 0);
    lines.push(`    ${exitsText(total, counters.exits)}; interrupts ${formatCount(counters.interrupts)}; exceptions ${formatCount(counters.exceptions)}; dispatches ${formatCount(counters.dispatches)}`);
    const cpu = registers.get(vcpu.id);
    if (cpu !== undefined) {
      lines.push(`    pc ${hex(cpu.pc)}  mode ${cpu.mode}  ie ${cpu.ie}  retired ${formatCount(cpu.retired)}`);
      lines.push(`    ${cpu.regs.map((value, index) => `${index === 7 ? 'sp' : `r${index}`}=${hex(value)}`).join(' ')}`);
      lines.push(`    ${Object.entries(cpu.csr).map(([name, value]) => `${name}=${hex(value)}`).join(' ')}`);
    }
  }
  return lines;
}

/** A VM's live migration: its state, each round, and the totals once completed. */
function migrationReport(m: NonNullable<VmView['migration']>): string[] {
  const lines = [`  migration${m.from === '' ? '' : ` from ${m.from}`} to ${m.to}: ${m.state}${m.reason === null ? '' : ` — ${m.reason}`}`];
  for (const round of m.rounds) {
    const throttle = round.throttle > 0 ? `, vCPUs throttled ${round.throttle}%` : '';
    lines.push(`    round ${round.round}: ${formatCount(round.pagesSent)} pages sent in ${formatNs(round.durationNs)}, ${formatCount(round.pagesDirtied)} dirtied meanwhile${throttle}`);
  }
  if (m.totalNs !== null && m.downtimeNs !== null) {
    lines.push(`    total ${formatNs(m.totalNs)}, downtime ${formatNs(m.downtimeNs)}; ${formatCount(m.pagesSent ?? 0)} pages sent, ${formatCount(m.pagesResent ?? 0)} re-sent; ${formatCount(m.dirtyFaults ?? 0)} dirty-tracking faults`);
  }
  return lines;
}

function exitsText(total: number, exits: Readonly<Record<string, number>>): string {
  const reasons = Object.entries(exits)
    .filter(([, count]) => count > 0)
    .map(([reason, count]) => `${reason}=${formatCount(count)}`)
    .join(' ');
  return `exits ${formatCount(total)}${reasons === '' ? '' : ` (${reasons})`}`;
}
