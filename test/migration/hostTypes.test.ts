/**
 * Hosts of their own types (hosts[].type, hosts[].load; src/actors/monitor/hostOs.ts): in one
 * scenario a Type 2 host's VMs pay the host OS's costs and a Type 1 host's do not, and a VM that
 * migrates between them pays what its host of the moment makes it pay. The reference is
 * independent of the several-host code: each host's VMs run alone on a single host of that type,
 * same seed, same scheduler.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import type { SimEvent } from '../../src/core/events.js';
import { loadScenario } from '../../src/core/scenario/load.js';
import { openLog } from '../../src/index.js';
import { fork } from '../../src/replay/fork.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { consoleOf, runScenario, type TestRun } from '../helpers.js';
import { hostsYaml, runYaml } from './helpers.js';

const load = (text: string) => loadScenario(text, { file: 's.yaml', guests: BUNDLED_GUEST_NAMES });
const COSTS = { hostWakeNs: 5_000 };

/** What a VM's run comes to, vCPU by vCPU: the measures the summary reports, and its console. */
function measures(run: TestRun, vm: string) {
  const summary = run.summary.vms.find((candidate) => candidate.name === vm);
  if (summary === undefined) throw new Error(`no VM ${vm}`);
  return { state: summary.state, vcpus: summary.vcpus, console: consoleOf(run, vm) };
}

describe('hosts of mixed types', () => {
  // Two VMs a host (the kernel and the emulated disk's guest), each host its own scheduler.
  const vms = (host: string, names: readonly [string, string]) => [`{ name: ${names[0]}, guest: kernel, host: ${host} }`, `{ name: ${names[1]}, guest: blk-emulated, host: ${host} }`];
  const TYPE1 = { scheduler: 'credit', names: ['a', 'c'] as const };
  const TYPE2 = { scheduler: 'round-robin', names: ['b', 'd'] as const, load: 0.2 };
  // The load given once for the scenario (host.load, which the Type 1 host has no use for) or on the Type 2 host alone.
  const mixedYaml = (seed: number, loadOnHost = false) =>
    [
      'name: mixed',
      `seed: ${seed}`,
      `host: { type: type1, load: ${loadOnHost ? 0 : TYPE2.load} }`,
      'hosts:',
      `  - { name: one, pcpus: 1, memory: 1MiB, scheduler: { policy: ${TYPE1.scheduler} } }`,
      `  - { name: two, pcpus: 1, memory: 1MiB, type: type2${loadOnHost ? `, load: ${TYPE2.load}` : ''}, scheduler: { policy: ${TYPE2.scheduler} } }`,
      'run: { time: 60ms }',
      `vms: [${[...vms('one', TYPE1.names), ...vms('two', TYPE2.names)].join(', ')}]`,
    ].join('\n');
  const singleYaml = (seed: number, type: string, scheduler: string, names: readonly [string, string], hostLoad = 0) =>
    [
      'name: single',
      `seed: ${seed}`,
      `host: { pcpus: 1, type: ${type}, load: ${hostLoad} }`,
      `scheduler: { policy: ${scheduler} }`,
      'run: { time: 60ms }',
      `vms: [${vms('x', names)
        .map((vm) => vm.replace(', host: x', ''))
        .join(', ')}]`,
    ].join('\n');

  it("each host's VMs measure what they measure on a single host of that type (same seed), and the types differ", () => {
    for (const seed of [1, 2, 3]) {
      const mixed = runScenario(load(mixedYaml(seed)));
      const type1 = runScenario(load(singleYaml(seed, 'type1', TYPE1.scheduler, TYPE1.names)));
      const type2 = runScenario(load(singleYaml(seed, 'type2', TYPE2.scheduler, TYPE2.names, TYPE2.load)));
      for (const name of TYPE1.names) expect(measures(mixed, name), `seed ${seed}, VM ${name} on the type1 host`).toEqual(measures(type1, name));
      for (const name of TYPE2.names) expect(measures(mixed, name), `seed ${seed}, VM ${name} on the type2 host`).toEqual(measures(type2, name));
      const overhead = (run: TestRun, name: string) => measures(run, name).vcpus[0].overheadNs;
      if (seed === 1) {
        expect(openLog(mixed.log, 'mixed.jsonl').replay().identical).toBe(true);
        console.log(
          `seed 1, 60 ms, overhead (ns) in the mixed run | single-host reference: ${[...TYPE1.names, ...TYPE2.names]
            .map((name) => `${name} ${overhead(mixed, name)} | ${overhead(TYPE1.names.includes(name as 'a') ? type1 : type2, name)}`)
            .join('; ')}`,
        );
      }
      // The Type 2 host's device accesses cost the trip through the host OS; the Type 1 host's do not.
      const hostProcesses = mixed.events.filter((event) => event.type === 'host.process').map((event) => (event.data as { host?: string }).host);
      expect(hostProcesses.length).toBeGreaterThan(0);
      expect(new Set(hostProcesses)).toEqual(new Set(['two']));
    }
  });

  it('so do they when the type2 host is the first one (its CPU is CPU 0) and gives its own load', () => {
    const yaml = mixedYaml(4, true)
      .replace('  - { name: one, pcpus: 1, memory: 1MiB, scheduler: { policy: credit } }\n  - { name: two', '  - { name: two')
      .replace('policy: round-robin } }', 'policy: round-robin } }\n  - { name: one, pcpus: 1, memory: 1MiB, scheduler: { policy: credit } }');
    const mixed = runScenario(load(yaml));
    expect(mixed.simulation.scenario.hosts?.map((host) => host.name)).toEqual(['two', 'one']);
    const type1 = runScenario(load(singleYaml(4, 'type1', TYPE1.scheduler, TYPE1.names)));
    const type2 = runScenario(load(singleYaml(4, 'type2', TYPE2.scheduler, TYPE2.names, TYPE2.load)));
    for (const name of TYPE1.names) expect(measures(mixed, name)).toEqual(measures(type1, name));
    for (const name of TYPE2.names) expect(measures(mixed, name)).toEqual(measures(type2, name));
  });

  /**
   * The wake-up latency of a vCPU blocked in hlt, read from the log: from its disk's interrupt
   * (`irq.raise`) to its `vcpu.runnable` (wake). A Type 2 host's scheduler wakes the vCPU thread
   * hostWakeNs later; a Type 1 monitor at once.
   */
  function wakeLatencies(events: readonly SimEvent[]): { t: number; ns: number }[] {
    const latencies: { t: number; ns: number }[] = [];
    let raisedAt = -1;
    for (const event of events) {
      if (event.type === 'irq.raise' && event.src === 'vm/g/block') raisedAt = event.t;
      if (event.type === 'vcpu.runnable' && event.src === 'vm/g/vcpu/0' && (event.data as { reason: string }).reason === 'wake' && raisedAt >= 0) {
        latencies.push({ t: event.t, ns: event.t - raisedAt });
        raisedAt = -1;
      }
    }
    return latencies;
  }

  it('a VM migrated from a type2 host to a type1 host (and back) pays the host OS until the switch and not after, and prints what it prints unmigrated', () => {
    for (const mode of ['precopy', 'postcopy']) {
      for (const [srcType, dstType] of [
        ['type2', 'type1'],
        ['type1', 'type2'],
      ]) {
        const base = { guest: 'blk-emulated', params: { REQUESTS: 400 }, srcType, dstType, load: 0.2, time: '100ms' };
        const plain = runYaml(hostsYaml(base));
        const run = runYaml(hostsYaml({ ...base, migrate: '10ms', migrateOptions: `mode: ${mode}` }));
        const label = `${mode}, ${srcType} to ${dstType}`;
        const resumed = run.events.find((event) => event.type === 'vm.resumed' && event.src === 'vm/g');
        expect(resumed, label).toBeDefined();
        const switchAt = (resumed as SimEvent).t;
        const latencies = wakeLatencies(run.events);
        const before = latencies.filter((latency) => latency.t < switchAt).map((latency) => latency.ns);
        const after = latencies.filter((latency) => latency.t > switchAt).map((latency) => latency.ns);
        expect(before.length, label).toBeGreaterThan(3);
        expect(after.length, label).toBeGreaterThan(3);
        const nsOn = (type: string) => (type === 'type2' ? COSTS.hostWakeNs : 0);
        expect(new Set(before), label).toEqual(new Set([nsOn(srcType)]));
        expect(new Set(after), label).toEqual(new Set([nsOn(dstType)]));
        // The host's processes run on the Type 2 host's CPU only, and preempt the VM only while it is there.
        const preempts = run.events.filter((event) => event.type === 'exit.preempt' && (event.data as { by?: string }).by === 'host').map((event) => event.t);
        expect(preempts.length, label).toBeGreaterThan(0);
        for (const t of preempts) expect(srcType === 'type2' ? t < switchAt : t > switchAt, `${label}: host preemption at ${t}`).toBe(true);
        expect(run.events.filter((event) => event.type === 'migration.completed'), label).toHaveLength(1);
        expect(plain.lines.length, label).toBeGreaterThan(0);
        expect(run.lines, label).toEqual(plain.lines);
        expect(run.digest, label).toBe(plain.digest);
      }
    }
  });

  it('vmmsim run: a bad host type or load stops with exit 2, the file, line and column and what was expected; a good one runs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmmsim-hosts-'));
    const run = (text: string) => {
      const file = join(dir, 'h.yaml');
      writeFileSync(file, text);
      let stdout = '';
      let stderr = '';
      const code = main(['run', file], { stdout: { write: (chunk) => (stdout += chunk) }, stderr: { write: (chunk) => (stderr += chunk) }, color: false });
      return { code, stdout, stderr, file };
    };
    const good = mixedYaml(1);
    const bad = run(good.replace('type: type2', 'type: hosted').replace('{ name: one, pcpus: 1, memory: 1MiB', '{ name: one, pcpus: 1, memory: 1MiB, load: -1'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${bad.file}:5:48: hosts[0].load: expected a number from 0 to 0.9, got -1`);
    expect(bad.stderr).toContain(`${bad.file}:6:48: hosts[1].type: expected a hypervisor type, one of: type1, type2, got 'hosted'`);
    const ok = run(good);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^b\s+0\s+shutoff/m);
  });
});

describe('a fork of a run with hosts of different types', () => {
  it("may change a host's scheduler, not its type, load or topology", () => {
    const yaml = [
      'name: f',
      'hosts:',
      '  - { name: one, pcpus: 1, memory: 1MiB }',
      '  - { name: two, pcpus: 1, memory: 1MiB, type: type2, load: 0.2 }',
      'run: { time: 10ms }',
      'vms: [{ name: a, guest: ticker, host: one }, { name: b, guest: ticker, host: two }]',
    ].join('\n');
    const run = runScenario(loadScenario(yaml, { file: 'f.yaml', guests: BUNDLED_GUEST_NAMES }));
    const file = openLog(run.log, 'f.jsonl').file;
    const at = Math.floor(run.events.length / 2);
    for (const setting of ['hosts.two.type=type1', 'hosts.two.load=0.5', 'hosts.one.topology={ sockets: 1, coresPerSocket: 1, threadsPerCore: 1 }']) {
      expect(() => fork(file, { at, set: [setting] }), setting).toThrow('cannot change the hosts or their links in the middle of a run (only their schedulers)');
    }
    const forked = fork(file, { at, set: ['hosts.two.scheduler.policy=round-robin'] });
    expect(forked.simulation.scenario.cpupools?.[1].scheduler.policy).toBe('round-robin');
  });
});
