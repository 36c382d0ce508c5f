/**
 * Hypervisor profiles: presets that configure a scenario the way a well-known hypervisor works,
 * as a model (which architecture, which technique, where devices are emulated and what that
 * costs), not a claim of emulating the product. A scenario names one with `profile:` and
 * overrides whatever it wants: a key the file sets wins over the profile. docs/architectures.md
 * gives each profile's sources.
 */
import type { CostName } from '../costs.js';

export interface Profile {
  readonly name: string;
  readonly description: string;
  readonly hostType: 'type1' | 'type2';
  readonly virt: 'full' | 'para' | 'hw' | 'bt';
  readonly paging: 'shadow' | 'nested';
  /** How its block device and NIC are attached by default (the drivers its guests usually run). */
  /** Posted interrupts (APICv/AVIC) for its hardware-assisted VMs. */
  readonly postedInterrupts: boolean;
  readonly devices: { readonly block: 'emulated' | 'paravirtual' | 'passthrough'; readonly nic: 'emulated' | 'paravirtual' | 'passthrough' };
  /** Cost overrides, in source form (cost name without Ns: integer ns). */
  readonly costs: Readonly<Partial<Record<CostName, number>>>;
}

export const PROFILES: Readonly<Record<string, Profile>> = {
  'xen-pv': {
    name: 'xen-pv',
    description: 'Xen, paravirtualized guest: Type 1, hypercalls, split drivers (the I/O backend runs in dom0)',
    hostType: 'type1',
    virt: 'para',
    paging: 'shadow',
    // blkfront/netfront in the guest, blkback/netback in dom0: paravirtual rings.
    postedInterrupts: false,
    devices: { block: 'paravirtual', nic: 'paravirtual' },
    costs: { hypercallNs: 150, ioEmulateNs: 4_000 },
  },
  'xen-hvm': {
    name: 'xen-hvm',
    description: 'Xen, hardware-assisted guest: Type 1, VT-x/EPT, devices emulated by QEMU in dom0',
    hostType: 'type1',
    virt: 'hw',
    paging: 'nested',
    // qemu-dm emulates IDE and an e1000/rtl8139 unless the guest loads PV drivers.
    // Xen turns APIC virtualization (posted interrupts) on where the CPU has it (xen-command-line: apicv, default true).
    postedInterrupts: true,
    devices: { block: 'emulated', nic: 'emulated' },
    costs: { ioEmulateNs: 6_000, mmioEmulateNs: 7_000 },
  },
  'kvm-qemu': {
    name: 'kvm-qemu',
    description: 'KVM with QEMU: the Linux kernel as hypervisor, VT-x/EPT, devices emulated by the QEMU process',
    hostType: 'type1',
    virt: 'hw',
    paging: 'nested',
    // virtio-blk and virtio-net (libvirt's default for Linux guests).
    // kvm_intel's enable_apicv defaults to on: posted interrupts where the CPU has them.
    postedInterrupts: true,
    devices: { block: 'paravirtual', nic: 'paravirtual' },
    costs: { ioEmulateNs: 5_000, mmioEmulateNs: 6_000 },
  },
  'vmware-esxi': {
    name: 'vmware-esxi',
    description: 'VMware ESXi: Type 1, hardware-assisted, devices emulated in the VMkernel',
    hostType: 'type1',
    virt: 'hw',
    paging: 'nested',
    // PVSCSI and VMXNET3, VMware's paravirtual adapters.
    postedInterrupts: false,
    devices: { block: 'paravirtual', nic: 'paravirtual' },
    costs: { ioEmulateNs: 2_000 },
  },
  'hyper-v': {
    name: 'hyper-v',
    description: 'Microsoft Hyper-V: Type 1 with a root partition, hardware-assisted, I/O through the root (VMBus)',
    hostType: 'type1',
    virt: 'hw',
    paging: 'nested',
    // Synthetic storage and network devices over VMBus (storvsc, netvsc).
    postedInterrupts: false,
    devices: { block: 'paravirtual', nic: 'paravirtual' },
    costs: { ioEmulateNs: 4_000 },
  },
  virtualbox: {
    name: 'virtualbox',
    description: 'Oracle VirtualBox: Type 2 on a host OS, hardware-assisted, devices emulated in the host process',
    hostType: 'type2',
    virt: 'hw',
    paging: 'nested',
    // Its defaults: an emulated AHCI controller and an emulated Intel e1000.
    postedInterrupts: false,
    devices: { block: 'emulated', nic: 'emulated' },
    costs: { ioEmulateNs: 3_000 },
  },
};

export const PROFILE_NAMES: readonly string[] = Object.keys(PROFILES);

/**
 * Fills what a profile decides into a raw (parsed YAML) scenario, where the file does not decide
 * it. Leaves anything that is not a well-formed map alone: validation reports it.
 */
export function applyProfile(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const record = raw as Record<string, unknown>;
  const name = record.profile;
  if (typeof name !== 'string' || !Object.hasOwn(PROFILES, name)) return raw;
  const profile = PROFILES[name];
  const host = record.host === undefined ? {} : record.host;
  const costs = record.costs === undefined ? {} : record.costs;
  const isMap = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
  const out: Record<string, unknown> = { ...record };
  if (isMap(host)) out.host = { type: profile.hostType, ...host };
  if (isMap(costs)) {
    const fromProfile = Object.fromEntries(Object.entries(profile.costs).map(([key, value]) => [key.replace(/Ns$/, ''), value]));
    out.costs = { ...fromProfile, ...costs };
  }
  if (Array.isArray(record.vms)) {
    out.vms = record.vms.map((vm: unknown) => {
      if (!isMap(vm)) return vm;
      // Nested paging needs hardware assistance: a VM the file gives another technique pages by shadow tables.
      const virt = vm.virt ?? profile.virt;
      const devices = vm.devices === undefined ? { ...profile.devices } : isMap(vm.devices) ? { ...profile.devices, ...vm.devices } : vm.devices;
      return { virt: profile.virt, paging: virt === 'hw' ? profile.paging : 'shadow', postedInterrupts: virt === 'hw' && profile.postedInterrupts, ...vm, devices };
    });
  }
  return out;
}
