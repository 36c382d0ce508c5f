/**
 * Each host's own topology (hosts[].topology; src/core/scenario/hosts.ts): a host's scheduler sees
 * its sockets, cores and threads over its own pCPUs as a single host's does (credit's SMT-aware
 * pick, credit2's run queues by socket, core scheduling by hosts[].scheduler.granularity). The
 * reference is independent of the several-host code: the host's VMs run alone on a single host
 * with that topology and scheduler, same seed.
 */
import { describe, expect, it } from 'vitest';
import type { SimEvent } from '../../src/core/events.js';
import { loadScenario, resolveScenarioObject } from '../../src/core/scenario/load.js';
import { scenarioToSource } from '../../src/core/scenario/schema.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { consoleOf, runScenario, scenarioErrors, type TestRun } from '../helpers.js';
import { hostsYaml, runYaml } from './helpers.js';

const load = (text: string) => loadScenario(text, { file: 's.yaml', guests: BUNDLED_GUEST_NAMES });

interface HostCase {
  readonly name: string;
  readonly pcpus: number;
  readonly topology?: string;
  readonly scheduler: string;
  readonly vms: readonly string[];
}

// Host one: 1 socket of 2 cores of 2 threads, credit (its SMT-aware pick); host two: 2 sockets of
// 1 core of 2 threads, credit2 (a run queue per socket by default), each with VMs that compete.
const ONE: HostCase = {
  name: 'one',
  pcpus: 4,
  topology: '{ sockets: 1, coresPerSocket: 2, threadsPerCore: 2 }',
  scheduler: '{ policy: credit }',
  vms: ['{ name: a, guest: cpu-bound, vcpus: 2 }', '{ name: b, guest: kernel }', '{ name: c, guest: io-bound }'],
};
const TWO: HostCase = {
  name: 'two',
  pcpus: 4,
  topology: '{ sockets: 2, coresPerSocket: 1, threadsPerCore: 2 }',
  scheduler: '{ policy: credit2 }',
  vms: ['{ name: d, guest: cpu-bound, vcpus: 3 }', '{ name: e, guest: ticker }', '{ name: f, guest: cpu-bound }'],
};

function hostEntry(host: HostCase): string {
  return `  - { name: ${host.name}, pcpus: ${host.pcpus}, memory: 2MiB, scheduler: ${host.scheduler}${host.topology === undefined ? '' : `, topology: ${host.topology}`} }`;
}

function severalHosts(seed: number, hosts: readonly HostCase[]): string {
  return [
    'name: topo',
    `seed: ${seed}`,
    'hosts:',
    ...hosts.map(hostEntry),
    'run: { time: 30ms }',
    'vms:',
    ...hosts.flatMap((host) => host.vms.map((vm) => `  - ${vm.replace(' }', `, host: ${host.name} }`)}`)),
  ].join('\n');
}

function singleHost(seed: number, host: HostCase): string {
  return [
    'name: topo',
    `seed: ${seed}`,
    `host: { pcpus: ${host.pcpus}${host.topology === undefined ? '' : `, topology: ${host.topology}`} }`,
    `scheduler: ${host.scheduler}`,
    'run: { time: 30ms }',
    'vms:',
    ...host.vms.map((vm) => `  - ${vm}`),
  ].join('\n');
}

/** A VM's measures and its dispatches (time, vCPU, pCPU within its host), read from the run. */
function observed(run: TestRun, vm: string, firstPcpu: number) {
  const summary = run.summary.vms.find((candidate) => candidate.name === vm);
  const dispatches = run.events
    .filter((event): event is SimEvent & { data: { pcpu: number } } => event.type === 'vcpu.running' && event.src.startsWith(`vm/${vm}/`))
    .map((event) => `${event.t} ${event.src} ${event.data.pcpu - firstPcpu}`);
  return { vcpus: summary?.vcpus, console: consoleOf(run, vm), dispatches };
}

const names = (host: HostCase) => host.vms.map((vm) => /name: (\w+)/.exec(vm)?.[1] as string);

describe('hosts with their own topology', () => {
  it("each host's VMs run as on a single host with that topology and scheduler (same seed): placement, measures, console", () => {
    for (const seed of [1, 2, 3]) {
      const several = runScenario(load(severalHosts(seed, [ONE, TWO])));
      for (const [host, first] of [
        [ONE, 0],
        [TWO, ONE.pcpus],
      ] as const) {
        const single = runScenario(load(singleHost(seed, host)));
        for (const vm of names(host)) {
          const got = observed(several, vm, first);
          expect(got.dispatches.length, `seed ${seed}, ${vm}`).toBeGreaterThan(0);
          expect(got, `seed ${seed}, VM ${vm} on host ${host.name}`).toEqual(observed(single, vm, 0));
        }
      }
    }
  });

  it('the topology is what makes the difference: without it the same host places its vCPUs otherwise', () => {
    const plain = { ...ONE, topology: undefined };
    const withTopology = runScenario(load(severalHosts(1, [ONE, TWO])));
    const without = runScenario(load(severalHosts(1, [plain, TWO])));
    expect(names(ONE).map((vm) => observed(without, vm, 0).dispatches)).not.toEqual(names(ONE).map((vm) => observed(withTopology, vm, 0).dispatches));
    // credit2 on host two: a run queue per socket (2 pCPUs each), as on a single host with that topology.
    const scenario = load(severalHosts(1, [ONE, TWO]));
    expect(scenario.cpupools?.map((pool) => [pool.name, pool.scheduler.runqueue, pool.scheduler.runqueueSize])).toEqual([
      ['one', undefined, undefined],
      ['two', 'socket', 2],
    ]);
    expect(load(singleHost(1, TWO)).scheduler.runqueueSize).toBe(2);
  });

  it("core scheduling per host (hosts[].scheduler.granularity: core) runs as a single host's", () => {
    const cored: HostCase = { ...ONE, scheduler: '{ policy: credit, granularity: core }' };
    const several = runScenario(load(severalHosts(5, [cored, TWO])));
    const single = runScenario(load(singleHost(5, cored)));
    for (const vm of names(cored)) expect(observed(several, vm, 0), vm).toEqual(observed(single, vm, 0));
    expect(names(cored).map((vm) => observed(several, vm, 0).dispatches)).not.toEqual(names(ONE).map((vm) => observed(runScenario(load(severalHosts(5, [ONE, TWO]))), vm, 0).dispatches));
  });

  it('a VM migrated to a host with a topology prints what it prints unmigrated', () => {
    for (const mode of ['precopy', 'postcopy']) {
      const base = { guest: 'smp-ipi', vcpus: 2, params: { VCPUS: 2 } };
      const withTopology = (yaml: string) => yaml.replace(/(name: dst, pcpus: 2, memory: 4MiB)/, '$1, topology: { sockets: 1, coresPerSocket: 1, threadsPerCore: 2 }');
      const plain = runYaml(withTopology(hostsYaml(base)));
      const migrated = runYaml(withTopology(hostsYaml({ ...base, migrate: '300us', migrateOptions: `mode: ${mode}` })));
      expect(migrated.simulation.scenario.hosts?.[1].topology).toEqual({ sockets: 1, coresPerSocket: 1, threadsPerCore: 2 });
      expect(migrated.events.filter((event) => event.type === 'migration.completed'), mode).toHaveLength(1);
      expect(migrated.lines.length).toBeGreaterThan(0);
      expect(migrated.lines, mode).toEqual(plain.lines);
      expect(migrated.digest, mode).toBe(plain.digest);
    }
  });

  it('resolves and writes back each host topology; refuses a product other than the pcpus, NUMA nodes, a granularity without a topology, at file:line:col', () => {
    const scenario = load(severalHosts(1, [ONE, TWO]));
    expect(scenario.hosts?.map((host) => host.topology)).toEqual([
      { sockets: 1, coresPerSocket: 2, threadsPerCore: 2 },
      { sockets: 2, coresPerSocket: 1, threadsPerCore: 2 },
    ]);
    expect(resolveScenarioObject(scenarioToSource(scenario), { file: 'h', guests: BUNDLED_GUEST_NAMES })).toEqual(scenario);
    const head = 'name: x\nhosts:\n';
    const vms = '\nvms: [{ name: a, guest: cpu-bound }]';
    expect(scenarioErrors(`${head}  - { name: h, pcpus: 4, memory: 1MiB, topology: { sockets: 1, coresPerSocket: 2, threadsPerCore: 1 } }${vms}`)).toEqual([
      "s.yaml:3:40: hosts[0].topology: sockets x coresPerSocket x threadsPerCore is 1 x 2 x 1 = 2, but the host's pcpus is 4: they must be equal",
    ]);
    expect(scenarioErrors(`${head}  - { name: h, pcpus: 2, memory: 1MiB, topology: { sockets: 2, coresPerSocket: 1, threadsPerCore: 1, nodes: 2 } }${vms}`)).toEqual([
      's.yaml:3:102: hosts[0].topology.nodes: NUMA nodes are not available with several hosts yet: give sockets, coresPerSocket and threadsPerCore alone',
    ]);
    expect(scenarioErrors(`${head}  - { name: h, pcpus: 2, memory: 1MiB, scheduler: { policy: credit, granularity: core } }${vms}`)).toEqual([
      "s.yaml:3:82: hosts[0].scheduler.granularity: granularity core needs the host's topology (hosts[].topology: which threads share a core, which cores a socket)",
    ]);
    expect(scenarioErrors(`name: x\nscheduler: { granularity: core }\nhosts:\n  - { name: h, pcpus: 2, memory: 1MiB }${vms}`)).toEqual([
      "s.yaml:2:27: scheduler.granularity: with hosts:, each host's scheduler gives its granularity with its topology (hosts[].scheduler.granularity, hosts[].topology)",
    ]);
    expect(scenarioErrors(`name: x\nhost: { topology: { sockets: 1, coresPerSocket: 2, threadsPerCore: 1 } }\nhosts:\n  - { name: h, pcpus: 2, memory: 1MiB }${vms}`)).toEqual([
      's.yaml:2:9: host.topology: with hosts:, each host gives its own topology under hosts: (hosts[].topology)',
    ]);
    expect(scenarioErrors(`${head}  - { name: h, pcpus: 2, memory: 1MiB, topology: { sockets: two, coresPerSocket: 1, threadsPerCore: 1 } }${vms}`)).toEqual([
      "s.yaml:3:61: hosts[0].topology.sockets: expected an integer from 1 to 256, got 'two'",
    ]);
  });
});
