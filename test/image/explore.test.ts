import { describe, expect, it } from 'vitest';
import { Simulation } from '../../src/actors/simulation.js';
import type { SimEvent } from '../../src/core/events.js';
import { testScenario, vmSpec } from '../../src/testing/scenario.js';

function run(guest: string, saveAt: number | undefined, image?: Uint8Array) {
  const files = new Map<string, Uint8Array>();
  const vm = image === undefined ? vmSpec('g', { kind: 'bundled', name: guest }) : vmSpec('g', { kind: 'image', path: 'g.img' });
  const scenario = testScenario([vm], { run: { timeNs: 40_000_000, instructions: undefined, checkpointEvery: 10_000 }, inputs: saveAt === undefined ? [] : [{ kind: 'save', atNs: saveAt, vm: 'g', file: 'g.img' }] });
  const events: SimEvent[] = [];
  const sim = new Simulation({ scenario, sink: (e) => events.push(e), writeImage: (f, b) => files.set(f, b), readImage: () => image as Uint8Array });
  sim.run();
  const lines = events.filter((e) => e.type === 'console.output').map((e) => ({ t: e.t, text: (e.data as { text: string }).text }));
  return { sim, events, lines, files };
}

describe('explore', () => {
  for (const guest of ['kernel', 'ticker', 'mem-hungry', 'blk-emulated', 'hello-pv']) {
    it(guest, () => {
      const plain = run(guest, undefined);
      const T = 3_000_000;
      const saved = run(guest, T);
      const image = saved.files.get('g.img');
      console.log(guest, 'saved', saved.events.filter((e) => e.type === 'vm.saved' || e.type === 'vm.not-allowed').map((e) => JSON.stringify(e.data)));
      if (image === undefined) return;
      const restored = run(guest, undefined, image);
      const after = plain.lines.filter((l) => l.t >= T).map((l) => l.text);
      console.log(guest, 'plain after', after.length, 'restored', restored.lines.length, 'digest', plain.sim.vms[0].memoryDigest(), restored.sim.vms[0].memoryDigest());
      console.log(after.slice(0, 5), restored.lines.slice(0, 5).map((l) => l.text));
      console.log(plain.sim.vms[0].state, restored.sim.vms[0].state, plain.sim.kernel.now, restored.sim.kernel.now);
      expect(restored.lines.map((l) => l.text)).toEqual(after);
    });
  }
});
