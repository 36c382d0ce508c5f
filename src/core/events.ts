/**
 * Every fact the simulation publishes. Events are plain, serialisable data discriminated on
 * `type`; the event log is exactly this stream. `t` is virtual time in ns, `seq` the position in
 * the log, `src` the id of the actor that published it (`monitor`, `pcpu/0`, `vm/web`,
 * `vm/web/vcpu/0`, `vm/web/console`...). docs/event-log.md describes each type.
 */

export type ExitReason =
  | 'io'
  | 'mmio'
  | 'hlt'
  | 'hypercall'
  | 'privileged'
  | 'page-fault'
  | 'exception'
  | 'shutdown'
  | 'preempt'
  | 'interrupt';

export const EXIT_REASONS: readonly ExitReason[] = [
  'io',
  'mmio',
  'hlt',
  'hypercall',
  'privileged',
  'page-fault',
  'exception',
  'shutdown',
  'preempt',
  'interrupt',
];

/** The event type of each exit reason. */
export type ExitType = `exit.${ExitReason}`;

/**
 * An exit as the vCPU (or the CPU, for the exits it takes itself) records it: one variant per
 * reason, discriminated on `type`, with every field its handler needs. It is the event the bus
 * carries and the log holds; the monitor's handlers read nothing else about the exit.
 */
export type VmExit = { [R in ExitReason]: EventOf<`exit.${R}`> }[ExitReason];

/** One handler per exit reason (ExitHandlers.table). */
export type ExitTable = { readonly [R in ExitReason]: (exit: EventOf<`exit.${R}`>) => void };


export type VmState = 'defined' | 'running' | 'blocked' | 'paused' | 'shutdown' | 'shutoff' | 'crashed';
export type VcpuState = 'created' | 'runnable' | 'running' | 'blocked' | 'paused' | 'halted' | 'crashed';
export type DeviceState = 'created' | 'ready' | 'failed' | 'stopped';
export type PrivilegeMode = 'kernel' | 'user';
/**
 * Why a page fault exited: the guest's own (shadow-fill, pt-write, guest-fault; pt-read only in
 * logs of engines before the page table was mapped read-only), or the host's (cow: a write to a
 * page shared with other VMs; demand: the first touch of a page under overcommit; swap-in: a page
 * the host swapped out; dirty-log: the first write in a round to a page a live migration
 * write-protected to track it; postcopy: an access to a page a post-copy migration has not brought
 * to the VM's new host yet, pulled over the link; docs/migration.md).
 */
export type PageFaultCause = 'shadow-fill' | 'pt-read' | 'pt-write' | 'guest-fault' | 'cow' | 'demand' | 'swap-in' | 'dirty-log' | 'postcopy';

/** The payload of each event type. */
export interface EventDataMap {
  'sim.started': { readonly scenario: string; readonly seed: number; readonly pcpus: number; readonly vms: number };
  'sim.ended': { readonly reason: 'time' | 'instructions' | 'idle' | 'stopped'; readonly instructions: number };

  'vm.defined': { readonly vcpus: number; readonly memoryBytes: number; readonly guest: string };
  'vm.started': Record<string, never>;
  'vm.suspended': Record<string, never>;
  'vm.resumed': Record<string, never>;
  'vm.blocked': Record<string, never>;
  'vm.unblocked': Record<string, never>;
  'vm.shutdown': { readonly reason: string };
  'vm.stopped': { readonly reason: string };
  /** The VM was saved to an image: its size in bytes, the SHA-256 of its body, the memory pages it holds, how long device work took to drain. */
  /**
   * The VM was restored from an image (`image:` in the scenario) as it started: the file, the
   * SHA-256 of its body, when it was saved, and the device state the image brought that the
   * events before would not tell (the timer's programming, pending and in-service lines).
   */
  'vm.restored': {
    readonly file: string;
    readonly sha256: string;
    readonly savedAtNs: number;
    readonly timer: { readonly mode: 'periodic' | 'oneshot' | 'off'; readonly ns: number };
    readonly pending: readonly number[];
    readonly inService: readonly number[];
  };
  'vm.saved': { readonly file: string; readonly bytes: number; readonly sha256: string; readonly pages: number; readonly drainNs: number };
  'vm.crashed': { readonly reason: string; readonly vcpu: number; readonly pc: number };
  'vm.not-allowed': { readonly command: string; readonly state: VmState; readonly reason: string };
  /** The VM moved from cpupool `from` to cpupool `to` (`xl cpupool-migrate`; docs/scheduling.md, cpupools). */
  'vm.pool-moved': { readonly from: string; readonly to: string };
  /**
   * Live migration (pre-copy, docs/migration.md), published by `vm/NAME`: it started from host
   * `from` to `to` with `pages` touched pages to send, each taking `pageNs` on the link.
   */
  'migration.started': {
    readonly from: string;
    readonly to: string;
    readonly mode: 'precopy' | 'postcopy';
    readonly pages: number;
    readonly bandwidth: number;
    readonly latencyNs: number;
    readonly pageNs: number;
    readonly downtimeLimitNs: number;
    readonly maxRounds: number;
  };
  /** A round ended: `pagesSent` crossed the link in `durationNs`, `pagesDirtied` were written meanwhile; `throttle` the vCPUs' throttle (%) in force. */
  'migration.round': { readonly round: number; readonly pagesSent: number; readonly pagesDirtied: number; readonly durationNs: number; readonly dirtyFaults: number; readonly throttle: number };
  /** Stop-and-copy: the VM paused, its last `pages` and its vCPU and device state on their way (`trigger`: converged under the downtime limit, or maxRounds reached). */
  'migration.stopped-copy': { readonly round: number; readonly pages: number; readonly trigger: 'converged' | 'max-rounds' };
  /** The VM runs on `to`: `totalNs` since the start, `downtimeNs` paused, pages sent in all and re-sent, write faults taken for dirty tracking. */
  'migration.completed': {
    readonly from: string;
    readonly to: string;
    readonly rounds: number;
    readonly totalNs: number;
    readonly downtimeNs: number;
    readonly pagesSent: number;
    readonly pagesResent: number;
    readonly dirtyFaults: number;
  };
  /** A migration refused before it started (nothing changed), or given up (`cancelled`: the VM stopped meanwhile; it stays on `from`). */
  'migration.refused': { readonly to: string; readonly reason: string };
  'migration.cancelled': { readonly to: string; readonly reason: string };

  'vcpu.runnable': { readonly reason: 'start' | 'preempt' | 'wake' | 'resume' };
  'vcpu.running': { readonly pcpu: number };
  'vcpu.blocked': { readonly pc: number };
  'vcpu.paused': Record<string, never>;
  'vcpu.halted': { readonly pc: number };
  'vcpu.crashed': { readonly reason: string; readonly pc: number };
  'vcpu.not-allowed': { readonly command: string; readonly state: VcpuState; readonly reason: string };

  /** `host`: the host the physical CPU belongs to, in a scenario with several hosts (absent with one). */
  'pcpu.idle': { readonly pcpu: number; readonly host?: string };
  /** Type 2: the host OS's own processes take a physical CPU for `ns`. */
  'host.process': { readonly pcpu: number; readonly ns: number; readonly host?: string };

  /** `value` is the value written, or null for a read; `reg` the register a read loads, or null for a write. */
  'exit.io': { readonly pc: number; readonly port: number; readonly dir: 'in' | 'out'; readonly value: number | null; readonly reg: number | null };
  'exit.mmio': { readonly pc: number; readonly addr: number; readonly dir: 'read' | 'write'; readonly value: number | null; readonly reg: number | null };
  'exit.hlt': { readonly pc: number; readonly ie: boolean };
  'exit.hypercall': { readonly pc: number; readonly nr: number; readonly args: readonly number[] };
  'exit.privileged': { readonly pc: number; readonly op: string; readonly mode: PrivilegeMode };
  /** `cause` (absent: an EPT violation) tells the page faults of a paging guest apart. */
  'exit.page-fault': {
    readonly pc: number;
    readonly addr: number;
    readonly access: 'read' | 'write' | 'fetch';
    readonly cause?: PageFaultCause;
  };
  /** `code`: the error code the handler gets (a syscall's number, a #GP's opcode...); `resumePc`: where it returns. */
  'exit.exception': { readonly pc: number; readonly vector: number; readonly mode: PrivilegeMode; readonly code: number; readonly resumePc: number };
  'exit.shutdown': { readonly pc: number; readonly reason: string };
  /** `by: host` (Type 2): the host OS's own process took the CPU, not the scheduler. */
  'exit.preempt': { readonly pc: number; readonly pcpu: number; readonly ranNs: number; readonly by?: 'host' };
  /** An interrupt arrived while the vCPU ran guest code, without posted interrupts: an external-interrupt exit. */
  'exit.interrupt': { readonly pc: number; readonly line: number };

  'irq.raise': { readonly line: number };
  'irq.inject': { readonly vector: number; readonly line: number };
  /** An inter-processor interrupt sent by this vCPU to vCPU `to` of the same VM (Port.IPI_SEND). */
  'irq.ipi': { readonly to: number };
  /** Posted interrupts: the line was posted to the running vCPU, which takes it without an exit. */
  'irq.posted': { readonly line: number };
  'irq.eoi': { readonly line: number };
  'exception.inject': { readonly vector: number; readonly pc: number };

  'console.output': { readonly text: string };
  'timer.armed': { readonly mode: 'periodic' | 'oneshot' | 'off'; readonly ns: number };
  /**
   * A page-sharing scan of the host (src `host/memory`): pages scanned, pages merged onto a shared
   * frame, shared frames and the frames sharing saves now, and the host CPU time the scan took.
   */
  'memory.scan': { readonly scanned: number; readonly merged: number; readonly sharedFrames: number; readonly savedFrames: number; readonly ns: number };
  /** Overcommit: the VM ended and the host took its memory back: `frames` host frames freed, `swapped` pages dropped from its swap store. */
  'memory.freed': { readonly frames: number; readonly swapped: number };
  /** Overcommit: the host wrote the VM's guest-physical `page` to its swap store and took its frame. */
  'memory.swap-out': { readonly page: number };
  /**
   * A check of host-driven ballooning found `freeFrames` free, below `thresholdFrames`: it asked
   * `vms` VMs with a balloon driver for `pages` more pages in all (0 and 0: none could be asked).
   */
  'memory.balloon': { readonly freeFrames: number; readonly thresholdFrames: number; readonly pages: number; readonly vms: number };
  /** The DMA engine copied `words` words from guest-physical `src` to `dst`. */
  'dma.done': { readonly src: number; readonly dst: number; readonly words: number };
  /** The IOMMU refused a transfer (an address outside the VM's memory); nothing was copied. */
  'dma.blocked': { readonly src: number; readonly dst: number; readonly words: number; readonly reason: string };
  /**
   * The IOMMU blocked a passthrough device's DMA (published by `vm/NAME/iommu`): `device` is the
   * device's id, `addr` the first guest-physical word outside the VM's memory, `access` what the
   * device tried (read: from memory, write: into memory). The whole transfer was blocked.
   */
  'iommu.fault': { readonly device: string; readonly addr: number; readonly access: 'read' | 'write'; readonly reason: string };

  /** The block device completed `requests` requests (`refused` of them refused) in one completion. */
  'blk.done': { readonly mode: 'emulated' | 'virtio' | 'passthrough'; readonly requests: number; readonly refused: number };
  /** The block device refused a request or a queue: a buffer outside the VM's memory, a bad sector or command. Nothing was copied. */
  'blk.refused': { readonly mode: 'emulated' | 'virtio' | 'passthrough'; readonly sector: number; readonly addr: number; readonly reason: string };
  /** The monitor asked the VM's balloon for `target` pages in all. */
  'balloon.target': { readonly target: number };
  /** The guest gave back guest-physical page `page`: unmapped, its host frame released. */
  'balloon.released': { readonly page: number; readonly frame: number; readonly size: number };
  /** The guest offered a page the balloon refused (outside its memory, already given, or more than asked). */
  'balloon.refused': { readonly page: number; readonly reason: string };

  /** A NIC handed a packet of `length` words from MAC `src` to the virtual switch for MAC `dst`. */
  'net.sent': { readonly src: number; readonly dst: number; readonly length: number };
  /** The switch put the packet in the receiving NIC's queue (published by that NIC). */
  'net.delivered': { readonly src: number; readonly dst: number; readonly length: number };
  /** A packet not sent or not delivered: a refused transmit, an unknown destination, a full queue... */
  'net.dropped': { readonly src: number; readonly dst: number; readonly length: number; readonly reason: string };

  /**
   * Workload requests (src/actors/workload/, docs/workloads.md). `id` numbers a VM's requests from 0;
   * the arrival itself is the input record `input.request`. Published by the device that serves
   * the request: the request queue (`vm/NAME/requests`, CPU jobs) or the block device (disk requests).
   */
  /** Service began: a worker took the request, or the disk started it; `serviceNs` is its demand (work, or disk time). */
  'req.started': { readonly id: number; readonly worker: number; readonly serviceNs: number };
  /** The request completed. */
  'req.done': { readonly id: number };
  /** The request was refused on arrival (a full queue, a stopped device): it never ran. */
  'req.refused': { readonly id: number; readonly reason: string };
  /** The guest completed a tag that is not in service: nothing changed. */
  'req.invalid': { readonly tag: number; readonly reason: string };

  /**
   * The driver domain (host.driverDomain, published by `vm/dom0/backend`): a paravirtual device
   * of guest `vm` completed and its interrupt `line` waits for dom0's backend (`id` counts the
   * completions queued); dom0's vCPU took it (its backend work starts); the work is done and the
   * guest's line is raised; dom0 wrote an id that is not in service (nothing changed).
   */
  'backend.queued': { readonly id: number; readonly vm: string; readonly line: number };
  'backend.taken': { readonly id: number; readonly vm: string; readonly line: number };
  'backend.done': { readonly id: number; readonly vm: string; readonly line: number };
  'backend.invalid': { readonly id: number; readonly reason: string };

  'device.ready': { readonly kind: string };
  'device.stopped': { readonly kind: string };
  'device.failed': { readonly kind: string };
  'device.reset': { readonly kind: string };

  /** Input records: what came from outside the simulation (replay takes them from the log). */
  'input.console': { readonly text: string };
  'input.fault': { readonly fault: 'device-error' | 'device-reset' | 'vcpu-stall'; readonly target: string; readonly durationNs: number };
  'input.stop': Record<string, never>;
  /** The operator asked for the VM to be saved to an image file (`--save`, a `save:` input). */
  'input.save': { readonly file: string };
  /** The operator set the VM's balloon target (pages the guest is asked to give back in all). */
  'input.balloon': { readonly pages: number };
  /** The operator asked for the VM to move to cpupool `pool` (a `pool:` input, `!pool VM POOL`). */
  'input.cpupool': { readonly pool: string };
  /** The operator asked for the VM to migrate live to host `to` (a `migrate:` input, `!migrate VM HOST`), with its parameters. */
  'input.migrate': {
    readonly to: string;
    readonly mode: 'precopy' | 'postcopy';
    readonly downtimeLimitNs: number;
    readonly maxRounds: number;
    readonly bandwidth: number | null;
    readonly autoConverge: boolean;
  };
  /**
   * A workload's arrival (published by `vm/NAME/workload`): request `id` of `kind` and `size`
   * (ns of work for cpu, bytes for disk-read/disk-write). Generated from the VM's seeded stream or
   * read from a trace file, and recorded here so the log holds every arrival.
   */
  'input.request': { readonly id: number; readonly kind: 'cpu' | 'disk-read' | 'disk-write'; readonly size: number };
}

export type EventType = keyof EventDataMap;

export interface EventOf<K extends EventType> {
  readonly seq: number;
  readonly t: number;
  readonly src: string;
  readonly type: K;
  readonly data: EventDataMap[K];
}

/** The union of every event. */
export type SimEvent = { [K in EventType]: EventOf<K> }[EventType];

export const EVENT_TYPES: readonly EventType[] = [
  'sim.started',
  'sim.ended',
  'vm.defined',
  'vm.started',
  'vm.suspended',
  'vm.resumed',
  'vm.blocked',
  'vm.unblocked',
  'vm.shutdown',
  'vm.stopped',
  'vm.saved',
  'vm.restored',
  'vm.crashed',
  'vm.not-allowed',
  'vm.pool-moved',
  'migration.started',
  'migration.round',
  'migration.stopped-copy',
  'migration.completed',
  'migration.refused',
  'migration.cancelled',
  'vcpu.runnable',
  'vcpu.running',
  'vcpu.blocked',
  'vcpu.paused',
  'vcpu.halted',
  'vcpu.crashed',
  'vcpu.not-allowed',
  'pcpu.idle',
  'host.process',
  'exit.io',
  'exit.mmio',
  'exit.hlt',
  'exit.hypercall',
  'exit.privileged',
  'exit.page-fault',
  'exit.exception',
  'exit.shutdown',
  'exit.preempt',
  'exit.interrupt',
  'irq.raise',
  'irq.inject',
  'irq.posted',
  'irq.ipi',
  'irq.eoi',
  'exception.inject',
  'console.output',
  'timer.armed',
  'dma.done',
  'dma.blocked',
  'iommu.fault',
  'blk.done',
  'blk.refused',
  'balloon.target',
  'balloon.released',
  'balloon.refused',
  'memory.scan',
  'memory.swap-out',
  'memory.freed',
  'memory.balloon',
  'net.sent',
  'net.delivered',
  'net.dropped',
  'req.started',
  'req.done',
  'req.refused',
  'req.invalid',
  'backend.queued',
  'backend.taken',
  'backend.done',
  'backend.invalid',
  'device.ready',
  'device.stopped',
  'device.failed',
  'device.reset',
  'input.console',
  'input.fault',
  'input.stop',
  'input.save',
  'input.balloon',
  'input.cpupool',
  'input.migrate',
  'input.request',
];

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

export function isEventType(type: string): type is EventType {
  return KNOWN_TYPES.has(type);
}
