/**
 * A run as a Chrome trace: the Trace Event Format (JSON Object Format) that Perfetto's UI and
 * chrome://tracing open. Written from the format's reference ("Trace Event Format", Duffy and
 * Nduca, the Google document linked from Perfetto's docs, "Legacy JSON trace format"):
 *
 * - one process per host (`pid` 1, named with `process_name` metadata), one thread per physical
 *   CPU (`tid` = pCPU + 1, `thread_name`) carrying one complete slice (`ph: 'X'`, `ts` and `dur`
 *   in microseconds) for every stretch a vCPU was resident on it (from `vcpu.running` to the
 *   vCPU leaving: runnable, blocked, halted, paused or crashed);
 * - one thread per vCPU (`tid` = 1000 + its index) for what happens to it while it is off CPU;
 * - exits (`exit.*`) and interrupts (`irq.*`, `exception.inject`) as thread-scoped instant events
 *   (`ph: 'i'`, `s: 't'`) on the pCPU the vCPU runs on, or on its own thread when it runs nowhere;
 * - a wake-up (`vcpu.runnable` with reason `wake`) as a flow: `ph: 's'` on a short `wake` slice on
 *   the vCPU's thread, `ph: 'f'` with `bp: 'e'` bound to the slice of the dispatch it causes;
 * - counters (`ph: 'C'`): the run queue's length, and each VM's share of the physical CPUs (the
 *   number of its vCPUs running / pCPUs, a step function whose average over the run is the VM's
 *   CPU share).
 *
 * Streaming: the builder holds one open slice per vCPU and the run queue, never the events, so a
 * log of any length converts in bounded memory. Timestamps: the format's `ts` is in microseconds;
 * virtual time is integer ns, so `ts` = ns / 1000 (exact in a double up to far beyond a run's length).
 */
import type { SimEvent } from '../core/events.js';
import type { LogHeader } from '../core/log/format.js';

/** One trace event of the format (the fields we use). */
export interface TraceEvent {
  readonly name: string;
  readonly ph: 'X' | 'i' | 'C' | 'M' | 's' | 'f';
  readonly pid: number;
  readonly tid?: number;
  readonly ts?: number;
  readonly dur?: number;
  readonly cat?: string;
  readonly s?: 'g' | 'p' | 't';
  readonly id?: number;
  readonly bp?: 'e';
  readonly args?: Record<string, unknown>;
}

export const HOST_PID = 1;
export const VCPU_TID_BASE = 1000;

const LEAVE_TYPES = new Set(['vcpu.runnable', 'vcpu.blocked', 'vcpu.halted', 'vcpu.paused', 'vcpu.crashed']);

interface VcpuTrack {
  readonly tid: number;
  readonly vm: string;
  /** The pCPU it runs on, or -1. */
  pcpu: number;
  /** Virtual time (ns) it started running, while it runs. */
  since: number;
  /** A pending wake-up flow's id, to end at its next dispatch (0: none). */
  wakeFlow: number;
  runnable: boolean;
}

function us(ns: number): number {
  return ns / 1000;
}

/** The vCPU a `src` names (`vm/NAME/vcpu/N`), or undefined. */
function vcpuSrc(src: string): boolean {
  return src.startsWith('vm/') && src.includes('/vcpu/');
}

export class ChromeTraceBuilder {
  private readonly vcpus = new Map<string, VcpuTrack>();
  private readonly pcpus: number;
  private readonly vmNames: string[];
  private readonly running = new Map<string, number>();
  private runQueue = 0;
  private flows = 0;
  private lastNs = 0;
  /** Busy time per pCPU (ns) that the slices written so far cover. */
  readonly sliceNs: number[];

  constructor(header: LogHeader) {
    const scenario = header.scenario as { name: string; host: { pcpus: number }; vms: { name: string; vcpus?: number }[] };
    this.pcpus = scenario.host.pcpus;
    this.vmNames = scenario.vms.map((vm) => vm.name);
    this.sliceNs = new Array<number>(this.pcpus).fill(0);
    for (const name of this.vmNames) this.running.set(name, 0);
    this.scenarioName = scenario.name;
    this.seed = header.seed;
  }

  private readonly scenarioName: string;
  private readonly seed: number;

  /** The metadata events: names and order of the process and its threads. */
  start(): TraceEvent[] {
    const out: TraceEvent[] = [
      { name: 'process_name', ph: 'M', pid: HOST_PID, args: { name: `host (${this.scenarioName}, seed ${this.seed})` } },
    ];
    for (let index = 0; index < this.pcpus; index++) {
      out.push({ name: 'thread_name', ph: 'M', pid: HOST_PID, tid: index + 1, args: { name: `pCPU ${index}` } });
      out.push({ name: 'thread_sort_index', ph: 'M', pid: HOST_PID, tid: index + 1, args: { sort_index: index } });
    }
    return out;
  }

  private track(src: string, out: TraceEvent[]): VcpuTrack {
    let track = this.vcpus.get(src);
    if (track === undefined) {
      const tid = VCPU_TID_BASE + this.vcpus.size;
      track = { tid, vm: src.split('/')[1], pcpu: -1, since: 0, wakeFlow: 0, runnable: false };
      this.vcpus.set(src, track);
      out.push({ name: 'thread_name', ph: 'M', pid: HOST_PID, tid, args: { name: src } });
      out.push({ name: 'thread_sort_index', ph: 'M', pid: HOST_PID, tid, args: { sort_index: tid } });
    }
    return track;
  }

  /** The trace events one log event turns into (often none). */
  event(event: SimEvent): TraceEvent[] {
    const out: TraceEvent[] = [];
    this.lastNs = event.t;
    const type = event.type;
    const data = event.data as Record<string, unknown>;
    if (type === 'vcpu.running') {
      const track = this.track(event.src, out);
      track.pcpu = data.pcpu as number;
      track.since = event.t;
      if (track.runnable) this.setRunQueue(this.runQueue - 1, event.t, out);
      track.runnable = false;
      if (track.wakeFlow !== 0) {
        out.push({ name: 'wake-up', cat: 'wake', ph: 'f', bp: 'e', id: track.wakeFlow, pid: HOST_PID, tid: track.pcpu + 1, ts: us(event.t) });
        track.wakeFlow = 0;
      }
      this.setRunning(track.vm, +1, event.t, out);
      return out;
    }
    if (LEAVE_TYPES.has(type) && vcpuSrc(event.src)) {
      const track = this.track(event.src, out);
      if (track.pcpu >= 0) this.closeSlice(event.src, track, event.t, type, out);
      if (type === 'vcpu.runnable') {
        if (!track.runnable) this.setRunQueue(this.runQueue + 1, event.t, out);
        track.runnable = true;
        if (data.reason === 'wake') {
          const id = ++this.flows;
          track.wakeFlow = id;
          out.push({ name: 'wake', cat: 'wake', ph: 'X', pid: HOST_PID, tid: track.tid, ts: us(event.t), dur: 0.001, args: { seq: event.seq } });
          out.push({ name: 'wake-up', cat: 'wake', ph: 's', id, pid: HOST_PID, tid: track.tid, ts: us(event.t) });
        }
      } else if (track.runnable) {
        this.setRunQueue(this.runQueue - 1, event.t, out);
        track.runnable = false;
      }
      return out;
    }
    const isExit = type.startsWith('exit.');
    const isInterrupt = type.startsWith('irq.') || type === 'exception.inject';
    if (isExit || isInterrupt || type === 'vm.crashed') {
      const vcpu = this.vcpuFor(event.src, out);
      const tid = vcpu === undefined ? undefined : vcpu.pcpu >= 0 ? vcpu.pcpu + 1 : vcpu.tid;
      const cat = isExit ? 'exit' : isInterrupt ? 'interrupt' : 'vm';
      out.push({
        name: type,
        cat,
        ph: 'i',
        pid: HOST_PID,
        ...(tid === undefined ? { s: 'p' as const } : { tid, s: 't' as const }),
        ts: us(event.t),
        args: { seq: event.seq, src: event.src, ...data },
      });
    }
    return out;
  }

  /** The vCPU an event concerns: its own src, or vCPU 0 of the VM a device belongs to. */
  private vcpuFor(src: string, out: TraceEvent[]): VcpuTrack | undefined {
    if (vcpuSrc(src)) return this.track(src, out);
    if (!src.startsWith('vm/')) return undefined;
    const vm = src.split('/')[1];
    return this.vcpus.get(`vm/${vm}/vcpu/0`);
  }

  private closeSlice(src: string, track: VcpuTrack, endNs: number, why: string, out: TraceEvent[]): void {
    const pcpu = track.pcpu;
    out.push({
      name: src,
      cat: 'vcpu',
      ph: 'X',
      pid: HOST_PID,
      tid: pcpu + 1,
      ts: us(track.since),
      dur: us(endNs - track.since),
      args: { vm: track.vm, until: why },
    });
    this.sliceNs[pcpu] += endNs - track.since;
    track.pcpu = -1;
    this.setRunning(track.vm, -1, endNs, out);
  }

  private setRunQueue(length: number, t: number, out: TraceEvent[]): void {
    this.runQueue = length;
    out.push({ name: 'run queue', ph: 'C', pid: HOST_PID, ts: us(t), args: { runnable: length } });
  }

  private setRunning(vm: string, delta: number, t: number, out: TraceEvent[]): void {
    this.running.set(vm, (this.running.get(vm) ?? 0) + delta);
    const args: Record<string, number> = {};
    for (const name of this.vmNames) args[name] = (this.running.get(name) ?? 0) / this.pcpus;
    out.push({ name: 'CPU share', ph: 'C', pid: HOST_PID, ts: us(t), args });
  }

  /** Closes the slices still open when the log ends (at its last event's time, or `endNs`). */
  finish(endNs = this.lastNs): TraceEvent[] {
    const out: TraceEvent[] = [];
    const open = [...this.vcpus.entries()].filter(([, track]) => track.pcpu >= 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [src, track] of open) this.closeSlice(src, track, endNs, 'end of log', out);
    return out;
  }
}
