/**
 * NUMA nodes (host.topology.nodes, src/core/scenario/numa.ts, docs/scheduling.md#numa-nodes):
 * libxl's automatic placement of each VM's memory and the soft affinity it gives the vCPUs, the
 * remote-memory slowdown of guest code on another node's pCPU, credit2's run queue per node, and
 * credit's and credit2's use of the node through the soft-affinity balancing step, each read
 * from the event log from outside. Each test is named after the Xen (or libxl) function it follows.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario, resolveScenarioObject, scenarioToSource } from '../../src/core/scenario/load.js';
import { runqueueSizeOf } from '../../src/core/scenario/schema.js';
import { cpusPerNode, nodeOfPcpu, placeVms } from '../../src/core/scenario/numa.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { openLog } from '../../src/index.js';
import { CreditPolicy } from '../../src/actors/scheduler/credit.js';
import type { SchedEntity } from '../../src/actors/scheduler/policy.js';
import { runScenario, scenarioErrors, type TestRun } from '../helpers.js';

const load = (text: string) => loadScenario(text, { file: 's.yaml', guests: BUNDLED_GUEST_NAMES });

/** 2 nodes of one socket x 2 cores: pCPUs 0-1 node 0, 2-3 node 1. */
const HOST = 'host: { pcpus: 4, topology: { sockets: 2, coresPerSocket: 2, threadsPerCore: 1, nodes: 2 } }';

function vcpu(run: TestRun, vm: string) {
  const found = run.simulation.vms.find((each) => each.name === vm);
  if (found === undefined) throw new Error(`no VM ${vm}`);
  return found.vcpus[0];
}

/** The share of a VM's CPU time spent on pCPUs of its memory node, read from vcpu.running and its leaving. */
function localShare(run: TestRun, vm: string, node: number): number {
  let local = 0;
  let total = 0;
  let since = -1;
  let pcpu = -1;
  for (const event of run.events) {
    if (!event.src.startsWith(`vm/${vm}/vcpu/`)) continue;
    if (event.type === 'vcpu.running') {
      since = event.t;
      pcpu = (event.data as { pcpu: number }).pcpu;
    } else if (since >= 0 && (event.type === 'vcpu.runnable' || event.type === 'vcpu.blocked' || event.type === 'vcpu.halted')) {
      const held = event.t - since;
      total += held;
      if (pcpu >= 0 && Math.floor(pcpu / 2) === node) local += held;
      since = -1;
    }
  }
  if (since >= 0) {
    const held = run.simulation.kernel.now - since;
    total += held;
    if (Math.floor(pcpu / 2) === node) local += held;
  }
  return total === 0 ? 0 : local / total;
}

describe('NUMA nodes in the scenario', () => {
  it('numa_place_domain / numa_cmpf: the node with the fewest vCPUs, then the most free memory; soft affinity to its pCPUs', () => {
    const s = load(
      [
        'name: place',
        HOST,
        'vms:',
        '  - { name: a, vcpus: 2, guest: cpu-bound }',
        '  - { name: b, guest: cpu-bound }',
        '  - { name: c, guest: cpu-bound }',
        '  - { name: d, guest: cpu-bound, numa: { node: 1 } }',
        '  - { name: e, guest: cpu-bound, sched: { affinity: { soft: [0] } } }',
      ].join('\n'),
    );
    // a: both empty, node 0 (lowest); b: node 1 (0 vCPUs); c: node 1 (1 vCPU < 2); d named; e: its soft mask reaches node 0 only.
    expect(s.vms.map((vm) => vm.numa?.node)).toEqual([0, 1, 1, 1, 0]);
    expect(s.vms.map((vm) => vm.sched.affinity?.soft)).toEqual([[0, 1], [2, 3], [2, 3], [2, 3], [0]]);
    expect(s.host.topology?.remoteSlowdown).toBe(1.5);
    // Fewest vCPUs equal: the node with the most free memory.
    expect(placeVms({ sockets: 2, coresPerSocket: 1, threadsPerCore: 1, nodes: 2 }, 1000, [{ vcpus: 1, memoryBytes: 100, node: 0 }, { vcpus: 1, memoryBytes: 10, node: 1 }, { vcpus: 1, memoryBytes: 10 }])).toEqual([0, 1, 1]);
    // No room on the emptier node: the other one.
    expect(placeVms({ sockets: 2, coresPerSocket: 1, threadsPerCore: 1, nodes: 2 }, 1000, [{ vcpus: 4, memoryBytes: 100, node: 0 }, { vcpus: 1, memoryBytes: 450, node: 1 }, { vcpus: 1, memoryBytes: 300 }])).toEqual([0, 1, 0]);
    // The resolved scenario is its own source: placing again changes nothing.
    expect(resolveScenarioObject(scenarioToSource(s), { file: 'again', guests: BUNDLED_GUEST_NAMES })).toEqual(s);
  });

  it('nodes split the sockets evenly; refusals at their file:line:col', () => {
    expect(nodeOfPcpu({ sockets: 4, coresPerSocket: 2, threadsPerCore: 2, nodes: 2 }, 7)).toBe(0);
    expect(nodeOfPcpu({ sockets: 4, coresPerSocket: 2, threadsPerCore: 2, nodes: 2 }, 8)).toBe(1);
    expect(cpusPerNode({ sockets: 4, coresPerSocket: 2, threadsPerCore: 2, nodes: 2 })).toBe(8);
    expect(scenarioErrors(['name: n', 'host: { pcpus: 6, topology: { sockets: 3, coresPerSocket: 2, threadsPerCore: 1, nodes: 2 } }', 'vms: [{ name: a, guest: cpu-bound }]'].join('\n'))).toEqual([
      's.yaml:2:88: host.topology.nodes: 2 nodes cannot split 3 socket(s) evenly: nodes must divide sockets',
    ]);
    expect(scenarioErrors(['name: n', 'host: { pcpus: 2 }', 'vms: [{ name: a, guest: cpu-bound, numa: { node: 0 } }]'].join('\n'))[0]).toContain('numa needs NUMA nodes: set host.topology.nodes to 2 or more');
    expect(scenarioErrors(['name: n', HOST, 'vms: [{ name: a, guest: cpu-bound, numa: { node: 2 } }]'].join('\n'))[0]).toContain('the host has 2 NUMA nodes: expected a node from 0 to 1');
  });

  it('credit2_runqueue=node: one run queue per node, of all its sockets', () => {
    const host = { pcpus: 16, topology: { sockets: 4, coresPerSocket: 2, threadsPerCore: 2, nodes: 2 } };
    expect(runqueueSizeOf('node', host)).toBe(8);
    expect(runqueueSizeOf('socket', host)).toBe(4);
    expect(runqueueSizeOf('node', { pcpus: 16, topology: { sockets: 4, coresPerSocket: 2, threadsPerCore: 2 } })).toBe(4);
    const s = load(['name: rq', 'host: { pcpus: 16, topology: { sockets: 4, coresPerSocket: 2, threadsPerCore: 2, nodes: 2 } }', 'scheduler: { policy: credit2, runqueue: node }', 'vms: [{ name: a, guest: cpu-bound }]'].join('\n'));
    expect(s.scheduler.runqueueSize).toBe(8);
  });
});

describe('the remote-memory cost', () => {
  const text = (hard: number, slowdown = '') =>
    [
      'name: remote',
      `host: { pcpus: 4, topology: { sockets: 2, coresPerSocket: 2, threadsPerCore: 1, nodes: 2${slowdown} } }`,
      'run: { time: 100ms }',
      `vms: [{ name: v, guest: cpu-bound, numa: { node: 0 }, sched: { affinity: { hard: [${hard}] } } }]`,
    ].join('\n');

  it('guest code on another node runs remoteSlowdown times slower (SLIT distance; the CPU time held is the same)', () => {
    const local = runScenario(load(text(1)));
    const remote = runScenario(load(text(3)));
    const slower = runScenario(load(text(3, ', remoteSlowdown: 2')));
    const work = (run: TestRun) => vcpu(run, 'v').cpu.retired;
    expect(vcpu(local, 'v').counters.cpuNs).toBeGreaterThan(99_000_000);
    expect(vcpu(remote, 'v').counters.cpuNs).toBeGreaterThan(99_000_000);
    expect(Math.abs(work(remote) / work(local) - 1 / 1.5)).toBeLessThan(0.01);
    expect(Math.abs(work(slower) / work(local) - 1 / 2)).toBeLessThan(0.01);
    const replay = openLog(remote.log, 'remote.jsonl').replay();
    expect(replay.identical).toBe(true);
  });
});

describe('schedulers keep vCPUs on their memory node (the soft-affinity balancing step libxl placement sets)', () => {
  // Two I/O-bound VMs and one CPU-bound VM per node: blocking and waking moves them about.
  const text = (policy: string) =>
    [
      'name: keep-local',
      HOST,
      `scheduler: { policy: ${policy} }`,
      'run: { time: 200ms }',
      'vms:',
      '  - { name: io0, guest: io-bound }',
      '  - { name: io1, guest: io-bound }',
      '  - { name: io2, guest: io-bound }',
      '  - { name: io3, guest: io-bound }',
      '  - { name: h0, guest: cpu-bound, start: 1ms }',
      '  - { name: h1, guest: cpu-bound, start: 1ms }',
    ].join('\n');

  for (const [policy, name] of [
    ['credit', 'csched_runq_steal / _csched_cpu_pick (credit): the soft step keeps each VM on its node'],
    ['credit2', 'csched2_res_pick / runq_tickle (credit2): the soft step keeps each VM on its node'],
  ] as const) {
    it(name, () => {
      const s = load(text(policy));
      const run = runScenario(s);
      for (const vm of s.vms) {
        const node = vm.numa?.node ?? -1;
        const share = localShare(run, vm.name, node);
        expect(share, `${policy}: ${vm.name} on node ${node}`).toBeGreaterThan(0.9);
      }
    });
  }
});

describe('credit steals node by node', () => {
  it('csched_load_balance: an idle CPU looks at its own node\'s queues before the next node\'s', () => {
    // Given 2 nodes of 2 pCPUs, vCPUs queued behind the runners of pCPU 0 (node 0) and pCPU 2 (node 1)...
    const policy = new CreditPolicy({ pcpus: 4, quantumNs: 1_000_000, topology: { sockets: 2, coresPerSocket: 2, threadsPerCore: 1, nodes: 2 } });
    policy.attach({ now: 0, preempt: () => undefined, wakeIdle: () => undefined, requestTick: () => undefined });
    const entity = (key: number): SchedEntity => ({ key, id: `vm/v${key}/vcpu/0`, vm: `v${key}`, params: { weight: 256, cap: 0 } });
    for (const key of [0, 2, 4, 6]) policy.enqueue(entity(key), 0, 'wake');
    expect(policy.pick(0, 0)?.entity.key).toBe(0);
    expect(policy.pick(2, 0)?.entity.key).toBe(2);
    // ...when pCPU 1 (node 0) is free, it steals from pCPU 0, its node, not from pCPU 2, the nearer index after it.
    expect(policy.pick(1, 0)?.entity.key).toBe(4);
  });
});
