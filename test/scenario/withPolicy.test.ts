/**
 * withPolicy: a loaded scenario under another scheduling policy gets that policy's defaults, as
 * if its file had named the policy; values the file gave are kept.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/core/scenario/load.js';
import { POLICY_NAMES, withChangedPolicy, withPolicy, type PolicyName, type Scenario } from '../../src/core/scenario/schema.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';

function scenarioWith(scheduler: string, sched = ''): Scenario {
  const text = `name: two
host: { pcpus: 2, memory: 16MiB }
scheduler: ${scheduler}
vms:
  - { name: a, memory: 16KiB, guest: cpu-bound${sched} }
  - { name: b, vcpus: 2, memory: 16KiB, guest: io-bound }
`;
  return loadScenario(text, { file: 'two.yaml', guests: BUNDLED_GUEST_NAMES });
}

describe('withPolicy', () => {
  it('gives the same scenario as a file naming the new policy, for every pair of policies', () => {
    for (const from of POLICY_NAMES) {
      for (const to of POLICY_NAMES) {
        const switched = withPolicy(scenarioWith(`{ policy: "${from}", quantum: 2ms }`), to);
        expect(switched, `${from} -> ${to}`).toEqual(scenarioWith(`{ policy: "${to}", quantum: 2ms }`));
      }
    }
  });

  it("fills in the new policy's defaults: credit's slice, rate limit and tick; rtds's budget and period; arinc653's frame", () => {
    const base = scenarioWith('{ policy: round-robin }');
    expect(base.scheduler).toEqual({ policy: 'round-robin', quantumNs: 1_000_000 });
    expect(withPolicy(base, 'credit').scheduler).toEqual({ policy: 'credit', quantumNs: 1_000_000, timesliceNs: 30_000_000, ratelimitNs: 1_000_000, tickNs: 10_000_000, charge: 'held', capEnforcement: 'park' });
    expect(withPolicy(base, 'credit2').scheduler).toEqual({ policy: 'credit2', quantumNs: 1_000_000, ratelimitNs: 1_000_000, runqueueSize: 0, charge: 'held' });
    expect(withPolicy(base, 'cfs').scheduler).toEqual({ policy: 'cfs', quantumNs: 1_000_000, latencyNs: 6_000_000, minGranularityNs: 750_000, charge: 'held' });
    expect(withPolicy(base, 'rtds').vms.map((vm) => vm.sched)).toEqual([
      { weight: 256, cap: 0, budgetNs: 4_000_000, periodNs: 10_000_000, extratime: 0 },
      { weight: 256, cap: 0, budgetNs: 4_000_000, periodNs: 10_000_000, extratime: 0 },
    ]);
    // One slot per vCPU: Xen's schedule entries name one vCPU each (b has two).
    expect(withPolicy(base, 'arinc653').scheduler.frame).toEqual([
      { vm: 'a', durationNs: 1_000_000 },
      { vm: 'b', durationNs: 1_000_000 },
      { vm: 'b', durationNs: 1_000_000, vcpu: 1 },
    ]);
    // And the old policy's filled-in defaults go.
    expect(withPolicy(withPolicy(base, 'rtds'), 'credit').vms[0].sched).toEqual({ weight: 256, cap: 0 });
    expect(withPolicy(withPolicy(base, 'arinc653'), 'cfs').scheduler.frame).toBeUndefined();
  });

  it('keeps what the scenario gave: parameters, a frame, budgets, weights, pinning', () => {
    const credit = scenarioWith('{ policy: credit, timeslice: 5ms, ratelimit: 2ms }', ', sched: { weight: 512, pcpu: 1 }');
    const cfs = withPolicy(credit, 'cfs');
    expect(cfs.scheduler).toEqual({ policy: 'cfs', quantumNs: 1_000_000, timesliceNs: 5_000_000, ratelimitNs: 2_000_000, latencyNs: 6_000_000, minGranularityNs: 750_000, charge: 'held' });
    expect(cfs.vms[0].sched).toEqual({ weight: 512, cap: 0, pcpu: 1 });
    expect(withPolicy(cfs, 'credit')).toEqual(credit);

    const frame = scenarioWith('{ policy: arinc653, frame: [{ vm: b, duration: 3ms }, { duration: 1ms }] }');
    expect(withPolicy(withPolicy(frame, 'round-robin'), 'arinc653')).toEqual(frame);

    const rtds = scenarioWith('{ policy: rtds }', ', sched: { budget: 1ms, period: 5ms, extratime: true }');
    const back = withPolicy(withPolicy(rtds, 'credit'), 'rtds');
    expect(back).toEqual(rtds);
    expect(withPolicy(rtds, 'credit').vms[0].sched).toEqual({ weight: 256, cap: 0, budgetNs: 1_000_000, periodNs: 5_000_000, extratime: 1 });
  });

  it('changes nothing under the same policy, and gives a frozen scenario', () => {
    for (const policy of POLICY_NAMES) {
      const scenario = scenarioWith(`{ policy: "${policy}" }`);
      expect(withPolicy(scenario, policy)).toEqual(scenario);
    }
    const switched = withPolicy(scenarioWith('{ policy: credit }'), 'cfs');
    expect(Object.isFrozen(switched)).toBe(true);
    expect(Object.isFrozen(switched.scheduler)).toBe(true);
    expect(Object.isFrozen(switched.vms[0].sched)).toBe(true);
  });

  it('withChangedPolicy re-resolves a scenario rebuilt from the source form with another policy set (fork --set, sweep grids)', () => {
    const credit = scenarioWith('{ policy: credit }');
    // What resolving the source form of `credit` with `policy: cfs` set gives: credit's defaults carried along.
    const carried: Scenario = { ...credit, scheduler: { ...credit.scheduler, policy: 'cfs' as PolicyName } };
    expect(withChangedPolicy(credit, carried)).toEqual(scenarioWith('{ policy: cfs }'));
    expect(withChangedPolicy(credit, credit)).toBe(credit);
  });
});
