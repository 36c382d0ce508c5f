/**
 * Device attach modes: the mode decides which interface the guest sees (the other reads as the
 * open bus); a passthrough device is reached without exits and its DMA goes through the IOMMU,
 * which blocks a transfer outside the VM whole and reports it; the paravirtual NIC moves packets
 * through virtqueues with far fewer exits than the emulated one, keeps VMs' traffic apart and
 * replays byte for byte.
 */
import { describe, expect, it } from 'vitest';
import type { SimEvent } from '../../src/core/events.js';
import { BlkStatus, DISK_SECTORS, Irq, NicStatus, OPEN_BUS, Port, SECTOR_WORDS, diskPattern } from '../../src/core/platform.js';
import type { AttachMode, VmSpec } from '../../src/core/scenario/schema.js';
import { LogFile, memorySource, replay } from '../../src/replay/index.js';
import { guestVm, runChecked, testScenario } from '../../src/testing/index.js';
import { BLOCK_REGISTER_PORTS, BLOCK_VIRTIO_PORTS } from '../../src/actors/devices/block.js';
import { NIC_REGISTER_PORTS, NIC_VIRTIO_PORTS } from '../../src/actors/devices/nic.js';

const N = 8;

function devices(block: AttachMode, nic: AttachMode = 'emulated') {
  return { block, nic } as const;
}

function bundled(vm: string, name: string, params: Record<string, number>, overrides: Partial<VmSpec> = {}): VmSpec {
  return { ...guestVm(vm, ''), guest: { kind: 'bundled', name }, params, ...overrides };
}

function consoleOf(events: readonly SimEvent[], vm: string): string[] {
  return events.flatMap((event) => (event.type === 'console.output' && event.src === `vm/${vm}/console` ? [event.data.text] : []));
}

function exitsOf(events: readonly SimEvent[], vm: string, ports?: readonly number[]): number {
  return events.filter(
    (event) => event.type.startsWith('exit.') && event.src.startsWith(`vm/${vm}/`) && (ports === undefined || (event.type === 'exit.io' && ports.includes(event.data.port))),
  ).length;
}

describe('attach modes decide what the guest sees', () => {
  // Reads one port of each interface of both devices and stores them at 0x3000..0x3003.
  const PROBE = `
_start:
  in r1, PORT_BLK_COMMAND
  st r1, [0x3000]
  in r1, PORT_VIRTIO_QUEUE
  st r1, [0x3001]
  in r1, PORT_NIC_RX_LENGTH
  st r1, [0x3002]
  in r1, PORT_VIRTIO_NET_RX_QUEUE
  st r1, [0x3003]
  in r1, PORT_NIC_MAC
  st r1, [0x3004]
  out PORT_POWER, r0
  hlt
`;
  const probe = (block: AttachMode, nic: AttachMode) => {
    const run = runChecked(testScenario([guestVm('g', PROBE, { devices: devices(block, nic) })]));
    const memory = run.simulation.vms[0].memory;
    return [0, 1, 2, 3, 4].map((offset) => memory.read(0x3000 + offset));
  };

  it('emulated and passthrough expose the register files, paravirtual the queues; the rest is the open bus; the MAC is always there', () => {
    expect(probe('emulated', 'emulated')).toEqual([BlkStatus.IDLE, OPEN_BUS, 0, OPEN_BUS, 1]);
    expect(probe('passthrough', 'passthrough')).toEqual([BlkStatus.IDLE, OPEN_BUS, 0, OPEN_BUS, 1]);
    expect(probe('paravirtual', 'paravirtual')).toEqual([OPEN_BUS, 0, OPEN_BUS, 0, 1]);
    expect(probe('paravirtual', 'emulated')).toEqual([OPEN_BUS, 0, 0, OPEN_BUS, 1]);
  });

  it('the port sets of the two interfaces do not overlap except for the MAC', () => {
    expect(BLOCK_REGISTER_PORTS.filter((port) => BLOCK_VIRTIO_PORTS.includes(port))).toEqual([]);
    expect(NIC_REGISTER_PORTS.filter((port) => NIC_VIRTIO_PORTS.includes(port))).toEqual([Port.NIC_MAC]);
  });
});

describe('passthrough', () => {
  it(`the block device's register file is reached without exits: ${N} requests, 0 block exits, the data right, sooner than emulated`, () => {
    const run = (mode: AttachMode) => runChecked(testScenario([bundled('g', 'blk-emulated', { REQUESTS: N }, { devices: devices(mode) })]));
    const emulated = run('emulated');
    const passthrough = run('passthrough');
    expect(consoleOf(passthrough.events, 'g')).toEqual([`blk-emulated: ${N} reads, 0 errors`]);
    expect(exitsOf(passthrough.events, 'g', BLOCK_REGISTER_PORTS)).toBe(0);
    expect(exitsOf(emulated.events, 'g', BLOCK_REGISTER_PORTS)).toBe(4 * N);
    // Every access still happened, on the device, without the monitor.
    expect(passthrough.simulation.vms[0].io.directAccesses).toBe(4 * N);
    expect(passthrough.simulation.vms[0].block?.passthroughRequests).toBe(N);
    expect(passthrough.events.filter((event) => event.type === 'blk.done').map((event) => event.data.mode)).toEqual(Array(N).fill('passthrough'));
    // Interrupts still go through the VM's (emulated) interrupt controller.
    expect(passthrough.events.filter((event) => event.type === 'irq.raise' && event.data.line === Irq.BLOCK)).toHaveLength(N);
    const memory = passthrough.simulation.vms[0].memory;
    for (let request = 0; request < N; request++) {
      const sector = (7 * request + 3) % DISK_SECTORS;
      expect(memory.read(0x1000 + request * SECTOR_WORDS + SECTOR_WORDS - 1)).toBe(diskPattern(sector, SECTOR_WORDS - 1));
    }
    const doneAt = (events: readonly SimEvent[]) => events.find((event) => event.type === 'vm.stopped')?.t ?? Infinity;
    expect(doneAt(passthrough.events)).toBeLessThan(doneAt(emulated.events));
    // The access time is the guest's own time, not virtualization overhead.
    const overhead = (r: typeof emulated) => r.simulation.vms[0].vcpus[0].counters.overheadNs;
    expect(overhead(passthrough)).toBeLessThan(overhead(emulated));
  });

  // Reads sector 3 into a buffer at ADDRESS through the register file, stores the status at 0x3000.
  const dmaGuest = (address: number) => `
_start:
  movi r1, 3
  out PORT_BLK_SECTOR, r1
  movi r1, ${address}
  out PORT_BLK_BUFFER, r1
  movi r1, 1
  out PORT_BLK_COMMAND, r1
wait:
  in r1, PORT_BLK_COMMAND
  movi r2, ${BlkStatus.BUSY}
  beq r1, r2, wait
  st r1, [0x3000]
  movi r1, 1
  st r1, [0x3001]                ; still running after the fault
  out PORT_POWER, r0
  hlt
`;
  // A VM whose memory is next to the first one's in host memory; it only sleeps.
  const BYSTANDER = `
_start:
  movi r1, 2000000
  out PORT_TIMER_ONESHOT, r1
  movi r1, vectors
  csrw ivt, r1
  sti
  hlt
  out PORT_POWER, r0
  hlt
on_timer:
  iret
vectors:
  .space VEC_IRQ_BASE + IRQ_TIMER
  .word on_timer
  .space VECTOR_COUNT - (VEC_IRQ_BASE + IRQ_TIMER) - 1
`;
  const dmaRun = (address: number) =>
    runChecked(testScenario([guestVm('a', dmaGuest(address), { devices: devices('passthrough') }), guestVm('b', BYSTANDER)]), { log: true });

  it('a passthrough DMA outside the VM is blocked whole and reported; the guest sees ERROR and runs on; the other VM is untouched', () => {
    // 64 KiB: 16384 words. The buffer's first 10 words are the VM's last ones, the rest beyond it.
    for (const address of [16374, 0x4000, 0x7fff_0000]) {
      const run = dmaRun(address);
      const [a, b] = run.simulation.vms;
      const faults = run.events.filter((event) => event.type === 'iommu.fault');
      const first = Math.max(address, 0x4000);
      expect(faults.map((event) => [event.src, event.data])).toEqual([
        ['vm/a/iommu', { device: 'vm/a/block', addr: first, access: 'write', reason: `DMA write of guest-physical address 0x${first.toString(16)} is outside the VM's memory` }],
      ]);
      expect(run.log).toContain('"type":"iommu.fault"');
      expect(a.memory.read(0x3000)).toBe(BlkStatus.ERROR);
      expect(a.memory.read(0x3001)).toBe(1);
      expect(a.state).toBe('shutoff');
      // Nothing copied: the words of the buffer inside the VM are still zero.
      for (let offset = address; offset < 0x4000; offset++) expect(a.memory.read(offset)).toBe(0);
      expect(run.events.filter((event) => event.type === 'blk.done').map((event) => event.data)).toEqual([{ mode: 'passthrough', requests: 1, refused: 1 }]);
      expect(a.iommu.faults).toBe(1);
      // The bystander's memory is what it is in a run where the DMA stays inside the VM.
      const inside = dmaRun(0x2000);
      expect(inside.simulation.vms[0].memory.read(0x2000)).toBe(diskPattern(3, 0));
      expect(b.memoryDigest()).toBe(inside.simulation.vms[1].memoryDigest());
      expect(b.state).toBe('shutoff');
    }
  });

  it('a passthrough NIC: ping and pong exchange packets with no NIC exit; a transmit buffer outside the VM is an IOMMU fault', () => {
    const pt = devices('emulated', 'passthrough');
    const run = runChecked(
      testScenario([bundled('a', 'net-ping', { PEER: 2, COUNT: 4 }, { startNs: 200_000, devices: pt }), bundled('b', 'net-pong', { PEER: 1, COUNT: 4 }, { devices: pt })], {
        host: { pcpus: 2, memoryBytes: 16 * 1024 * 1024 },
      }),
    );
    expect(consoleOf(run.events, 'a')).toEqual(['net-ping: 4 packets, 0 errors']);
    expect(consoleOf(run.events, 'b')).toEqual(['net-pong: 4 packets, 0 errors']);
    expect(exitsOf(run.events, 'a', NIC_REGISTER_PORTS) + exitsOf(run.events, 'b', NIC_REGISTER_PORTS)).toBe(0);

    const source = `
_start:
  movi r1, 2
  out PORT_NIC_DEST, r1
  movi r1, 16374
  out PORT_NIC_BUFFER, r1
  movi r1, 16
  out PORT_NIC_LENGTH, r1
  out PORT_NIC_SEND, r1
  in r1, PORT_NIC_SEND
  st r1, [0x3000]
  out PORT_POWER, r0
  hlt
`;
    const refused = runChecked(testScenario([guestVm('a', source, { devices: pt }), guestVm('b', 'out PORT_POWER, r0\nhlt\n')]));
    expect(refused.simulation.vms[0].memory.read(0x3000)).toBe(NicStatus.ERROR);
    expect(refused.events.filter((event) => event.type === 'iommu.fault').map((event) => event.data)).toEqual([
      { device: 'vm/a/nic', addr: 0x4000, access: 'read', reason: "DMA read of guest-physical address 0x4000 is outside the VM's memory" },
    ]);
    expect(refused.events.some((event) => event.type === 'net.sent')).toBe(false);
  });
});

describe('paravirtual NIC', () => {
  const COUNT = 8;
  const pingPong = (mode: 'emulated' | 'paravirtual', sniffer = true) => {
    const pv = mode === 'paravirtual';
    const nic = devices('emulated', mode);
    const vms = [
      bundled('a', pv ? 'net-ping-pv' : 'net-ping', { PEER: 2, COUNT }, { startNs: 200_000, devices: nic }),
      bundled('b', pv ? 'net-pong-pv' : 'net-pong', { PEER: 1, COUNT }, { devices: nic }),
    ];
    // A third VM on the same switch that listens with its own posted buffers.
    if (sniffer) vms.push(bundled('c', pv ? 'net-pong-pv' : 'net-pong', { PEER: 1, COUNT: 1 }, { devices: nic }));
    return testScenario(vms, { host: { pcpus: 3, memoryBytes: 16 * 1024 * 1024 }, run: { timeNs: 5_000_000, instructions: undefined, checkpointEvery: 500 } });
  };

  it(`${COUNT} packets each way: both sides check every word; far fewer exits per packet than the emulated NIC`, () => {
    const emulated = runChecked(pingPong('emulated', false));
    const paravirtual = runChecked(pingPong('paravirtual', false));
    expect(consoleOf(paravirtual.events, 'a')).toEqual([`net-ping-pv: ${COUNT} packets, 0 errors`]);
    expect(consoleOf(paravirtual.events, 'b')).toEqual([`net-pong-pv: ${COUNT} packets, 0 errors`]);
    expect(consoleOf(emulated.events, 'a')).toEqual([`net-ping: ${COUNT} packets, 0 errors`]);
    const packets = 2 * COUNT;
    const perPacket = (events: readonly SimEvent[], ports?: readonly number[]) => (exitsOf(events, 'a', ports) + exitsOf(events, 'b', ports)) / packets;
    // The NIC's own exits: one notification per batch against at least five port accesses a packet.
    expect(perPacket(emulated.events, NIC_REGISTER_PORTS)).toBeGreaterThanOrEqual(5);
    expect(perPacket(paravirtual.events, NIC_VIRTIO_PORTS)).toBeLessThanOrEqual(0.5);
    // All exits but the console's (interrupt handling, hlt, privileged instructions included).
    const notConsole = (events: readonly SimEvent[]) => events.filter((event) => !(event.type === 'exit.io' && event.data.port === Port.CONSOLE_DATA));
    expect(perPacket(notConsole(paravirtual.events)) * 4).toBeLessThan(perPacket(notConsole(emulated.events)));
    // One notification for the ping's whole batch; one receive interrupt per batch of arrivals.
    const [a, b] = paravirtual.simulation.vms;
    expect(a.nic?.notifications).toBe(1);
    expect(paravirtual.events.filter((event) => event.type === 'irq.raise' && event.src === 'vm/b/nic')).toHaveLength(b.nic?.batches ?? -1);
    expect(b.nic?.batches).toBeLessThan(COUNT);
    // Transmit interrupts were suppressed by both drivers: every raise is a receive batch.
    expect(paravirtual.events.filter((event) => event.type === 'irq.raise' && event.data.line === Irq.NET)).toHaveLength((a.nic?.batches ?? -1) + (b.nic?.batches ?? -1));
  });

  it('a third VM on the switch sees none of the traffic (paravirtual and emulated)', () => {
    for (const mode of ['paravirtual', 'emulated'] as const) {
      const run = runChecked(pingPong(mode));
      const c = run.simulation.vms[2];
      expect(consoleOf(run.events, 'a')).toEqual([`net-ping${mode === 'paravirtual' ? '-pv' : ''}: ${COUNT} packets, 0 errors`]);
      expect(run.events.filter((event) => event.src.startsWith('vm/c/') && event.type.startsWith('net.'))).toEqual([]);
      expect(run.events.some((event) => event.type === 'irq.raise' && event.src.startsWith('vm/c/'))).toBe(false);
      expect(c.nic?.received).toBe(0);
      expect(c.state).toBe('blocked');
    }
  });

  it('a paravirtual run replays byte for byte', () => {
    const first = runChecked(pingPong('paravirtual'), { log: true });
    const second = runChecked(pingPong('paravirtual'), { log: true });
    expect(second.log).toBe(first.log);
    const result = replay(new LogFile(memorySource(first.log)));
    expect(result.divergence).toBeUndefined();
    expect(result.identical).toBe(true);
  });

  it('a packet that finds no posted buffer waits in the NIC; a notification of the receive queue delivers it', () => {
    // Sets up the receive queue without buffers, waits, then posts one buffer and notifies.
    const receiver = `
  .equ VQ_AVAIL, 64
  .equ VQ_USED, 82
_start:
  movi r1, rxq
  out PORT_VIRTIO_NET_RX_QUEUE, r1
  movi r1, 1
  st r1, [rxq + VQ_AVAIL]            ; no interrupts: this driver polls
  movi r3, 0
spin:                                ; about 900 us of instructions
  addi r3, r3, 1
  movi r2, 300000
  blt r3, r2, spin
  ld r1, [rxq + VQ_USED]
  st r1, [0x3000]                    ; the flags: NO_NOTIFY cleared, a packet waits
  movi r1, 0x2000
  st r1, [rxq + 1]
  movi r1, 16
  st r1, [rxq + 2]
  movi r1, 1
  st r1, [rxq + VQ_AVAIL + 1]
  movi r1, 0
  out PORT_VIRTIO_NET_NOTIFY, r1
poll:
  ld r1, [rxq + VQ_USED + 1]
  jz r1, poll
  ld r1, [rxq + VQ_USED]
  st r1, [0x3001]                    ; NO_NOTIFY set again: nothing waits
  out PORT_POWER, r0
  hlt
  .org 0x1000
rxq: .space 128
`;
    const sender = `
_start:
  movi r1, 1
  out PORT_NIC_DEST, r1
  movi r1, data
  out PORT_NIC_BUFFER, r1
  movi r1, 4
  out PORT_NIC_LENGTH, r1
  out PORT_NIC_SEND, r1
  out PORT_POWER, r0
  hlt
data: .word 11, 22, 33, 44
`;
    const run = runChecked(
      testScenario([guestVm('r', receiver, { devices: devices('emulated', 'paravirtual') }), guestVm('s', sender, { startNs: 200_000 })], {
        host: { pcpus: 2, memoryBytes: 16 * 1024 * 1024 },
      }),
    );
    const r = run.simulation.vms[0];
    expect(r.state).toBe('shutoff');
    expect(r.memory.read(0x3000)).toBe(0);
    expect(r.memory.read(0x3001)).toBe(1);
    expect([0, 1, 2, 3].map((offset) => r.memory.read(0x2000 + offset))).toEqual([11, 22, 33, 44]);
    // The device wrote the source MAC, the length and the status into the descriptor.
    expect([r.memory.read(0x1000), r.memory.read(0x1002), r.memory.read(0x1003)]).toEqual([2, 4, NicStatus.DONE]);
    expect(r.nic?.notifications).toBe(1);
    expect(run.events.some((event) => event.type === 'irq.raise' && event.src === 'vm/r/nic')).toBe(false);
  });
});
