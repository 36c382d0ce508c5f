/**
 * The cost model: how much virtual time each mechanism of the monitor costs. Every figure is an
 * integer number of nanoseconds. The defaults are of the order measured on x86 servers of the
 * last decade; docs/cost-model.md gives the source of each and explains how they are used.
 * A scenario overrides any of them under `costs:`.
 */
export interface CostModel {
  /** One ordinary guest instruction, run directly on the physical CPU. */
  readonly instructionNs: number;
  /** A VM exit: the world switch from guest to monitor (save guest state, load monitor state). */
  readonly exitNs: number;
  /** A VM entry: the world switch back into the guest. */
  readonly entryNs: number;
  /** Decoding and emulating one trapped privileged instruction (cli, sti, iret, csrr, csrw, hlt). */
  readonly privilegedEmulateNs: number;
  /** Emulating one port I/O access in the device model. */
  readonly ioEmulateNs: number;
  /** Emulating one MMIO access (instruction decode plus the device model). */
  readonly mmioEmulateNs: number;
  /** Handling one hypercall in the monitor. */
  readonly hypercallNs: number;
  /** Reflecting a guest exception (#GP, #DE, syscall) into the guest's vector table. */
  readonly exceptionReflectNs: number;
  /** Injecting a virtual interrupt on the next VM entry. */
  readonly interruptInjectNs: number;
  /** Posted interrupts: the CPU moving a posted interrupt into the running guest (virtual-interrupt delivery), no exit. */
  readonly postedInterruptNs: number;
  /** Switching a physical CPU from one vCPU to another (full state save/restore, TLB flush). */
  readonly contextSwitchNs: number;
  /** One scheduling decision of the monitor. */
  readonly scheduleNs: number;
  /** Upper bound of the uniform random delay added to each timer expiry (interrupt latency). */
  readonly timerJitterNs: number;
  /** Upper bound of the uniform random delay added to each VM's start (firmware and boot variation). */
  readonly startJitterNs: number;
  /** Binary translation: a translated sensitive instruction calling into the monitor (no trap). */
  readonly btCallNs: number;
  /** Binary translation: translating a 4 KiB page of guest kernel code the first time it runs. */
  readonly btTranslatePageNs: number;
  /** Type 2: one switch between the monitor's world and the host OS. */
  readonly hostSwitchNs: number;
  /** Type 2: the host system call a device model makes for one device access. */
  readonly hostSyscallNs: number;
  /** Type 2: the host scheduler's latency in waking a vCPU thread. */
  readonly hostWakeNs: number;
  /** Type 2: the host scheduler's tick, at which the host's own processes take their share (host.load). */
  readonly hostTickNs: number;
  /** A TLB miss walked by the hardware through one table (bare metal, or a shadow table). */
  readonly tlbWalkNs: number;
  /** A TLB miss under nested paging: the two-dimensional walk of the guest's table and the EPT. */
  readonly nestedWalkNs: number;
  /** Shadow paging: a hidden page fault, the monitor walking the guest table to fill a shadow entry. */
  readonly shadowFillNs: number;
  /** Shadow paging: emulating one guest access to its write-protected page table. */
  readonly ptEmulateNs: number;
  /** Block device: the access latency of one request (emulated) or of one batch (virtio). */
  readonly diskLatencyNs: number;
  /** Block device: transferring one sector (512 bytes); the bandwidth is 512 bytes per diskSectorNs. */
  readonly diskSectorNs: number;
  /** Block device: a full-stroke seek (sector 0 to the last); a request seeks the fraction of it it moves. 0: fixed service. */
  readonly diskSeekNs: number;
  /** Balloon: unmapping one page given back and releasing its host frame. */
  readonly balloonPageNs: number;
  /** Network: the virtual switch's latency from a NIC's send to the packet in the receiver's queue. */
  readonly netLatencyNs: number;
  /** Network: transmitting one word (4 bytes) of a packet through the switch (the bandwidth). */
  readonly netWordNs: number;
  /** Passthrough: one guest access to an assigned device's register, without an exit (a PCIe round trip). */
  readonly passthroughAccessNs: number;
  /** Page sharing: scanning one page (hashing it, comparing it with a candidate). Host CPU time. */
  readonly shareScanPageNs: number;
  /** Page sharing: breaking copy-on-write (a fresh frame, a 4 KiB copy, the remap) on a write exit. */
  readonly cowBreakNs: number;
  /** Overcommit: backing a guest page on its first touch (a zeroed frame mapped in the EPT). */
  readonly demandPageNs: number;
  /** Overcommit: the host writing one guest page to its swap store to free a frame. */
  readonly swapOutNs: number;
  /** Overcommit: the host reading a swapped-out guest page back on the fault that needs it. */
  readonly swapInNs: number;
}

export const DEFAULT_COSTS: CostModel = Object.freeze({
  instructionNs: 1,
  exitNs: 600,
  entryNs: 400,
  privilegedEmulateNs: 150,
  ioEmulateNs: 2_000,
  mmioEmulateNs: 3_000,
  hypercallNs: 200,
  exceptionReflectNs: 300,
  interruptInjectNs: 100,
  postedInterruptNs: 40,
  contextSwitchNs: 2_000,
  scheduleNs: 300,
  timerJitterNs: 1_000,
  startJitterNs: 100_000,
  btCallNs: 40,
  btTranslatePageNs: 20_000,
  hostSwitchNs: 1_500,
  hostSyscallNs: 2_000,
  hostWakeNs: 5_000,
  hostTickNs: 4_000_000,
  tlbWalkNs: 30,
  nestedWalkNs: 120,
  shadowFillNs: 800,
  ptEmulateNs: 500,
  diskLatencyNs: 50_000,
  diskSectorNs: 1_000,
  diskSeekNs: 0,
  balloonPageNs: 1_000,
  netLatencyNs: 10_000,
  netWordNs: 3,
  passthroughAccessNs: 700,
  shareScanPageNs: 500,
  cowBreakNs: 2_000,
  demandPageNs: 1_000,
  swapOutNs: 20_000,
  swapInNs: 100_000,
});

/**
 * NUMA (host.topology.nodes): how many times slower guest code runs on a pCPU of another node
 * than its VM's memory. Not a CostModel figure (every log's header lists those): it belongs to
 * the machine, so it is `host.topology.remoteSlowdown`, and this is its default. Remote DRAM
 * latency is 1.5 to 2 times local on two-socket x86 servers (docs/cost-model.md#numa-remote-memory).
 */
export const REMOTE_SLOWDOWN_DEFAULT = 1.5;

export type CostName = keyof CostModel;
export const COST_NAMES: readonly CostName[] = Object.keys(DEFAULT_COSTS) as CostName[];

/** One-line descriptions, for the CLI and the JSON Schema. */
export const COST_DESCRIPTIONS: Readonly<Record<CostName, string>> = {
  instructionNs: 'one ordinary guest instruction',
  exitNs: 'world switch from guest to monitor (VM exit)',
  entryNs: 'world switch from monitor to guest (VM entry)',
  privilegedEmulateNs: 'emulating one trapped privileged instruction',
  ioEmulateNs: 'emulating one port I/O access',
  mmioEmulateNs: 'emulating one MMIO access',
  hypercallNs: 'handling one hypercall',
  exceptionReflectNs: 'reflecting a guest exception into the guest',
  interruptInjectNs: 'injecting a virtual interrupt',
  postedInterruptNs: 'posted interrupts: the CPU delivering a posted interrupt to the running guest (no exit)',
  contextSwitchNs: 'switching a physical CPU between vCPUs',
  scheduleNs: 'one scheduling decision',
  timerJitterNs: 'maximum random delay added to a timer expiry',
  startJitterNs: "maximum random delay added to a VM's start",
  btCallNs: 'binary translation: a translated sensitive instruction calling the monitor',
  btTranslatePageNs: 'binary translation: translating a page of guest kernel code',
  hostSwitchNs: 'type 2: a switch between the monitor and the host OS',
  hostSyscallNs: 'type 2: a host system call for one device access',
  hostWakeNs: 'type 2: host scheduler latency to wake a vCPU thread',
  hostTickNs: "type 2: host scheduler tick at which host processes take their share",
  tlbWalkNs: 'a TLB miss walked through one table',
  nestedWalkNs: 'a TLB miss walked through two tables (nested paging)',
  shadowFillNs: 'shadow paging: a hidden page fault filling a shadow entry',
  ptEmulateNs: "shadow paging: emulating a guest access to its page table",
  diskLatencyNs: 'block device: access latency of one request (emulated) or one batch (virtio)',
  diskSectorNs: 'block device: transferring one 512-byte sector (the bandwidth)',
  diskSeekNs: 'block device: a full-stroke seek (0: a fixed service time)',
  balloonPageNs: 'balloon: unmapping one page given back and releasing its frame',
  netLatencyNs: "network: the virtual switch's latency from send to the receiver's queue",
  netWordNs: 'network: transmitting one 4-byte word through the switch (the bandwidth)',
  passthroughAccessNs: "passthrough: one access to an assigned device's register (a PCIe round trip, no exit)",
  shareScanPageNs: 'page sharing: scanning one page (hash and compare), host CPU time',
  cowBreakNs: 'page sharing: breaking copy-on-write on a write to a shared page',
  demandPageNs: 'overcommit: backing a guest page with a zeroed frame on its first touch',
  swapOutNs: 'overcommit: writing one guest page to the host swap store',
  swapInNs: 'overcommit: reading a swapped-out guest page back on a fault',
};

/** Merges overrides over the defaults and checks every figure is a non-negative integer. */
export function resolveCosts(overrides: Partial<Record<CostName, number>> = {}): CostModel {
  const merged: Record<string, number> = { ...DEFAULT_COSTS };
  for (const name of COST_NAMES) {
    const value = overrides[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`cost ${name} must be a non-negative integer number of nanoseconds, got ${value}`);
    }
    merged[name] = value;
  }
  if (merged.instructionNs < 1) throw new RangeError('cost instructionNs must be at least 1 ns');
  return Object.freeze(merged) as unknown as CostModel;
}
