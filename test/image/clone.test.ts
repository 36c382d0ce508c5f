/**
 * Clones, drains and refusals of save: two VMs started from one image each go on from it under
 * their own name, MAC and random streams; a save during disk I/O waits for it to drain; a save
 * the model cannot honour is refused with a `vm.not-allowed` fact and the VM goes on.
 */
import { describe, expect, it } from 'vitest';
import { Simulation } from '../../src/actors/simulation.js';
import type { SimEvent } from '../../src/core/events.js';
import { decodeImage } from '../../src/core/image/format.js';
import type { InputSpec } from '../../src/core/scenario/inputs.js';
import type { VmSpec } from '../../src/core/scenario/schema.js';
import { testScenario, vmSpec } from '../../src/testing/scenario.js';
import { EMPTY_STATE, foldEvents, projectSimulation } from '../../src/index.js';

function run(vms: readonly VmSpec[], inputs: InputSpec[] = [], images = new Map<string, Uint8Array>()) {
  const events: SimEvent[] = [];
  const simulation = new Simulation({
    scenario: testScenario(vms, { host: { pcpus: 2, memoryBytes: 16 * 1024 * 1024 }, inputs }),
    sink: (event) => events.push(event),
    writeImage: (file, bytes) => images.set(file, bytes),
    readImage: (file) => images.get(file) as Uint8Array,
  });
  simulation.run();
  const consoleOf = (name: string) => events.filter((event) => event.type === 'console.output' && event.src === `vm/${name}/console`).map((event) => (event.data as { text: string }).text);
  return { simulation, events, images, consoleOf };
}

describe('clone', () => {
  it('starts two VMs from one image: each prints the rest of the run, with its own MAC and random streams', () => {
    const saved = run([vmSpec('g', { kind: 'bundled', name: 'kernel' })], [{ kind: 'save', atNs: 1_500_000, vm: 'g', file: 'g.img' }]);
    const plain = run([vmSpec('g', { kind: 'bundled', name: 'kernel' })]);
    const rest = plain.consoleOf('g').slice(saved.consoleOf('g').length);
    expect(rest.length).toBeGreaterThan(2);
    const image = decodeImage(saved.images.get('g.img') as Uint8Array, 'g.img');
    const clones = run([vmSpec('a', { kind: 'image', path: 'g.img' }), vmSpec('b', { kind: 'image', path: 'g.img' })], [], saved.images);
    expect(clones.consoleOf('a')).toEqual(rest);
    expect(clones.consoleOf('b')).toEqual(rest);
    const [a, b] = clones.simulation.vms;
    expect(a.nic?.mac).not.toBe(b.nic?.mac);
    const streams = clones.simulation.random.states();
    expect(streams['vm/a/timer']).toBeDefined();
    expect(streams['vm/a/timer']).not.toEqual(streams['vm/b/timer']);
    // A clone draws from its own stream, not from the one saved in the image.
    const fresh = run([vmSpec('a', { kind: 'image', path: 'g.img' })], [], saved.images);
    expect(fresh.simulation.vms[0].memoryDigest()).toBe(a.memoryDigest());
    expect(image.random.timer).toBeDefined();
    // The timer's expiries of the two clones differ (their jitter comes from different streams).
    const ticks = (name: string) => clones.events.filter((event) => event.type === 'irq.raise' && event.src === `vm/${name}/timer`).map((event) => event.t);
    expect(ticks('a')).not.toEqual(ticks('b'));
  });

  it('leaves in the log what the fold needs: the state folded from the events is the live state, at every step', () => {
    const saved = run([vmSpec('g', { kind: 'bundled', name: 'ticker' })], [{ kind: 'save', atNs: 2_000_000, vm: 'g', file: 'g.img' }]);
    const events: SimEvent[] = [];
    const simulation = new Simulation({
      scenario: testScenario([vmSpec('g', { kind: 'image', path: 'g.img' }), vmSpec('copy', { kind: 'image', path: 'g.img' }, { startNs: 500_000 })], { host: { pcpus: 2, memoryBytes: 16 * 1024 * 1024 } }),
      sink: (event) => events.push(event),
      readImage: (file) => saved.images.get(file) as Uint8Array,
    });
    let steps = 0;
    let seen = 0;
    simulation.onStep(() => {
      // Right after a step that published events (the fold's time is its last event's).
      if (events.length === seen) return;
      seen = events.length;
      steps++;
      expect(foldEvents(EMPTY_STATE, events, { engine: 'mutable' })).toEqual(JSON.parse(JSON.stringify(projectSimulation(simulation))));
    });
    simulation.run();
    expect(events.filter((event) => event.type === 'vm.restored').map((event) => event.src)).toEqual(['vm/g', 'vm/copy']);
    expect(steps).toBeGreaterThan(50);
  });

  it('refuses a scenario entry whose vCPUs or memory differ from the image', () => {
    const saved = run([vmSpec('g', { kind: 'bundled', name: 'ticker' })], [{ kind: 'save', atNs: 1_000_000, vm: 'g', file: 'g.img' }]);
    expect(() => run([vmSpec('g', { kind: 'image', path: 'g.img' }, { memoryBytes: 128 * 1024 })], [], saved.images)).toThrow(/g\.img: VM g: the image holds a VM of 1 vCPU\(s\) and 65536 bytes of memory; set this VM's vcpus: 1 and memory: 65536/);
  });
});

describe('save', () => {
  it('waits for in-flight disk I/O to drain before writing the image (as QEMU drains on stop)', () => {
    const spec = vmSpec('g', { kind: 'bundled', name: 'blk-emulated' });
    const plain = run([spec]);
    const done = plain.events.find((event) => event.type === 'blk.done');
    expect(done).toBeDefined();
    const saved = run([spec], [{ kind: 'save', atNs: (done as SimEvent).t - 1, vm: 'g', file: 'g.img' }]);
    const fact = saved.events.find((event) => event.type === 'vm.saved');
    expect(fact?.data).toMatchObject({ file: 'g.img' });
    expect((fact?.data as { drainNs: number }).drainNs).toBeGreaterThan(0);
    expect(saved.events.findIndex((event) => event.type === 'blk.done')).toBeLessThan(saved.events.indexOf(fact as SimEvent));
    const restored = run([vmSpec('g', { kind: 'image', path: 'g.img' })], [], saved.images);
    expect([...saved.consoleOf('g'), ...restored.consoleOf('g')]).toEqual(plain.consoleOf('g'));
    expect(restored.simulation.vms[0].memoryDigest()).toBe(plain.simulation.vms[0].memoryDigest());
  });

  it('is refused, and the VM goes on, for a VM that is not running or has a passthrough device', () => {
    // A second VM (ticker, 10 ms) keeps the run going after g has powered off.
    const late = run([vmSpec('g', { kind: 'bundled', name: 'hello-pv' }), vmSpec('busy', { kind: 'bundled', name: 'ticker' })], [{ kind: 'save', atNs: 9_000_000, vm: 'g', file: 'g.img' }]);
    expect(late.images.size).toBe(0);
    expect(late.events.find((event) => event.type === 'vm.not-allowed')?.data).toEqual({ command: 'save', state: 'shutoff', reason: 'a VM that is shutoff cannot save' });
    const passthrough = run([vmSpec('g', { kind: 'bundled', name: 'ticker' }, { devices: { block: 'passthrough', nic: 'emulated' } })], [{ kind: 'save', atNs: 1_000_000, vm: 'g', file: 'g.img' }]);
    expect(passthrough.images.size).toBe(0);
    expect((passthrough.events.find((event) => event.type === 'vm.not-allowed')?.data as { reason: string }).reason).toMatch(/passthrough device/);
    const refusedAt = (passthrough.events.find((event) => event.type === 'vm.not-allowed') as SimEvent).t;
    expect(passthrough.simulation.vms[0].state).not.toBe('shutoff');
    expect(passthrough.events.some((event) => event.type === 'console.output' && event.t > refusedAt)).toBe(true);
  });
});
