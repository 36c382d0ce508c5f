/**
 * The VM's timer: periodic or one-shot interrupts on IRQ_TIMER, programmed in virtual ns through
 * its ports. Each expiry is scheduled on the kernel queue with a small random delay from the
 * device's own PRNG stream (interrupt latency), so different seeds interleave guests differently.
 * Periodic expiries do not drift: each period is counted from the previous nominal expiry.
 */
import type { EventBus } from '../../core/bus.js';
import type { Kernel } from '../../core/kernel.js';
import { Irq, Port } from '../../core/platform.js';
import type { RandomStream } from '../../core/prng.js';
import { NS_PER_US } from '../../core/time.js';
import { Device, savedNumber } from './device.js';
import type { InterruptController } from './pic.js';

const MIN_PERIOD_NS = 1_000;

export class Timer extends Device {
  readonly ports = [Port.TIMER_PERIOD, Port.TIMER_ONESHOT, Port.TIMER_NOW];
  private readonly target: number;
  private periodNs = 0;
  private nominalNs = 0;
  /** Bumped on every reprogramming so stale queue entries are ignored. */
  private generation = 0;
  fired = 0;
  /** As last programmed (the last `timer.armed` event). */
  armedMode: 'periodic' | 'oneshot' | 'off' = 'off';
  armedNs = 0;

  constructor(
    id: string,
    bus: EventBus,
    private readonly kernel: Kernel,
    private readonly pic: InterruptController,
    private readonly random: RandomStream,
    /** The largest random delay of an expiry, read at each expiry (a fork can change it). */
    private readonly jitterMaxNs: () => number,
  ) {
    super(id, 'timer', bus);
    this.target = kernel.register(id, (_kind, arg, time) => this.expire(arg, time));
  }

  /**
   * The guest's clock runs this far ahead of the simulation's (0 but for a VM restored from an
   * image, whose clock goes on from where it was saved, as kvmclock's offset does).
   */
  private clockOffsetNs = 0;
  /** When the scheduled expiry is due (absolute ns), or -1 when none is (read by the monitor to end a batch there). */
  dueNs = -1;

  /** The guest's clock, in ns. */
  get guestNowNs(): number {
    return this.kernel.now + this.clockOffsetNs;
  }

  read(port: number): number {
    if (port === Port.TIMER_NOW) return Math.floor(this.guestNowNs / NS_PER_US) & 0x7fff_ffff;
    return 0;
  }

  write(port: number, value: number): void {
    if (port !== Port.TIMER_PERIOD && port !== Port.TIMER_ONESHOT) return;
    const ns = value > 0 ? Math.max(value, MIN_PERIOD_NS) : 0;
    this.generation++;
    this.dueNs = -1;
    if (port === Port.TIMER_PERIOD) {
      this.periodNs = ns;
      this.armedMode = ns > 0 ? 'periodic' : 'off';
      this.armedNs = ns;
      this.bus.publish(this.id, 'timer.armed', { mode: this.armedMode, ns });
      if (ns > 0) this.arm(this.kernel.now + ns);
    } else {
      this.periodNs = 0;
      this.armedMode = ns > 0 ? 'oneshot' : 'off';
      this.armedNs = ns;
      this.bus.publish(this.id, 'timer.armed', { mode: this.armedMode, ns });
      if (ns > 0) this.arm(this.kernel.now + ns);
    }
  }

  private arm(nominalNs: number): void {
    this.nominalNs = nominalNs;
    const jitterMax = this.jitterMaxNs();
    const jitter = jitterMax > 0 ? this.random.int(0, jitterMax) : 0;
    // A jitter larger than the period can put the next nominal expiry behind the clock: fire now.
    this.dueNs = Math.max(nominalNs + jitter, this.kernel.now);
    this.kernel.scheduleSoft(this.dueNs, this.target, 0, this.generation);
  }

  /**
   * Its programming and its pending expiry, in ns from now (the guest's clock is paused while the
   * VM is saved, so only what is left travels): `dueInNs` -1 when nothing is pending.
   */
  override saveState(): Record<string, unknown> {
    const now = this.kernel.now;
    const pending = this.dueNs >= 0 && this.ready;
    return {
      periodNs: this.periodNs,
      mode: this.armedMode,
      ns: this.armedNs,
      nominalInNs: pending ? this.nominalNs - now : 0,
      dueInNs: pending ? Math.max(0, this.dueNs - now) : -1,
      guestNowNs: this.guestNowNs,
    };
  }

  /** Keeps the programming for `resumeAt`, which applies it when the restored VM starts (until then it is off). */
  override loadState(state: Readonly<Record<string, unknown>>): void {
    const mode = state.mode;
    if (mode !== 'periodic' && mode !== 'oneshot' && mode !== 'off') throw new RangeError("device state: 'mode' is not periodic, oneshot or off");
    this.restored = {
      periodNs: savedNumber(state, 'periodNs'),
      mode,
      ns: savedNumber(state, 'ns'),
      nominalInNs: savedNumber(state, 'nominalInNs'),
      dueInNs: savedNumber(state, 'dueInNs'),
      guestNowNs: savedNumber(state, 'guestNowNs'),
    };
  }

  private restored:
    | {
        readonly periodNs: number;
        readonly mode: 'periodic' | 'oneshot' | 'off';
        readonly ns: number;
        readonly nominalInNs: number;
        readonly dueInNs: number;
        readonly guestNowNs: number;
      }
    | undefined;

  /**
   * A restored timer goes on as if the guest's time `baseNs` were the instant it was saved: its
   * clock reads on from the saved time and its pending expiry comes as far after `baseNs` as it
   * was after the save (the jitter already drawn is kept).
   */
  resumeAt(baseNs: number): void {
    const restored = this.restored;
    if (restored === undefined) return;
    this.restored = undefined;
    this.periodNs = restored.periodNs;
    this.armedMode = restored.mode;
    this.armedNs = restored.ns;
    this.clockOffsetNs = restored.guestNowNs - baseNs;
    if (restored.dueInNs < 0) return;
    this.generation++;
    this.nominalNs = baseNs + restored.nominalInNs;
    this.dueNs = Math.max(baseNs + restored.dueInNs, this.kernel.now);
    this.kernel.scheduleSoft(this.dueNs, this.target, 0, this.generation);
  }

  /**
   * Stops the guest's clock and the pending expiry where they are, as QEMU stops kvmclock while a
   * VM is stopped for a live migration's stop-and-copy; `resumeAt` goes on from them.
   */
  freeze(): void {
    this.loadState(this.saveState());
    this.generation++;
    this.dueNs = -1;
  }

  private expire(generation: number, _time: number): void {
    if (generation !== this.generation || !this.ready) return;
    this.dueNs = -1;
    this.fired++;
    this.pic.raise(Irq.TIMER);
    this.bus.publish(this.id, 'irq.raise', { line: Irq.TIMER });
    if (this.periodNs > 0) this.arm(this.nominalNs + this.periodNs);
  }

  protected override onStop(): void {
    this.generation++;
    this.dueNs = -1;
    this.periodNs = 0;
  }

  protected override onFail(): void {
    this.generation++;
    this.dueNs = -1;
  }

  protected override onReset(): void {
    this.generation++;
    this.dueNs = -1;
    this.periodNs = 0;
    this.armedMode = 'off';
    this.armedNs = 0;
  }

  snapshot(): Record<string, unknown> {
    return {
      state: this.lifecycle.state,
      periodNs: this.periodNs,
      nominalNs: this.nominalNs,
      generation: this.generation,
      fired: this.fired,
      mode: this.armedMode,
      ns: this.armedNs,
    };
  }
}
