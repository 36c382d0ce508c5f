/**
 * The NIC and the virtual switch: two VMs exchange packets intact, a third VM on the same host
 * sees none of their traffic, a send to an unknown MAC is dropped and reported, a transmit buffer
 * outside the VM is refused, and the run replays identically.
 */
import { describe, expect, it } from 'vitest';
import type { SimEvent } from '../../src/core/events.js';
import { Irq, NicStatus } from '../../src/core/platform.js';
import type { VmSpec } from '../../src/core/scenario/schema.js';
import { LogFile, memorySource, replay } from '../../src/replay/index.js';
import { guestVm, runChecked, testScenario } from '../../src/testing/index.js';

const COUNT = 4;

function bundled(name: string, vm: string, params: Record<string, number>, overrides: Partial<VmSpec> = {}): VmSpec {
  return { ...guestVm(vm, ''), guest: { kind: 'bundled', name }, params, ...overrides };
}

/** A VM that polls its NIC's receive ports for a while and stores what it saw at 0x3000. */
const SNIFFER = `
_start:
  movi r5, 0
  movi r6, 0
loop:
  in r1, PORT_NIC_RX_LENGTH
  add r6, r6, r1
  in r1, PORT_NIC_RX_SOURCE
  add r6, r6, r1
  addi r5, r5, 1
  movi r2, 300
  blt r5, r2, loop
  st r6, [0x3000]
  out PORT_POWER, r0
  hlt
`;

function pingPongScenario() {
  return testScenario(
    [
      // MAC 1 pings MAC 2; it starts after the pong VM (whose boot delay is at most 100 us).
      bundled('net-ping', 'a', { PEER: 2, COUNT }, { startNs: 200_000 }),
      bundled('net-pong', 'b', { PEER: 1, COUNT }),
      guestVm('c', SNIFFER),
    ],
    { host: { pcpus: 3, memoryBytes: 16 * 1024 * 1024 } },
  );
}

function consoleOf(events: readonly SimEvent[], vm: string): string[] {
  return events.flatMap((event) => (event.type === 'console.output' && event.src === `vm/${vm}/console` ? [event.data.text] : []));
}

describe('NIC and virtual switch', () => {
  it('two VMs exchange packets intact; a third VM on the host sees no packet and no receive interrupt', () => {
    const run = runChecked(pingPongScenario());
    const { events } = run;
    expect(consoleOf(events, 'a')).toEqual([`net-ping: ${COUNT} packets, 0 errors`]);
    expect(consoleOf(events, 'b')).toEqual([`net-pong: ${COUNT} packets, 0 errors`]);
    const sent = events.filter((event) => event.type === 'net.sent');
    const delivered = events.filter((event) => event.type === 'net.delivered');
    expect(sent).toHaveLength(2 * COUNT);
    expect(delivered.map((event) => [event.src, event.data])).toEqual(
      sent.map((event) => [event.data.dst === 2 ? 'vm/b/nic' : 'vm/a/nic', event.data]),
    );
    // Every delivery comes after its send by at least the link latency plus the words' transmission.
    sent.forEach((event, index) => expect(delivered[index].t - event.t).toBeGreaterThanOrEqual(10_000 + 16 * 3));
    expect(events.some((event) => event.type === 'net.dropped')).toBe(false);
    // The third VM: nothing delivered, no receive interrupt, nothing seen on its ports.
    const [a, b, c] = run.simulation.vms;
    expect(events.filter((event) => event.src.startsWith('vm/c/') && event.type.startsWith('net.'))).toEqual([]);
    expect(events.some((event) => event.type === 'irq.raise' && event.src.startsWith('vm/c/'))).toBe(false);
    expect(events.some((event) => event.type === 'irq.inject' && event.src.startsWith('vm/c/'))).toBe(false);
    expect(c.memory.read(0x3000)).toBe(0);
    expect(c.nic?.received).toBe(0);
    expect(c.state).toBe('shutoff');
    expect([a.nic?.sent, a.nic?.received, b.nic?.sent, b.nic?.received]).toEqual([COUNT, COUNT, COUNT, COUNT]);
    expect(events.filter((event) => event.type === 'irq.raise' && event.data.line === Irq.NET)).toHaveLength(2 * COUNT);
    expect(a.state).toBe('shutoff');
    expect(b.state).toBe('shutoff');
  });

  it('a send to an unknown MAC is dropped by the switch and reported', () => {
    const run = runChecked(testScenario([bundled('net-ping', 'a', { PEER: 9, COUNT: 1 }), guestVm('b', SNIFFER)], { run: { timeNs: 2_000_000, instructions: undefined, checkpointEvery: 10_000 } }));
    const dropped = run.events.filter((event) => event.type === 'net.dropped');
    expect(dropped.map((event) => [event.src, event.data])).toEqual([['vswitch', { src: 1, dst: 9, length: 16, reason: 'unknown destination MAC 9' }]]);
    expect(run.events.some((event) => event.type === 'net.delivered')).toBe(false);
    expect(run.simulation.vswitch.snapshot()).toMatchObject({ dropped: 1, forwarded: 0, inFlight: 0 });
  });

  it('a transmit buffer outside the VM is refused: nothing is sent', () => {
    // 64 KiB of memory: 16384 words; the buffer's last 6 words are beyond it.
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
    const run = runChecked(testScenario([guestVm('a', source), guestVm('b', SNIFFER)]));
    expect(run.simulation.vms[0].memory.read(0x3000)).toBe(NicStatus.ERROR);
    expect(run.events.filter((event) => event.type === 'net.dropped').map((event) => [event.src, event.data])).toEqual([
      ['vm/a/nic', { src: 1, dst: 2, length: 16, reason: "transmit buffer: guest-physical address 0x4000 is outside the VM's memory" }],
    ]);
    expect(run.events.some((event) => event.type === 'net.sent' || event.type === 'net.delivered')).toBe(false);
    expect(run.simulation.vms[1].nic?.received).toBe(0);
  });

  it('the run replays identically', () => {
    const first = runChecked(pingPongScenario(), { log: true });
    const second = runChecked(pingPongScenario(), { log: true });
    expect(second.log).toBe(first.log);
    const result = replay(new LogFile(memorySource(first.log)));
    expect(result.divergence).toBeUndefined();
    expect(result.identical).toBe(true);
  });
});
