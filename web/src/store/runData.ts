/**
 * A run as the page holds it: the event log, read line by line (from the simulation running in
 * the worker, or from a log file) and kept in columns, with the indexes the views need: which
 * vCPU ran on which physical CPU when (segments), exits and interrupts per CPU (marks), console
 * lines per VM, and running totals for the charts. DOM-free, so it is tested under Node.
 *
 * Every line goes through the log reader's LineChecker: checksums, seq order and known types are
 * checked as in `vmmsim replay` and `inspect`.
 */
import { EVENT_TYPES, EXIT_REASONS, type EventType, type ExitReason, type SimEvent } from '../../../src/core/events.js';
import { LineChecker, LogError } from '../../../src/core/log/reader.js';
import type { LogEnd, LogHeader } from '../../../src/core/log/format.js';
import { Column, upperBound } from './columns.js';

/** Mark kinds: the exit reasons first (their index in EXIT_REASONS), then these. */
export const MARK_IRQ = EXIT_REASONS.length;
export const MARK_EXCEPTION = MARK_IRQ + 1;
export const MARK_CRASH = MARK_IRQ + 2;

const TYPE_INDEX: ReadonlyMap<string, number> = new Map(EVENT_TYPES.map((type, index) => [type, index]));
const EXIT_INDEX: ReadonlyMap<string, number> = new Map(EXIT_REASONS.map((reason, index) => [`exit.${reason}`, index]));
const LEAVE_TYPES: ReadonlySet<string> = new Set(['vcpu.runnable', 'vcpu.blocked', 'vcpu.paused', 'vcpu.halted', 'vcpu.crashed']);

export interface VcpuInfo {
  readonly id: string;
  readonly vm: number;
  readonly index: number;
}

/** Totals per vCPU, over the events read so far. */
export interface VcpuTotals {
  cpuNs: number;
  waitNs: number;
  dispatches: number;
  migrations: number;
  readonly wakeLatenciesNs: number[];
}

/** One physical CPU's time line: the stretches it ran a vCPU, and the marks on it. */
export class Lane {
  readonly start = new Column(Float64Array);
  /** End time; NaN while the stretch is open (the vCPU is still on the CPU). */
  readonly end = new Column(Float64Array);
  readonly vcpu = new Column(Int32Array);
  readonly markTime = new Column(Float64Array);
  readonly markKind = new Column(Uint8Array);
  readonly markVcpu = new Column(Int32Array);
  readonly markSeq = new Column(Uint32Array);
  busyNs = 0;
  open = -1;
}

export class RunData {
  header: LogHeader | undefined;
  end: LogEnd | undefined;
  readonly name: string;
  readonly warnings: string[] = [];
  checkpoints = 0;

  readonly time = new Column(Float64Array, 4096);
  readonly type = new Column(Uint8Array, 4096);
  readonly source = new Column(Uint32Array, 4096);
  private readonly data: unknown[] = [];

  /** Distinct `src` values, and for each: its VM (index into vms, -1 none) and vCPU (index into vcpus, -1 none). */
  readonly sources: string[] = [];
  readonly sourceVm: number[] = [];
  readonly sourceVcpu: number[] = [];
  private readonly sourceIndex = new Map<string, number>();

  readonly vms: string[] = [];
  private readonly vmIndex = new Map<string, number>();
  readonly vcpus: VcpuInfo[] = [];
  private readonly vcpuIndex = new Map<string, number>();
  readonly lanes: Lane[] = [];
  /** Seqs of each VM's console.output events. */
  readonly consoleSeqs: number[][] = [];
  /** Exits by reason per VM (index into EXIT_REASONS). */
  readonly exitsByVm: number[][] = [];
  readonly interruptsByVm: number[] = [];
  readonly totals: VcpuTotals[] = [];

  private readonly checker: LineChecker;
  private pending = '';
  private lineNumber = 0;
  private readonly onCpu: number[] = [];
  private readonly runnableSince: number[] = [];
  private readonly wokeAt: number[] = [];
  private readonly lastPcpu: number[] = [];

  constructor(name = '<log>') {
    this.name = name;
    this.checker = new LineChecker(name);
  }

  get count(): number {
    return this.time.length;
  }

  /** Virtual time of the last event read (0 before any). */
  get lastTime(): number {
    return this.count === 0 ? 0 : this.time.get(this.count - 1);
  }

  /** The run's end: the closing line's time, else the last event's. */
  get endTime(): number {
    return this.end?.t ?? this.lastTime;
  }

  get finished(): boolean {
    return this.end !== undefined;
  }

  /** Reads a piece of log text; a line may be split across pieces. Throws LogError on a bad line. */
  ingest(text: string): void {
    let position = 0;
    let buffered = this.pending;
    while (true) {
      const newline = text.indexOf('\n', position);
      if (newline < 0) break;
      const line = buffered + text.slice(position, newline);
      buffered = '';
      position = newline + 1;
      this.line(line);
    }
    this.pending = buffered + text.slice(position);
  }

  /**
   * The run as it was at `seq`: its events 0..seq indexed afresh (the charts at the cursor). Costs
   * a pass over those events; callers keep the result while the cursor stays.
   */
  upTo(seq: number): RunData {
    const partial = new RunData(this.name);
    partial.header = this.header;
    const last = Math.min(seq, this.count - 1);
    for (let index = 0; index <= last; index++) partial.add(this.event(index));
    return partial;
  }

  /** Call when no more text will come: a cut-off last line becomes a warning. */
  close(): void {
    if (this.pending.length > 0) {
      this.warnings.push(`${this.name}:${this.lineNumber + 1}: the log ends inside a line (truncated); read ${this.count} events`);
      this.pending = '';
    } else if (this.end === undefined && this.header !== undefined) {
      this.warnings.push(`${this.name}:${this.lineNumber}: no closing line (the writer stopped early); read ${this.count} events`);
    }
  }

  private line(line: string): void {
    this.lineNumber++;
    if (line.length === 0) throw new LogError(this.name, this.lineNumber, 'empty line');
    const record = this.checker.parse(line, this.lineNumber);
    if (record.kind === 'event') this.add(record.event);
    else if (record.kind === 'header') this.header = record.header;
    else if (record.kind === 'checkpoint') this.checkpoints++;
    else this.end = record.end;
  }

  private add(event: SimEvent): void {
    const seq = this.time.push(event.t);
    const typeIndex = TYPE_INDEX.get(event.type) as number;
    this.type.push(typeIndex);
    const src = this.sourceOf(event);
    this.source.push(src);
    this.data.push(event.data);
    this.index(event, seq, src);
  }

  private sourceOf(event: SimEvent): number {
    let index = this.sourceIndex.get(event.src);
    if (index !== undefined) return index;
    index = this.sources.length;
    this.sources.push(event.src);
    this.sourceIndex.set(event.src, index);
    const parts = event.src.split('/');
    let vm = -1;
    let vcpu = -1;
    if (parts[0] === 'vm' && parts.length >= 2) {
      vm = this.vmIndex.get(parts[1]) ?? this.defineVm(parts[1]);
      if (parts[2] === 'vcpu' && parts.length === 4) vcpu = this.vcpuIndex.get(event.src) ?? this.defineVcpu(event.src, vm, Number(parts[3]));
    }
    this.sourceVm.push(vm);
    this.sourceVcpu.push(vcpu);
    return index;
  }

  private defineVm(name: string): number {
    const index = this.vms.length;
    this.vms.push(name);
    this.vmIndex.set(name, index);
    this.consoleSeqs.push([]);
    this.exitsByVm.push(EXIT_REASONS.map(() => 0));
    this.interruptsByVm.push(0);
    return index;
  }

  private defineVcpu(id: string, vm: number, index: number): number {
    const global = this.vcpus.length;
    this.vcpus.push({ id, vm, index });
    this.vcpuIndex.set(id, global);
    this.totals.push({ cpuNs: 0, waitNs: 0, dispatches: 0, migrations: 0, wakeLatenciesNs: [] });
    this.onCpu.push(-1);
    this.runnableSince.push(-1);
    this.wokeAt.push(-1);
    this.lastPcpu.push(-1);
    return global;
  }

  /**
   * With several hosts (`hosts:` in the header's scenario): the host of each physical CPU (hosts
   * own consecutive CPUs, in the order they are declared); undefined with one host.
   */
  get pcpuHosts(): readonly string[] | undefined {
    const hosts = (this.header?.scenario as { hosts?: readonly { name: string; pcpus: number }[] } | undefined)?.hosts;
    if (hosts === undefined || this.cachedPcpuHosts !== undefined) return this.cachedPcpuHosts;
    this.cachedPcpuHosts = hosts.flatMap((host) => Array.from({ length: host.pcpus }, () => host.name));
    return this.cachedPcpuHosts;
  }

  private cachedPcpuHosts: string[] | undefined;

  /** With several hosts: the host a VM starts on (its `host:`); undefined with one host. */
  startHostOf(vm: string): string | undefined {
    const scenario = this.header?.scenario as { hosts?: unknown; vms?: readonly { name: string; host?: string }[] } | undefined;
    if (scenario?.hosts === undefined) return undefined;
    return scenario.vms?.find((entry) => entry.name === vm)?.host;
  }

  private lane(pcpu: number): Lane {
    while (this.lanes.length <= pcpu) this.lanes.push(new Lane());
    return this.lanes[pcpu];
  }

  /** Updates the indexes with one event. */
  private index(event: SimEvent, seq: number, src: number): void {
    const vcpu = this.sourceVcpu[src];
    const vm = this.sourceVm[src];
    const t = event.t;
    switch (event.type) {
      case 'sim.started':
        this.lane(event.data.pcpus - 1);
        return;
      case 'vcpu.running': {
        const pcpu = event.data.pcpu;
        const lane = this.lane(pcpu);
        if (lane.open >= 0) this.closeStretch(pcpu, t);
        this.leaveCpu(vcpu, t);
        lane.open = lane.start.push(t);
        lane.end.push(Number.NaN);
        lane.vcpu.push(vcpu);
        this.onCpu[vcpu] = pcpu;
        const totals = this.totals[vcpu];
        totals.dispatches++;
        if (this.lastPcpu[vcpu] >= 0 && this.lastPcpu[vcpu] !== pcpu) totals.migrations++;
        this.lastPcpu[vcpu] = pcpu;
        if (this.runnableSince[vcpu] >= 0) totals.waitNs += t - this.runnableSince[vcpu];
        this.runnableSince[vcpu] = -1;
        if (this.wokeAt[vcpu] >= 0) totals.wakeLatenciesNs.push(t - this.wokeAt[vcpu]);
        this.wokeAt[vcpu] = -1;
        return;
      }
      case 'console.output':
        if (vm >= 0) this.consoleSeqs[vm].push(seq);
        return;
      case 'irq.inject':
        if (vm >= 0) this.interruptsByVm[vm]++;
        this.mark(vcpu, MARK_IRQ, t, seq);
        return;
      case 'exception.inject':
        this.mark(vcpu, MARK_EXCEPTION, t, seq);
        return;
      default:
        break;
    }
    if (LEAVE_TYPES.has(event.type)) {
      if (event.type === 'vcpu.crashed') this.mark(vcpu, MARK_CRASH, t, seq);
      this.leaveCpu(vcpu, t);
      if (this.runnableSince[vcpu] >= 0) this.totals[vcpu].waitNs += t - this.runnableSince[vcpu];
      this.runnableSince[vcpu] = event.type === 'vcpu.runnable' ? t : -1;
      if (event.type === 'vcpu.runnable' && event.data.reason === 'wake') this.wokeAt[vcpu] = t;
      return;
    }
    const exit = EXIT_INDEX.get(event.type);
    if (exit !== undefined && vcpu >= 0) {
      this.exitsByVm[vm][exit]++;
      const pcpu = event.type === 'exit.preempt' ? event.data.pcpu : this.onCpu[vcpu];
      if (pcpu >= 0) this.markOn(pcpu, exit, vcpu, t, seq);
    }
  }

  private mark(vcpu: number, kind: number, t: number, seq: number): void {
    if (vcpu < 0 || this.onCpu[vcpu] < 0) return;
    this.markOn(this.onCpu[vcpu], kind, vcpu, t, seq);
  }

  private markOn(pcpu: number, kind: number, vcpu: number, t: number, seq: number): void {
    const lane = this.lane(pcpu);
    lane.markTime.push(t);
    lane.markKind.push(kind);
    lane.markVcpu.push(vcpu);
    lane.markSeq.push(seq);
  }

  private leaveCpu(vcpu: number, t: number): void {
    const pcpu = this.onCpu[vcpu];
    if (pcpu < 0) return;
    const lane = this.lanes[pcpu];
    if (lane.open >= 0 && lane.vcpu.get(lane.open) === vcpu) this.closeStretch(pcpu, t);
    this.onCpu[vcpu] = -1;
  }

  private closeStretch(pcpu: number, t: number): void {
    const lane = this.lanes[pcpu];
    const open = lane.open;
    const ran = t - lane.start.get(open);
    lane.end.set(open, t);
    lane.busyNs += ran;
    this.totals[lane.vcpu.get(open)].cpuNs += ran;
    if (this.onCpu[lane.vcpu.get(open)] === pcpu) this.onCpu[lane.vcpu.get(open)] = -1;
    lane.open = -1;
  }

  /** CPU time of a vCPU including a stretch still open at `now`. */
  cpuNsOf(vcpu: number, now = this.endTime): number {
    let total = this.totals[vcpu].cpuNs;
    const pcpu = this.onCpu[vcpu];
    if (pcpu >= 0) {
      const lane = this.lanes[pcpu];
      if (lane.open >= 0) total += now - lane.start.get(lane.open);
    }
    return total;
  }

  /** Busy time of a physical CPU including a stretch still open at `now`. */
  busyNsOf(pcpu: number, now = this.endTime): number {
    const lane = this.lanes[pcpu];
    return lane.busyNs + (lane.open >= 0 ? now - lane.start.get(lane.open) : 0);
  }

  typeOf(seq: number): EventType {
    return EVENT_TYPES[this.type.get(seq)];
  }

  srcOf(seq: number): string {
    return this.sources[this.source.get(seq)];
  }

  vmOf(seq: number): number {
    return this.sourceVm[this.source.get(seq)];
  }

  /** The event at `seq`, rebuilt as the simulation published it. */
  event(seq: number): SimEvent {
    return { seq, t: this.time.get(seq), src: this.srcOf(seq), type: this.typeOf(seq), data: this.data[seq] } as SimEvent;
  }

  /** Events [from, to) in seq order. */
  events(from: number, to: number): SimEvent[] {
    const out: SimEvent[] = [];
    for (let seq = Math.max(0, from); seq < Math.min(to, this.count); seq++) out.push(this.event(seq));
    return out;
  }

  /** The last seq whose time is at or before `t` (-1 if none). */
  lastSeqAtOrBefore(t: number): number {
    return upperBound(this.time.array, this.count, t) - 1;
  }

  /** The number of console lines VM `vm` had written up to and including `seq`. */
  consoleLinesUpTo(vm: number, seq: number): number {
    return upperBound(this.consoleSeqs[vm], this.consoleSeqs[vm].length, seq);
  }

  consoleText(seq: number): string {
    return (this.data[seq] as { text: string }).text;
  }
}

export { LogError };

/** The exit reasons, in mark-kind order. */
export const MARK_EXIT_REASONS: readonly ExitReason[] = EXIT_REASONS;
