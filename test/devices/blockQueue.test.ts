/**
 * Regression (issue 14): a block command written while the device was busy vanished (no completion,
 * no refusal, no status). The emulated device now queues commands FIFO up to its stated depth and
 * refuses a command beyond it visibly (status FULL, a `blk.refused` event). Service time: latency,
 * seek, transfer from the cost model.
 */
import { describe, expect, it } from 'vitest';
import { BlkStatus, DISK_SECTORS, Irq, SECTOR_WORDS, diskPattern } from '../../src/core/platform.js';
import { guestVm, runChecked, testScenario } from '../../src/testing/index.js';

/** Three read commands back to back (sectors 5, 9, 100), without waiting; the status after each goes to 0x3000+i. */
const BACK_TO_BACK = `
_start:
  movi r3, 0
  movi r4, 5
  movi r5, 0x1000
next:
  out PORT_BLK_SECTOR, r4
  out PORT_BLK_BUFFER, r5
  movi r1, 1
  out PORT_BLK_COMMAND, r1
  in r1, PORT_BLK_COMMAND
  movi r2, 0x3000
  add r2, r2, r3
  st r1, [r2]
  addi r3, r3, 1
  addi r5, r5, ${SECTOR_WORDS}
  movi r6, 1
  beq r3, r6, second
  movi r4, 100
  jmp more
second:
  movi r4, 9
more:
  movi r6, 3
  blt r3, r6, next
wait:
  in r1, PORT_BLK_COMMAND
  movi r2, ${BlkStatus.BUSY}
  beq r1, r2, wait
  movi r2, ${BlkStatus.FULL}
  beq r1, r2, wait
  st r1, [0x3003]
  out PORT_POWER, r0
  hlt
`;

function run(blockQueue?: number, costs: Record<string, number> = {}) {
  const devices = { block: 'emulated', nic: 'emulated', ...(blockQueue === undefined ? {} : { blockQueue }) } as const;
  return runChecked(testScenario([guestVm('g', BACK_TO_BACK, { devices })], { costs }));
}

describe('block device: a command written while busy is queued or refused, never lost', () => {
  it('default depth 32: three commands written back to back all complete, in order, each with its data and interrupt', () => {
    const result = run();
    const memory = result.simulation.vms[0].memory;
    const done = result.events.filter((event) => event.type === 'blk.done');
    expect(done).toHaveLength(3);
    expect(result.events.filter((event) => event.type === 'irq.raise' && event.data.line === Irq.BLOCK)).toHaveLength(3);
    expect(result.events.some((event) => event.type === 'blk.refused')).toBe(false);
    [5, 9, 100].forEach((sector, index) => {
      for (const offset of [0, SECTOR_WORDS - 1]) expect(memory.read(0x1000 + index * SECTOR_WORDS + offset)).toBe(diskPattern(sector, offset));
    });
    // Busy after each write, done at the end.
    expect([0, 1, 2, 3].map((index) => memory.read(0x3000 + index))).toEqual([BlkStatus.BUSY, BlkStatus.BUSY, BlkStatus.BUSY, BlkStatus.DONE]);
    // FIFO, one at a time: completions a service time (50 us + 1 us) apart.
    const times = done.map((event) => event.t);
    expect(times[1] - times[0]).toBe(51_000);
    expect(times[2] - times[1]).toBe(51_000);
  });

  it('depth 2: the third command is refused visibly (status FULL, blk.refused with the reason), the first two complete', () => {
    const result = run(2);
    const memory = result.simulation.vms[0].memory;
    expect(result.events.filter((event) => event.type === 'blk.done')).toHaveLength(2);
    const refused = result.events.filter((event) => event.type === 'blk.refused');
    expect(refused).toHaveLength(1);
    expect(refused[0].data).toMatchObject({ mode: 'emulated', sector: 100, reason: 'the request queue is full (2 requests)' });
    expect([0, 1, 2].map((index) => memory.read(0x3000 + index))).toEqual([BlkStatus.BUSY, BlkStatus.BUSY, BlkStatus.FULL]);
    // The refused command copied nothing.
    expect(memory.read(0x1000 + 2 * SECTOR_WORDS)).not.toBe(diskPattern(100, 0));
    expect(result.simulation.vms[0].block?.queueFull).toBe(1);
  });

  it('seek plus transfer: a request pays diskSeekNs x distance / (sectors - 1) on top of latency and transfer', () => {
    const seekNs = 127_000;
    const result = run(undefined, { diskSeekNs: seekNs });
    const times = result.events.filter((event) => event.type === 'blk.done').map((event) => event.t);
    // 5 -> 9: 4 sectors; 9 -> 100: 91 sectors (1 us per sector of distance here).
    expect(times[1] - times[0]).toBe(51_000 + Math.round((seekNs * 4) / (DISK_SECTORS - 1)));
    expect(times[2] - times[1]).toBe(51_000 + Math.round((seekNs * 91) / (DISK_SECTORS - 1)));
  });
});
