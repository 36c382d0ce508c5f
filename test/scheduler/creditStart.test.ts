/**
 * credit's BOOST of a vCPU's first wake-up (csched_unit_wake on the vcpu_wake that brings a new
 * vCPU up; docs/scheduling.md, driver domain study): the `startBoost` tuning, off by default.
 */
import { describe, expect, it } from 'vitest';
import { CreditPolicy, type CreditTuning } from '../../src/actors/scheduler/credit.js';
import type { SchedEntity } from '../../src/actors/scheduler/policy.js';

const entity = (key: number): SchedEntity => ({ key, id: `vm/v${key}/vcpu/0`, vm: `v${key}`, params: { weight: 256, cap: 0 } });

function firstPicked(tuning: CreditTuning): number | undefined {
  const policy = new CreditPolicy({ pcpus: 1, quantumNs: 1_000_000 }, tuning);
  policy.attach({ now: 0, preempt: () => undefined, wakeIdle: () => undefined, requestTick: () => undefined });
  // Given a vCPU queued at UNDER (preempted, so not boosted)...
  policy.enqueue(entity(0), 0, 'preempt');
  // ...when another one starts,
  policy.enqueue(entity(1), 0, 'start');
  return policy.pick(0, 0)?.entity.key;
}

describe('credit: a starting vCPU', () => {
  it('csched_unit_wake: with startBoost, a start BOOSTs the vCPU as its first wake-up does in Xen', () => {
    expect(firstPicked({ startBoost: true })).toBe(1);
  });

  it('by default (engine 0.4.0), as Xen does', () => {
    expect(firstPicked({})).toBe(1);
  });

  it('with startBoost: false (engine 0.3.0), a start queues at UNDER behind the vCPUs there', () => {
    expect(firstPicked({ startBoost: false })).toBe(0);
  });
});
