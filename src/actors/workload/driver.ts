/**
 * The arrival driver of one VM's workload (docs/workloads.md): generates the arrival process
 * (Poisson, deterministic, two-state MMPP, or a trace of times), draws each request's kind and
 * size, records the arrival as an input record (`input.request`) and hands the request to the
 * device that serves it: the VM's request queue (cpu jobs, run by the guest) or its block device
 * (disk reads and writes, queued with the guest's own commands). Every draw comes from the VM's
 * own stream `vm/NAME/workload`, in a fixed order per arrival (next gap, kind, size, sector), so
 * adding a VM or a device changes nothing here.
 */
import type { EventBus } from '../../core/bus.js';
import type { Kernel } from '../../core/kernel.js';
import { DISK_SECTORS } from '../../core/platform.js';
import type { RandomStream } from '../../core/prng.js';
import { parseBytes, parseDuration } from '../../core/scenario/units.js';
import { REQUEST_SIZE_MAX, type RequestKind, type WorkloadSpec } from '../../core/scenario/workload.js';
import type { Vm } from '../vm.js';
import { exponential, sampler, uniform01 } from './distributions.js';

/** A problem with a workload's file (a trace or an empirical CSV), with its line. */
export class WorkloadFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}:1: ${message}`);
  }
}

/** The most values a trace or empirical CSV may hold. */
export const WORKLOAD_FILE_LIMIT = 10_000_000;

/**
 * Reads the first column of a CSV as numbers (a `#` comment, a blank line and a header line are
 * skipped); `unit` parses a cell with a unit (durations or sizes).
 */
export function parseColumn(text: string, file: string, unit: 'duration' | 'size'): number[] {
  const values: number[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const trimmed = lines[index].trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const cell = trimmed.split(',')[0].trim();
    if (values.length === 0 && /^[a-z_]/i.test(cell)) continue; // header
    let value: number;
    try {
      value = /^\d+(\.\d+)?$/.test(cell) ? Number(cell) : unit === 'duration' ? parseDuration(cell) : /b$/i.test(cell) ? parseBytes(cell) : parseDuration(cell);
    } catch (error) {
      throw new WorkloadFileError(file, index + 1, `expected a number or a value with a unit, got '${cell}' (${(error as Error).message})`);
    }
    if (!Number.isFinite(value) || value < 0) throw new WorkloadFileError(file, index + 1, `expected a value of 0 or more, got '${cell}'`);
    values.push(value);
    if (values.length > WORKLOAD_FILE_LIMIT) throw new WorkloadFileError(file, index + 1, `at most ${WORKLOAD_FILE_LIMIT} values`);
  }
  if (values.length === 0) throw new WorkloadFileError(file, 1, 'the file holds no values');
  return values;
}

const ARRIVE = 0;
/** A guard on the MMPP's state switches between two arrivals (a state of rate 0 held for ever would loop). */
const MAX_SWITCHES = 1_000_000;

export class WorkloadDriver {
  readonly id: string;
  private readonly target: number;
  private readonly kinds: readonly RequestKind[];
  private readonly sizes: ((stream: RandomStream) => number)[];
  private readonly cumulativeShares: number[];
  private readonly traceTimes: number[] | null;
  private traceIndex = 0;
  private nextId = 0;
  /** MMPP: the current state and when it ends. */
  private mmppState = 0;
  private mmppSwitchAt = 0;
  /** Arrivals so far, and those the serving device refused. */
  arrivals = 0;

  constructor(
    private readonly kernel: Kernel,
    private readonly bus: EventBus,
    private readonly vm: Vm,
    private readonly spec: WorkloadSpec,
    private readonly stream: RandomStream,
    readFile: (path: string) => string,
  ) {
    this.id = `${vm.id}/workload`;
    this.target = kernel.register(this.id, (kind) => {
      if (kind === ARRIVE) this.arrive();
    });
    this.kinds = spec.requests.map((request) => request.kind);
    this.sizes = spec.requests.map((request) =>
      sampler(request.size, request.size.dist === 'empirical' ? parseColumn(readFile(request.size.file), request.size.file, request.kind === 'cpu' ? 'duration' : 'size') : []),
    );
    const total = spec.requests.reduce((sum, request) => sum + request.share, 0);
    let running = 0;
    this.cumulativeShares = spec.requests.map((request) => (running += request.share / total));
    const arrivals = spec.arrivals;
    this.traceTimes = null;
    if (arrivals.process === 'trace') {
      const times = parseColumn(readFile(arrivals.file), arrivals.file, 'duration').map(Math.round);
      for (let index = 1; index < times.length; index++) {
        if (times[index] < times[index - 1]) throw new WorkloadFileError(arrivals.file, index + 1, 'arrival times must not decrease');
      }
      this.traceTimes = times;
    }
    const block = vm.block;
    if (block !== null) block.listener = {
      started: (id, serviceNs) => bus.publish(block.id, 'req.started', { id, worker: 0, serviceNs }),
      done: (id) => {
        if (id >= 0) bus.publish(block.id, 'req.done', { id });
        else bus.publish(block.id, 'req.refused', { id: -1 - id, reason: `the block device was ${block.lifecycle.state}` });
      },
    };
  }

  /** Schedules the first arrival. */
  start(): void {
    const start = this.spec.start;
    if (this.spec.arrivals.process === 'mmpp') this.mmppSwitchAt = start + Math.round(exponential(this.stream, this.spec.arrivals.holds[0]));
    this.scheduleNext(start, true);
  }

  private scheduleNext(now: number, first: boolean): void {
    if (this.spec.limit !== undefined && this.arrivals >= this.spec.limit) return;
    const at = this.nextTime(now, first);
    if (at === null) return;
    this.kernel.schedule(at, this.target, ARRIVE);
  }

  /** The next arrival's time after `now` (the first one: from the workload's start), or null when there is none. */
  private nextTime(now: number, first: boolean): number | null {
    const arrivals = this.spec.arrivals;
    switch (arrivals.process) {
      case 'poisson':
        return now + Math.round(exponential(this.stream, 1e9 / arrivals.rate));
      case 'deterministic':
        return first ? now : now + Math.round(1e9 / arrivals.rate);
      case 'trace': {
        const times = this.traceTimes as number[];
        while (this.traceIndex < times.length && times[this.traceIndex] < this.kernel.now) this.traceIndex++;
        return this.traceIndex < times.length ? times[this.traceIndex++] : null;
      }
      case 'mmpp': {
        let time = now;
        for (let switches = 0; switches < MAX_SWITCHES; switches++) {
          const rate = arrivals.rates[this.mmppState];
          const candidate = rate > 0 ? time + exponential(this.stream, 1e9 / rate) : Infinity;
          if (candidate < this.mmppSwitchAt) return Math.round(candidate);
          time = this.mmppSwitchAt;
          this.mmppState = 1 - this.mmppState;
          this.mmppSwitchAt = time + Math.max(1, Math.round(exponential(this.stream, arrivals.holds[this.mmppState])));
        }
        return null;
      }
    }
  }

  private arrive(): void {
    const id = this.nextId++;
    this.arrivals++;
    const now = this.kernel.now;
    const stream = this.stream;
    let index = 0;
    if (this.kinds.length > 1) {
      const u = uniform01(stream);
      while (index < this.kinds.length - 1 && u >= this.cumulativeShares[index]) index++;
    }
    const kind = this.kinds[index];
    const size = Math.min(REQUEST_SIZE_MAX, Math.max(1, Math.round(this.sizes[index](stream))));
    this.bus.publish(this.id, 'input.request', { id, kind, size });
    if (kind === 'cpu') {
      this.vm.requests?.arrive(id, size);
    } else {
      const sector = stream.int(0, DISK_SECTORS - 1);
      const block = this.vm.block;
      if (block === null) {
        this.bus.publish(this.id, 'req.refused', { id, reason: 'the VM has no block device' });
      } else if (!block.submitRequest(id, kind === 'disk-write', sector, size)) {
        const reason = block.ready ? `the block request queue is full (${block.queueDepth} requests)` : `the block device is ${block.lifecycle.state}`;
        this.bus.publish(block.id, 'req.refused', { id, reason });
      }
    }
    this.scheduleNext(now, false);
  }

  snapshot(): Record<string, unknown> {
    return { arrivals: this.arrivals, nextId: this.nextId, mmppState: this.mmppState, mmppSwitchAt: this.mmppSwitchAt, traceIndex: this.traceIndex };
  }
}
