/** The DMA engine: copies inside the VM's memory, refuses a transfer the IOMMU does not map. */
import { describe, expect, it } from 'vitest';
import { guestVm, runChecked, testScenario } from '../../src/testing/index.js';

function dma(source: number, destination: number, words: number): string {
  return `
_start:
  movi r1, ${source}
  out PORT_DMA_SOURCE, r1
  movi r1, ${destination}
  out PORT_DMA_DESTINATION, r1
  movi r1, ${words}
  out PORT_DMA_LENGTH, r1
  out PORT_DMA_GO, r1
  in r3, PORT_DMA_GO
  st r3, [0x3000]
  out PORT_POWER, r0
  hlt
  .org 0x2000
data: .word 11, 22, 33, 44, 55
`;
}

describe('DMA engine', () => {
  it('copies words inside the VM and reports dma.done; the status reads 1', () => {
    const run = runChecked(testScenario([guestVm('g', dma(0x2000, 0x2800, 5))]));
    const memory = run.simulation.vms[0].memory;
    expect([0, 1, 2, 3, 4].map((offset) => memory.read(0x2800 + offset))).toEqual([11, 22, 33, 44, 55]);
    expect(memory.read(0x3000)).toBe(1);
    expect(run.events.find((event) => event.type === 'dma.done')?.data).toEqual({ src: 0x2000, dst: 0x2800, words: 5 });
  });

  it('copies overlapping ranges as memmove does', () => {
    const run = runChecked(testScenario([guestVm('g', dma(0x2000, 0x2002, 5))]));
    const memory = run.simulation.vms[0].memory;
    expect([0, 1, 2, 3, 4, 5, 6].map((offset) => memory.read(0x2000 + offset))).toEqual([11, 22, 11, 22, 33, 44, 55]);
  });

  it('blocks a transfer that reaches outside the VM: nothing copied, dma.blocked, status 2, no other VM touched', () => {
    const run = runChecked(testScenario([guestVm('g', dma(0x2000, 16_382, 5)), guestVm('other', 'x:\n  work 1000\n  jmp x\n', { autostart: false })]));
    const memory = run.simulation.vms[0].memory;
    expect(memory.read(16_382)).toBe(0);
    expect(memory.read(16_383)).toBe(0);
    expect(memory.read(0x3000)).toBe(2);
    const blocked = run.events.find((event) => event.type === 'dma.blocked');
    expect(blocked?.data).toEqual({ src: 0x2000, dst: 16_382, words: 5, reason: "guest-physical address 0x4000 is outside the VM's memory" });
    expect(run.simulation.vms[1].memoryDigest()).toBe(runChecked(testScenario([guestVm('other', 'x:\n  work 1000\n  jmp x\n', { autostart: false })])).simulation.vms[0].memoryDigest());
  });

  it('refuses a length over the limit', () => {
    const run = runChecked(testScenario([guestVm('g', dma(0, 0x2000, 5000))]));
    expect(run.events.find((event) => event.type === 'dma.blocked')?.data).toMatchObject({ reason: 'length 5000 is not in 0..4096' });
  });

  // The contract edges (the StrykerJS run of issue 11 found each untested: a mutant of each line survived).
  it('blocks a transfer whose source is outside the VM, naming the source address; nothing written', () => {
    const run = runChecked(testScenario([guestVm('g', dma(16_382, 0x2800, 5))]));
    const memory = run.simulation.vms[0].memory;
    expect([0, 1, 2, 3, 4].map((offset) => memory.read(0x2800 + offset))).toEqual([0, 0, 0, 0, 0]);
    expect(memory.read(0x3000)).toBe(2);
    expect(run.events.find((event) => event.type === 'dma.blocked')?.data).toMatchObject({ reason: "guest-physical address 0x4000 is outside the VM's memory" });
    expect(run.events.some((event) => event.type === 'dma.done')).toBe(false);
  });

  it('copies to and from the very first and very last words of the VM (host word 0 included), 0 words and the 4096-word limit', () => {
    // The first VM's guest-physical 0 is host word 0.
    const first = runChecked(testScenario([guestVm('g', dma(0x2000, 0, 2))]));
    expect(first.simulation.vms[0].memory.translate(0)).toBe(0);
    expect(first.events.find((event) => event.type === 'dma.done')?.data).toEqual({ src: 0x2000, dst: 0, words: 2 });
    const fromZero = runChecked(testScenario([guestVm('g', dma(0, 0x2800, 2))]));
    expect(fromZero.events.find((event) => event.type === 'dma.done')?.data).toEqual({ src: 0, dst: 0x2800, words: 2 });
    expect(fromZero.simulation.vms[0].memory.read(0x2800)).toBe(fromZero.simulation.vms[0].memory.read(0));
    const last = runChecked(testScenario([guestVm('g', dma(0x2000, 16_384 - 5, 5))]));
    expect([0, 1, 2, 3, 4].map((offset) => last.simulation.vms[0].memory.read(16_384 - 5 + offset))).toEqual([11, 22, 33, 44, 55]);
    const none = runChecked(testScenario([guestVm('g', dma(0x2000, 0x2800, 0))]));
    expect(none.events.find((event) => event.type === 'dma.done')?.data).toEqual({ src: 0x2000, dst: 0x2800, words: 0 });
    const limit = runChecked(testScenario([guestVm('g', dma(0x1000, 0x2000, 4096))]));
    expect(limit.events.find((event) => event.type === 'dma.done')?.data).toEqual({ src: 0x1000, dst: 0x2000, words: 4096 });
    // From host word 0 to outside: the refusal names the destination, not the source.
    const zeroOut = runChecked(testScenario([guestVm('g', dma(0, 16_384, 1))]));
    expect(zeroOut.events.find((event) => event.type === 'dma.blocked')?.data).toMatchObject({ reason: "guest-physical address 0x4000 is outside the VM's memory" });
    const negative = runChecked(testScenario([guestVm('g', dma(0x2000, 0x2800, -1))]));
    expect(negative.events.find((event) => event.type === 'dma.blocked')?.data).toMatchObject({ reason: 'length -1 is not in 0..4096' });
  });

  it('copies overlapping ranges forwards when the destination is below the source', () => {
    const run = runChecked(testScenario([guestVm('g', dma(0x2002, 0x2000, 3))]));
    const memory = run.simulation.vms[0].memory;
    expect([0, 1, 2, 3, 4].map((offset) => memory.read(0x2000 + offset))).toEqual([33, 44, 55, 44, 55]);
  });

  it('reads back its registers, counts transfers and refusals in its snapshot, and is a device of kind dma', () => {
    const source = `
_start:
  movi r1, 0x2000
  out PORT_DMA_SOURCE, r1
  movi r1, 0x2800
  out PORT_DMA_DESTINATION, r1
  movi r1, 3
  out PORT_DMA_LENGTH, r1
  in r2, PORT_DMA_SOURCE
  st r2, [0x3000]
  in r2, PORT_DMA_DESTINATION
  st r2, [0x3001]
  in r2, PORT_DMA_LENGTH
  st r2, [0x3002]
  out PORT_DMA_GO, r1
  out PORT_DMA_GO, r1
  movi r1, 9999
  out PORT_DMA_LENGTH, r1
  out PORT_DMA_GO, r1
  out PORT_POWER, r0
  hlt
  .org 0x2000
  .word 11, 22, 33
`;
    const run = runChecked(testScenario([guestVm('g', source)]));
    const vm = run.simulation.vms[0];
    expect([vm.memory.read(0x3000), vm.memory.read(0x3001), vm.memory.read(0x3002)]).toEqual([0x2000, 0x2800, 3]);
    const device = vm.io.devices.find((candidate) => candidate.kind === 'dma');
    expect(device?.snapshot()).toMatchObject({ src: 0x2000, dst: 0x2800, words: 9999, status: 2, transfers: 2, blocked: 1 });
  });

  it('under page sharing, a DMA into a merged page copies it first and reading one breaks nothing', () => {
    // Two identical VMs: their pages merge; g then DMAs into its own (merged) page 0x2800 and from
    // merged page 0x1000. The other VM's memory must not change, and only the written page is copied.
    const guest = (delayNs: number) => `
_start:
  work ${delayNs}
${dma(0x1000, 0x2800, 4).split('\n').slice(2, 9).join('\n')}
  work 1000000
  out PORT_POWER, r0
  hlt
  .org 0x1000
  .word 7, 8, 9, 10
`;
    const scenario = testScenario([guestVm('g', guest(400_000)), guestVm('h', guest(5_000_000), { autostart: true })], {
      host: { pcpus: 2, memoryBytes: 16 * 1024 * 1024, pageSharing: { intervalNs: 50_000, pagesPerScan: 64 } },
      run: { timeNs: 2_000_000, instructions: undefined, checkpointEvery: 10_000 },
    });
    const run = runChecked(scenario);
    const [g, h] = run.simulation.vms;
    expect(run.events.find((event) => event.type === 'dma.done' && event.src.startsWith('vm/g/'))).toBeDefined();
    expect(h.memory.read(0x2800)).toBe(0);
    expect([0, 1, 2, 3].map((offset) => g.memory.read(0x2800 + offset))).toEqual([7, 8, 9, 10]);
    const stats = run.simulation.memory?.stats();
    expect(stats?.merges).toBeGreaterThan(0);
    // One copy on write: the destination page (the read of 0x1000's page broke nothing).
    expect(stats?.cowBreaks).toBe(1);
  });
});
