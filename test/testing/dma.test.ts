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
});
