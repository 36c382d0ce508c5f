import { describe, expect, it } from 'vitest';
import { loadScenario, ScenarioError } from '../../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';

function errors(text: string): string[] {
  try {
    loadScenario(text, { file: 's.yaml', guests: BUNDLED_GUEST_NAMES });
    return [];
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    return error.message.split('\n');
  }
}

const load = (text: string) => loadScenario(text, { file: 's.yaml', guests: BUNDLED_GUEST_NAMES });

describe('scheduling parameters in the scenario', () => {
  it("writes out the chosen policy's defaults", () => {
    expect(load('name: x\nscheduler: { policy: credit }\nvms: [{ name: a, guest: cpu-bound }]').scheduler).toEqual({
      policy: 'credit',
      quantumNs: 1_000_000,
      timesliceNs: 30_000_000,
      ratelimitNs: 1_000_000,
      tickNs: 10_000_000,
      charge: 'held',
      capEnforcement: 'park',
    });
    // __csched_set_tslice: the tick is a third of the slice.
    expect(load('name: x\nscheduler: { policy: credit, timeslice: 6ms }\nvms: [{ name: a, guest: cpu-bound }]').scheduler.tickNs).toBe(2_000_000);
    expect(load('name: x\nscheduler: { policy: credit2, charge: guest }\nvms: [{ name: a, guest: cpu-bound }]').scheduler.charge).toBe('guest');
    const rt = load('name: x\nscheduler: { policy: rtds }\nvms: [{ name: a, guest: cpu-bound, sched: { budget: 1ms, extratime: true } }]');
    expect(rt.vms[0].sched).toEqual({ weight: 256, cap: 0, budgetNs: 1_000_000, periodNs: 10_000_000, extratime: 1 });
    const arinc = load('name: x\nscheduler: { policy: arinc653, quantum: 2ms }\nvms: [{ name: a, guest: cpu-bound }, { name: b, guest: cpu-bound }]');
    expect(arinc.scheduler.frame).toEqual([
      { vm: 'a', durationNs: 2_000_000 },
      { vm: 'b', durationNs: 2_000_000 },
    ]);
  });

  it('rejects inconsistent parameters with file:line:col', () => {
    expect(errors('name: x\nvms:\n  - { name: a, guest: cpu-bound, sched: { budget: 5ms, period: 2ms } }')).toEqual([
      's.yaml:3:51: vms[0].sched.budget: the budget (5ms) must not exceed the period (2ms)',
    ]);
    expect(errors('name: x\nscheduler:\n  policy: arinc653\n  frame: [{ vm: b, duration: 1ms }]\nvms: [{ name: a, guest: cpu-bound }]')).toEqual([
      "s.yaml:4:17: scheduler.frame[0].vm: unknown VM 'b' (expected one of: a); did you mean 'a'?",
    ]);
    expect(errors('name: x\nhost: { pcpus: 2 }\nvms: [{ name: a, guest: cpu-bound, sched: { pcpu: 2 } }]')).toEqual([
      's.yaml:3:51: vms[0].sched.pcpu: expected a physical CPU index from 0 to 1 (host.pcpus - 1), got 2',
    ]);
    expect(errors('name: x\nscheduler: { policy: credit, ratelimit: 2s }\nvms: [{ name: a, guest: cpu-bound }]')[0]).toMatch(/^s\.yaml:2:41: scheduler\.ratelimit: expected a duration of at most 500ms/);
  });
});
