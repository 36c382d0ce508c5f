/**
 * host.topology (sockets x cores x threads) and credit2's run queue granularity
 * (scheduler.runqueue, Xen's credit2_runqueue), docs/scheduling.md.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/core/scenario/load.js';
import { scenarioErrors } from '../helpers.js';
import { scenarioToSource, withPolicy } from '../../src/core/scenario/schema.js';
import { resolveScenarioObject } from '../../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';

const options = { file: 's.yaml', guests: BUNDLED_GUEST_NAMES };
const load = (text: string) => loadScenario(text, options);
const HOST = 'host: { pcpus: 16, topology: { sockets: 2, coresPerSocket: 4, threadsPerCore: 2 } }';

const errors = scenarioErrors;

describe('host.topology', () => {
  it('is kept in the resolved scenario and round-trips through its source form', () => {
    const s = load(`name: x\n${HOST}\nvms: [{ name: a, guest: cpu-bound }]`);
    expect(s.host.topology).toEqual({ sockets: 2, coresPerSocket: 4, threadsPerCore: 2 });
    expect(resolveScenarioObject(scenarioToSource(s), options)).toEqual(s);
  });

  it('refuses a product other than host.pcpus at file:line:col', () => {
    expect(errors('name: x\nhost:\n  pcpus: 8\n  topology: { sockets: 2, coresPerSocket: 4, threadsPerCore: 2 }\nvms: [{ name: a, guest: cpu-bound }]')).toEqual([
      's.yaml:4:3: host.topology: sockets x coresPerSocket x threadsPerCore is 2 x 4 x 2 = 16, but host.pcpus is 8: they must be equal',
    ]);
  });
});

describe('credit2_runqueue: run queue granularity', () => {
  const size = (runqueue: string) => load(`name: x\n${HOST}\nscheduler: { policy: credit2${runqueue} }\nvms: [{ name: a, guest: cpu-bound }]`).scheduler;

  it('gives 1, 2, 8, 8 and 16 pCPUs per run queue for cpu, core, socket, node and all on 2 x 4 x 2', () => {
    expect(['cpu', 'core', 'socket', 'node', 'all'].map((g) => size(`, runqueue: ${g}`).runqueueSize)).toEqual([1, 2, 8, 8, 16]);
  });

  it('defaults to socket with a topology (as Xen), and leaves hosts without one as they were', () => {
    expect(size('')).toMatchObject({ runqueue: 'socket', runqueueSize: 8 });
    const flat = load('name: x\nhost: { pcpus: 4 }\nscheduler: { policy: credit2 }\nvms: [{ name: a, guest: cpu-bound }]').scheduler;
    expect(flat.runqueue).toBeUndefined();
    expect(flat.runqueueSize).toBe(0);
    const s = load(`name: x\n${HOST}\nscheduler: { policy: credit2, runqueue: core }\nvms: [{ name: a, guest: cpu-bound }]`);
    expect(resolveScenarioObject(scenarioToSource(s), options)).toEqual(s);
  });

  it('keeps the size when the policy is switched (compare --policies, run --policy: withPolicy)', () => {
    // Before, withPolicy kept `runqueue: socket` but left runqueueSize at 0: one run queue for all
    // 16 pCPUs, so `vmmsim compare --policies credit2` on examples/topology.yaml measured `all`.
    const s = load(`name: x\n${HOST}\nscheduler: { policy: credit2, runqueue: core }\nvms: [{ name: a, guest: cpu-bound }]`);
    expect(withPolicy(s, 'credit2').scheduler).toMatchObject({ runqueue: 'core', runqueueSize: 2 });
    const credit = load(`name: x\n${HOST}\nscheduler: { policy: credit }\nvms: [{ name: a, guest: cpu-bound }]`);
    expect(withPolicy(credit, 'credit2').scheduler).toMatchObject({ runqueue: 'socket', runqueueSize: 8 });
    const flat = load('name: x\nhost: { pcpus: 4 }\nscheduler: { policy: credit }\nvms: [{ name: a, guest: cpu-bound }]');
    expect(withPolicy(flat, 'credit2').scheduler.runqueueSize).toBe(0);
  });

  it('refuses runqueue together with runqueueSize', () => {
    expect(errors(`name: x\n${HOST}\nscheduler: { policy: credit2, runqueue: core, runqueueSize: 2 }\nvms: [{ name: a, guest: cpu-bound }]`)).toEqual([
      's.yaml:3:31: scheduler.runqueue: give runqueue or runqueueSize, not both (runqueue sets the size from host.topology)',
    ]);
  });
});

describe('csched2_res_pick with affinity', () => {
  it('places a vCPU only on run queues its hard affinity reaches (examples/topology.yaml: every VM runs)', async () => {
    const { readFileSync } = await import('node:fs');
    const { runScenario } = await import('../helpers.js');
    const s = load(readFileSync('examples/topology.yaml', 'utf8'));
    const ran = new Set(runScenario(s).events.filter((e) => e.type === 'vcpu.running').map((e) => e.src.split('/')[1]));
    // Before: io-b, pinned to socket 0, was placed on socket 1's run queue and never ran.
    expect(s.vms.filter((vm) => !ran.has(vm.name)).map((vm) => vm.name)).toEqual([]);
  });
});
