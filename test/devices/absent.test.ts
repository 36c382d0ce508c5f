/**
 * Attach what the scenario declares (issue 13): a VM whose scenario says `block: none` or
 * `nic: none` has no such device actor at all. A guest that touches the absent device's ports
 * reads the open bus and its writes are lost, as with an empty slot on real hardware; the run goes
 * on, and its log shows no event of the device.
 */
import { describe, expect, it } from 'vitest';
import { OPEN_BUS } from '../../src/core/platform.js';
import { guestVm, runChecked, testScenario } from '../../src/testing/index.js';

// Writes a block command and a NIC send, then reads one port of each interface of both devices.
const PROBE = `
_start:
  movi r1, 1
  out PORT_BLK_COMMAND, r1
  out PORT_NIC_SEND, r1
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

describe('a device the scenario does not declare is absent', () => {
  it('block: none and nic: none: no device actor, the ports read as the open bus, the guest powers off normally', () => {
    const run = runChecked(testScenario([guestVm('g', PROBE, { devices: { block: 'none', nic: 'none' } })]));
    const vm = run.simulation.vms[0];
    expect(vm.block).toBeNull();
    expect(vm.nic).toBeNull();
    expect(vm.io.devices.map((device) => device.kind)).not.toContain('block');
    expect(vm.io.devices.map((device) => device.kind)).not.toContain('nic');
    expect([0, 1, 2, 3, 4].map((offset) => vm.memory.read(0x3000 + offset))).toEqual([OPEN_BUS, OPEN_BUS, OPEN_BUS, OPEN_BUS, OPEN_BUS]);
    expect(run.events.filter((event) => event.src === 'vm/g/block' || event.src === 'vm/g/nic')).toEqual([]);
    expect(vm.state).toBe('shutoff');
  });

  it('one VM without a disk beside one with: only the second has a block device', () => {
    const run = runChecked(
      testScenario([guestVm('a', PROBE, { devices: { block: 'none', nic: 'emulated' } }), guestVm('b', PROBE, { devices: { block: 'emulated', nic: 'emulated' } })]),
    );
    const [a, b] = run.simulation.vms;
    expect(a.block).toBeNull();
    expect(b.block?.kind).toBe('block');
    expect(a.nic?.kind).toBe('nic');
    expect(a.memory.read(0x3000)).toBe(OPEN_BUS);
    expect(b.memory.read(0x3000)).not.toBe(OPEN_BUS);
  });
});
