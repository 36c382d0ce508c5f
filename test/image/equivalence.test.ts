/**
 * Equivalence of save and restore: a guest saved mid-run and restored in a second run (started
 * from the image) prints on its console exactly what the unsaved run prints after the save, and
 * ends with the same memory digest. fast-check prints the seed and the counterexample on failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../../src/actors/simulation.js';
import type { SimEvent } from '../../src/core/events.js';
import type { VmSpec } from '../../src/core/scenario/schema.js';
import { testScenario, vmSpec } from '../../src/testing/scenario.js';

const RUN_NS = 100_000_000;

interface Outcome {
  readonly lines: string[];
  readonly digest: string;
  readonly state: string;
  readonly endNs: number;
  readonly images: Map<string, Uint8Array>;
  readonly events: SimEvent[];
}

function run(vms: readonly VmSpec[], options: { readonly saveAtNs?: number; readonly images?: ReadonlyMap<string, Uint8Array>; readonly seed?: number } = {}): Outcome {
  const images = new Map<string, Uint8Array>();
  const inputs = options.saveAtNs === undefined ? [] : [{ kind: 'save' as const, atNs: options.saveAtNs, vm: vms[0].name, file: 'saved.img' }];
  // One physical CPU per vCPU: which vCPU of an SMP guest holds a shared CPU is the host's scheduler state, not the VM's.
  const pcpus = Math.max(...vms.map((vm) => vm.vcpus));
  const scenario = testScenario(vms, { seed: options.seed ?? 1, host: { pcpus, memoryBytes: 16 * 1024 * 1024 }, run: { timeNs: RUN_NS, instructions: undefined, checkpointEvery: 10_000 }, inputs });
  const events: SimEvent[] = [];
  const simulation = new Simulation({
    scenario,
    sink: (event) => events.push(event),
    writeImage: (file, bytes) => images.set(file, bytes),
    readImage: (file) => {
      const bytes = options.images?.get(file);
      if (bytes === undefined) throw new Error(`no image ${file}`);
      return bytes;
    },
  });
  simulation.run();
  const vm = simulation.vms[0];
  const lines = events.filter((event) => event.type === 'console.output' && event.src === `${vm.id}/console`).map((event) => (event.data as { text: string }).text);
  return { lines, digest: vm.memoryDigest(), state: vm.state, endNs: simulation.kernel.now, images, events };
}

/**
 * Bundled guests that power off on their own (so the final memory is a fixed point), with their VM
 * settings. Not the tiny kernel on two vCPUs: its vCPUs race on shared memory and one console, and
 * which store another vCPU's batch sees is decided by the temporal decoupling of SMP batches
 * (docs/architecture.md), not by the architectural state an image holds; such a guest's restored
 * output can interleave differently (docs/migration.md).
 */
const GUESTS: readonly { readonly name: string; readonly vcpus: number; readonly params?: Record<string, number> }[] = [
  { name: 'kernel', vcpus: 1 },
  { name: 'kernel-pv', vcpus: 1 },
  { name: 'ticker', vcpus: 1 },
  { name: 'hello-pv', vcpus: 1 },
  { name: 'blk-emulated', vcpus: 1 },
  { name: 'smp-ipi', vcpus: 2, params: { VCPUS: 2 } },
];
const TECHNIQUES = ['full', 'para', 'hw', 'bt'] as const;
/** Guests whose tasks are switched by their timer: where a switch lands depends on their pace. */
const TIMER_SWITCHED: ReadonlySet<string> = new Set(['kernel', 'kernel-pv']);

function spec(guest: (typeof GUESTS)[number], virt: VmSpec['virt'], name = 'g', image?: string): VmSpec {
  const code: VmSpec['guest'] = image === undefined ? { kind: 'bundled', name: guest.name } : { kind: 'image', path: image };
  return vmSpec(name, code, { vcpus: guest.vcpus, params: guest.params ?? {}, virt });
}

describe('save and restore', () => {
  it('a restored guest prints what the unsaved run prints after the save, and ends with the same memory (property)', () => {
    const unsaved = new Map<string, Outcome>();
    fc.assert(
      fc.property(fc.constantFrom(...GUESTS), fc.constantFrom(...TECHNIQUES), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 1000 }), (guest, virt, fraction, seed) => {
        const key = `${guest.name}/${guest.vcpus}/${virt}/${seed}`;
        let plain = unsaved.get(key);
        if (plain === undefined) {
          plain = run([spec(guest, virt)], { seed });
          unsaved.set(key, plain);
        }
        expect(plain.state).toBe('shutoff');
        const saveAtNs = 1 + Math.floor(fraction * (plain.endNs - 2));
        const saved = run([spec(guest, virt)], { saveAtNs, seed });
        const image = saved.images.get('saved.img');
        if (image === undefined) {
          // The VM had already ended at the save time: the save is refused, nothing is written.
          expect(saved.events.some((event) => event.type === 'vm.not-allowed' && (event.data as { command: string }).command === 'save')).toBe(true);
          return;
        }
        expect(saved.state).toBe('shutoff');
        const restored = run([spec(guest, virt, 'g', 'saved.img')], { images: saved.images, seed });
        expect(restored.state).toBe('shutoff');
        expect([...saved.lines, ...restored.lines]).toEqual(plain.lines);
        // Under binary translation the restored guest pays the translation of its code pages again
        // (the monitor's cache is not in the image), so it runs later than the unsaved one; the tiny
        // kernel switches tasks on its timer, so its save area can then hold the interrupted task at
        // another point of its unfinished work: its memory is compared everywhere else, its output
        // everywhere (as for a migrated tiny kernel, docs/migration.md).
        if (!(virt === 'bt' && TIMER_SWITCHED.has(guest.name))) expect(restored.digest).toBe(plain.digest);
        // The guest takes the same path at the same pace: every exit and interrupt injection after
        // the save, with its pc, at the same time from the first one on.
        const path = (outcome: Outcome, fromNs: number) => {
          const steps = outcome.events.filter((event) => event.t >= fromNs && (event.type.startsWith('exit.') || event.type === 'irq.inject') && event.type !== 'exit.preempt');
          const first = steps[0]?.t ?? 0;
          return steps.map((event) => `${event.t - first} ${event.src} ${event.type} ${JSON.stringify(event.data)}`);
        };
        // Not under binary translation: its cache of translated pages is the monitor's, not in the
        // image, so the restored guest pays the translation of its code pages again (later exits).
        if (virt !== 'bt') expect(path(restored, 0)).toEqual(path(plain, saveAtNs));
      }),
      {
        numRuns: 500,
        // A case found before: a vCPU that was the last to run on its CPU (no context switch at
        // its wake-up after the restore either).
        examples: [
          [GUESTS[2], 'full', 0.01253664961701515, 996],
          // CI's seed 828999142: the tiny kernel under bt, saved at 5% (its memory differs, above).
          [GUESTS[0], 'bt', 0.0501331151209987, 35],
        ],
      },
    );
  });
});
