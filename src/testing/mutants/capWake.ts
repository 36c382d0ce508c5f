/**
 * cap-wake-uncharged: a capped vCPU escapes its cap after wake-ups. A run that ends in a block
 * before the next tick is never charged (the accounting samples whoever is running at a tick, as
 * Xen's credit1 did before precise accounting): a vCPU that blocks and wakes often runs for free.
 */
import type { Mutant } from './shared.js';

/** Runs shorter than this, the mutant's tick, are not charged. */
const UNSAMPLED_NS = 300_000;

export const capWakeUncharged: Mutant = {
  name: 'cap-wake-uncharged',
  bug: 'a capped vCPU escapes its cap after wake-ups: a short run that ends in a block is never charged',
  caughtBy: 'cap-window',
  parts: {
    name: 'cap-wake-uncharged',
    policy(policy) {
      const charge = policy.charge.bind(policy);
      policy.charge = (entity, ranNs, now) => {
        if (ranNs >= UNSAMPLED_NS) charge(entity, ranNs, now);
      };
      return policy;
    },
  },
};
