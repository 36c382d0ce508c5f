/**
 * The driver domain (host.driverDomain; docs/scheduling.md, "Driver domain"): a guest's
 * paravirtual I/O completes only after dom0's vCPU has run its backend work, BOOST is what keeps
 * that I/O fast behind CPU-bound VMs under credit, and a run with dom0 replays byte for byte.
 * Every check reads the event log, not the backend's own bookkeeping.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SimEvent } from '../../src/core/events.js';
import { Simulation } from '../../src/actors/simulation.js';
import { readLog } from '../../src/core/log/reader.js';
import { LogWriter } from '../../src/core/log/writer.js';
import { thaw } from '../../src/replay/fold/fold.js';
import { projectSimulation } from '../../src/replay/fold/project.js';
import { reduce } from '../../src/replay/fold/reducers.js';
import { EMPTY_STATE } from '../../src/replay/fold/state.js';
import { Irq } from '../../src/core/platform.js';
import { loadScenario } from '../../src/core/scenario/load.js';
import { scenarioToSource, type Scenario } from '../../src/core/scenario/schema.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { PROBE_DONE, PROBE_PORT } from '../../src/guests/workloads.js';
import { LogFile } from '../../src/replay/logFile.js';
import { replay } from '../../src/replay/replay.js';
import { memorySource } from '../../src/replay/source.js';
import { runScenario, scenarioErrors } from '../helpers.js';

const EXAMPLE = readFileSync(resolve(import.meta.dirname, '..', '..', 'examples', 'driver-domain.yaml'), 'utf8');
const US = 1_000;

function example(edit: (text: string) => string = (text) => text): Scenario {
  return loadScenario(edit(EXAMPLE), { file: 'driver-domain.yaml', guests: BUNDLED_GUEST_NAMES });
}

/** The requests the I/O VM completed: its probe writes. */
function completions(events: readonly SimEvent[]): number {
  return events.filter((e) => e.type === 'exit.io' && e.src === 'vm/io/vcpu/0' && e.data.port === PROBE_PORT && e.data.dir === 'out' && e.data.value === PROBE_DONE).length;
}

/** dom0's vCPU's running time inside [from, to], from its vcpu.running and the events that end a run. */
function dom0RunningNs(events: readonly SimEvent[], from: number, to: number): number {
  let total = 0;
  let since: number | undefined;
  for (const e of events) {
    if (e.src !== 'vm/dom0/vcpu/0') continue;
    if (e.type === 'vcpu.running') since = e.t;
    else if (since !== undefined && (e.type === 'vcpu.runnable' || e.type === 'vcpu.blocked' || e.type === 'vcpu.halted' || e.type === 'vcpu.paused')) {
      total += Math.max(0, Math.min(e.t, to) - Math.max(since, from));
      since = undefined;
    }
  }
  if (since !== undefined) total += Math.max(0, to - Math.max(since, from));
  return total;
}

describe('driver domain', () => {
  // On 2 pCPUs without credit's ratelimit the I/O VM can run at once while dom0 works, so a line
  // delivered before dom0's work is done would show.
  it.each([1, 2])("a guest's paravirtual completion is delivered only after dom0's vCPU ran its backend work for it (%i pCPUs)", (pcpus) => {
    const run = runScenario(example((text) => text.replace('pcpus: 1', `pcpus: ${pcpus}`).replace('policy: credit', pcpus === 1 ? 'policy: credit' : 'policy: credit\n  ratelimit: 0')));
    const events = run.events;
    const backendNs = 20 * US;
    const taken = new Map<number, number>();
    let done = 0;
    let injected = 0;
    let checked = 0;
    for (const e of events) {
      if (e.type === 'backend.taken') taken.set(e.data.id, e.t);
      else if (e.type === 'backend.done') {
        const start = taken.get(e.data.id);
        expect(start, `completion ${e.data.id} done without being taken`).toBeDefined();
        // dom0's vCPU held a physical CPU for at least the backend work between take and done.
        expect(dom0RunningNs(events, start as number, e.t)).toBeGreaterThanOrEqual(backendNs);
        expect(e.data.vm).toBe('io');
        done++;
      } else if (e.type === 'irq.inject' && e.src === 'vm/io/vcpu/0' && e.data.line === Irq.BLOCK) {
        injected++;
        // Never more block interrupts taken by the guest than completions dom0 finished for it.
        expect(injected, `injection at t=${e.t}`).toBeLessThanOrEqual(done);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(completions(events)).toBeGreaterThan(50);
    // Every device completion went through dom0 (one in flight at a time: none coalesced).
    expect(events.filter((e) => e.type === 'blk.done' && e.src === 'vm/io/block').length).toBe(events.filter((e) => e.type === 'backend.queued').length);
  });

  it('BOOST keeps I/O behind CPU-bound VMs fast: with it the I/O VM completes over 10x the requests it does without (seed 1)', () => {
    const boosted = runScenario(example());
    const unboosted = runScenario(example((text) => text.replace('policy: credit', 'policy: credit\n  boost: false')));
    expect(unboosted.simulation.monitor.policy.name).toBe('credit');
    const withBoost = completions(boosted.events);
    const without = completions(unboosted.events);
    expect(without).toBeGreaterThan(0);
    expect(withBoost).toBeGreaterThan(10 * without);
  });

  it('a run with dom0 replays identically, and two runs write the same log byte for byte', () => {
    const first = runScenario(example());
    const second = runScenario(example());
    expect(second.log).toBe(first.log);
    // The reader (vmmsim replay, inspect) knows dom0 from host.driverDomain, though the header's vms do not list it.
    expect(readLog(first.log).events.filter((e) => e.src.startsWith('vm/dom0/')).length).toBeGreaterThan(100);
    const result = replay(new LogFile(memorySource(first.log)));
    expect(result.divergence).toBeUndefined();
    expect(result.identical).toBe(true);
  });

  it("the state folded from the log equals the live state after every step (the guests' controllers included)", () => {
    const s = example((text) => text.replace('pcpus: 1', 'pcpus: 2').replace('policy: credit', 'policy: credit\n  ratelimit: 0').replace('time: 200ms', 'time: 70ms'));
    let log = '';
    const simulation = new Simulation({ scenario: s, log: new LogWriter((chunk) => (log += chunk)) });
    const captured = new Map<number, unknown>();
    let last = simulation.bus.count - 1;
    simulation.onStep(() => {
      // Only the step that published the event (as test/replay/fold.property.test.ts does).
      const seq = simulation.bus.count - 1;
      if (seq === last) return;
      last = seq;
      captured.set(seq, JSON.parse(JSON.stringify(projectSimulation(simulation))));
    });
    simulation.run();
    const draft = thaw(EMPTY_STATE);
    let compared = 0;
    for (const event of readLog(log).events) {
      reduce(draft, event);
      const live = captured.get(event.seq);
      if (live === undefined) continue;
      expect(JSON.parse(JSON.stringify(draft)), `seq ${event.seq}`).toEqual(live);
      compared++;
    }
    expect(compared).toBeGreaterThan(200);
  });

  it('dom0 is appended after the scenario’s VMs, and the source form gives it back as host.driverDomain', () => {
    const s = example();
    expect(s.vms.map((vm) => vm.name)).toEqual(['io', 'crunch-a', 'crunch-b', 'dom0']);
    const source = scenarioToSource(s) as { host: { driverDomain: unknown }; vms: { name: string }[] };
    expect(source.vms.map((vm) => vm.name)).toEqual(['io', 'crunch-a', 'crunch-b']);
    expect(source.host.driverDomain).toEqual({ vcpus: 1, backend: 20 * US, memory: 65536, sched: { weight: 256, cap: 0 } });
  });

  it('paravirtual NICs go through dom0 too; emulated devices do not', () => {
    const text = (block: string) => `
name: split
host: { pcpus: 2, memory: 16MiB, driverDomain: { backend: 20us } }
scheduler: { policy: credit }
run: { time: 20ms }
vms:
  - { name: disk, memory: 256KiB, guest: ${block === 'paravirtual' ? 'blk-virtio' : 'blk-emulated'}, params: { REQUESTS: 4 }, devices: { block: ${block} } }
  - { name: ping, guest: net-ping-pv, start: 200us, params: { PEER: 3, COUNT: 4 }, devices: { nic: paravirtual } }
  - { name: pong, guest: net-pong-pv, params: { PEER: 2, COUNT: 4 }, devices: { nic: paravirtual } }
`;
    const through = (block: string) => {
      const run = runScenario(loadScenario(text(block), { file: 'split.yaml', guests: BUNDLED_GUEST_NAMES }));
      expect(run.summary.vms.filter((vm) => vm.name !== 'dom0').map((vm) => vm.state)).toEqual(['shutoff', 'shutoff', 'shutoff']);
      return run.events.flatMap((e) => (e.type === 'backend.done' ? [`${e.data.vm}:${e.data.line}`] : [])).sort();
    };
    expect(through('paravirtual')).toEqual([`disk:${Irq.BLOCK}`, `ping:${Irq.NET}`, `pong:${Irq.NET}`]);
    expect(through('emulated')).toEqual([`ping:${Irq.NET}`, `pong:${Irq.NET}`]);
  });

  it('a VM of the scenario may not be named dom0 when there is a driver domain', () => {
    const errors = scenarioErrors(EXAMPLE.replace('name: crunch-b', 'name: dom0'));
    expect(errors.join('\n')).toMatch(/driver domain/);
  });
});
