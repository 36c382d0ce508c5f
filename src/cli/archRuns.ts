/**
 * The runs behind `vmmsim compare --arch --virt --paging --io --interrupts --profile`: the
 * configurations to compare and one run of the scenario under each, measured into ArchRows.
 * Free of the file system and the terminal (compareArch.ts reads the scenario and prints), so the
 * web view runs the same comparison in its worker and shows the same numbers.
 */
import { Simulation } from '../actors/simulation.js';
import type { RunSummary } from '../actors/summary.js';
import { EXIT_REASONS } from '../core/events.js';
import type { AttachMode, DeviceAttachments, HypervisorType, PagingMode, Scenario, VirtTechnique } from '../core/scenario/schema.js';
import { Port } from '../core/platform.js';
import { BLOCK_REGISTER_PORTS, BLOCK_VIRTIO_PORTS } from '../actors/devices/block.js';
import { NIC_REGISTER_PORTS, NIC_VIRTIO_PORTS } from '../actors/devices/nic.js';
import type { CostName } from '../core/costs.js';
import { PROFILES } from '../core/scenario/profiles.js';

/** Wraps building a simulation (the CLI turns guest assembly errors into input errors there). */
export type GuestErrors = <T>(build: () => T) => T;

export interface ArchRow {
  /** `bare`, or `type1/full` and so on. */
  readonly config: string;
  readonly arch: HypervisorType | 'bare';
  readonly virt: VirtTechnique | 'none';
  /** How guest paging is virtualized (hardware-assisted VMs can use either). */
  readonly paging: PagingMode;
  /** The device attach mode every VM had (with --io), or null when the scenario's own. */
  readonly io: AttachMode | null;
  readonly vms: readonly ArchVmResult[];
}

export interface ArchVmResult {
  readonly vm: string;
  readonly guest: string;
  readonly instructions: number;
  readonly exits: number;
  readonly exitsPerKiloInstruction: number;
  readonly exitsByReason: Readonly<Record<string, number>>;
  readonly consoleChars: number;
  /** Virtual time the VM used (running guest code + the monitor's work for it). */
  readonly busyNs: number;
  readonly overheadNs: number;
  /** busyNs per console character, when it wrote any. */
  readonly nsPerConsoleChar: number | null;
  /** Guest instructions per microsecond of busy time. */
  readonly instructionsPerUs: number;
  /** When it powered off, if it did. */
  readonly completionNs: number | null;
  /** Slowdown against the bare machine: completion time ratio when both finished, else throughput ratio. */
  readonly slowdown: number | null;
  /** I/O operations: block requests completed plus packets sent and received. */
  readonly ioOperations: number;
  /** Exits on the block device's and the NIC's ports. */
  readonly deviceExits: number;
  /** Every exit except the console's (the guests' report line is not the I/O measured). */
  readonly ioExits: number;
  /** deviceExits, ioExits and busyNs per I/O operation, when it made any. */
  readonly deviceExitsPerIo: number | null;
  readonly exitsPerIo: number | null;
  readonly busyNsPerIo: number | null;
}

/** The guest each attach mode needs, for the bundled I/O guests: register-file drivers or paravirtual ones. */
const PARAVIRTUAL_GUEST: Readonly<Record<string, string>> = { 'blk-emulated': 'blk-virtio', 'net-ping': 'net-ping-pv', 'net-pong': 'net-pong-pv' };
const REGISTER_GUEST: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(PARAVIRTUAL_GUEST).map(([register, pv]) => [pv, register]));

/** The bundled guest that drives the devices attached as `devices` (the same guest when it does no such I/O). */
function guestFor(guest: Scenario['vms'][number]['guest'], devices: DeviceAttachments): Scenario['vms'][number]['guest'] {
  if (guest.kind !== 'bundled') return guest;
  const usesNic = guest.name.startsWith('net-');
  const mode = usesNic ? devices.nic : devices.block;
  const name = mode === 'paravirtual' ? PARAVIRTUAL_GUEST[guest.name] ?? guest.name : REGISTER_GUEST[guest.name] ?? guest.name;
  return { kind: 'bundled', name };
}

const DEVICE_PORTS: ReadonlySet<number> = new Set([...BLOCK_REGISTER_PORTS, ...BLOCK_VIRTIO_PORTS, ...NIC_REGISTER_PORTS, ...NIC_VIRTIO_PORTS]);


export interface ArchConfig {
    arch: HypervisorType | 'bare';
    virt: VirtTechnique | 'none';
    paging: PagingMode;
    label: string;
    costs?: Partial<Record<CostName, number>>;
    io: AttachMode | null;
    posted?: boolean;
}

/** What to compare, as the command's options give it (lists already checked). */
export interface ArchLists {
  readonly archs: readonly HypervisorType[];
  /** Whether --arch was given (with profiles and no --arch, only the profiles are compared). */
  readonly archGiven: boolean;
  readonly virts: readonly VirtTechnique[];
  readonly pagings: readonly PagingMode[] | undefined;
  readonly ios: readonly AttachMode[] | undefined;
  readonly interrupts: readonly ('exit' | 'posted')[] | undefined;
  readonly profiles: readonly string[];
}

/** The configurations compared, the bare machine first. */
export function archConfigs(lists: ArchLists): ArchConfig[] {
  const { archs, virts, pagings, ios, interrupts, profiles } = lists;
  type Config = ArchConfig;
  // The bare machine drives the real devices' registers directly (as passthrough does, at its cost).
  const configs: Config[] = [{ arch: 'bare', virt: 'none', paging: 'native', label: 'bare machine', io: ios === undefined ? null : 'emulated' }];
  for (const name of profiles) {
    const profile = PROFILES[name];
    configs.push({ arch: profile.hostType, virt: profile.virt, paging: profile.paging, label: `profile ${name}`, costs: profile.costs, io: ios === undefined ? null : profile.devices.block, posted: profile.postedInterrupts });
  }
  for (const arch of profiles.length > 0 && !lists.archGiven ? [] : archs) {
    for (const virt of virts) {
      // Nested paging needs hardware assistance; the other techniques virtualize paging with shadow tables.
      const variants: { paging: PagingMode; label: string }[] = [];
      if (virt !== 'hw') variants.push({ paging: 'shadow', label: `${arch}/${virt}` });
      else if (pagings === undefined) variants.push({ paging: 'nested', label: `${arch}/hw` });
      else for (const paging of pagings) variants.push({ paging, label: `${arch}/hw/${paging}` });
      // Interrupt delivery to a running vCPU (hw only): each listed way, or the scenario's own.
      const deliveries: { posted: boolean | undefined; suffix: string }[] =
        virt === 'hw' && interrupts !== undefined ? interrupts.map((way) => ({ posted: way === 'posted', suffix: `/${way}` })) : [{ posted: undefined, suffix: '' }];
      for (const variant of variants) {
        for (const { posted, suffix } of deliveries) {
          if (ios === undefined) configs.push({ arch, virt, paging: variant.paging, label: `${variant.label}${suffix}`, io: null, posted });
          else for (const io of ios) configs.push({ arch, virt, paging: variant.paging, label: `${variant.label}/${io}${suffix}`, io, posted });
        }
      }
    }
  }
  return configs;
}

function configure(
  base: Scenario,
  arch: HypervisorType | 'bare',
  virt: VirtTechnique | 'none',
  paging: PagingMode,
  profileCosts: Partial<Record<CostName, number>> = {},
  devices: DeviceAttachments | undefined = undefined,
  posted: boolean | undefined = undefined,
): Scenario {
  // The bare machine is the scenario with host.type bare: the Simulation applies bareMachine
  // (technique.ts) itself, as for a scenario file that asks for it; only the devices are set here.
  if (arch === 'bare') {
    return { ...base, host: { ...base.host, type: 'bare' }, vms: devices === undefined ? base.vms : base.vms.map((vm) => ({ ...vm, devices, guest: guestFor(vm.guest, devices) })) };
  }
  return {
    ...base,
    host: { ...base.host, type: arch, load: base.host.load ?? 0 },
    costs: { ...profileCosts, ...base.costs },
    vms: base.vms.map((vm) => {
      const technique = virt as VirtTechnique;
      const usesKernel = vm.guest.kind === 'bundled' && vm.guest.name === 'kernel';
      const guest = technique === 'para' && usesKernel ? { kind: 'bundled' as const, name: 'kernel-pv' } : vm.guest;
      return {
        ...vm,
        virt: technique,
        postedInterrupts: technique === 'hw' && (posted ?? vm.postedInterrupts ?? false),
        paging,
        ...(devices === undefined ? { guest } : { devices, guest: guestFor(guest, devices) }),
      };
    }),
  };
}

interface Measured {
  readonly summary: RunSummary;
  readonly stopped: Map<string, number>;
  readonly chars: Map<string, number>;
  /** Per VM: exits on device ports, exits on the console, I/O operations. */
  readonly deviceExits: Map<string, number>;
  readonly consoleExits: Map<string, number>;
  readonly ioOperations: Map<string, number>;
}

function measure(scenario: Scenario, readProgram: (path: string) => string, scenarioFile: string, wrap: GuestErrors): Measured {
  const stopped = new Map<string, number>();
  const deviceExits = new Map<string, number>();
  const consoleExits = new Map<string, number>();
  const bump = (counts: Map<string, number>, src: string) => {
    const vm = src.slice(3, src.indexOf('/', 3));
    counts.set(vm, (counts.get(vm) ?? 0) + 1);
  };
  const simulation = wrap(
    () =>
      new Simulation({
        scenario,
        readProgram,
        scenarioFile,
        sink: (event) => {
          if (event.type === 'vm.stopped') stopped.set(event.src.slice(3), event.t);
          else if (event.type === 'exit.io') {
            if (DEVICE_PORTS.has(event.data.port)) bump(deviceExits, event.src);
            else if (event.data.port === Port.CONSOLE_DATA) bump(consoleExits, event.src);
          }
        },
      }),
  );
  const summary = simulation.run();
  const chars = new Map(simulation.vms.map((vm) => [vm.name, vm.console.charsWritten]));
  const ioOperations = new Map(
    simulation.vms.map((vm) => [vm.name, (vm.block === null ? 0 : vm.block.emulatedRequests + vm.block.virtioRequests + vm.block.passthroughRequests) + (vm.nic === null ? 0 : vm.nic.sent + vm.nic.received)]),
  );
  return { summary, stopped, chars, deviceExits, consoleExits, ioOperations };
}

/** One run of `base` under each configuration, measured (the bare machine is the reference for slowdowns). */
export function archRows(base: Scenario, configs: readonly ArchConfig[], readProgram: (path: string) => string, scenarioFile: string, wrap: GuestErrors = (build) => build()): ArchRow[] {
  const rows: ArchRow[] = [];
  let bare: ArchRow | undefined;
  for (const config of configs) {
    const devices = config.io === null ? undefined : { block: config.io, nic: config.io };
    const scenario = configure(base, config.arch, config.virt, config.paging, config.costs, devices, config.posted);
    const measured = measure(scenario, readProgram, scenarioFile, wrap);
    const { summary, stopped, chars } = measured;
    const vms = summary.vms.map((vm, index): ArchVmResult => {
      const instructions = vm.vcpus.reduce((sum, vcpu) => sum + vcpu.instructions, 0);
      const exitsByReason: Record<string, number> = {};
      for (const reason of EXIT_REASONS) {
        const count = vm.vcpus.reduce((sum, vcpu) => sum + vcpu.exits[reason], 0);
        if (count > 0 && config.arch !== 'bare') exitsByReason[reason] = count;
      }
      const exits = config.arch === 'bare' ? 0 : Object.values(exitsByReason).reduce((sum, count) => sum + count, 0);
      const busyNs = vm.vcpus.reduce((sum, vcpu) => sum + vcpu.cpuNs + vcpu.overheadNs, 0);
      const overheadNs = vm.vcpus.reduce((sum, vcpu) => sum + vcpu.overheadNs, 0);
      const consoleChars = chars.get(vm.name) ?? 0;
      const completionNs = stopped.get(vm.name) ?? null;
      const instructionsPerUs = busyNs > 0 ? (instructions * 1000) / busyNs : 0;
      const reference = bare?.vms[index];
      const ioOperations = measured.ioOperations.get(vm.name) ?? 0;
      const deviceExits = config.arch === 'bare' ? 0 : measured.deviceExits.get(vm.name) ?? 0;
      const ioExits = config.arch === 'bare' ? 0 : exits - (measured.consoleExits.get(vm.name) ?? 0);
      const perIo = (value: number) => (ioOperations > 0 ? value / ioOperations : null);
      let slowdown: number | null = null;
      if (reference !== undefined) {
        if (completionNs !== null && reference.completionNs !== null && reference.completionNs > 0) slowdown = completionNs / reference.completionNs;
        else if (instructionsPerUs > 0) slowdown = reference.instructionsPerUs / instructionsPerUs;
      }
      return {
        vm: vm.name,
        guest: scenario.vms[index].guest.kind === 'bundled' ? (scenario.vms[index].guest as { name: string }).name : 'program',
        instructions,
        exits,
        exitsPerKiloInstruction: instructions > 0 ? (exits * 1000) / instructions : 0,
        exitsByReason,
        consoleChars,
        busyNs,
        overheadNs,
        nsPerConsoleChar: consoleChars > 0 ? busyNs / consoleChars : null,
        instructionsPerUs,
        completionNs,
        slowdown,
        ioOperations,
        deviceExits,
        ioExits,
        deviceExitsPerIo: perIo(deviceExits),
        exitsPerIo: perIo(ioExits),
        busyNsPerIo: perIo(busyNs),
      };
    });
    const row: ArchRow = { config: config.label, arch: config.arch, virt: config.virt, paging: config.paging, io: config.io, vms };
    if (config.arch === 'bare') bare = row;
    rows.push(row);
  }
  return rows;
}
