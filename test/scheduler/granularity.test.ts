/**
 * Scheduling granularity (scheduler.granularity, Xen's sched-gran): with `core`, the SMT threads
 * of a core run vCPUs of one VM at a time (core scheduling); with `socket`, the threads of a
 * socket. Checked from the event log, under every policy that takes it, against the same scenario
 * at granularity cpu, where VMs do share cores (so the check can fail).
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { scenarioErrors, runScenario, type TestRun } from '../helpers.js';

const scenarioText = (policy: string, granularity: string, sockets = 1) => `name: gran
seed: 9
host: { pcpus: ${sockets * 4}, topology: { sockets: ${sockets}, coresPerSocket: 2, threadsPerCore: 2 } }
scheduler: { policy: ${policy}${granularity === '' ? '' : `, granularity: ${granularity}`} }
run: { time: 150ms }
vms:
  - { name: a, vcpus: 2, memory: 64KiB, guest: cpu-bound }
  - { name: b, vcpus: 2, memory: 64KiB, guest: cpu-bound }
  - { name: c, vcpus: 1, memory: 64KiB, guest: cpu-bound }
  - { name: d, memory: 64KiB, guest: io-bound }
  - { name: e, memory: 64KiB, guest: ticker, params: { PERIOD_NS: 700000, TICKS: 60, EVERY: 20 } }
`;

function run(policy: string, granularity: string, sockets = 1): TestRun {
  return runScenario(loadScenario(scenarioText(policy, granularity, sockets), { file: 'gran.yaml', guests: BUNDLED_GUEST_NAMES }));
}

const LEAVES = new Set(['vcpu.runnable', 'vcpu.blocked', 'vcpu.halted', 'vcpu.paused', 'vcpu.crashed']);

/** The times two VMs ran at once in one group of `size` consecutive pCPUs, from the log's vcpu.running and the events that end a run. */
function sharedGroups(events: TestRun['events'], size: number): number {
  const onCpu = new Map<number, string>();
  const cpuOf = new Map<string, number>();
  let shared = 0;
  for (const event of events) {
    if (event.type === 'vcpu.running') {
      const pcpu = (event.data as { pcpu: number }).pcpu;
      const vm = event.src.split('/')[1];
      onCpu.set(pcpu, vm);
      cpuOf.set(event.src, pcpu);
      const first = pcpu - (pcpu % size);
      for (let cpu = first; cpu < first + size; cpu++) if (cpu !== pcpu && onCpu.has(cpu) && onCpu.get(cpu) !== vm) shared++;
    } else if (LEAVES.has(event.type) && cpuOf.has(event.src)) {
      onCpu.delete(cpuOf.get(event.src) as number);
      cpuOf.delete(event.src);
    }
  }
  return shared;
}

const share = (result: TestRun, vm: string) => (result.summary.vms.find((v) => v.name === vm) as unknown as { vcpus: { cpuNs: number }[] }).vcpus.reduce((sum, vcpu) => sum + vcpu.cpuNs, 0);

describe('sched-gran: core scheduling', () => {
  for (const policy of ['round-robin', 'credit', 'credit2', 'cfs']) {
    it(`${policy}: no two VMs ever run on the threads of one core with granularity core (they do with cpu), and every VM runs`, () => {
      const plain = run(policy, '');
      expect(sharedGroups(plain.events, 2), 'granularity cpu shares cores').toBeGreaterThan(10);
      const core = run(policy, 'core');
      expect(sharedGroups(core.events, 2)).toBe(0);
      for (const vm of ['a', 'b', 'c', 'd', 'e']) expect(share(core, vm), vm).toBeGreaterThan(0);
      // The three CPU-bound VMs each get a real share of the 4 threads over 150 ms.
      for (const vm of ['a', 'b', 'c']) expect(share(core, vm), vm).toBeGreaterThan(15_000_000);
    });
  }

  it('socket: no two VMs on one socket at once (2 sockets), and the run replays byte for byte', () => {
    const socket = run('credit', 'socket', 2);
    expect(sharedGroups(socket.events, 4)).toBe(0);
    expect(sharedGroups(run('credit', '', 2).events, 4)).toBeGreaterThan(10);
    expect(run('credit', 'socket', 2).log).toBe(socket.log);
  });

  it('costs throughput: idle threads that cannot run their core\'s VM', () => {
    const busy = (result: TestRun) => result.summary.pcpus.reduce((sum, pcpu) => sum + pcpu.busyNs, 0);
    expect(busy(run('credit', 'core'))).toBeLessThan(busy(run('credit', '')));
  });

  it('needs host.topology, and names the choices', () => {
    expect(scenarioErrors('name: x\nhost: { pcpus: 4 }\nscheduler: { policy: credit, granularity: core }\nvms: [{ name: a, guest: cpu-bound }]')).toEqual([
      's.yaml:3:43: scheduler.granularity: granularity core needs host.topology (which threads share a core, which cores a socket)',
    ]);
    expect(
      scenarioErrors('name: x\nhost: { pcpus: 4, topology: { sockets: 1, coresPerSocket: 2, threadsPerCore: 2 } }\nscheduler: { policy: credit, granularity: core }\ncpupools: [{ name: Pool-0, cpus: [0, 1, 2, 3] }]\nvms: [{ name: a, guest: cpu-bound }]')[0],
    ).toMatch(/scheduler\.granularity: granularity core is not available with cpupools yet/);
    expect(scenarioErrors('name: x\nhost: { pcpus: 4 }\nscheduler: { policy: credit, granularity: thread }\nvms: [{ name: a, guest: cpu-bound }]')[0]).toMatch(/scheduler\.granularity: expected a scheduling granularity, one of: cpu, core, socket/);
  });
});
