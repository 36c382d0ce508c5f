/**
 * Xen's cpupools (src/actors/scheduler/cpupool.ts, docs/scheduling.md): the scenario keys and
 * their errors, isolation between pools read from the event log from outside, each pool's own
 * policy in force, and a move between pools (`xl cpupool-migrate`) at its logged time, replayed
 * byte for byte.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, resolveScenarioObject } from '../../src/core/scenario/load.js';
import { POLICY_NAMES, scenarioToSource, withPolicy } from '../../src/core/scenario/schema.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { openLog } from '../../src/index.js';
import { fork } from '../../src/replay/fork.js';
import { main } from '../../src/cli/main.js';
import type { SimEvent } from '../../src/core/events.js';
import { runScenario, scenarioErrors, type TestRun } from '../helpers.js';

const load = (text: string) => loadScenario(text, { file: 's.yaml', guests: BUNDLED_GUEST_NAMES });

interface Running {
  readonly vm: string;
  readonly t: number;
  readonly pcpu: number;
}

/** Every `vcpu.running` of the run: which VM, when, on which physical CPU. */
function dispatches(run: TestRun): Running[] {
  return run.events.filter((event) => event.type === 'vcpu.running').map((event) => ({ vm: event.src.split('/')[1], t: event.t, pcpu: (event.data as { pcpu: number }).pcpu }));
}

/** CPU time of each VM's vCPUs, in ns. */
function cpuOf(run: TestRun, vm: string): number {
  const found = run.simulation.vms.find((each) => each.name === vm);
  if (found === undefined) throw new Error(`no VM ${vm}`);
  return found.vcpus.reduce((sum, vcpu) => sum + vcpu.counters.cpuNs, 0);
}

describe('cpupools in the scenario', () => {
  it('resolves pools (CPUs sorted, the scheduler of each, the top-level one by default), VMs in the first pool by default, and writes them back', () => {
    const s = load(
      [
        'name: x',
        'host: { pcpus: 4 }',
        'scheduler: { policy: credit }',
        'cpupools:',
        '  - { name: Pool-0, cpus: [1, 0] }',
        '  - { name: rt, cpus: [3, 2], scheduler: { policy: rtds } }',
        'vms:',
        '  - { name: a, guest: cpu-bound }',
        '  - { name: b, guest: cpu-bound, pool: rt }',
      ].join('\n'),
    );
    expect(s.cpupools?.map((pool) => [pool.name, pool.pcpus, pool.scheduler.policy])).toEqual([
      ['Pool-0', [0, 1], 'credit'],
      ['rt', [2, 3], 'rtds'],
    ]);
    expect(s.cpupools?.[0].scheduler).toEqual(s.scheduler);
    expect(s.vms.map((vm) => vm.pool)).toEqual(['Pool-0', 'rt']);
    // The VM in the rtds pool gets rtds's defaults (budget and period), the other not.
    expect(s.vms[1].sched.budgetNs).toBeDefined();
    expect(s.vms[0].sched.budgetNs).toBeUndefined();
    expect(resolveScenarioObject(scenarioToSource(s), { file: 'h', guests: BUNDLED_GUEST_NAMES })).toEqual(s);
    // Without cpupools nothing changes: no key in the scenario, none in its source form.
    const plain = load('name: x\nvms: [{ name: a, guest: cpu-bound }]');
    expect(plain.cpupools).toBeUndefined();
    expect(plain.vms[0].pool).toBeUndefined();
    expect(Object.keys(scenarioToSource(plain))).not.toContain('cpupools');
  });

  it('refuses a pCPU in two pools, a pCPU in no pool, an unknown pool and a pool without cpupools, at file:line:col', () => {
    const head = 'name: x\nhost: { pcpus: 3 }\n';
    expect(scenarioErrors(`${head}cpupools: [{ name: Pool-0, cpus: [0, 1] }, { name: b, cpus: [1] }]\nvms: [{ name: a, guest: cpu-bound }]`)).toEqual([
      's.yaml:3:1: cpupools: physical CPUs in no pool: 2; every physical CPU of the host (host.pcpus: 3) belongs to exactly one pool',
      "s.yaml:3:62: cpupools[1].cpus[0]: physical CPU 1 is already in cpupool 'Pool-0' (cpupools[0]): every physical CPU belongs to exactly one pool",
    ]);
    expect(scenarioErrors(`${head}cpupools: [{ name: Pool-0, cpus: [0, 1, 2] }]\nvms: [{ name: a, guest: cpu-bound, pool: Pool-1 }]`)).toEqual([
      "s.yaml:4:42: vms[0].pool: unknown cpupool 'Pool-1' (expected one of: Pool-0); did you mean 'Pool-0'?",
    ]);
    expect(scenarioErrors(`${head}vms: [{ name: a, guest: cpu-bound, pool: rt }]`)).toEqual([
      "s.yaml:3:42: vms[0].pool: the scenario declares no cpupools: add a cpupools: section naming 'rt', or leave pool out",
    ]);
    expect(scenarioErrors(`${head}cpupools: [{ name: Pool-0, cpus: [0, 1, 2] }]\nvms: [{ name: a, guest: cpu-bound }]\ninputs: [{ at: 1ms, vm: a, pool: rt }]`)).toEqual([
      "s.yaml:5:34: inputs[0].pool: unknown cpupool 'rt' (expected one of: Pool-0)",
    ]);
    expect(scenarioErrors(`${head}cpupools: [{ name: Pool-0, cpus: [0, 1, 3] }, { name: Pool-0, cpus: [2] }]\nvms: [{ name: a, guest: cpu-bound }]`)).toEqual([
      's.yaml:3:41: cpupools[0].cpus[2]: the host has no physical CPU 3: expected an index from 0 to 2 (host.pcpus - 1)',
      "s.yaml:3:55: cpupools[1].name: duplicate cpupool name 'Pool-0' (already used by cpupools[0])",
    ]);
    expect(scenarioErrors(`${head}cpupools: [{ name: Pool-0, cpus: [0, 1, 2] }, { name: b, cpus: [] }]\nvms: [{ name: a, guest: cpu-bound }]`)).toEqual([
      's.yaml:3:64: cpupools[1].cpus: an empty cpupool has no CPU to run its VMs: name at least one physical CPU',
    ]);
  });
});

/** A scenario of two pools on `pcpus` CPUs (the first `split` in pool a), VMs spread over them. */
function twoPools(c: { pcpus: number; split: number; policyA: string; policyB: string; vms: readonly { vcpus: number; guest: string; pool: 'a' | 'b'; hard?: number[] }[]; moveAt?: number }): string {
  const cpus = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i).join(', ');
  const vms = c.vms.map((vm, i) => {
    const affinity = vm.hard === undefined ? '' : `, sched: { weight: ${256 * (i + 1)}, affinity: { hard: [${vm.hard.join(', ')}] } }`;
    return `  - { name: v${i}, vcpus: ${vm.vcpus}, guest: ${vm.guest}, pool: ${vm.pool}${affinity} }`;
  });
  const inputs = c.moveAt === undefined ? '' : `\ninputs: [{ at: ${c.moveAt}, vm: v0, pool: ${c.vms[0].pool === 'a' ? 'b' : 'a'} }]`;
  return [
    'name: pools',
    `host: { pcpus: ${c.pcpus} }`,
    'cpupools:',
    `  - { name: a, cpus: [${cpus(0, c.split)}], scheduler: { policy: '${c.policyA}' } }`,
    `  - { name: b, cpus: [${cpus(c.split, c.pcpus)}], scheduler: { policy: '${c.policyB}' } }`,
    'run: { time: 100ms }',
    'vms:',
    ...vms,
  ].join('\n') + inputs;
}

const LEAVING = new Set(['vcpu.runnable', 'vcpu.blocked', 'vcpu.paused', 'vcpu.halted', 'vcpu.crashed']);
/**
 * How long after its move a vCPU may still hold a CPU of its old pool: the rest of the exit the
 * monitor was handling for it (Xen's sched_move_domain waits for the vCPU to be descheduled too).
 * Exit handling in the default cost model takes a few microseconds; a slice is 1 ms or more.
 */
const MOVE_GRACE_NS = 50_000;

/**
 * The checker, from the log alone: every stretch a vCPU holds a physical CPU (from its
 * `vcpu.running` to the event that takes it off) that is outside its VM's pool at any instant of
 * the stretch, as `src@t on pCPUn`. A VM's pool is its first, then the `to` of each
 * `vm.pool-moved`. A vCPU on a CPU of its old pool at its move may finish the exit being handled
 * (MOVE_GRACE_NS) but must not run guest code there again (no exit but its preemption).
 */
function outsidePool(run: TestRun, cpusOf: ReadonlyMap<string, readonly number[]>, firstPool: ReadonlyMap<string, string>): string[] {
  const pool = new Map(firstPool);
  const holding = new Map<string, { pcpu: number; t: number }>();
  const out: string[] = [];
  const owns = (vm: string, pcpu: number) => (cpusOf.get(pool.get(vm) ?? '') ?? []).includes(pcpu);
  for (const event of run.events) {
    const vm = event.src.split('/')[1];
    if (event.type === 'vm.pool-moved') {
      pool.set(vm, (event.data as { to: string }).to);
      // Its vCPUs on the old pool's CPUs must leave at this instant.
      for (const [src, hold] of holding) if (src.startsWith(`vm/${vm}/`) && !owns(vm, hold.pcpu)) holding.set(src, { ...hold, t: -event.t - 1 });
    } else if (event.type === 'vcpu.running') {
      const pcpu = (event.data as { pcpu: number }).pcpu;
      if (!owns(vm, pcpu)) out.push(`${event.src}@${event.t} dispatched on pCPU${pcpu}`);
      holding.set(event.src, { pcpu, t: event.t });
    } else if (LEAVING.has(event.type)) {
      const hold = holding.get(event.src);
      // A hold marked at a move (t < 0) ends within the grace.
      if (hold !== undefined && hold.t < 0 && event.t > -hold.t - 1 + MOVE_GRACE_NS) out.push(`${event.src} kept pCPU${hold.pcpu} from its move at ${-hold.t - 1} to ${event.t}`);
      holding.delete(event.src);
    } else if (event.type.startsWith('exit.') && event.type !== 'exit.preempt') {
      const hold = holding.get(event.src);
      if (hold !== undefined && hold.t < 0) out.push(`${event.src} ran guest code on pCPU${hold.pcpu} after its move at ${-hold.t - 1} (${event.type} at ${event.t})`);
    }
  }
  for (const [src, hold] of holding) if (hold.t < 0) out.push(`${src} kept pCPU${hold.pcpu} from its move at ${-hold.t - 1} to the end`);
  return out;
}

describe('cpupools under another policy (withPolicy: --policy NAME, compare --policies, sweeps, forks)', () => {
  it('puts every pool under the policy, each pool sized on its own pCPUs, and the VMs get its defaults', () => {
    const s = load('name: x\nhost: { pcpus: 3 }\ncpupools: [{ name: Pool-0, cpus: [0] }, { name: rt, cpus: [1, 2], scheduler: { policy: credit } }]\nvms: [{ name: a, guest: cpu-bound }, { name: b, guest: cpu-bound, pool: rt }]');
    const rtds = withPolicy(s, 'rtds');
    expect([rtds.scheduler.policy, ...(rtds.cpupools ?? []).map((pool) => pool.scheduler.policy)]).toEqual(['rtds', 'rtds', 'rtds']);
    expect(rtds.vms.map((vm) => vm.sched.budgetNs !== undefined)).toEqual([true, true]);
    // Pool-0 back under round-robin, the policy the file gave it: the same section as loaded.
    expect(withPolicy(withPolicy(s, 'credit2'), 'round-robin').cpupools?.[0].scheduler).toEqual(s.cpupools?.[0].scheduler);
  });

  it('examples/cpupools.yaml: two pools, isolation from the log, and the move at 300 ms', () => {
    const text = readFileSync(resolve(import.meta.dirname, '..', '..', 'examples', 'cpupools.yaml'), 'utf8');
    const s = loadScenario(text, { file: 'cpupools.yaml', guests: BUNDLED_GUEST_NAMES });
    const run = runScenario(s);
    const cpusOf = new Map((s.cpupools ?? []).map((pool) => [pool.name, pool.pcpus] as const));
    expect(outsidePool(run, cpusOf, new Map(s.vms.map((vm) => [vm.name, vm.pool ?? ''] as const)))).toEqual([]);
    expect(run.events.filter((event) => event.type === 'vm.pool-moved').map((event) => [event.t, event.src, event.data])).toEqual([[300_000_000, 'vm/batch', { from: 'Pool-0', to: 'rt' }]]);
    // vmmsim run shows the move among the console lines.
    let stdout = '';
    const code = main(['run', resolve(import.meta.dirname, '..', '..', 'examples', 'cpupools.yaml')], { stdout: { write: (chunk) => (stdout += chunk) }, stderr: { write: () => {} }, color: false });
    expect(code).toBe(0);
    expect(stdout).toContain('*** batch moved from cpupool Pool-0 to rt at 300.00 ms');
  });
});

describe('affinity inside a pool', () => {
  it('a hard mask is read within the pool, and one with no pCPU of the pool counts as the whole pool', () => {
    const run = runScenario(
      load(
        [
          'name: pinned',
          'host: { pcpus: 4 }',
          'cpupools: [{ name: Pool-0, cpus: [0, 1] }, { name: b, cpus: [2, 3] }]',
          'run: { time: 20ms }',
          'vms:',
          '  - { name: inside, guest: cpu-bound, sched: { affinity: { hard: [1, 2] } } }',
          '  - { name: outside, guest: cpu-bound, sched: { affinity: { hard: [3] } } }',
          '  - { name: other, guest: cpu-bound, pool: b, sched: { affinity: { hard: [0, 3] } } }',
        ].join('\n'),
      ),
      1,
    );
    const pcpusOf = (vm: string) => [...new Set(dispatches(run).filter((d) => d.vm === vm).map((d) => d.pcpu))];
    expect(pcpusOf('inside')).toEqual([1]);
    expect(pcpusOf('other')).toEqual([3]);
    expect(cpuOf(run, 'outside')).toBeGreaterThan(15_000_000);
    expect(pcpusOf('outside').every((pcpu) => pcpu === 0 || pcpu === 1)).toBe(true);
  });
});

describe('isolation between pools (checked from the event log)', () => {
  const seed = Number(process.env.CPUPOOL_SEED ?? 20261204);
  const policy = fc.constantFrom(...POLICY_NAMES.filter((name) => name !== 'arinc653'));
  const caseArb = fc
    .integer({ min: 2, max: 4 })
    .chain((pcpus) =>
      fc.record({
        pcpus: fc.constant(pcpus),
        split: fc.integer({ min: 1, max: pcpus - 1 }),
        policyA: policy,
        policyB: policy,
        vms: fc.array(fc.record({ vcpus: fc.integer({ min: 1, max: 2 }), guest: fc.constantFrom('cpu-bound', 'io-bound'), pool: fc.constantFrom('a' as const, 'b' as const) }), { minLength: 2, maxLength: 4 }),
        moveAt: fc.option(fc.integer({ min: 1_000_000, max: 90_000_000 }), { nil: undefined }),
      }),
    )
    .map((c) => ({ ...c, vms: c.vms.map((vm, i) => (i === 1 ? { ...vm, hard: [0, c.pcpus - 1] } : vm)) }));

  it(`no vCPU of a pool's VM ever runs on another pool's CPU, under any pair of policies, moves included (fast-check seed ${seed})`, () => {
    console.log(`cpupool isolation property: fast-check seed ${seed} (CPUPOOL_SEED to repeat)`);
    fc.assert(
      fc.property(caseArb, (c) => {
        const s = load(twoPools(c));
        const run = runScenario(s, 1);
        const cpusOf = new Map((s.cpupools ?? []).map((pool) => [pool.name, pool.pcpus] as const));
        expect(outsidePool(run, cpusOf, new Map(s.vms.map((vm) => [vm.name, vm.pool ?? ''] as const)))).toEqual([]);
        // Every VM ran (a pool's CPUs pick its work: nothing waits for a CPU of another pool).
        if (c.policyA !== 'null' && c.policyB !== 'null' && c.policyA !== 'gang' && c.policyB !== 'gang') {
          for (const vm of s.vms) expect(cpuOf(run, vm.name), vm.name).toBeGreaterThan(0);
        }
      }),
      { seed, numRuns: 40 },
    );
  });
});

describe("each pool's own policy is in force", () => {
  const vmsText = (names: readonly [string, string], pool?: string) =>
    names.map((name, i) => `  - { name: ${name}, vcpus: 2, guest: cpu-bound, sched: { weight: ${i === 0 ? 768 : 256} }${pool === undefined ? '' : `, pool: ${pool}`} }`);

  it('a credit pool and a round-robin pool give their VMs the shares each policy gives alone on that many pCPUs', () => {
    const pooled = runScenario(
      load(
        [
          'name: pools',
          'host: { pcpus: 4 }',
          'cpupools:',
          '  - { name: Pool-0, cpus: [0, 1], scheduler: { policy: credit } }',
          '  - { name: rr, cpus: [2, 3], scheduler: { policy: round-robin } }',
          'run: { time: 1s }',
          'vms:',
          ...vmsText(['heavy', 'light'], 'Pool-0'),
          ...vmsText(['fat', 'thin'], 'rr'),
        ].join('\n'),
      ),
      1,
    );
    const alone = (policy: string, names: readonly [string, string]) =>
      runScenario(load(['name: alone', 'host: { pcpus: 2 }', `scheduler: { policy: ${policy} }`, 'run: { time: 1s }', 'vms:', ...vmsText(names)].join('\n')), 1);
    const credit = alone('credit', ['heavy', 'light']);
    const roundRobin = alone('round-robin', ['fat', 'thin']);
    const share = (run: TestRun, vm: string) => cpuOf(run, vm) / 2e9;
    const figures = {
      pooled: ['heavy', 'light', 'fat', 'thin'].map((vm) => share(pooled, vm).toFixed(4)),
      alone: [share(credit, 'heavy'), share(credit, 'light'), share(roundRobin, 'fat'), share(roundRobin, 'thin')].map((x) => x.toFixed(4)),
    };
    console.log(`cpupool shares (of the pool's 2 pCPUs): ${JSON.stringify(figures)}`);
    for (const [vm, reference] of [
      ['heavy', credit],
      ['light', credit],
      ['fat', roundRobin],
      ['thin', roundRobin],
    ] as const) {
      expect(Math.abs(share(pooled, vm) - share(reference, vm)), vm).toBeLessThan(0.005);
    }
    // And the two policies differ here: credit follows the weights 3:1, round-robin ignores them.
    expect(share(pooled, 'heavy') / share(pooled, 'light')).toBeGreaterThan(2);
    expect(share(pooled, 'fat') / share(pooled, 'thin')).toBeLessThan(1.1);
  });
});

describe('a move between pools (xl cpupool-migrate)', () => {
  const text = [
    'name: move',
    'host: { pcpus: 3 }',
    'cpupools:',
    '  - { name: Pool-0, cpus: [0, 1], scheduler: { policy: credit } }',
    '  - { name: rt, cpus: [2], scheduler: { policy: round-robin, quantum: 1ms } }',
    'run: { time: 80ms, checkpointEvery: 500 }',
    'vms:',
    '  - { name: mover, vcpus: 2, guest: cpu-bound }',
    '  - { name: stay, vcpus: 2, guest: cpu-bound }',
    '  - { name: ticker, guest: ticker, pool: rt, params: { PERIOD_NS: 500000, EVERY: 4, TICKS: 100 } }',
    // At 40 ms mover holds both CPUs of Pool-0 (credit gave stay the first 30 ms slice).
    'inputs: [{ at: 40ms, vm: mover, pool: rt }]',
  ].join('\n');
  const AT = 40_000_000;
  const run = runScenario(load(text), 3);

  it('takes effect at the logged time: the command and the fact at 40 ms, the running vCPUs off the old CPUs at that instant, then only on the new pool', () => {
    const moves = run.events.filter((event) => event.type === 'input.cpupool' || event.type === 'vm.pool-moved');
    expect(moves.map((event) => [event.t, event.type, event.data])).toEqual([
      [AT, 'input.cpupool', { pool: 'rt' }],
      [AT, 'vm.pool-moved', { from: 'Pool-0', to: 'rt' }],
    ]);
    const mover = dispatches(run).filter((d) => d.vm === 'mover');
    expect(mover.filter((d) => d.t <= AT).every((d) => d.pcpu === 0 || d.pcpu === 1)).toBe(true);
    expect(mover.filter((d) => d.t > AT).map((d) => d.pcpu)).not.toContain(0);
    expect(mover.filter((d) => d.t > AT).map((d) => d.pcpu)).not.toContain(1);
    expect(mover.filter((d) => d.t > AT).length).toBeGreaterThan(0);
    // Both of its vCPUs were running on Pool-0's CPUs at the move, and leave them at that instant.
    const preempted = run.events.filter((event) => event.type === 'exit.preempt' && event.src.startsWith('vm/mover/') && event.t === AT);
    expect(preempted.map((event) => (event.data as { pcpu: number }).pcpu)).toEqual([0, 1]);
    // From then on the stay VM has Pool-0 to itself: its two vCPUs run all the time (30 ms before, 40 ms after).
    const stay = run.simulation.vms.find((vm) => vm.name === 'stay');
    expect(stay?.vcpus.every((vcpu) => vcpu.counters.cpuNs > 69_000_000)).toBe(true);
  });

  it("the old pool's policy forgets the moved VM's vCPUs (sched_free_udata): credit, and credit2 with its run queue's max weight", () => {
    type Snapshot = { scheduler: { pools: { name: string; scheduler: { vcpus?: { id: string }[]; runQueues?: { maxWeight: number }[] } }[] } };
    const pool0 = (simulation: TestRun['simulation']) => (simulation.monitor.snapshot() as Snapshot).scheduler.pools[0].scheduler;
    expect((pool0(run.simulation).vcpus ?? []).map((vcpu) => vcpu.id)).toEqual(['vm/stay/vcpu/0', 'vm/stay/vcpu/1']);
    // credit2: the moved VM had the largest weight; its run queue's max weight is the other's again.
    const credit2 = runScenario(load(text.replace('policy: credit }', 'policy: credit2 }').replace('{ name: mover, vcpus: 2, guest: cpu-bound }', '{ name: mover, vcpus: 2, guest: cpu-bound, sched: { weight: 1024 } }')), 3);
    expect((pool0(credit2.simulation).vcpus ?? []).map((vcpu) => vcpu.id)).toEqual(['vm/stay/vcpu/0', 'vm/stay/vcpu/1']);
    expect(pool0(credit2.simulation).runQueues?.map((runq) => runq.maxWeight)).toEqual([256]);
  });

  it("null: a vCPU moved out frees its pCPU for the pool's waiting vCPU (null_unit_remove)", () => {
    const nullPool = runScenario(
      load(
        [
          'name: null-pool',
          'host: { pcpus: 2 }',
          "cpupools: [{ name: Pool-0, cpus: [0], scheduler: { policy: 'null' } }, { name: other, cpus: [1] }]",
          'run: { time: 20ms }',
          'vms: [{ name: first, guest: cpu-bound }, { name: waiter, guest: cpu-bound, start: 1ms }]',
          'inputs: [{ at: 5ms, vm: first, pool: other }]',
        ].join('\n'),
      ),
      1,
    );
    expect(dispatches(nullPool).filter((d) => d.vm === 'waiter').map((d) => d.pcpu)).toEqual([0]);
    expect(cpuOf(nullPool, 'waiter')).toBeGreaterThan(14_000_000);
  });

  it('a fork after the move under another policy keeps the VM in its new pool, every pool under that policy', () => {
    const moved = run.events.find((event) => event.type === 'vm.pool-moved');
    const at = (moved?.seq ?? 0) + 200;
    const events: SimEvent[] = [];
    const forked = fork(openLog(run.log, 'move.jsonl').file, { at, set: ['scheduler.policy=cfs'], sink: (event) => events.push(event) });
    expect(forked.scenario.cpupools?.map((pool) => pool.scheduler.policy)).toEqual(['cfs', 'cfs']);
    forked.simulation.run();
    const after = events.filter((event) => event.type === 'vcpu.running' && event.src.startsWith('vm/mover/') && event.seq > at);
    expect(after.length).toBeGreaterThan(0);
    expect(after.map((event) => (event.data as { pcpu: number }).pcpu).every((pcpu) => pcpu === 2)).toBe(true);
  });

  it('replays byte for byte, from the log alone', () => {
    expect(run.log).toBe(runScenario(load(text), 3).log);
    const result = openLog(run.log, 'move.jsonl').replay();
    expect(result.divergence).toBeUndefined();
    expect(result.identical).toBe(true);
  });
});
