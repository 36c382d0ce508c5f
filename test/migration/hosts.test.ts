/**
 * Several hosts in one scenario (src/core/scenario/hosts.ts, src/actors/migration/hostSet.ts):
 * the keys and their refusals at file:line:col, the source form written back, each host's own
 * CPUs (no vCPU of a VM ever runs on another host's CPUs, read from the log from outside) and its
 * own memory (a VM's frames inside its host's range).
 */
import { describe, expect, it } from 'vitest';
import { loadScenario, resolveScenarioObject } from '../../src/core/scenario/load.js';
import { scenarioToSource } from '../../src/core/scenario/schema.js';
import { parseBandwidth } from '../../src/core/scenario/hosts.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { PAGE_WORDS } from '../../src/core/platform.js';
import { runScenario, scenarioErrors } from '../helpers.js';

const load = (text: string) => loadScenario(text, { file: 's.yaml', guests: BUNDLED_GUEST_NAMES });

const TWO_HOSTS = [
  'name: x',
  'scheduler: { policy: credit }',
  'hosts:',
  '  - { name: src, pcpus: 2, memory: 1MiB }',
  '  - { name: dst, pcpus: 1, memory: 2MiB, scheduler: { policy: round-robin } }',
  'links: [{ between: [src, dst], bandwidth: 100Mbit/s, latency: 50us }]',
  'run: { time: 20ms }',
  'vms:',
  '  - { name: a, guest: cpu-bound, vcpus: 2 }',
  '  - { name: b, guest: cpu-bound, host: dst, memory: 16KiB }',
  '  - { name: c, guest: kernel, host: src }',
].join('\n');

describe('several hosts in the scenario', () => {
  it('resolves hosts (consecutive CPUs, each its scheduler, a VM on the first by default), links, and writes them back', () => {
    const s = load(TWO_HOSTS);
    expect(s.hosts).toEqual([
      { name: 'src', pcpus: [0, 1], memoryBytes: 1 << 20 },
      { name: 'dst', pcpus: [2], memoryBytes: 2 << 20 },
    ]);
    expect(s.links).toEqual([{ between: ['src', 'dst'], bandwidthBytesPerSecond: 12_500_000, latencyNs: 50_000 }]);
    expect(s.host.pcpus).toBe(3);
    expect(s.cpupools?.map((pool) => [pool.name, pool.pcpus, pool.scheduler.policy])).toEqual([
      ['src', [0, 1], 'credit'],
      ['dst', [2], 'round-robin'],
    ]);
    expect(s.vms.map((vm) => [vm.host, vm.pool])).toEqual([
      ['src', 'src'],
      ['dst', 'dst'],
      ['src', 'src'],
    ]);
    const source = scenarioToSource(s);
    expect(Object.keys(source)).not.toContain('cpupools');
    expect(resolveScenarioObject(source, { file: 'h', guests: BUNDLED_GUEST_NAMES })).toEqual(s);
    const plain = load('name: x\nvms: [{ name: a, guest: cpu-bound }]');
    expect(plain.hosts).toBeUndefined();
    expect(Object.keys(scenarioToSource(plain))).not.toContain('hosts');
  });

  it("resolves each host's type and load where they differ from host.type and host.load, and writes them back", () => {
    const s = load(
      'name: x\nhost: { type: type1, load: 0.1 }\nhosts: [{ name: a, pcpus: 1, memory: 1MiB, type: type1, load: 0.1 }, { name: b, pcpus: 1, memory: 1MiB, type: type2 }, { name: c, pcpus: 1, memory: 1MiB, type: type2, load: 0.3 }]\nvms: [{ name: v, guest: cpu-bound }]',
    );
    expect(s.hosts).toEqual([
      { name: 'a', pcpus: [0], memoryBytes: 1 << 20 },
      { name: 'b', pcpus: [1], memoryBytes: 1 << 20, type: 'type2' },
      { name: 'c', pcpus: [2], memoryBytes: 1 << 20, type: 'type2', load: 0.3 },
    ]);
    expect(resolveScenarioObject(scenarioToSource(s), { file: 'h', guests: BUNDLED_GUEST_NAMES })).toEqual(s);
    // Hosts all of the scenario's type resolve as they did before hosts had types (their logs are unchanged).
    const alike = load('name: x\nhost: { type: type2 }\nhosts: [{ name: a, pcpus: 1, memory: 1MiB, type: type2 }, { name: b, pcpus: 1, memory: 1MiB }]\nvms: [{ name: v, guest: cpu-bound }]');
    expect(alike.hosts?.every((host) => !('type' in host) && !('load' in host))).toBe(true);
  });

  it('reads bandwidths with units', () => {
    expect(parseBandwidth('1Gbit/s')).toBe(125_000_000);
    expect(parseBandwidth('125MB/s')).toBe(125_000_000);
    expect(parseBandwidth('64MiB/s')).toBe(64 * 1_048_576);
    expect(parseBandwidth(1000)).toBe(1000);
    expect(parseBandwidth('fast')).toBeUndefined();
    expect(parseBandwidth('10 parsecs/s')).toBeUndefined();
  });

  it('refuses what several hosts do not support yet, unknown hosts and bad links, at file:line:col', () => {
    const head = 'name: x\nhosts: [{ name: h1, pcpus: 1, memory: 1MiB }, { name: h2, pcpus: 1, memory: 1MiB, type: type2 }]\n';
    expect(scenarioErrors(`${head}vms: [{ name: a, guest: cpu-bound, host: h3 }]`)).toEqual(["s.yaml:3:42: vms[0].host: unknown host 'h3' (expected one of: h1, h2)"]);
    expect(scenarioErrors(`${head.replace('type: type2', 'type: type3, load: 1.5')}vms: [{ name: a, guest: cpu-bound }]`)).toEqual([
      "s.yaml:2:89: hosts[1].type: expected a hypervisor type, one of: type1, type2, got 'type3'; did you mean 'type1'?",
      's.yaml:2:102: hosts[1].load: expected a number from 0 to 0.9, got 1.5',
    ]);
    expect(scenarioErrors(`name: x\nhost: { type: bare }\n${head.slice('name: x\n'.length).replace('type: type2', 'type: type2, load: 0.1')}vms: [{ name: a, guest: cpu-bound }]`)).toEqual([
      's.yaml:3:83: hosts[1].type: host.type is bare (no hypervisor on any host): leave type out, or set host.type to type1 or type2',
      's.yaml:3:96: hosts[1].load: host.type is bare (no hypervisor on any host): leave load out, or set host.type to type1 or type2',
    ]);
    expect(scenarioErrors(`name: x\nhost: { pcpus: 2 }\nhosts: [{ name: h1, pcpus: 1, memory: 1MiB }]\ncpupools: [{ name: p, cpus: [0] }]\nvms: [{ name: a, guest: cpu-bound }]`)).toEqual([
      's.yaml:2:9: host.pcpus: with hosts:, each host names its own pcpus under hosts:',
      's.yaml:4:1: cpupools: cpupools are not available with several hosts yet: each host is one pool of its own CPUs',
    ]);
    expect(scenarioErrors('name: x\nvms: [{ name: a, guest: cpu-bound, host: h1 }]')).toEqual([
      's.yaml:2:36: vms[0].host: the scenario declares no hosts: add a hosts: section naming this host, or leave host out',
    ]);
    const two = head.replace(', type: type2', '');
    expect(scenarioErrors(`${two}links: [{ between: [h1, h2], bandwidth: 3 }]\nvms: [{ name: a, guest: cpu-bound }]`)).toEqual([
      's.yaml:3:41: links[0].bandwidth: expected a bandwidth from 1000 B/s to 1000000000000 B/s: bytes per second as an integer, or a number with a unit such as 1Gbit/s, 100Mbit/s, 125MB/s, 64MiB/s; got 3',
    ]);
    expect(scenarioErrors(`${two}links: [{ between: [h1, h2] }, { between: [h2, h1] }, { between: [h1, h1] }]\nvms: [{ name: a, guest: cpu-bound }]`)).toEqual([
      "s.yaml:3:43: links[1].between: hosts 'h2' and 'h1' are already linked by links[0]",
      "s.yaml:3:66: links[2].between: a link joins two different hosts, got 'h1' twice",
    ]);
  });

  it("keeps each VM on its host's CPUs and frames", () => {
    const s = load(TWO_HOSTS);
    const run = runScenario(s);
    const hostOf = new Map(s.vms.map((vm) => [vm.name, vm.host]));
    const pcpusOf = new Map(s.hosts?.map((host) => [host.name, host.pcpus]));
    let dispatches = 0;
    for (const event of run.events) {
      if (event.type !== 'vcpu.running') continue;
      const vm = event.src.split('/')[1];
      expect(pcpusOf.get(hostOf.get(vm) as string)).toContain((event.data as { pcpu: number }).pcpu);
      dispatches++;
    }
    expect(dispatches).toBeGreaterThanOrEqual(4);
    // pCPU events name their host; a single-host run's do not (its log is unchanged).
    const tickers = runScenario(load('name: x\nhosts: [{ name: src, pcpus: 2, memory: 1MiB }, { name: dst, pcpus: 1, memory: 1MiB }]\nrun: { time: 5ms }\nvms: [{ name: a, guest: ticker }, { name: b, guest: ticker, host: dst }]'));
    const idle = tickers.events.filter((event) => event.type === 'pcpu.idle').map((event) => event.data as { pcpu: number; host?: string });
    expect(idle.length).toBeGreaterThan(0);
    for (const event of idle) expect(event.host).toBe(event.pcpu < 2 ? 'src' : 'dst');
    const type2 = runScenario(load('name: x\nhost: { type: type2, load: 0.2 }\nhosts: [{ name: src, pcpus: 1, memory: 1MiB }, { name: dst, pcpus: 1, memory: 1MiB }]\nrun: { time: 20ms }\nvms: [{ name: a, guest: ticker }]'));
    const processes = type2.events.filter((event) => event.type === 'host.process').map((event) => event.data as { pcpu: number; host?: string });
    expect(processes.length).toBeGreaterThan(0);
    for (const event of processes) expect(event.host).toBe(event.pcpu === 0 ? 'src' : 'dst');
    const single = runScenario(load('name: x\nhost: { pcpus: 2 }\nrun: { time: 5ms }\nvms: [{ name: a, guest: ticker }]'));
    expect(single.events.filter((event) => event.type === 'pcpu.idle').every((event) => !('host' in (event.data as object)))).toBe(true);
    // The hosts' frame ranges: src the first min(1 MiB, every VM's memory) frames, dst the next.
    const vmPages = s.vms.reduce((sum, vm) => sum + vm.memoryBytes, 0) / 4096;
    for (const vm of run.simulation.vms) {
      const onSrc = hostOf.get(vm.name) === 'src';
      for (const base of vm.memory.pageBase) {
        const frame = base / PAGE_WORDS;
        expect(onSrc ? frame < vmPages : frame >= vmPages && frame < 2 * vmPages).toBe(true);
      }
    }
  });
});
