/** Which VM ran on which physical CPU when, from the bus (for timeline plots). Bounded by `untilNs`. */
import type { EventBus } from '../../core/bus.js';

export interface RunInterval {
  readonly pcpu: number;
  readonly startNs: number;
  readonly endNs: number;
  readonly vm: string;
}

export class TimelineRecorder {
  readonly intervals: RunInterval[] = [];
  private readonly open = new Map<string, { pcpu: number; startNs: number }>();

  constructor(
    bus: EventBus,
    private readonly untilNs: number,
  ) {
    bus.on('vcpu.running', (event) => {
      if (event.t < untilNs) this.open.set(event.src, { pcpu: event.data.pcpu, startNs: event.t });
    });
    const close = (event: { src: string; t: number }): void => {
      const open = this.open.get(event.src);
      if (open === undefined) return;
      this.open.delete(event.src);
      this.intervals.push({ pcpu: open.pcpu, startNs: open.startNs, endNs: Math.min(event.t, untilNs), vm: event.src.split('/')[1] });
    };
    bus.on('vcpu.runnable', close);
    bus.on('vcpu.blocked', close);
    bus.on('vcpu.halted', close);
    bus.on('vcpu.paused', close);
    bus.on('vcpu.crashed', close);
  }

  /** Closes intervals still open at the end of the run. */
  finish(nowNs: number): RunInterval[] {
    for (const [src, open] of [...this.open.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      this.intervals.push({ pcpu: open.pcpu, startNs: open.startNs, endNs: Math.min(nowNs, this.untilNs), vm: src.split('/')[1] });
    }
    this.open.clear();
    return this.intervals;
  }
}
