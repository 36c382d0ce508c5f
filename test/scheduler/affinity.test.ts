/**
 * Hard and soft affinity (xl vcpu-pin): the scenario keys, their validation, and a checker that
 * reads the event log from outside: no vCPU is ever dispatched outside its hard mask, whatever the
 * policy (src/actors/scheduler/affinity.ts, docs/scheduling.md).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { POLICY_NAMES } from '../../src/core/scenario/schema.js';
import { Simulation } from '../../src/actors/simulation.js';
import { loadScenario } from '../../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { runScenario, scenarioErrors } from '../helpers.js';

const load = (text: string) => loadScenario(text, { file: 's.yaml', guests: BUNDLED_GUEST_NAMES });

const errors = scenarioErrors;

/** Every `vcpu.running` outside the hard mask of its VM, as `src@t on pCPUn`. */
function violations(masks: ReadonlyMap<string, readonly number[]>, events: readonly { src: string; t: number; type: string; data: unknown }[]): string[] {
  const out: string[] = [];
  for (const event of events) {
    if (event.type !== 'vcpu.running') continue;
    const pcpu = (event.data as { pcpu: number }).pcpu;
    const mask = masks.get(event.src.split('/')[1]);
    if (mask !== undefined && !mask.includes(pcpu)) out.push(`${event.src}@${event.t} on pCPU${pcpu}`);
  }
  return out;
}

describe('sched.affinity in the scenario', () => {
  it('resolves masks sorted and without duplicates, and writes them back', () => {
    const s = load('name: x\nhost: { pcpus: 4 }\nvms: [{ name: a, guest: cpu-bound, sched: { affinity: { hard: [3, 1, 3], soft: [1] } } }]');
    expect(s.vms[0].sched.affinity).toEqual({ hard: [1, 3], soft: [1] });
    expect(load('name: x\nvms: [{ name: a, guest: cpu-bound }]').vms[0].sched.affinity).toBeUndefined();
  });

  it('refuses a mask naming a pCPU the host lacks, and an empty hard mask, at file:line:col', () => {
    expect(errors('name: x\nhost: { pcpus: 2 }\nvms: [{ name: a, guest: cpu-bound, sched: { affinity: { hard: [0, 2] } } }]')).toEqual([
      's.yaml:3:67: vms[0].sched.affinity.hard[1]: the host has no physical CPU 2: expected an index from 0 to 1 (host.pcpus - 1)',
    ]);
    expect(errors('name: x\nhost: { pcpus: 2 }\nvms: [{ name: a, guest: cpu-bound, sched: { affinity: { soft: [5] } } }]')).toEqual([
      's.yaml:3:64: vms[0].sched.affinity.soft[0]: the host has no physical CPU 5: expected an index from 0 to 1 (host.pcpus - 1)',
    ]);
    expect(errors('name: x\nhost: { pcpus: 2 }\nvms: [{ name: a, guest: cpu-bound, sched: { affinity: { hard: [] } } }]')).toEqual([
      's.yaml:3:63: vms[0].sched.affinity.hard: an empty hard affinity would leave the vCPU nowhere to run: name at least one physical CPU',
    ]);
  });
});

describe('hard affinity holds under every policy (checked from the event log)', () => {
  const seed = Number(process.env.AFFINITY_SEED ?? 20261204);
  const mask = (pcpus: number) => fc.uniqueArray(fc.integer({ min: 0, max: pcpus - 1 }), { minLength: 1, maxLength: pcpus });
  const vmArb = (pcpus: number) =>
    fc.record({
      vcpus: fc.integer({ min: 1, max: 2 }),
      guest: fc.constantFrom('cpu-bound', 'io-bound'),
      hard: fc.option(mask(pcpus), { nil: undefined }),
      soft: fc.option(mask(pcpus), { nil: undefined }),
    });
  const caseArb = fc.integer({ min: 1, max: 4 }).chain((pcpus) => fc.record({ pcpus: fc.constant(pcpus), vms: fc.array(vmArb(pcpus), { minLength: 1, maxLength: 4 }) }));

  // credit2 also with several run queues (runqueueSize 1 or 2), where placement must respect the mask.
  const credit2Arb = caseArb.chain((c) => fc.integer({ min: 0, max: 2 }).map((runqueueSize) => ({ ...c, runqueueSize })));

  for (const policy of POLICY_NAMES) {
    it(`${policy}: no vCPU runs outside its hard mask (fast-check seed ${seed})`, () => {
      console.log(`affinity property: policy ${policy}, fast-check seed ${seed} (AFFINITY_SEED to repeat)`);
      fc.assert(
        fc.property(policy === 'credit2' ? credit2Arb : caseArb.map((c) => ({ ...c, runqueueSize: 0 })), (c) => {
          const masks = new Map<string, readonly number[]>();
          const vms = c.vms.map((vm, i) => {
            if (vm.hard !== undefined) masks.set(`v${i}`, vm.hard);
            const affinity = vm.hard === undefined && vm.soft === undefined ? '' : `, affinity: { ${[vm.hard === undefined ? '' : `hard: [${vm.hard.join(', ')}]`, vm.soft === undefined ? '' : `soft: [${vm.soft.join(', ')}]`].filter((x) => x !== '').join(', ')} }`;
            return `  - { name: v${i}, vcpus: ${vm.vcpus}, guest: ${vm.guest}, sched: { weight: ${256 * (i + 1)}${affinity} } }`;
          });
          const s = load(`name: affinity\nhost: { pcpus: ${c.pcpus} }\nscheduler: { policy: '${policy}'${policy === 'credit2' ? `, runqueueSize: ${c.runqueueSize}` : ''} }\nrun: { time: 200ms }\nvms:\n${vms.join('\n')}`);
          const run = runScenario(s, 1);
          expect(violations(masks, run.events)).toEqual([]);
          // Every vCPU allowed somewhere ran at least once (hard affinity does not starve it).
          if (policy !== 'arinc653' && policy !== 'null' && policy !== 'gang') {
            for (const name of masks.keys()) expect(run.events.some((e) => e.type === 'vcpu.running' && e.src.startsWith(`vm/${name}/`))).toBe(true);
          }
        }),
        { seed, numRuns: 12 },
      );
    });
  }
});

describe('hard affinity holds under credit with a topology (the SMT-aware pick, _csched_cpu_pick)', () => {
  const seed = Number(process.env.AFFINITY_SEED ?? 20261204);
  const TOPOLOGIES = [
    { sockets: 1, coresPerSocket: 1, threadsPerCore: 2 },
    { sockets: 1, coresPerSocket: 2, threadsPerCore: 2 },
    { sockets: 2, coresPerSocket: 1, threadsPerCore: 2 },
    { sockets: 2, coresPerSocket: 2, threadsPerCore: 1 },
    { sockets: 2, coresPerSocket: 2, threadsPerCore: 2 },
  ];
  const caseArb = fc.constantFrom(...TOPOLOGIES).chain((topology) => {
    const pcpus = topology.sockets * topology.coresPerSocket * topology.threadsPerCore;
    const mask = fc.uniqueArray(fc.integer({ min: 0, max: pcpus - 1 }), { minLength: 1, maxLength: pcpus });
    const vm = fc.record({ vcpus: fc.integer({ min: 1, max: 2 }), guest: fc.constantFrom('cpu-bound', 'io-bound'), hard: fc.option(mask, { nil: undefined }), soft: fc.option(mask, { nil: undefined }) });
    return fc.record({ topology: fc.constant(topology), pcpus: fc.constant(pcpus), vms: fc.array(vm, { minLength: 1, maxLength: 5 }) });
  });

  it(`no vCPU runs outside its hard mask, and every pinned vCPU runs (fast-check seed ${seed})`, () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const masks = new Map<string, readonly number[]>();
        const vms = c.vms.map((vm, i) => {
          if (vm.hard !== undefined) masks.set(`v${i}`, vm.hard);
          const affinity = vm.hard === undefined && vm.soft === undefined ? '' : `, affinity: { ${[vm.hard === undefined ? '' : `hard: [${vm.hard.join(', ')}]`, vm.soft === undefined ? '' : `soft: [${vm.soft.join(', ')}]`].filter((x) => x !== '').join(', ')} }`;
          return `  - { name: v${i}, vcpus: ${vm.vcpus}, guest: ${vm.guest}, sched: { weight: ${256 * (i + 1)}${affinity} } }`;
        });
        const t = c.topology;
        const host = `host: { pcpus: ${c.pcpus}, topology: { sockets: ${t.sockets}, coresPerSocket: ${t.coresPerSocket}, threadsPerCore: ${t.threadsPerCore} } }`;
        const run = runScenario(load(`name: smt\n${host}\nscheduler: { policy: credit }\nrun: { time: 200ms }\nvms:\n${vms.join('\n')}`), 1);
        expect(violations(masks, run.events)).toEqual([]);
        for (const name of masks.keys()) expect(run.events.some((e) => e.type === 'vcpu.running' && e.src.startsWith(`vm/${name}/`))).toBe(true);
      }),
      { seed, numRuns: 20 },
    );
  });
});

describe('soft affinity', () => {
  /** The share of VM a's dispatches that land on pCPU 1. */
  const onCpu1 = (policy: string, soft: string) => {
    const s = load(
      `name: soft\nhost: { pcpus: 2 }\nscheduler: { policy: ${policy} }\nrun: { time: 400ms }\nvms:\n  - { name: a, guest: io-bound${soft} }\n  - { name: b, guest: cpu-bound }\n  - { name: c, guest: io-bound }\n  - { name: d, guest: cpu-bound }`,
    );
    const runs = runScenario(s, 1).events.filter((e) => e.type === 'vcpu.running' && e.src.startsWith('vm/a/'));
    return runs.filter((e) => (e.data as { pcpu: number }).pcpu === 1).length / runs.length;
  };

  it('credit: for_each_affinity_balance_step (soft, then hard) keeps a vCPU on its soft CPU', () => {
    // Without soft affinity the vCPU lives on pCPU 0 (its home); with soft: [1] on pCPU 1.
    expect(onCpu1('credit', '')).toBeLessThan(0.05);
    expect(onCpu1('credit', ', sched: { affinity: { soft: [1] } }')).toBeGreaterThan(0.95);
  });
});

describe('the wrapper hands held vCPUs over fairly', () => {
  it.each(['round-robin', 'cfs'])('%s: two vCPUs pinned to one pCPU both run, whatever their soft masks (has_soft_affinity)', (policy) => {
    const s = load(
      `name: held\nhost: { pcpus: 3 }\nscheduler: { policy: ${policy} }\nrun: { time: 200ms }\nvms:\n  - { name: v0, guest: cpu-bound, sched: { affinity: { hard: [1], soft: [0] } } }\n  - { name: v1, guest: cpu-bound }\n  - { name: v2, guest: cpu-bound, sched: { affinity: { hard: [1] } } }`,
    );
    const ran = new Set(runScenario(s, 1).events.filter((e) => e.type === 'vcpu.running').map((e) => e.src.split('/')[1]));
    expect([...ran].sort()).toEqual(['v0', 'v1', 'v2']);
  });
});

describe('a fork that changes affinity', () => {
  it('pins the vCPUs from the fork on (reconfigure sets their masks with the new parameters)', () => {
    const text = 'name: x\nhost: { pcpus: 2 }\nscheduler: { policy: round-robin, quantum: 200us }\nrun: { time: 20ms }\nvms:\n  - { name: a, guest: cpu-bound }\n  - { name: b, guest: cpu-bound }\n  - { name: c, guest: cpu-bound }\n';
    const before = load(text);
    const after = load(text.replace('{ name: a, guest: cpu-bound }', '{ name: a, guest: cpu-bound, sched: { affinity: { hard: [1] } } }'));
    const simulation = new Simulation({ scenario: before });
    const onZero = { before: 0, after: 0 };
    simulation.bus.events$.subscribe((event) => {
      if (event.type === 'vcpu.running' && event.src === 'vm/a/vcpu/0' && event.data.pcpu === 0) onZero[event.t < 10_000_000 ? 'before' : 'after']++;
    });
    simulation.runUntilTime(10_000_000);
    simulation.reconfigure(after);
    simulation.run();
    expect(onZero.before).toBeGreaterThan(0);
    expect(onZero.after).toBe(0);
  });
});
