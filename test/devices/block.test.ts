/**
 * The block device, emulated and paravirtual (virtio-like): one exit per batch against at least one
 * per request, the data read, and a buffer outside the VM's memory refused, never copied.
 */
import { describe, expect, it } from 'vitest';
import type { SimEvent } from '../../src/core/events.js';
import { BlkStatus, DISK_SECTORS, Irq, Port, SECTOR_WORDS, VIRTQ_AVAIL, VIRTQ_USED, diskPattern } from '../../src/core/platform.js';
import { Simulation } from '../../src/actors/simulation.js';
import { guestVm, runChecked, testScenario } from '../../src/testing/index.js';

const BLOCK_PORTS: ReadonlySet<number> = new Set([Port.BLK_SECTOR, Port.BLK_BUFFER, Port.BLK_COMMAND, Port.VIRTIO_NOTIFY]);
const N = 8;

function runGuest(name: 'blk-emulated' | 'blk-virtio', requests = N) {
  const devices = { block: name === 'blk-virtio' ? 'paravirtual' : 'emulated', nic: 'emulated' } as const;
  return runChecked(testScenario([{ ...guestVm('g', ''), guest: { kind: 'bundled', name }, params: { REQUESTS: requests }, devices }]));
}

function blockExits(events: readonly SimEvent[]): number {
  return events.filter((event) => event.type === 'exit.io' && BLOCK_PORTS.has(event.data.port)).length;
}

function consoleText(events: readonly SimEvent[]): string[] {
  return events.flatMap((event) => (event.type === 'console.output' ? [event.data.text] : []));
}

describe('block device: emulated and virtio-like', () => {
  it(`a virtio batch of ${N} requests makes one exit where the emulated device makes at least ${N}; both read the right data`, () => {
    const emulated = runGuest('blk-emulated');
    const virtio = runGuest('blk-virtio');
    expect(consoleText(emulated.events)).toEqual([`blk-emulated: ${N} reads, 0 errors`]);
    expect(consoleText(virtio.events)).toEqual([`blk-virtio: ${N} reads, 0 errors`]);
    expect(virtio.simulation.vms[0].state).toBe('shutoff');
    // One notification for the batch (the queue address is written once, before it).
    expect(blockExits(virtio.events)).toBe(1);
    expect(blockExits(emulated.events)).toBeGreaterThanOrEqual(3 * N);
    // One interrupt per batch against one per request.
    const blockIrqs = (events: readonly SimEvent[]) => events.filter((event) => event.type === 'irq.raise' && event.data.line === Irq.BLOCK).length;
    expect(blockIrqs(virtio.events)).toBe(1);
    expect(blockIrqs(emulated.events)).toBe(N);
    expect(virtio.events.filter((event) => event.type === 'blk.done').map((event) => event.data)).toEqual([{ mode: 'virtio', requests: N, refused: 0 }]);
    // The data, checked from outside too: request i read sector (7i + 3) mod 128 into buffers + 128i.
    for (const run of [emulated, virtio]) {
      const vm = run.simulation.vms[0];
      const image = vm.memory;
      const buffers = run === virtio ? 0x1000 + 128 : 0x1000; // after .org 0x1000 (blk-virtio: after its 128-word queue)
      for (let request = 0; request < N; request++) {
        const sector = (7 * request + 3) % DISK_SECTORS;
        for (const offset of [0, 1, SECTOR_WORDS - 1]) expect(image.read(buffers + request * SECTOR_WORDS + offset)).toBe(diskPattern(sector, offset));
      }
    }
    // Fewer exits and less device time: the batch finishes sooner in virtual time.
    const doneAt = (events: readonly SimEvent[]) => events.find((event) => event.type === 'vm.stopped')?.t ?? Infinity;
    expect(doneAt(virtio.events)).toBeLessThan(doneAt(emulated.events));
  });

  it('refuses a descriptor whose buffer is outside the VM, reports it, copies nothing, completes the others', () => {
    // Descriptor 0 reads into RAM, descriptor 1 into the last 10 words of RAM and 118 beyond it.
    const source = `
_start:
  movi r1, queue
  out PORT_VIRTIO_QUEUE, r1
  movi r1, 1
  st r1, [queue]
  movi r1, 5
  st r1, [queue + 1]
  movi r1, 0x2000
  st r1, [queue + 2]
  movi r1, 1
  st r1, [queue + 4]
  movi r1, 6
  st r1, [queue + 5]
  movi r1, 16374
  st r1, [queue + 6]
  movi r1, 0
  st r1, [queue + ${VIRTQ_AVAIL} + 2]
  movi r1, 1
  st r1, [queue + ${VIRTQ_AVAIL} + 3]
  movi r1, 2
  st r1, [queue + ${VIRTQ_AVAIL} + 1]
  movi r1, 1
  st r1, [queue + ${VIRTQ_AVAIL}]      ; no interrupt: poll the used ring
  out PORT_VIRTIO_NOTIFY, r0
poll:
  ld r1, [queue + ${VIRTQ_USED} + 1]
  movi r2, 2
  blt r1, r2, poll
  out PORT_POWER, r0
  hlt
  .org 0x1000
queue: .space 128
`;
    const run = runChecked(testScenario([guestVm('g', source, { devices: { block: 'paravirtual', nic: 'emulated' } })]));
    const memory = run.simulation.vms[0].memory;
    const refused = run.events.filter((event) => event.type === 'blk.refused');
    expect(refused.map((event) => event.data)).toEqual([
      { mode: 'virtio', sector: 6, addr: 16374, reason: "guest-physical address 0x4000 is outside the VM's memory" },
    ]);
    expect(run.events.filter((event) => event.type === 'blk.done').map((event) => event.data)).toEqual([{ mode: 'virtio', requests: 2, refused: 1 }]);
    for (let offset = 0; offset < 10; offset++) expect(memory.read(16374 + offset)).toBe(0);
    expect(memory.read(0x2000)).toBe(diskPattern(5, 0));
    expect(memory.read(0x1000 + 3)).toBe(BlkStatus.DONE);
    expect(memory.read(0x1000 + 7)).toBe(BlkStatus.ERROR);
    // Suppression honoured: the driver asked for no interrupt, and none was raised.
    expect(run.events.some((event) => event.type === 'irq.raise' && event.data.line === Irq.BLOCK)).toBe(false);
    expect(run.simulation.vms[0].state).toBe('shutoff');
  });

  it('an emulated request with a buffer outside the VM is refused: status ERROR, nothing copied', () => {
    const source = `
_start:
  movi r1, 3
  out PORT_BLK_SECTOR, r1
  movi r1, 0x40000000
  out PORT_BLK_BUFFER, r1
  movi r1, 1
  out PORT_BLK_COMMAND, r1
wait:
  in r1, PORT_BLK_COMMAND
  movi r2, ${BlkStatus.BUSY}
  beq r1, r2, wait
  st r1, [0x3000]
  out PORT_POWER, r0
  hlt
`;
    const run = runChecked(testScenario([guestVm('g', source)]));
    expect(run.simulation.vms[0].memory.read(0x3000)).toBe(BlkStatus.ERROR);
    expect(run.events.find((event) => event.type === 'blk.refused')?.data).toMatchObject({ mode: 'emulated', sector: 3, addr: 0x40000000 });
  });
});

describe('block device: costs changed in the middle of a run (a fork\'s --set)', () => {
  it('takes the new disk latency from the next request on', () => {
    const scenario = testScenario([{ ...guestVm('g', ''), guest: { kind: 'bundled', name: 'blk-emulated' }, params: { REQUESTS: 4 }, devices: { block: 'emulated', nic: 'emulated' } }]);
    const completions = (latencyNs: number | undefined) => {
      const simulation = new Simulation({ scenario });
      const done: number[] = [];
      simulation.bus.events$.subscribe((event) => {
        if (event.type === 'blk.done') done.push(event.t);
      });
      if (latencyNs !== undefined) simulation.reconfigure({ ...scenario, costs: { ...scenario.costs, diskLatencyNs: latencyNs } });
      simulation.run();
      return done;
    };
    const before = completions(undefined);
    const slower = completions(1_000_000);
    expect(before).toHaveLength(4);
    expect(slower).toHaveLength(4);
    // Each request waits the latency: four requests, each about 1 ms later than the last.
    expect(slower[3] - slower[0]).toBeGreaterThan(3 * 1_000_000);
    expect(before[3] - before[0]).toBeLessThan(3 * 1_000_000);
  });
});
