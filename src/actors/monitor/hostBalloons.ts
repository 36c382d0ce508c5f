/**
 * The host's balloon policy: ESX's reclamation order under memory pressure (Waldspurger, "Memory
 * Resource Management in VMware ESX Server", OSDI 2002). Page sharing runs whatever the pressure;
 * when free memory falls below a threshold (ESX's "high" state ends at 6% free) the host inflates
 * the balloons of the VMs that run a balloon driver, so that their guests give back pages they
 * choose themselves; only what ballooning cannot free is left to host swapping (hostMemory.ts
 * swaps on a fault with no free frame).
 *
 * The memory manager calls `check` every `intervalNs` from its own kernel entry. A check reads
 * the host's free frames; while they are below `belowFraction` of the host's frames it asks for
 * `stepPages` more pages in all, divided among the VMs that are eligible:
 *
 *   - the guest runs a balloon driver (the balloon saw an access to its ports: a VM without a
 *     driver would get an interrupt it has no handler for);
 *   - its balloon has met its last target (a driver that has not caught up, or has nothing left
 *     to give, is not asked for more);
 *   - the VM has not finished.
 *
 * The division is ESX's min-funding revocation with equal shares: ESX reclaims from the VM with
 * the fewest shares per page it holds, and with shares not modelled every VM has the same
 * shares, so the pages come from the VMs holding the most frames, levelling them down (water
 * filling). Ties go to the VM first in scenario order. ESX's idle memory tax and per-VM shares
 * are not modelled; deflating is not either (a target only grows).
 */
import type { EventBus } from '../../core/bus.js';
import type { HostMemory } from '../../core/memory.js';
import type { BallooningSpec } from '../../core/scenario/schema.js';
import type { Vm } from '../vm.js';

/** What the policy needs from the monitor. */
export interface BalloonHooks {
  /** Brings every VM's memory to now (the batches run ahead of the clock) before it is counted. */
  quiesceAll(): void;
  /** Sets a VM's balloon target (the monitor's setBalloonTarget). */
  setBalloonTarget(vm: Vm, pages: number): void;
}

export interface BalloonStats {
  /** Checks made, and those that found free frames below the threshold. */
  readonly balloonChecks: number;
  readonly balloonPressured: number;
  /** Pages the host asked the balloons for, in all. */
  readonly balloonRequested: number;
}

/**
 * Divides `pages` among holders of `frames` frames each, taking from the largest first until
 * they are level (min-funding revocation with equal shares). Returns the pages each gives; ties
 * at the final level go to the lowest index. A holder never gives more than it holds; when all
 * they hold together is less than `pages`, each gives all it holds.
 */
export function divideByMinFunding(frames: readonly number[], pages: number): number[] {
  const total = frames.reduce((sum, count) => sum + count, 0);
  if (pages >= total) return frames.slice();
  const taken = (level: number) => frames.reduce((sum, count) => sum + Math.max(0, count - level), 0);
  // The lowest level to which levelling every holder down gives at most `pages`.
  let low = 0;
  let high = Math.max(0, ...frames);
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (taken(middle) <= pages) high = middle;
    else low = middle + 1;
  }
  const level = low;
  const shares = frames.map((count) => Math.max(0, count - level));
  // The rest, one page each from the holders left at `level`, in index order (there are more of
  // them than pages left, or the level would be lower).
  let rest = pages - taken(level);
  for (let index = 0; index < frames.length && rest > 0; index++) {
    if (frames[index] >= level && level > 0) {
      shares[index]++;
      rest--;
    }
  }
  return shares;
}

export class HostBalloons {
  private checks = 0;
  private pressured = 0;
  private requested = 0;

  constructor(
    readonly spec: BallooningSpec,
    private readonly host: HostMemory,
    private readonly bus: EventBus,
    private readonly source: string,
  ) {}

  /** Free frames below which the host inflates balloons. */
  get thresholdFrames(): number {
    return Math.ceil(this.spec.belowFraction * this.host.frameCount);
  }

  /** One periodic check: inflates the eligible VMs' balloons when free memory is low. */
  check(vms: readonly Vm[], hooks: BalloonHooks): void {
    this.checks++;
    hooks.quiesceAll();
    const freeFrames = this.host.freeFrameCount;
    const thresholdFrames = this.thresholdFrames;
    if (freeFrames >= thresholdFrames) return;
    this.pressured++;
    const eligible = vms.filter((vm) => !vm.finished && vm.balloon.ready && vm.balloon.driver && vm.balloon.size >= vm.balloon.target);
    const frames = eligible.map((vm) => vm.memory.mappedPages);
    const shares = divideByMinFunding(frames, this.spec.stepPages);
    let pages = 0;
    let asked = 0;
    // The decision first, then the targets it sets (each a balloon.target of its VM's balloon).
    for (const share of shares) {
      pages += share;
      if (share > 0) asked++;
    }
    this.requested += pages;
    this.bus.publish(this.source, 'memory.balloon', { freeFrames, thresholdFrames, pages, vms: asked });
    for (let index = 0; index < eligible.length; index++) {
      if (shares[index] === 0) continue;
      const vm = eligible[index];
      hooks.setBalloonTarget(vm, Math.max(vm.balloon.target, vm.balloon.size) + shares[index]);
    }
  }

  stats(): BalloonStats {
    return { balloonChecks: this.checks, balloonPressured: this.pressured, balloonRequested: this.requested };
  }
}
