import { describe, expect, it } from 'vitest';
import { loadScenario, ScenarioError } from '../../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { compareArchitectures } from '../../src/cli/compareArch.js';
import { PROFILE_NAMES } from '../../src/core/scenario/profiles.js';

const load = (lines: string[]) => loadScenario(lines.join('\n'), { file: 'p.yaml', guests: BUNDLED_GUEST_NAMES });

describe('hypervisor profiles', () => {
  it('configure the host type, each VM technique and paging, and the device costs', () => {
    const s = load(['name: p', 'profile: virtualbox', 'vms:', '  - name: a', '    guest: kernel']);
    expect(s.host.type).toBe('type2');
    expect(s.vms[0].virt).toBe('hw');
    expect(s.vms[0].paging).toBe('nested');
    expect(s.costs.ioEmulateNs).toBe(3_000);
  });

  it('yield to anything the file sets itself', () => {
    const s = load(['name: p', 'profile: kvm-qemu', 'host: { type: type2 }', 'costs: { ioEmulate: 1us }', 'vms:', '  - name: a', '    guest: kernel', '    virt: full']);
    expect(s.host.type).toBe('type2');
    expect(s.vms[0].virt).toBe('full');
    expect(s.vms[0].paging).toBe('shadow');
    expect(s.costs.ioEmulateNs).toBe(1_000);
  });

  it('attach devices the way the product does by default; a VM may set its own', () => {
    const modes = (profile: string) => load(['name: p', `profile: ${profile}`, 'vms:', '  - name: a', '    guest: kernel']).vms[0].devices;
    for (const profile of ['xen-pv', 'kvm-qemu', 'vmware-esxi', 'hyper-v']) expect(modes(profile)).toEqual({ block: 'paravirtual', nic: 'paravirtual' });
    for (const profile of ['xen-hvm', 'virtualbox']) expect(modes(profile)).toEqual({ block: 'emulated', nic: 'emulated' });
    const own = load(['name: p', 'profile: kvm-qemu', 'vms:', '  - name: a', '    guest: kernel', '    devices: { nic: passthrough }']);
    expect(own.vms[0].devices).toEqual({ block: 'paravirtual', nic: 'passthrough' });
    expect(load(['name: p', 'vms:', '  - name: a', '    guest: kernel']).vms[0].devices).toEqual({ block: 'emulated', nic: 'emulated' });
  });

  it('reject an unknown attach mode, saying what was expected', () => {
    expect(() => load(['name: p', 'vms:', '  - name: a', '    guest: kernel', '    devices: { block: virtio }'])).toThrow(
      /vms\[0\]\.devices\.block: expected an attach mode for the block device, one of: emulated, paravirtual, passthrough, none, got 'virtio'/,
    );
  });

  it('report an unknown profile with the known ones', () => {
    expect(() => load(['name: p', 'profile: qemu-tcg', 'vms:', '  - name: a', '    guest: kernel'])).toThrow(ScenarioError);
    try {
      load(['name: p', 'profile: qemu-tcg', 'vms:', '  - name: a', '    guest: kernel']);
    } catch (error) {
      expect((error as Error).message).toMatch(/^p\.yaml:2:10: profile: .*xen-pv/);
    }
  });

  it('compare side by side, each row its own model', () => {
    const rows = compareArchitectures(undefined, { profile: PROFILE_NAMES.join(',') });
    expect(rows.map((row) => row.config)).toEqual(['bare machine', ...PROFILE_NAMES.map((name) => `profile ${name}`)]);
    const io = (config: string) => rows.find((row) => row.config === config)?.vms.find((vm) => vm.vm === 'io');
    // The paravirtual model makes the fewest exits; the hosted one is slowest on I/O.
    expect(io('profile xen-pv')?.exits).toBeLessThan(io('profile kvm-qemu')?.exits as number);
    expect(io('profile virtualbox')?.completionNs as number).toBeGreaterThan(io('profile vmware-esxi')?.completionNs as number);
  });
});
