/**
 * What burns a vCPU's credit or budget (docs/scheduling.md, "What is charged").
 *
 * - `held` (the default, Xen's): the time the vCPU holds the physical CPU, from the instant the
 *   policy picked it to the instant it left, exits, the monitor's handling, interrupt injection
 *   and the switch into it included. Xen charges `now - start_time` at every scheduling decision
 *   and tick (credit's and credit2's burn_credits, rt.c's burn_budget), whatever the vCPU did
 *   with that time.
 * - `guest`: only the time the guest's own instructions ran (what the monitor reports per
 *   batch). This was vmmsim's rule before; it flatters a VM that exits often.
 *
 * Either way a policy charges a stretch only from `startTime` on (Xen's start_time/last_start):
 * an accounting instant (a credit2 reset, an RTDS replenishment, credit's accounting) charges a
 * running vCPU what it held until then and moves `startTime`, so what ran before it is never
 * charged again after it.
 */
import type { ChargeMode } from '../../core/scenario/schema.js';

/** The part of a vCPU's CPU time that burns a policy's currency. */
export interface Meter {
  /** Since when the vCPU's time is not charged yet (ns). */
  startTime: number;
}

/**
 * The time to charge for a stretch the monitor reports: `ranNs` of guest time ending at `now`.
 * Moves `meter.startTime` to `now`. `held`: everything since `startTime`; `guest`: the guest
 * time, but none of it from before `startTime`.
 */
export function chargeable(mode: ChargeMode, meter: Meter, ranNs: number, now: number): number {
  const heldNs = now - meter.startTime;
  meter.startTime = now;
  if (heldNs <= 0) return 0;
  return mode === 'held' ? heldNs : Math.min(ranNs, heldNs);
}

/**
 * The time a running vCPU has held its CPU since `startTime` (for accounting instants between
 * the monitor's reports, where Xen calls burn_credits on the running vCPU). Moves `startTime`.
 * In `guest` mode too: the monitor reports guest time only at the end of a batch, so the held
 * time is the best measure there is of what ran until now.
 */
export function settle(meter: Meter, now: number): number {
  const heldNs = now - meter.startTime;
  meter.startTime = now;
  return heldNs > 0 ? heldNs : 0;
}
