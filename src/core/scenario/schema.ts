/**
 * The scenario file format: the zod schema of the SOURCE form (what a user writes, with units as
 * strings or numbers), the types of the RESOLVED form (defaults applied, durations in integer ns,
 * sizes in integer bytes), the checks that span several fields, and the conversions between the
 * two forms. Positions in a file are the business of load.ts; everything here works on plain data
 * and reports problems by path.
 */
import { workloadSchema, workloadToSource, type WorkloadSpec } from './workload.js';
import { z } from 'zod';
import { applyProfile, PROFILE_NAMES } from './profiles.js';
import { bandwidthSchema, checkHosts, hostPcpus, HOST_NAME_RE, LINK_DEFAULTS, linksToSource, type HostEntrySpec, type LinkSpec } from './hosts.js';
import { checkInputs, inputsSchema, inputsToSource, resolveInputs, type InputSpec, type ParsedInput } from './inputs.js';
import { COST_DESCRIPTIONS, COST_NAMES, DEFAULT_COSTS, type CostName } from '../costs.js';
import { REMOTE_SLOWDOWN_DEFAULT, cpusPerNode, nodeCpus, placeVms } from './numa.js';
import { PAGE_BYTES } from '../platform.js';
import {
  BYTES_PATTERN,
  DAY,
  DURATION_PATTERN,
  GiB,
  KiB,
  MiB,
  MS,
  SECOND,
  US,
  UnitError,
  describeValue,
  formatBytes,
  formatDuration,
  parseBytes,
  parseDuration,
  quote,
} from './units.js';

// ---------------------------------------------------------------------------------------------
// Resolved types
// ---------------------------------------------------------------------------------------------

/** Scheduling policies of the monitor (docs/scheduling.md); the scenario format accepts these. */
export const POLICY_NAMES = ['round-robin', 'credit', 'credit2', 'cfs', 'rtds', 'null', 'arinc653', 'gang'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export interface Scenario {
  readonly name: string;
  readonly description: string | undefined;
  readonly seed: number;
  readonly host: HostSpec;
  readonly scheduler: SchedulerSpec;
  readonly run: RunSpec;
  /** Overrides of the cost model: full cost names (with the Ns suffix), values in ns. */
  readonly costs: Partial<Record<CostName, number>>;
  readonly vms: readonly VmSpec[];
  /** Console input and injected faults, in time order. */
  readonly inputs: readonly InputSpec[];
  /**
   * Xen's cpupools: the host's physical CPUs split into named pools, each with its own scheduler
   * (every VM's `pool` names one). Absent: one pool of every CPU under `scheduler`, as before.
   */
  readonly cpupools?: readonly CpupoolSpec[];
  /** Several hosts (src/core/scenario/hosts.ts): each also one of `cpupools`, named after it. Absent: one host. */
  readonly hosts?: readonly HostEntrySpec[];
  /** Links between hosts (present with `hosts`). */
  readonly links?: readonly LinkSpec[];
}

/** One cpupool: its name, its physical CPUs (ascending) and its scheduler, defaults filled. */
export interface CpupoolSpec {
  readonly name: string;
  readonly pcpus: readonly number[];
  readonly scheduler: SchedulerSpec;
}

/** credit2 run queue granularity (Xen's `credit2_runqueue` boot parameter). */
export const RUNQUEUE_GRANULARITIES = ['cpu', 'core', 'socket', 'node', 'all'] as const;
export type RunqueueGranularity = (typeof RUNQUEUE_GRANULARITIES)[number];

/** Scheduling granularity (Xen's `sched-gran` boot parameter): the threads of a core or socket run one VM at a time. */
export const SCHED_GRANULARITIES = ['cpu', 'core', 'socket'] as const;
export type SchedGranularity = (typeof SCHED_GRANULARITIES)[number];

/**
 * Sockets x cores x SMT threads. pCPU numbering: pcpu = (socket * coresPerSocket + core) *
 * threadsPerCore + thread, so the threads of a core, and the cores of a socket, are consecutive.
 */
export interface TopologySpec {
  readonly sockets: number;
  readonly coresPerSocket: number;
  readonly threadsPerCore: number;
  /** NUMA nodes, the sockets split evenly among them (absent: none, one node). */
  readonly nodes?: number;
  /** Guest time on a pCPU of another node than the VM's memory, per ns on its own (present with nodes >= 2). */
  readonly remoteSlowdown?: number;
}

/** pCPUs per run queue for a granularity (without NUMA nodes a node is a socket). */
export function runqueueSizeOf(granularity: RunqueueGranularity, host: { readonly pcpus: number; readonly topology?: TopologySpec }): number {
  const t = host.topology ?? { sockets: 1, coresPerSocket: host.pcpus, threadsPerCore: 1 };
  switch (granularity) {
    case 'cpu':
      return 1;
    case 'core':
      return t.threadsPerCore;
    case 'socket':
      return t.coresPerSocket * t.threadsPerCore;
    case 'node':
      return t.nodes === undefined ? t.coresPerSocket * t.threadsPerCore : cpusPerNode(t);
    case 'all':
      return host.pcpus;
  }
}

export interface HostSpec {
  readonly pcpus: number;
  /** Sockets, cores and threads (absent: one socket of single-thread cores). */
  readonly topology?: TopologySpec;
  readonly memoryBytes: number;
  /**
   * type1 (default): the monitor owns the hardware; type2: it runs as processes of a host OS;
   * bare: no monitor, the guests on the simulated hardware (the reference for overheads).
   */
  readonly type?: HostType;
  /** Type 2 only: the share of each physical CPU the host's own processes take (0 to 0.9; default 0). */
  readonly load?: number;
  /** Page sharing (KSM, VMware TPS): absent, off. */
  readonly pageSharing?: PageSharingSpec;
  /**
   * Memory overcommit: guest pages get a host frame on first touch, and the host reclaims
   * (shared pages, balloon, swap) when it runs out; the VMs' memory may exceed the host's.
   * Absent or false: every VM's memory is backed when it is built, and must fit.
   */
  readonly overcommit?: boolean;
  /**
   * Host-driven ballooning (overcommit only): while free frames are below `belowFraction` of the
   * host's, every `intervalNs` the memory manager asks the VMs that run a balloon driver for
   * `stepPages` more pages. Absent: the host never sets a balloon target by itself.
   */
  readonly ballooning?: BallooningSpec;
  /**
   * A driver domain (Xen's dom0 with split drivers): the VM `dom0`, appended to the scenario's VMs,
   * runs the bundled `dom0-backend` guest; the other VMs' paravirtual block and network
   * completions reach them only after dom0's vCPU has run `backendNs` of backend work for each.
   * Absent: none, devices interrupt their VM directly.
   */
  readonly driverDomain?: DriverDomainSpec;
}

/** host.driverDomain, resolved; dom0's memory and scheduling parameters are those of its VM (named DRIVER_DOMAIN_NAME). */
export interface DriverDomainSpec {
  readonly vcpus: number;
  /** The backend work per completion, ns. */
  readonly backendNs: number;
}

/** The name of the driver domain's VM. */
export const DRIVER_DOMAIN_NAME = 'dom0';
/** The bundled guest it runs (src/guests/driverDomain.ts). */
export const DRIVER_DOMAIN_GUEST = 'dom0-backend';

export interface BallooningSpec {
  /** The share of the host's frames free below which the host inflates balloons (ESX's "high" threshold: 6%). */
  readonly belowFraction: number;
  /** Pages asked for per check, across the VMs. */
  readonly stepPages: number;
  /** Virtual ns between two checks. */
  readonly intervalNs: number;
}

export interface PageSharingSpec {
  /** Virtual ns between two scans (ksmd's sleep_millisecs). */
  readonly intervalNs: number;
  /** Guest pages scanned per scan, across the VMs (ksmd's pages_to_scan). */
  readonly pagesPerScan: number;
}

export const HYPERVISOR_TYPES = ['type1', 'type2'] as const;
export type HypervisorType = (typeof HYPERVISOR_TYPES)[number];
/** The sockets, cores and threads of a host (host.topology, hosts[].topology). */
function topologySchema() {
  return strictObject(
    {
      sockets: integer(1, L.pcpus.max).meta(meta({ title: 'Sockets', description: 'Processor sockets.' })),
      coresPerSocket: integer(1, L.pcpus.max).meta(meta({ title: 'Cores per socket', description: 'Cores in each socket.' })),
      threadsPerCore: integer(1, L.pcpus.max).meta(meta({ title: 'Threads per core', description: 'SMT threads in each core.' })),
      nodes: integer(1, L.pcpus.max)
        .meta(meta({ title: 'NUMA nodes', description: 'NUMA nodes; the sockets are split evenly among them, consecutive sockets to a node (must divide sockets). Each VM\'s memory is on one node (vms[].numa). Absent: no NUMA.' }))
        .optional(),
      remoteSlowdown: z
        .number({ error: expecting('a number from 1 to 10') })
        .min(1, { error: expecting('a number from 1 to 10') })
        .max(10, { error: expecting('a number from 1 to 10') })
        .meta(
          meta({
            title: 'Remote-memory slowdown',
            description: `With nodes: how much longer guest code takes on a pCPU of another node than the VM's memory (1.5: 1.5 ns of CPU per ns of guest work); default ${REMOTE_SLOWDOWN_DEFAULT} (docs/cost-model.md).`,
          }),
        )
        .optional(),
    },
    'topology',
  );
}

/** What `host.type` may say: a hypervisor type, or `bare` (the same guests with no monitor). */
export const HOST_TYPES = [...HYPERVISOR_TYPES, 'bare'] as const;
export type HostType = (typeof HOST_TYPES)[number];
/** How a VM is virtualized: trap-and-emulate, paravirtualized, hardware-assisted, binary translation. */
export const VIRT_TECHNIQUES = ['full', 'para', 'hw', 'bt'] as const;
export type VirtTechnique = (typeof VIRT_TECHNIQUES)[number];

/** What burns a vCPU's credit or budget (docs/scheduling.md): the time it holds the CPU (Xen) or its guest time only. */
export const CHARGE_MODES = ['held', 'guest'] as const;
export type ChargeMode = (typeof CHARGE_MODES)[number];
/** credit: caps parked at accounting, as Xen does, or held within every accounting period. */
export const CAP_ENFORCEMENTS = ['park', 'period'] as const;
export type CapEnforcement = (typeof CAP_ENFORCEMENTS)[number];

export interface SchedulerSpec {
  readonly policy: PolicyName;
  readonly quantumNs: number;
  /** credit: time slice (Xen's tslice). Present (defaults filled) when the policy uses it. */
  readonly timesliceNs?: number;
  /** credit, credit2: least time a vCPU runs before a wake-up may preempt it. */
  readonly ratelimitNs?: number;
  /** credit: the accounting tick (credits are recomputed every 3 ticks). */
  readonly tickNs?: number;
  /** credit2: physical CPUs per run queue (0 = one run queue for all). */
  readonly runqueueSize?: number;
  /** credit2: run queue granularity by topology (Xen's credit2_runqueue); sets runqueueSize. */
  readonly runqueue?: RunqueueGranularity;
  /** Every policy: cpu (absent), or core / socket (core scheduling, Xen's sched-gran); needs host.topology. */
  readonly granularity?: SchedGranularity;
  /** cfs: the scheduling period within which every runnable vCPU runs once. */
  readonly latencyNs?: number;
  /** cfs: the shortest slice. */
  readonly minGranularityNs?: number;
  /** arinc653: the major frame, slot by slot (vm null: an idle slot). */
  readonly frame?: readonly FrameSlot[];
  /** credit, credit2, rtds, cfs: what burns credit or budget (default held, Xen's). */
  readonly charge?: ChargeMode;
  /** credit: how a cap is enforced (default park, Xen's). */
  readonly capEnforcement?: CapEnforcement;
  /** credit: whether a vCPU waking UNDER is BOOSTed (absent: true, Xen's; false to measure what BOOST buys). */
  readonly boost?: boolean;
}

export interface FrameSlot {
  readonly vm: string | null;
  readonly durationNs: number;
  /** The owner's vCPU that runs in the slot (absent: 0). */
  readonly vcpu?: number;
}

/**
 * The checkpoint rule of a run without `run.checkpointEvery`: a checkpoint once at least
 * `minEvents` events were published since the last one (or the start) and the event lines written
 * since it take at least `linesPerCheckpointByte` times the last checkpoint line's bytes. Small runs
 * checkpoint every 10,000 events as a fixed interval would; a checkpoint of 1,000 VMs (2 MB) comes
 * every 18 MB of events instead of every 1.35 MB, so checkpoints stay about a tenth of the log.
 */
export const CHECKPOINT_AUTO = { minEvents: 10_000, linesPerCheckpointByte: 9 } as const;

export interface RunSpec {
  readonly timeNs: number;
  readonly instructions: number | undefined;
  /**
   * Events between checkpoint lines; undefined: the default rule (CHECKPOINT_AUTO: at least
   * 10,000 events, and event lines worth 9 times the last checkpoint's size).
   */
  readonly checkpointEvery: number | undefined;
  /**
   * The longest batch a vCPU runs while another vCPU of its VM runs on another physical CPU (the
   * quantum of their shared-memory timing; default 1 us). A resolved scenario always has it.
   */
  readonly smpQuantumNs?: number;
}

export type GuestSpec =
  | { readonly kind: 'bundled'; readonly name: string }
  | { readonly kind: 'file'; readonly path: string }
  /** A trace-driven workload: a CSV of (burst_ns, sleep_ns), relative to the scenario file. */
  | { readonly kind: 'trace'; readonly path: string }
  /** A VM restored from an image file (docs/migration.md), relative to the scenario file. */
  | { readonly kind: 'image'; readonly path: string }
  | {
      readonly kind: 'inline';
      readonly source: string;
      /** 1-based line of the scenario file where the inline source starts (0 when unknown). */
      readonly line: number;
    };

export interface VmSchedSpec {
  readonly weight: number;
  readonly cap: number;
  /** rtds: budget per period (present, defaults filled, when the policy is rtds). */
  readonly budgetNs?: number;
  readonly periodNs?: number;
  /** rtds: 1 when the vCPU may run beyond its budget on otherwise idle time, else 0. */
  readonly extratime?: number;
  /** null: the physical CPU the vCPUs are pinned to (absent: the first free one). */
  readonly pcpu?: number;
  /** Hard and soft affinity of every vCPU of the VM, as `xl vcpu-pin` sets them (absent: all pCPUs). */
  readonly affinity?: AffinitySpec;
}

/** Physical CPU masks, ascending and without duplicates once resolved. */
export interface AffinitySpec {
  /** The pCPUs the vCPU may run on; never violated. Absent: all. */
  readonly hard?: readonly number[];
  /** The pCPUs the vCPU prefers, where the policy can honour it. Absent: no preference. */
  readonly soft?: readonly number[];
}

export interface VmSpec {
  readonly name: string;
  readonly vcpus: number;
  readonly memoryBytes: number;
  readonly guest: GuestSpec;
  readonly params: Readonly<Record<string, number>>;
  readonly startNs: number;
  readonly autostart: boolean;
  readonly sched: VmSchedSpec;
  /** Default full (trap-and-emulate). A resolved scenario always has it. */
  readonly virt?: VirtTechnique;
  /** Posted interrupts (APICv/AVIC): an interrupt reaches a running vCPU without an exit (virt: hw only). */
  readonly postedInterrupts?: boolean;
  /** How the guest's paging is virtualized: shadow tables, or nested paging (hardware-assisted only). */
  readonly paging?: PagingMode;
  /** Entries of each vCPU's TLB (default 64). */
  readonly tlbEntries?: number;
  /** Tagged TLB entries (VPID/ASID): no flush when a physical CPU switches vCPUs (default false). */
  readonly tlbTagged?: boolean;
  /** How its block device and NIC are attached (default both emulated). A resolved scenario always has it. */
  readonly devices?: DeviceAttachments;
  /** Open arrivals of requests (docs/workloads.md); absent: none. */
  readonly workload?: WorkloadSpec;
  /** The cpupool it starts in (present exactly when the scenario has cpupools). */
  readonly pool?: string;
  /** The host it starts on (present exactly when the scenario has hosts; its pool too). */
  readonly host?: string;
  /** The NUMA node its memory is on (present exactly when host.topology has 2 nodes or more). */
  readonly numa?: { readonly node: number };
}

/**
 * How a device is attached to a VM: emulated (a register file, every access an exit emulated by the
 * monitor), paravirtual (a virtio-like queue in guest memory, one notification per batch) or
 * passthrough (the device's own register file reached without exits, its DMA through the IOMMU).
 */
export const ATTACH_MODES = ['emulated', 'paravirtual', 'passthrough'] as const;
export type AttachMode = (typeof ATTACH_MODES)[number];

/** A device's attach mode, or `none`: the VM has no such device (its ports read as the open bus). */
export const DEVICE_ATTACH_MODES = [...ATTACH_MODES, 'none'] as const;
export type DeviceAttachMode = (typeof DEVICE_ATTACH_MODES)[number];

/** The attach mode of each device that has more than one (docs/architectures.md). */
export interface DeviceAttachments {
  readonly block: DeviceAttachMode;
  readonly nic: DeviceAttachMode;
  /** The emulated block device's request queue depth, the one in service included (absent: 32). */
  readonly blockQueue?: number;
}

export const DEFAULT_DEVICE_ATTACHMENTS: DeviceAttachments = Object.freeze({ block: 'emulated', nic: 'emulated' });

export const PAGING_MODES = ['shadow', 'nested'] as const;
/** `native` is the bare machine's MMU (no monitor), for comparisons; scenario files use the others. */
export type PagingMode = (typeof PAGING_MODES)[number] | 'native';

// ---------------------------------------------------------------------------------------------
// Limits and defaults
// ---------------------------------------------------------------------------------------------

/** Every range and default of the format, in resolved units (ns, bytes). */
export const SCENARIO_LIMITS = Object.freeze({
  seed: { min: 0, max: 0xffff_ffff, default: 1 },
  pcpus: { min: 1, max: 256, default: 2 },
  hostMemoryBytes: { min: MiB, max: 1024 * GiB, default: 64 * MiB },
  shareIntervalNs: { min: 10 * US, max: 10 * SECOND, default: MS },
  sharePages: { min: 1, max: 1_000_000, default: 100 },
  balloonBelow: { default: 0.06 },
  balloonStepPages: { min: 1, max: 1_000_000, default: 64 },
  balloonIntervalNs: { min: 10 * US, max: 10 * SECOND, default: MS },
  quantumNs: { min: US, max: 10 * SECOND, default: MS },
  runTimeNs: { min: 1, max: 30 * DAY, default: 20 * MS },
  instructions: { min: 1, max: Number.MAX_SAFE_INTEGER },
  checkpointEvery: { min: 100, max: 10_000_000 },
  smpQuantumNs: { min: 1, max: 100 * US, default: US },
  costNs: { min: 0, max: SECOND },
  vms: { min: 1, max: 4096 },
  vcpus: { min: 1, max: 64, default: 1 },
  vmMemoryBytes: { min: PAGE_BYTES, max: GiB, default: 64 * KiB },
  driverDomainVcpus: { min: 1, max: 1, default: 1 },
  backendNs: { min: 0, max: SECOND, default: 20 * US },
  param: { min: -(2 ** 31), max: 2 ** 32 - 1 },
  startNs: { min: 0, max: 30 * DAY, default: 0 },
  weight: { min: 1, max: 65_535, default: 256 },
  timesliceNs: { min: 100 * US, max: SECOND, default: 30 * MS },
  ratelimitNs: { min: 0, max: 500 * MS, default: MS },
  tickNs: { min: 100 * US, max: SECOND, default: 10 * MS },
  runqueueSize: { min: 0, max: 256, default: 0 },
  latencyNs: { min: 100 * US, max: SECOND, default: 6 * MS },
  minGranularityNs: { min: 10 * US, max: SECOND, default: 750 * US },
  rtBudgetNs: { min: 10 * US, max: 10 * SECOND, default: 4 * MS },
  rtPeriodNs: { min: 10 * US, max: 10 * SECOND, default: 10 * MS },
  frameSlotNs: { min: US, max: 10 * SECOND },
  frameSlots: { min: 1, max: 1024 },
  /** cap is a percentage of one physical CPU: at most 100 × host.pcpus. */
  capPerPcpu: 100,
  sourceLine: { min: 0, max: Number.MAX_SAFE_INTEGER },
});

export const VM_NAME_PATTERN = '^[a-z][a-z0-9-]{0,31}$';
export const PARAM_NAME_PATTERN = '^(?!(?:R[0-7]|SP)$)[A-Z_][A-Z0-9_]*$';
const VM_NAME_RE = new RegExp(VM_NAME_PATTERN);
/** A cpupool's name (Xen's names, such as Pool-0, have capitals). */
const POOL_NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
const PARAM_NAME_RE = new RegExp(PARAM_NAME_PATTERN);

/** The key of a cost in the source format: the cost name without its trailing "Ns". */
export function costSourceKey(name: CostName): string {
  return name.slice(0, -2);
}

/** Source keys of the `costs:` map, in COST_NAMES order. */
export const COST_SOURCE_KEYS: readonly string[] = Object.freeze(COST_NAMES.map(costSourceKey));

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

type ErrorFn = (issue: z.core.$ZodRawIssue) => string;

const expecting =
  (what: string): ErrorFn =>
  (issue) =>
    `expected ${what}, got ${describeValue(issue.input)}`;

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[rows - 1][cols - 1];
}

/** The candidate closest to `word` within edit distance 2, if any (the first one on a tie). */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - word.length) >= bestDistance) continue;
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function didYouMean(word: unknown, candidates: readonly string[]): string {
  if (typeof word !== 'string') return '';
  const guess = suggest(word, candidates);
  return guess === undefined ? '' : `; did you mean '${guess}'?`;
}

/** `unknown key 'memroy' (expected one of: name, vcpus, memory, ...); did you mean 'memory'?` */
export function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  return `unknown key ${quote(key)} (expected one of: ${allowed.join(', ')})${didYouMean(key, allowed)}`;
}

function oneOfMessage(noun: string, value: unknown, allowed: readonly string[]): string {
  if (allowed.length === 0) return `expected ${noun}, got ${describeValue(value)} (none are available)`;
  return `expected ${noun}, one of: ${allowed.join(', ')}, got ${describeValue(value)}${didYouMean(value, allowed)}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function rangeText(min: number, max: number, format: (n: number) => string): string {
  return min === 0 ? `of at most ${format(max)}` : `from ${format(min)} to ${format(max)}`;
}

// ---------------------------------------------------------------------------------------------
// Schema building blocks
// ---------------------------------------------------------------------------------------------

/** Separates the per-key messages of one zod `unrecognized_keys` issue (messages never hold one). */
export const KEY_MESSAGE_SEPARATOR = '\n';

/**
 * A strict zod object (unknown keys are errors). For an `unrecognized_keys` issue the message holds
 * one line per unknown key, in the order of the issue's `keys`; the loader splits them.
 */
function strictObject<Shape extends z.core.$ZodLooseShape>(shape: Shape, what: string) {
  const allowed = Object.keys(shape);
  const error: ErrorFn = (issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => unknownKeyMessage(key, allowed)).join(KEY_MESSAGE_SEPARATOR)
      : `expected a map of ${what} (key: value pairs), got ${describeValue(issue.input)}`;
  return z.strictObject(shape, { error });
}

function integer(min: number, max: number, what = `an integer from ${min} to ${max}`) {
  const error = expecting(what);
  return z.int({ error }).min(min, { error }).max(max, { error });
}

interface Meta {
  readonly title: string;
  readonly description: string;
  /** The default as a user would write it (shown by editors); zod drops defaults of transforms. */
  readonly sourceDefault?: unknown;
  readonly examples?: readonly unknown[];
}

/** Metadata for the JSON Schema. `x-default`/`x-examples` become `default`/`examples` there. */
function meta(m: Meta): Record<string, unknown> {
  return {
    title: m.title,
    description: m.description,
    ...(m.sourceDefault === undefined ? {} : { 'x-default': m.sourceDefault }),
    ...(m.examples === undefined ? {} : { 'x-examples': m.examples }),
  };
}

/** Why `input` is not a duration within [min, max], or undefined when it is one. */
function durationProblem(input: unknown, min: number, max: number): string | undefined {
  let ns: number;
  try {
    ns = parseDuration(input as string | number);
  } catch (error) {
    if (error instanceof UnitError && error.reason !== 'too-large') return error.message;
    ns = Number.POSITIVE_INFINITY;
  }
  if (ns < min || ns > max) return `expected a duration ${rangeText(min, max, formatDuration)}, got ${describeValue(input)}`;
  return undefined;
}

/** A duration: an integer (ns) or a string with a unit; the output is integer ns in [min, max]. */
function duration(min: number, max: number) {
  const error: ErrorFn = (issue) => durationProblem(issue.input, min, max) ?? expecting('a duration')(issue);
  return z
    .union([z.int({ error }).min(min, { error }).max(max, { error }), z.string({ error }).regex(new RegExp(DURATION_PATTERN), { error })], {
      error,
    })
    .transform((value, ctx) => {
      const problem = durationProblem(value, min, max);
      if (problem !== undefined) {
        ctx.addIssue({ code: 'custom', message: problem, input: value });
        return z.NEVER;
      }
      return parseDuration(value);
    });
}

const FRACTION_WHAT = 'a fraction above 0 and below 1 (such as 0.06) or a percentage (such as 6%)';

/** A share of something: a number in (0, 1) or a string such as "6%"; the output is the fraction. */
function fraction() {
  const error = expecting(FRACTION_WHAT);
  return z
    .union([z.number({ error }).gt(0, { error }).lt(1, { error }), z.string({ error }).regex(/^\s*\d+(\.\d+)?\s*%\s*$/, { error })], { error })
    .transform((value, ctx) => {
      const share = typeof value === 'number' ? value : Number(value.trim().slice(0, -1)) / 100;
      if (!(share > 0 && share < 1)) {
        ctx.addIssue({ code: 'custom', message: `expected ${FRACTION_WHAT}, got ${describeValue(value)}`, input: value });
        return z.NEVER;
      }
      return share;
    });
}

/** Why `input` is not a size within [min, max] (and a multiple of `multiple`), or undefined. */
function bytesProblem(input: unknown, min: number, max: number, multiple: number): string | undefined {
  let bytes: number;
  try {
    bytes = parseBytes(input as string | number);
  } catch (error) {
    if (error instanceof UnitError && error.reason !== 'too-large') return error.message;
    bytes = Number.POSITIVE_INFINITY;
  }
  if (bytes < min || bytes > max) return `expected a size ${rangeText(min, max, formatBytes)}, got ${describeValue(input)}`;
  if (bytes % multiple !== 0) {
    return `expected a multiple of ${formatBytes(multiple)} (the page size), got ${describeValue(input)}`;
  }
  return undefined;
}

/** A size: an integer (bytes) or a string with a binary unit; the output is integer bytes. */
function size(min: number, max: number, multiple = 1) {
  const error: ErrorFn = (issue) => bytesProblem(issue.input, min, max, multiple) ?? expecting('a size')(issue);
  let asInteger = z.int({ error }).min(min, { error }).max(max, { error });
  if (multiple !== 1) asInteger = asInteger.multipleOf(multiple, { error });
  return z.union([asInteger, z.string({ error }).regex(new RegExp(BYTES_PATTERN), { error })], { error }).transform((value, ctx) => {
    const problem = bytesProblem(value, min, max, multiple);
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', message: problem, input: value });
      return z.NEVER;
    }
    return parseBytes(value);
  });
}

function nonEmptyString(what: string) {
  const error = expecting(what);
  return z.string({ error }).min(1, { error });
}

function boolean() {
  return z.boolean({ error: expecting('true or false') });
}

// ---------------------------------------------------------------------------------------------
// The source schema
// ---------------------------------------------------------------------------------------------

const L = SCENARIO_LIMITS;

/**
 * Scheduling parameters of one VM. One strict zod object, so that policies arriving later add
 * their keys here.
 */
export const VM_SCHED_SCHEMA = strictObject(
  {
    weight: integer(L.weight.min, L.weight.max)
      .default(L.weight.default)
      .meta(
        meta({
          title: 'Weight',
          description: `Relative share of CPU time under contention, ${L.weight.min}..${L.weight.max} (default ${L.weight.default}).`,
        }),
      ),
    cap: integer(0, L.capPerPcpu * L.pcpus.max, `an integer from 0 to ${L.capPerPcpu} × host.pcpus`)
      .default(0)
      .meta(
        meta({
          title: 'Cap',
          description: `Most CPU time the VM may use, in percent of one physical CPU: 0..${L.capPerPcpu} × host.pcpus; 0 (the default) means no cap.`,
        }),
      ),
    budget: duration(L.rtBudgetNs.min, L.rtBudgetNs.max)
      .meta(
        meta({
          title: 'RTDS budget',
          description: `rtds: CPU time each vCPU may use per period, at most the period (default ${formatDuration(L.rtBudgetNs.default)}).`,
          sourceDefault: formatDuration(L.rtBudgetNs.default),
        }),
      )
      .optional(),
    period: duration(L.rtPeriodNs.min, L.rtPeriodNs.max)
      .meta(
        meta({
          title: 'RTDS period',
          description: `rtds: the period; each vCPU's deadline is the end of its current period (default ${formatDuration(L.rtPeriodNs.default)}).`,
          sourceDefault: formatDuration(L.rtPeriodNs.default),
        }),
      )
      .optional(),
    extratime: boolean()
      .meta(meta({ title: 'RTDS extra time', description: 'rtds: whether the vCPU may run beyond its budget on time nobody else needs (default false).' }))
      .optional(),
    pcpu: integer(0, L.pcpus.max - 1, 'a physical CPU index (an integer from 0 to host.pcpus - 1)')
      .meta(meta({ title: 'Pinned physical CPU', description: 'null: the physical CPU the VM\'s vCPU is pinned to (default: the first free one).' }))
      .optional(),
    affinity: strictObject(
      {
        hard: z
          .array(affinityCpu())
          .min(1, { error: 'an empty hard affinity would leave the vCPU nowhere to run: name at least one physical CPU' })
          .meta(meta({ title: 'Hard affinity', description: 'The physical CPUs the VM\'s vCPUs may run on (xl vcpu-pin hard); no policy ever dispatches them elsewhere. Default: all.' }))
          .optional(),
        soft: z
          .array(affinityCpu())
          .meta(meta({ title: 'Soft affinity', description: 'The physical CPUs the VM\'s vCPUs prefer (xl vcpu-pin soft), where the policy can honour it. Default: no preference.' }))
          .optional(),
      },
      'affinity',
    )
      .meta(meta({ title: 'Affinity', description: 'Hard and soft affinity of the VM\'s vCPUs, as xl vcpu-pin sets them (docs/scheduling.md).' }))
      .optional(),
  },
  'scheduling parameters',
)
  .prefault({})
  .meta(meta({ title: 'Scheduling parameters', description: 'Scheduling parameters of the VM (all optional).' }));

/** One physical CPU of an affinity mask. */
function affinityCpu() {
  return integer(0, L.pcpus.max - 1, 'a physical CPU index (an integer from 0 to host.pcpus - 1)').meta(
    meta({ title: 'Physical CPU', description: 'A physical CPU index, 0..host.pcpus - 1.' }),
  );
}

function attachMode(device: string) {
  return z
    .enum(DEVICE_ATTACH_MODES, { error: (issue) => oneOfMessage(`an attach mode for the ${device}`, issue.input, DEVICE_ATTACH_MODES) })
    .default('emulated')
    .meta(
      meta({
        title: `${capitalize(device)} attach mode`,
        description: `How the ${device} is attached: emulated (its register file; every access exits and is emulated by the monitor), paravirtual (a virtio-like queue in guest memory; one notification per batch), passthrough (its register file reached without exits; its DMA goes through the IOMMU) or none (the VM has no ${device}: its ports and MMIO read as the open bus and ignore writes, as an empty slot on real hardware). Default emulated.`,
      }),
    );
}

const DEVICES_SCHEMA = strictObject(
  {
    block: attachMode('block device'),
    nic: attachMode('NIC'),
    blockQueue: integer(1, 4096)
      .meta(
        meta({
          title: 'Block request queue depth',
          description:
            'Requests the emulated (and passthrough) block device queues, the one in service included, served FIFO; a command written while it is full is refused (status FULL, a blk.refused event). 1 to 4096, default 32.',
        }),
      )
      .optional(),
  },
  'device attach modes',
)
  .prefault({})
  .meta(
    meta({
      title: 'Devices',
      description: 'How the VM\'s devices are attached (docs/architectures.md); a guest must use the interface its mode exposes, the other reads as the open bus. Default: both emulated.',
    }),
  );

function guestNameSchema(guests: readonly string[]) {
  const known = new Set(guests);
  return nonEmptyString('the name of a bundled guest')
    .superRefine((name, ctx) => {
      if (!known.has(name)) {
        ctx.addIssue({
          code: 'custom',
          input: name,
          message:
            guests.length === 0
              ? `unknown bundled guest ${quote(name)} (no bundled guests are available)`
              : `unknown bundled guest ${quote(name)} (expected one of: ${guests.join(', ')})${didYouMean(name, guests)}`,
        });
      }
    })
    .meta({
      ...meta({
        title: 'Bundled guest',
        description: 'Name of a guest program bundled with vmmsim. Give exactly one of guest, program or source.',
      }),
      ...(guests.length > 0 ? { enum: [...guests] } : {}),
    });
}

function vmSchema(guests: readonly string[]) {
  const paramsError: ErrorFn = (issue) =>
    issue.code === 'invalid_key'
      ? `invalid parameter name ${describeValue(issue.input)}: expected upper-case letters, digits and '_', not starting with a digit, and not a register name (R0..R7, SP)`
      : `expected a map of parameters (NAME: integer), got ${describeValue(issue.input)}`;
  return strictObject(
    {
      name: z
        .string({ error: expecting('a VM name') })
        .regex(VM_NAME_RE, { error: expecting("a VM name: a lowercase letter, then up to 31 lowercase letters, digits or '-'") })
        .meta(
          meta({
            title: 'Name',
            description: "Name of the VM, unique in the scenario: a lowercase letter, then up to 31 lowercase letters, digits or '-'.",
            examples: ['alpha', 'web-1'],
          }),
        ),
      vcpus: integer(L.vcpus.min, L.vcpus.max)
        .default(L.vcpus.default)
        .meta(meta({ title: 'vCPUs', description: `Number of virtual CPUs, ${L.vcpus.min}..${L.vcpus.max} (default ${L.vcpus.default}).` })),
      memory: size(L.vmMemoryBytes.min, L.vmMemoryBytes.max, PAGE_BYTES)
        .default(L.vmMemoryBytes.default)
        .meta(
          meta({
            title: 'Memory',
            description: `Guest memory: an integer number of bytes or a size such as 64KiB, 4MiB or 1GiB (units B, KiB, MiB, GiB). A multiple of the ${formatBytes(PAGE_BYTES)} page, from ${formatBytes(L.vmMemoryBytes.min)} to ${formatBytes(L.vmMemoryBytes.max)}; default ${formatBytes(L.vmMemoryBytes.default)}.`,
            sourceDefault: formatBytes(L.vmMemoryBytes.default),
            examples: ['64KiB', '1MiB'],
          }),
        ),
      guest: guestNameSchema(guests).optional(),
      program: nonEmptyString('the path of an assembly file')
        .meta(
          meta({
            title: 'Program file',
            description:
              'Path of an assembly file, relative to the scenario file. Give exactly one of guest, program, source or trace.',
          }),
        )
        .optional(),
      image: nonEmptyString('the path of a VM image file')
        .meta(
          meta({
            title: 'Image file',
            description:
              "Path of a VM image written by a save (vmmsim run --save, or a save: input), relative to the scenario file: the VM is restored from it, paused, and resumed when it starts; the image's guest code, memory, vCPUs and devices replace a guest. Its vcpus and memory must be the image's. Two VMs may start from one image (a clone): each keeps its own name, MAC and random streams. Give exactly one of guest, program, source, trace or image.",
          }),
        )
        .optional(),
      trace: nonEmptyString('the path of a CSV trace')
        .meta(
          meta({
            title: 'Trace file',
            description:
              'Path of a CSV trace of burst_ns,sleep_ns lines, relative to the scenario file: the VM runs a guest that replays it (compute each burst, then sleep on its timer) for ever. Give exactly one of guest, program, source or trace.',
          }),
        )
        .optional(),
      source: nonEmptyString('assembly source text')
        .meta(
          meta({
            title: 'Inline source',
            description:
              'Assembly source text of the guest, best written as a literal block (source: |). Give exactly one of guest, program or source.',
          }),
        )
        .optional(),
      sourceLine: integer(L.sourceLine.min, L.sourceLine.max, 'a line number (an integer from 0)')
        .meta(
          meta({
            title: 'Source line',
            description:
              'Written by tools that store a loaded scenario: the 1-based line of the original file where source began (0 = unknown). Leave it out when writing a scenario by hand.',
          }),
        )
        .optional(),
      params: z
        .record(
          z.string().regex(PARAM_NAME_RE),
          integer(L.param.min, L.param.max, `a 32-bit integer (from ${L.param.min} to ${L.param.max})`),
          { error: paramsError },
        )
        .default({})
        .meta(
          meta({
            title: 'Parameters',
            description:
              'Symbols predefined for the assembler: NAME (upper-case letters, digits and _) to a 32-bit integer.',
            examples: [{ TICKS: 20 }],
          }),
        ),
      start: duration(L.startNs.min, L.startNs.max)
        .default(L.startNs.default)
        .meta(
          meta({
            title: 'Start time',
            description: `Virtual time at which the VM is started: integer ns or a duration such as 500us, 20ms, 1s (units ns, us, ms, s); at most 30 days; default 0.`,
            sourceDefault: formatDuration(L.startNs.default),
          }),
        ),
      autostart: boolean()
        .default(true)
        .meta(meta({ title: 'Autostart', description: 'Whether the VM is started by the scenario (default true).' })),
      sched: VM_SCHED_SCHEMA,
      pool: z
        .string({ error: expecting('the name of a cpupool') })
        .meta(meta({ title: 'cpupool', description: 'The cpupool the VM runs in (one named under cpupools:; default the first). Only with cpupools:.' }))
        .optional(),
      host: z
        .string({ error: expecting('the name of a host') })
        .meta(meta({ title: 'Host', description: 'The host the VM starts on (one named under hosts:; default the first). Only with hosts:.' }))
        .optional(),
      numa: strictObject(
        { node: integer(0, L.pcpus.max - 1).meta(meta({ title: 'NUMA node', description: "The node the VM's memory is on (as a vNUMA pnode=)." })) },
        'NUMA placement',
      )
        .meta(
          meta({
            title: 'NUMA placement',
            description:
              "Only with host.topology.nodes: the node holding the VM's memory; its vCPUs' soft affinity becomes the node's pCPUs unless sched.affinity.soft is given. Absent: libxl's automatic placement (the node with the fewest vCPUs, then the most free memory).",
          }),
        )
        .optional(),
      virt: z
        .enum(VIRT_TECHNIQUES, { error: (issue) => oneOfMessage('a virtualization technique', issue.input, VIRT_TECHNIQUES) })
        .default('full')
        .meta(
          meta({
            title: 'Virtualization technique',
            description:
              'full: trap-and-emulate (every sensitive instruction exits); para: the same CPU, for guests that call the monitor with hypercalls; hw: hardware-assisted (sensitive instructions and guest exceptions run without exits); bt: binary translation (sensitive instructions become calls into the monitor, no traps). Default full.',
          }),
        ),
      postedInterrupts: boolean()
        .default(false)
        .meta(
          meta({
            title: 'Posted interrupts',
            description:
              'Hardware-assisted only (virt: hw): interrupts for a running vCPU are posted to it (Intel APICv / AMD AVIC) and taken without an exit. Without them, an interrupt that arrives while the vCPU runs guest code is an external-interrupt exit. Default false.',
          }),
        ),
      paging: z
        .enum(PAGING_MODES, { error: (issue) => oneOfMessage('a paging mode', issue.input, PAGING_MODES) })
        .meta(
          meta({
            title: 'Paging virtualization',
            description:
              "How the guest's own page tables are virtualized: shadow (the monitor keeps shadow tables and traps the guest's page-table accesses) or nested (the hardware walks both tables; needs virt: hw). Default: nested with virt: hw, shadow otherwise.",
          }),
        )
        .optional(),
      // At least 2: an instruction and the page it loads or stores (one entry would evict the
      // other at every fill, and a paging guest would never get past such an instruction).
      tlbEntries: integer(2, 1024, 'an integer from 2 to 1024 (an instruction and the page it touches need one entry each)')
        .default(64)
        .meta(meta({ title: 'TLB entries', description: "Entries of each vCPU's TLB, 2 to 1024 (default 64): an instruction and the page it touches need one each." })),
      tlbTagged: z
        .boolean({ error: expecting('true or false') })
        .default(false)
        .meta(
          meta({
            title: 'Tagged TLB',
            description:
              "true: the TLB's entries carry the vCPU's tag (Intel VPID, AMD ASID), so a physical CPU switching between vCPUs keeps them; a vCPU that moves to another physical CPU still starts cold. false (default): untagged, flushed on every switch.",
          }),
        ),
      devices: DEVICES_SCHEMA,
      workload: workloadSchema({ duration, maxTimeNs: L.runTimeNs.max }).optional(),
    },
    'VM settings',
  ).meta(meta({ title: 'VM', description: 'One virtual machine.' }));
}

function costsSchema() {
  const shape: Record<string, ReturnType<typeof costDuration>> = {};
  for (const name of COST_NAMES) shape[costSourceKey(name)] = costDuration(name);
  return strictObject(shape, 'cost overrides')
    .prefault({})
    .meta(
      meta({
        title: 'Costs',
        description:
          'Overrides of the cost model (docs/cost-model.md): each value is integer ns or a duration such as 600ns or 2us.',
      }),
    );
}

function costDuration(name: CostName) {
  const min = name === 'instructionNs' ? 1 : L.costNs.min;
  return duration(min, L.costNs.max)
    .meta(
      meta({
        title: costSourceKey(name),
        description: `${capitalize(COST_DESCRIPTIONS[name])}: integer ns or a duration; default ${formatDuration(DEFAULT_COSTS[name])}; ${min === 0 ? '' : `at least ${formatDuration(min)}, `}at most ${formatDuration(L.costNs.max)}.`,
        examples: [formatDuration(DEFAULT_COSTS[name])],
      }),
    )
    .optional();
}

/** An optional duration parameter of one policy (its default is filled in when that policy runs). */
function policyDuration(title: string, what: string, limits: { readonly min: number; readonly max: number; readonly default: number }) {
  return duration(limits.min, limits.max)
    .meta(
      meta({
        title,
        description: `${what}: integer ns or a duration; from ${formatDuration(limits.min)} to ${formatDuration(limits.max)}; default ${formatDuration(limits.default)}.`,
        sourceDefault: formatDuration(limits.default),
      }),
    )
    .optional();
}

/**
 * The zod schema of the source format for the given bundled guests. Its output is the parsed form
 * (units converted, defaults applied) that {@link validateScenarioSource} turns into a Scenario.
 */
/** The scheduler section (top-level `scheduler:` and each cpupool's own). */
function schedulerSchema() {
  const policyError: ErrorFn = (issue) => oneOfMessage('a scheduling policy', issue.input, POLICY_NAMES);
  return strictObject(
    {
      policy: z
        .enum(POLICY_NAMES, { error: policyError })
        .default(POLICY_NAMES[0])
        .meta(meta({ title: 'Policy', description: `Scheduling policy: ${POLICY_NAMES.join(', ')} (default ${POLICY_NAMES[0]}).` })),
      quantum: duration(L.quantumNs.min, L.quantumNs.max)
        .default(L.quantumNs.default)
        .meta(
          meta({
            title: 'Quantum',
            description: `Time slice of a vCPU: integer ns or a duration such as 500us, 1ms (units ns, us, ms, s); from ${formatDuration(L.quantumNs.min)} to ${formatDuration(L.quantumNs.max)}; default ${formatDuration(L.quantumNs.default)}.`,
            sourceDefault: formatDuration(L.quantumNs.default),
          }),
        ),
      timeslice: policyDuration('Time slice', 'credit: the time slice (Xen tslice_ms)', L.timesliceNs),
      ratelimit: policyDuration('Rate limit', 'credit, credit2: least time a vCPU runs before a waking vCPU may preempt it (Xen ratelimit_us)', L.ratelimitNs),
      tick: duration(L.tickNs.min, L.tickNs.max)
        .meta(
          meta({
            title: 'Tick',
            description: `credit: the tick, at which a running vCPU loses BOOST and starts earning credit (credits are recomputed every timeslice): integer ns or a duration; from ${formatDuration(L.tickNs.min)} to ${formatDuration(L.tickNs.max)}; default a third of the timeslice (Xen's __csched_set_tslice), 10ms for the default 30ms.`,
            sourceDefault: formatDuration(L.tickNs.default),
          }),
        )
        .optional(),
      runqueueSize: integer(L.runqueueSize.min, L.runqueueSize.max)
        .meta(meta({ title: 'Run queue size', description: 'credit2: physical CPUs per run queue; 0 (the default) puts them all in one.' }))
        .optional(),
      runqueue: z
        .enum(RUNQUEUE_GRANULARITIES, { error: (issue) => oneOfMessage('a run queue granularity', issue.input, RUNQUEUE_GRANULARITIES) })
        .meta(
          meta({
            title: 'Run queue granularity',
            description: "credit2: one run queue per cpu, core, socket, node (a socket: no NUMA nodes yet) or all (Xen's credit2_runqueue). Default: socket when host.topology is given (Xen's default), else runqueueSize. Not with runqueueSize.",
          }),
        )
        .optional(),
      granularity: z
        .enum(SCHED_GRANULARITIES, { error: (issue) => oneOfMessage('a scheduling granularity', issue.input, SCHED_GRANULARITIES) })
        .meta(
          meta({
            title: 'Scheduling granularity',
            description: "Every policy: cpu (the default), or core or socket: the threads of one core (or socket) run vCPUs of one VM at a time (core scheduling, Xen's sched-gran), so that no two VMs share a core's caches and execution units. Needs host.topology.",
          }),
        )
        .optional(),
      latency: policyDuration('Latency target', 'cfs: the period within which every runnable vCPU runs once (sched_latency)', L.latencyNs),
      minGranularity: policyDuration('Minimum granularity', 'cfs: the shortest slice (sched_min_granularity)', L.minGranularityNs),
      charge: z
        .enum(CHARGE_MODES, { error: expecting(CHARGE_MODES.join(' or ')) })
        .meta(
          meta({
            title: 'Charge',
            description:
              "credit, credit2, rtds, cfs: what burns a vCPU's credit or budget: held (default, Xen's: all the time it holds the CPU, exits and monitor work included) or guest (its guest instructions only).",
          }),
        )
        .optional(),
      capEnforcement: z
        .enum(CAP_ENFORCEMENTS, { error: expecting(CAP_ENFORCEMENTS.join(' or ')) })
        .meta(
          meta({
            title: 'Cap enforcement',
            description:
              "credit: park (default, Xen's: a capped vCPU is parked at accounting once its credit is below minus its cap's worth, so a cap holds on average) or period (its slice is cut at its credit, so the cap holds within every accounting period).",
          }),
        )
        .optional(),
      boost: z
        .boolean({ error: expecting('true or false') })
        .meta(
          meta({
            title: 'BOOST',
            description:
              "credit: whether a vCPU that wakes while UNDER is BOOSTed and preempts the CPU's UNDER and OVER vCPUs (csched_unit_wake). Default true (Xen's); false to measure what BOOST buys.",
          }),
        )
        .optional(),
      frame: z
        .array(
          strictObject(
            {
              vm: z
                .string({ error: expecting('a VM name') })
                .meta(meta({ title: 'VM', description: 'The VM that owns the slot; leave it out for an idle slot.' }))
                .optional(),
              vcpu: integer(0, L.vcpus.max - 1)
                .meta(meta({ title: 'vCPU', description: "The owner's vCPU that runs in the slot (Xen's schedule entries name one vCPU); default 0." }))
                .optional(),
              duration: duration(L.frameSlotNs.min, L.frameSlotNs.max).meta(meta({ title: 'Duration', description: 'Length of the slot.' })),
            },
            'frame slot settings',
          ).meta(meta({ title: 'Slot', description: 'One slot of the major frame: its owner (vm) and its duration.' })),
          { error: expecting(`a list of ${L.frameSlots.min} to ${L.frameSlots.max} slots`) },
        )
        .min(L.frameSlots.min, { error: expecting(`a list of ${L.frameSlots.min} to ${L.frameSlots.max} slots`) })
        .max(L.frameSlots.max, { error: expecting(`a list of ${L.frameSlots.min} to ${L.frameSlots.max} slots`) })
        .meta(
          meta({
            title: 'Major frame',
            description: 'arinc653: the major frame, repeated for ever: slots of { vm, duration } (default: one slot of quantum per VM, in order).',
          }),
        )
        .optional(),
    },
    'scheduler settings',
  );
}

export function scenarioSourceSchema(guests: readonly string[]) {
  return strictObject(
    {
      name: nonEmptyString('a non-empty string').meta(meta({ title: 'Name', description: 'Name of the scenario.' })),
      description: z
        .string({ error: expecting('a string') })
        .meta(meta({ title: 'Description', description: 'Free text describing the scenario.' }))
        .optional(),
      profile: z
        .enum(PROFILE_NAMES as [string, ...string[]], { error: (issue) => oneOfMessage('a hypervisor profile', issue.input, PROFILE_NAMES) })
        .meta(
          meta({
            title: 'Hypervisor profile',
            description: `A preset modelling a well-known hypervisor (${PROFILE_NAMES.join(', ')}): its architecture, technique, paging and device costs; anything the file sets wins.`,
          }),
        )
        .optional(),
      seed: integer(L.seed.min, L.seed.max)
        .default(L.seed.default)
        .meta(
          meta({
            title: 'Seed',
            description: `Seed of the simulation's random numbers, an unsigned 32-bit integer (default ${L.seed.default}). The CLI's --seed overrides it.`,
          }),
        ),
      host: strictObject(
        {
          pcpus: integer(L.pcpus.min, L.pcpus.max)
            .default(L.pcpus.default)
            .meta(meta({ title: 'Physical CPUs', description: `Physical CPUs of the host, ${L.pcpus.min}..${L.pcpus.max} (default ${L.pcpus.default}).` })),
          topology: topologySchema()
            .meta(
              meta({
                title: 'Topology',
                description: 'Sockets x cores per socket x threads per core; the product must equal host.pcpus. pCPU = (socket x coresPerSocket + core) x threadsPerCore + thread.',
              }),
            )
            .optional(),
          memory: size(L.hostMemoryBytes.min, L.hostMemoryBytes.max)
            .default(L.hostMemoryBytes.default)
            .meta(
              meta({
                title: 'Host memory',
                description: `Memory of the host, shared by the VMs: integer bytes or a size such as 64MiB (units B, KiB, MiB, GiB); from ${formatBytes(L.hostMemoryBytes.min)} to ${formatBytes(L.hostMemoryBytes.max)}; default ${formatBytes(L.hostMemoryBytes.default)}.`,
                sourceDefault: formatBytes(L.hostMemoryBytes.default),
              }),
            ),
          type: z
            .enum(HOST_TYPES, { error: (issue) => oneOfMessage('a hypervisor type', issue.input, HOST_TYPES) })
            .default('type1')
            .meta(
              meta({
                title: 'Hypervisor type',
                description:
                  "type1: the monitor owns the hardware (bare metal); type2: the monitor and its vCPUs are processes of a host OS (hosted); bare: no monitor at all, each VM's guest alone on the simulated hardware, as compare --arch's bare machine (no exit or emulation cost, native paging; the VMs' virt and paging are not used). Default type1.",
              }),
            ),
          load: z
            .number({ error: expecting('a number from 0 to 0.9') })
            .min(0, { error: expecting('a number from 0 to 0.9') })
            .max(0.9, { error: expecting('a number from 0 to 0.9') })
            .default(0)
            .meta(meta({ title: 'Host load', description: "Type 2 only: the share of each physical CPU taken by the host OS's own processes, 0 to 0.9 (default 0)." })),
          pageSharing: strictObject(
            {
              interval: duration(L.shareIntervalNs.min, L.shareIntervalNs.max)
                .default(L.shareIntervalNs.default)
                .meta(
                  meta({
                    title: 'Scan interval',
                    description: `Time between two scans (ksmd's sleep_millisecs): integer ns or a duration such as 1ms; from ${formatDuration(L.shareIntervalNs.min)} to ${formatDuration(L.shareIntervalNs.max)}; default ${formatDuration(L.shareIntervalNs.default)}.`,
                    sourceDefault: formatDuration(L.shareIntervalNs.default),
                  }),
                ),
              pages: integer(L.sharePages.min, L.sharePages.max)
                .default(L.sharePages.default)
                .meta(meta({ title: 'Pages per scan', description: `Guest pages scanned per scan, across the VMs (ksmd's pages_to_scan), ${L.sharePages.min}..${L.sharePages.max} (default ${L.sharePages.default}).` })),
            },
            'page sharing settings',
          )
            .meta(
              meta({
                title: 'Page sharing',
                description: "Merge guest pages with identical content onto one read-only host frame, copied again on a write (KSM, VMware's transparent page sharing). Absent: off.",
              }),
            )
            .optional(),
          overcommit: z
            .boolean({ error: expecting('true or false') })
            .default(false)
            .meta(
              meta({
                title: 'Memory overcommit',
                description: "true: the VMs' memory may exceed the host's; guest pages get a frame on first touch and the host reclaims (shared pages, balloon, swap) when it runs out. false (default): every VM's memory is backed when it is built and must fit.",
              }),
            ),
          ballooning: strictObject(
            {
              below: fraction()
                .default(L.balloonBelow.default)
                .meta(
                  meta({
                    title: 'Free-memory threshold',
                    description: `The share of the host's frames free below which the host inflates balloons: a fraction above 0 and below 1, or a percentage such as 6%; default ${L.balloonBelow.default * 100}% (ESX's "high" threshold).`,
                    sourceDefault: `${L.balloonBelow.default * 100}%`,
                  }),
                ),
              step: integer(L.balloonStepPages.min, L.balloonStepPages.max)
                .default(L.balloonStepPages.default)
                .meta(meta({ title: 'Pages per check', description: `Pages the host asks for per check, across the VMs with a balloon driver, ${L.balloonStepPages.min}..${L.balloonStepPages.max} (default ${L.balloonStepPages.default}).` })),
              interval: duration(L.balloonIntervalNs.min, L.balloonIntervalNs.max)
                .default(L.balloonIntervalNs.default)
                .meta(
                  meta({
                    title: 'Check interval',
                    description: `Time between two checks of the host's free memory: integer ns or a duration such as 1ms; from ${formatDuration(L.balloonIntervalNs.min)} to ${formatDuration(L.balloonIntervalNs.max)}; default ${formatDuration(L.balloonIntervalNs.default)}.`,
                    sourceDefault: formatDuration(L.balloonIntervalNs.default),
                  }),
                ),
            },
            'ballooning settings',
          )
            .meta(
              meta({
                title: 'Host-driven ballooning',
                description:
                  "Overcommit only: while the host's free frames are below `below`, every `interval` it raises the balloon targets of the VMs whose guest runs a balloon driver by `step` pages in all (most from the VM with the most frames; ESX's ballooning in its soft state). Absent: only inputs set balloon targets.",
              }),
            )
            .optional(),
          driverDomain: strictObject(
            {
              vcpus: integer(L.driverDomainVcpus.min, L.driverDomainVcpus.max)
                .default(L.driverDomainVcpus.default)
                .meta(meta({ title: 'dom0 vCPUs', description: `vCPUs of dom0; ${L.driverDomainVcpus.max} for now (default ${L.driverDomainVcpus.default}).` })),
              backend: duration(L.backendNs.min, L.backendNs.max)
                .default(L.backendNs.default)
                .meta(
                  meta({
                    title: 'Backend work',
                    description: `What dom0's vCPU computes per guest completion (blkback's or netback's work): integer ns or a duration such as 20us; from 0 to ${formatDuration(L.backendNs.max)}; default ${formatDuration(L.backendNs.default)}.`,
                    sourceDefault: formatDuration(L.backendNs.default),
                  }),
                ),
              memory: size(L.vmMemoryBytes.min, L.vmMemoryBytes.max, PAGE_BYTES)
                .default(L.vmMemoryBytes.default)
                .meta(
                  meta({
                    title: 'dom0 memory',
                    description: `dom0's guest memory, a multiple of the ${formatBytes(PAGE_BYTES)} page; default ${formatBytes(L.vmMemoryBytes.default)}.`,
                    sourceDefault: formatBytes(L.vmMemoryBytes.default),
                  }),
                ),
              sched: VM_SCHED_SCHEMA,
            },
            'driver domain settings',
          )
            .meta(
              meta({
                title: 'Driver domain',
                description:
                  "Xen's dom0 with split drivers: a VM named dom0, scheduled like the others (its sched: weight, cap...), runs the device backends. A paravirtual block device's or NIC's completion in another VM queues for dom0 and raises its event channel; dom0's vCPU runs `backend` of work for it, and only then is the VM's interrupt raised. Emulated and passthrough devices are not affected. Absent: no driver domain.",
              }),
            )
            .optional(),
        },
        'host settings',
      )
        .prefault({})
        .meta(meta({ title: 'Host', description: 'The physical machine.' })),
      scheduler: schedulerSchema()
        .prefault({})
        .meta(meta({ title: 'Scheduler', description: 'How the monitor shares the physical CPUs among the vCPUs.' })),
      cpupools: z
        .array(
          strictObject(
            {
              name: z
                .string({ error: expecting('a cpupool name') })
                .regex(POOL_NAME_RE, { error: expecting("a cpupool name: a letter, then up to 31 letters, digits, '-' or '_'") })
                .meta(meta({ title: 'Name', description: "Name of the pool, unique in the scenario (Xen's first pool is Pool-0).", examples: ['Pool-0', 'rt'] })),
              cpus: z
                .array(affinityCpu(), { error: expecting('a list of physical CPU indices') })
                .min(1, { error: 'an empty cpupool has no CPU to run its VMs: name at least one physical CPU' })
                .meta(meta({ title: 'Physical CPUs', description: 'The physical CPUs of the pool; every physical CPU of the host is in exactly one pool.' })),
              scheduler: schedulerSchema()
                .meta(meta({ title: 'Scheduler', description: "The pool's scheduler and its parameters, as the top-level scheduler: section (default: that section)." }))
                .optional(),
            },
            'cpupool settings',
          ).meta(meta({ title: 'cpupool', description: 'A named group of physical CPUs with its own scheduler (xl cpupool-create).' })),
          { error: expecting(`a list of 1 to ${L.pcpus.max} cpupools`) },
        )
        .min(1, { error: expecting(`a list of 1 to ${L.pcpus.max} cpupools`) })
        .max(L.pcpus.max, { error: expecting(`a list of 1 to ${L.pcpus.max} cpupools`) })
        .meta(
          meta({
            title: 'cpupools',
            description:
              "Xen's cpupools: named groups of physical CPUs, each with its own scheduler. Every physical CPU in exactly one pool; a VM runs in the pool its pool: names (default the first). Absent: one pool of every CPU under scheduler:.",
          }),
        )
        .optional(),
      hosts: z
        .array(
          strictObject(
            {
              name: z
                .string({ error: expecting('a host name') })
                .regex(HOST_NAME_RE, { error: expecting("a host name: a letter, then up to 31 letters, digits, '-' or '_'") })
                .meta(meta({ title: 'Name', description: 'Name of the host, unique in the scenario.', examples: ['src', 'dst'] })),
              pcpus: integer(L.pcpus.min, L.pcpus.max).meta(meta({ title: 'Physical CPUs', description: `The host's physical CPUs, ${L.pcpus.min} to ${L.pcpus.max}.` })),
              memory: size(L.hostMemoryBytes.min, L.hostMemoryBytes.max, PAGE_BYTES).meta(meta({ title: 'Memory', description: "The host's memory for its VMs, a multiple of the page." })),
              type: z
                .enum(HYPERVISOR_TYPES, { error: (issue) => oneOfMessage('a hypervisor type', issue.input, HYPERVISOR_TYPES) })
                .meta(
                  meta({
                    title: 'Type',
                    description: "The host's hypervisor type, type1 or type2 (default host.type): a type2 host's CPUs pay the host OS's costs and load, a type1 host's do not, in the same run.",
                  }),
                )
                .optional(),
              load: z
                .number({ error: expecting('a number from 0 to 0.9') })
                .min(0, { error: expecting('a number from 0 to 0.9') })
                .max(0.9, { error: expecting('a number from 0 to 0.9') })
                .meta(meta({ title: 'Host load', description: "Type 2 only: the share of each of the host's CPUs taken by its host OS's own processes, 0 to 0.9 (default host.load)." }))
                .optional(),
              scheduler: schedulerSchema()
                .meta(meta({ title: 'Scheduler', description: "The host's scheduler and its parameters, as the top-level scheduler: section (default: that section)." }))
                .optional(),
              topology: topologySchema()
                .meta(
                  meta({
                    title: 'Topology',
                    description:
                      "The host's sockets x cores per socket x threads per core, as host.topology; the product must equal the host's pcpus, numbered from 0 within the host. No NUMA nodes with several hosts yet. Absent: one socket of single-thread cores.",
                  }),
                )
                .optional(),
            },
            'host entry settings',
          ).meta(meta({ title: 'Host entry', description: 'One physical machine: its CPUs, memory, scheduler and hypervisor type.' })),
          { error: expecting(`a list of 1 to ${L.pcpus.max} hosts`) },
        )
        .min(1, { error: expecting(`a list of 1 to ${L.pcpus.max} hosts`) })
        .max(L.pcpus.max, { error: expecting(`a list of 1 to ${L.pcpus.max} hosts`) })
        .meta(meta({ title: 'Hosts', description: 'Several hosts in one scenario (docs/migration.md), each with its own CPUs, memory, scheduler and type; a VM names its host with host:. Absent: one host, host:.' }))
        .optional(),
      links: z
        .array(
          strictObject(
            {
              between: z
                .array(z.string({ error: expecting('a host name') }).meta(meta({ title: 'Host', description: 'A host named under hosts:.' })), { error: expecting('two host names') })
                .length(2, { error: expecting('two host names') })
                .meta(meta({ title: 'Between', description: 'The two hosts the link joins.' })),
              bandwidth: bandwidthSchema()
                .default(LINK_DEFAULTS.bandwidthBytesPerSecond)
                .meta(meta({ title: 'Bandwidth', description: 'Bytes per second, or with a unit such as 1Gbit/s, 125MB/s (default 1Gbit/s).', sourceDefault: '1Gbit/s' })),
              latency: duration(0, SECOND)
                .default(LINK_DEFAULTS.latencyNs)
                .meta(meta({ title: 'Latency', description: 'One-way latency, a duration (default 100us).', sourceDefault: '100us' })),
            },
            'link settings',
          ).meta(meta({ title: 'Link', description: 'A network link between two hosts (what a migration crosses).' })),
          { error: expecting('a list of links') },
        )
        .meta(meta({ title: 'Links', description: 'Links between hosts, with bandwidth and latency. Only with hosts:.' }))
        .optional(),
      run: strictObject(
        {
          time: duration(L.runTimeNs.min, L.runTimeNs.max)
            .default(L.runTimeNs.default)
            .meta(
              meta({
                title: 'Run time',
                description: `Virtual time to simulate: integer ns or a duration such as 20ms, 2s (units ns, us, ms, s); at most 30 days (${formatDuration(L.runTimeNs.max)}); default ${formatDuration(L.runTimeNs.default)}.`,
                sourceDefault: formatDuration(L.runTimeNs.default),
              }),
            ),
          instructions: integer(L.instructions.min, L.instructions.max, 'a positive integer')
            .meta(meta({ title: 'Instruction limit', description: 'Stop after this many guest instructions in total (optional).' }))
            .optional(),
          checkpointEvery: integer(L.checkpointEvery.min, L.checkpointEvery.max)
            .meta(
              meta({
                title: 'Checkpoint interval',
                description: `Events between checkpoint lines in the event log, ${L.checkpointEvery.min}..${L.checkpointEvery.max}. Absent: a checkpoint after at least ${CHECKPOINT_AUTO.minEvents.toLocaleString('en')} events, once the event lines since the last one take ${CHECKPOINT_AUTO.linesPerCheckpointByte} times its size (checkpoints stay about a tenth of the log, however many VMs they hold).`,
              }),
            )
            .optional(),
          smpQuantum: duration(L.smpQuantumNs.min, L.smpQuantumNs.max)
            .default(L.smpQuantumNs.default)
            .meta(
              meta({
                title: 'SMP quantum',
                description: `The longest stretch a vCPU runs ahead while another vCPU of its VM runs on another physical CPU: how late one sees the other's memory writes (like Simics' cpu-switch-time). ${formatDuration(L.smpQuantumNs.min)} to ${formatDuration(L.smpQuantumNs.max)}; default ${formatDuration(L.smpQuantumNs.default)}.`,
                sourceDefault: formatDuration(L.smpQuantumNs.default),
              }),
            ),
        },
        'run settings',
      )
        .prefault({})
        .meta(meta({ title: 'Run', description: 'How long to simulate.' })),
      costs: costsSchema(),
      vms: z
        .array(vmSchema(guests), { error: expecting(`a list of ${L.vms.min} to ${L.vms.max} VMs`) })
        .min(L.vms.min, { error: expecting(`a list of ${L.vms.min} to ${L.vms.max} VMs`) })
        .max(L.vms.max, { error: expecting(`a list of ${L.vms.min} to ${L.vms.max} VMs`) })
        .meta(meta({ title: 'VMs', description: `The virtual machines, ${L.vms.min} to ${L.vms.max}.` })),
      inputs: inputsSchema({
        strictObject: (shape, what) => strictObject(shape, what),
        duration,
        integer: (min, max) => integer(min, max),
        vmName: nonEmptyString('a VM name'),
        maxTimeNs: L.runTimeNs.max,
        bandwidth: bandwidthSchema,
      }),
    },
    'scenario settings',
  ).meta(meta({ title: 'vmmsim scenario', description: 'A scenario of the vmmsim hypervisor simulation.' }));
}

type SourceSchema = ReturnType<typeof scenarioSourceSchema>;
type Parsed = z.output<SourceSchema>;

const schemaCache = new Map<string, SourceSchema>();

function cachedSchema(guests: readonly string[]): SourceSchema {
  const key = JSON.stringify(guests);
  let schema = schemaCache.get(key);
  if (schema === undefined) {
    if (schemaCache.size >= 16) schemaCache.clear();
    schema = scenarioSourceSchema(guests);
    schemaCache.set(key, schema);
  }
  return schema;
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

export type IssuePath = readonly (string | number)[];

/** A problem found in a source scenario, located by path; load.ts turns it into a diagnostic. */
export interface ScenarioIssue {
  readonly path: IssuePath;
  readonly message: string;
  /** Whether the problem is about the key at `path` itself (unknown key) or its value. */
  readonly at: 'key' | 'value';
}

export type ValidationResult =
  | { readonly ok: true; readonly scenario: Scenario }
  | { readonly ok: false; readonly issues: readonly ScenarioIssue[] };

/**
 * Validates a plain source object and resolves it into a Scenario. `sourceLineOf(i)` gives the
 * 1-based line where the inline source of VM i starts (0 when unknown); it is called only for
 * VMs with `source` and no `sourceLine`.
 */
export function validateScenarioSource(
  raw: unknown,
  guests: readonly string[],
  sourceLineOf: (vmIndex: number) => number = () => 0,
): ValidationResult {
  const profiled = applyProfile(raw);
  const result = cachedSchema(guests).safeParse(profiled);
  const issues: ScenarioIssue[] = result.success ? [] : result.error.issues.flatMap((issue) => fromZodIssue(issue, raw));
  issues.push(...checkRaw(raw));
  if (result.success && isRecord(raw)) issues.push(...checkHosts(raw, result.data.host.type));
  if (!result.success || issues.length > 0) return { ok: false, issues };
  const parsed = foldHosts(result.data);
  const crossIssues = checkParsed(parsed);
  if (crossIssues.length > 0) return { ok: false, issues: crossIssues };
  return { ok: true, scenario: buildScenario(parsed, sourceLineOf) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Several hosts as cpupools (hosts.ts): the host's CPUs and memory are the hosts' sums, each host
 * a pool of its own consecutive CPUs under its own scheduler, each VM's pool its host.
 */
function foldHosts(p: Parsed): Parsed {
  const hosts = p.hosts;
  if (hosts === undefined) return p;
  const ranges = hostPcpus(hosts);
  return {
    ...p,
    host: { ...p.host, pcpus: hosts.reduce((sum, host) => sum + host.pcpus, 0), memory: hosts.reduce((sum, host) => sum + host.memory, 0) },
    cpupools: hosts.map((host, index) => ({ name: host.name, cpus: ranges[index], scheduler: host.scheduler })),
    vms: p.vms.map((vm) => ({ ...vm, pool: vm.host ?? hosts[0].name })),
  };
}

function own(object: unknown, key: string | number): unknown {
  if (Array.isArray(object)) return typeof key === 'number' ? object[key] : undefined;
  if (isRecord(object) && Object.hasOwn(object, key)) return object[key];
  return undefined;
}

function fromZodIssue(issue: z.core.$ZodIssue, raw: unknown): ScenarioIssue[] {
  const path = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
  if (issue.code === 'unrecognized_keys') {
    const messages = issue.message.split(KEY_MESSAGE_SEPARATOR);
    return issue.keys.map((key, i) => ({
      path: [...path, key],
      message: messages[i] ?? unknownKeyMessage(key, []),
      at: 'key' as const,
    }));
  }
  if (issue.code === 'invalid_key') return [{ path, message: issue.message, at: 'key' }];
  if (issue.code === 'invalid_type' && path.length > 0) {
    let parent: unknown = raw;
    for (const segment of path.slice(0, -1)) parent = own(parent, segment);
    const key = path[path.length - 1];
    if (isRecord(parent) && !Object.hasOwn(parent, key)) {
      return [{ path, message: `missing required key ${quote(String(key))}`, at: 'value' }];
    }
  }
  return [{ path, message: issue.message, at: 'value' }];
}

const GUEST_KEYS = ['guest', 'program', 'source', 'trace', 'image'] as const;

/** Checks on the raw object that zod cannot express per field; they run even when zod fails. */
function checkRaw(raw: unknown): ScenarioIssue[] {
  const issues: ScenarioIssue[] = [];
  const vms = own(raw, 'vms');
  if (!Array.isArray(vms)) return issues;
  const host = own(raw, 'host');
  const hasDriverDomain = isRecord(host) && Object.hasOwn(host, 'driverDomain');
  const firstByName = new Map<string, number>();
  vms.forEach((vm: unknown, i) => {
    if (!isRecord(vm)) return;
    const present = GUEST_KEYS.filter((key) => Object.hasOwn(vm, key));
    if (present.length === 0) {
      issues.push({
        path: ['vms', i],
        message: "missing the guest code: expected exactly one of 'guest' (a bundled guest), 'program' (an assembly file), 'source' (inline assembly), 'trace' (a CSV trace) or 'image' (a saved VM)",
        at: 'value',
      });
    } else if (present.length > 1) {
      issues.push({
        path: ['vms', i, present[1]],
        message: `expected exactly one of 'guest', 'program', 'source', 'trace' or 'image', got both '${present[0]}' and '${present[1]}'`,
        at: 'key',
      });
    }
    if (Object.hasOwn(vm, 'sourceLine') && !present.includes('source')) {
      issues.push({ path: ['vms', i, 'sourceLine'], message: "'sourceLine' is only allowed together with 'source'", at: 'key' });
    }
    const name = own(vm, 'name');
    if (typeof name === 'string') {
      const first = firstByName.get(name);
      if (first === undefined) firstByName.set(name, i);
      else issues.push({ path: ['vms', i, 'name'], message: `duplicate VM name ${quote(name)} (already used by vms[${first}])`, at: 'value' });
    }
    if (name === DRIVER_DOMAIN_NAME && hasDriverDomain) {
      issues.push({ path: ['vms', i, 'name'], message: `the VM name ${quote(name)} is the driver domain's (host.driverDomain): give this VM another name`, at: 'value' });
    }
  });
  return issues;
}

/** Checks across fields of an otherwise valid scenario. */
function checkParsed(parsed: Parsed): ScenarioIssue[] {
  const issues: ScenarioIssue[] = [];
  const vmVcpus = new Map(parsed.vms.map((vm) => [vm.name, vm.vcpus] as const));
  parsed.vms.forEach((vm, i) => {
    if (vm.postedInterrupts && vm.virt !== 'hw') {
      issues.push({ path: ['vms', i, 'postedInterrupts'], message: `posted interrupts need hardware assistance: give this VM virt: hw (it has virt: ${vm.virt})`, at: 'value' });
    }
    if (vm.paging === 'nested' && vm.virt !== 'hw') {
      issues.push({ path: ['vms', i, 'paging'], message: `nested paging needs hardware assistance: give this VM virt: hw (it has virt: ${vm.virt})`, at: 'value' });
    }
  });
  for (const issue of checkInputs(parsed.inputs as ParsedInput[], vmVcpus)) issues.push({ ...issue, at: 'value' });
  if (parsed.host.ballooning !== undefined && parsed.host.overcommit !== true) {
    issues.push({
      path: ['host', 'ballooning'],
      message: 'host-driven ballooning needs memory overcommit: set host.overcommit: true (without it every page is backed and there is no memory pressure)',
      at: 'key',
    });
  }
  const topology = parsed.host.topology;
  if (topology !== undefined && topology.sockets * topology.coresPerSocket * topology.threadsPerCore !== parsed.host.pcpus) {
    issues.push({
      path: ['host', 'topology'],
      message: `sockets x coresPerSocket x threadsPerCore is ${topology.sockets} x ${topology.coresPerSocket} x ${topology.threadsPerCore} = ${topology.sockets * topology.coresPerSocket * topology.threadsPerCore}, but host.pcpus is ${parsed.host.pcpus}: they must be equal`,
      at: 'key',
    });
  }
  if (topology?.nodes !== undefined && topology.sockets % topology.nodes !== 0) {
    issues.push({ path: ['host', 'topology', 'nodes'], message: `${topology.nodes} nodes cannot split ${topology.sockets} socket(s) evenly: nodes must divide sockets`, at: 'value' });
  }
  const nodes = topology?.nodes ?? 1;
  parsed.vms.forEach((vm, i) => {
    if (vm.numa === undefined) return;
    if (nodes < 2) issues.push({ path: ['vms', i, 'numa'], message: 'numa needs NUMA nodes: set host.topology.nodes to 2 or more', at: 'key' });
    else if (vm.numa.node >= nodes) issues.push({ path: ['vms', i, 'numa', 'node'], message: `the host has ${nodes} NUMA nodes: expected a node from 0 to ${nodes - 1}`, at: 'value' });
  });
  const granularity = parsed.scheduler.granularity;
  if (granularity !== undefined && granularity !== 'cpu' && topology === undefined) {
    issues.push({ path: ['scheduler', 'granularity'], message: `granularity ${granularity} needs host.topology (which threads share a core, which cores a socket)`, at: 'value' });
  }
  if (granularity !== undefined && granularity !== 'cpu' && parsed.cpupools !== undefined) {
    issues.push({ path: ['scheduler', 'granularity'], message: `granularity ${granularity} is not available with cpupools yet (a pool sees no topology)`, at: 'value' });
  }
  if (parsed.scheduler.runqueue !== undefined && parsed.scheduler.runqueueSize !== undefined) {
    issues.push({ path: ['scheduler', 'runqueue'], message: 'give runqueue or runqueueSize, not both (runqueue sets the size from host.topology)', at: 'key' });
  }
  for (const issue of checkCpupools(parsed)) issues.push(issue);
  const maxCap = L.capPerPcpu * parsed.host.pcpus;
  let total = 0;
  let overflowReported = false;
  const names = new Set(parsed.vms.map((vm) => vm.name));
  parsed.scheduler.frame?.forEach((slot, i) => {
    if (slot.vm !== undefined && !names.has(slot.vm)) {
      issues.push({
        path: ['scheduler', 'frame', i, 'vm'],
        message: `unknown VM ${quote(slot.vm)} (expected one of: ${[...names].join(', ')})${didYouMean(slot.vm, [...names])}`,
        at: 'value',
      });
    }
    const owner = parsed.vms.find((vm) => vm.name === slot.vm);
    if (slot.vcpu !== undefined && owner !== undefined && slot.vcpu >= owner.vcpus) {
      issues.push({ path: ['scheduler', 'frame', i, 'vcpu'], message: `VM ${quote(owner.name)} has ${owner.vcpus} vCPU(s): vcpu must be below ${owner.vcpus}`, at: 'value' });
    }
  });
  const budgetDefault = L.rtBudgetNs.default;
  parsed.vms.forEach((vm, i) => {
    const budget = vm.sched.budget ?? budgetDefault;
    const period = vm.sched.period ?? Math.max(L.rtPeriodNs.default, budget);
    if (budget > period) {
      issues.push({
        path: ['vms', i, 'sched', vm.sched.budget === undefined ? 'period' : 'budget'],
        message: `the budget (${formatDuration(budget)}) must not exceed the period (${formatDuration(period)})`,
        at: 'value',
      });
    }
    if (vm.sched.pcpu !== undefined && vm.sched.pcpu >= parsed.host.pcpus) {
      issues.push({
        path: ['vms', i, 'sched', 'pcpu'],
        message: `expected a physical CPU index from 0 to ${parsed.host.pcpus - 1} (host.pcpus - 1), got ${vm.sched.pcpu}`,
        at: 'value',
      });
    }
    for (const kind of ['hard', 'soft'] as const) {
      vm.sched.affinity?.[kind]?.forEach((cpu, j) => {
        if (cpu >= parsed.host.pcpus) {
          issues.push({
            path: ['vms', i, 'sched', 'affinity', kind, j],
            message: `the host has no physical CPU ${cpu}: expected an index from 0 to ${parsed.host.pcpus - 1} (host.pcpus - 1)`,
            at: 'value',
          });
        }
      });
    }
    if (vm.sched.cap > maxCap) {
      issues.push({
        path: ['vms', i, 'sched', 'cap'],
        message: `expected an integer from 0 to ${maxCap} (${L.capPerPcpu} × host.pcpus), got ${vm.sched.cap}`,
        at: 'value',
      });
    }
    total += vm.memory;
    if (!overflowReported && total > parsed.host.memory && parsed.host.overcommit !== true) {
      overflowReported = true;
      const range = i === 0 ? 'vms[0]' : `vms[0] to vms[${i}]`;
      issues.push({
        path: ['vms', i, 'memory'],
        message: `the memory of ${range} adds up to ${formatBytes(total)}, more than the host's ${formatBytes(parsed.host.memory)} (host.memory; or set host.overcommit: true to let them share it)`,
        at: 'value',
      });
    }
  });
  return issues;
}

/**
 * cpupools: unique names, every physical CPU of the host in exactly one pool, and every pool a VM
 * or an input names declared (cpupool.c refuses a CPU already in a pool, and an unknown pool).
 */
function checkCpupools(parsed: Parsed): ScenarioIssue[] {
  const issues: ScenarioIssue[] = [];
  const pools = parsed.cpupools;
  const names = (pools ?? []).map((pool) => pool.name);
  const unknownPool = (name: string): string =>
    pools === undefined
      ? `the scenario declares no cpupools: add a cpupools: section naming ${quote(name)}, or leave pool out`
      : `unknown cpupool ${quote(name)} (expected one of: ${names.join(', ')})${didYouMean(name, names)}`;
  parsed.vms.forEach((vm, i) => {
    if (vm.pool !== undefined && (pools === undefined || !names.includes(vm.pool))) issues.push({ path: ['vms', i, 'pool'], message: unknownPool(vm.pool), at: 'value' });
  });
  (parsed.inputs as ParsedInput[]).forEach((input, i) => {
    if (input.pool !== undefined && (pools === undefined || !names.includes(input.pool))) issues.push({ path: ['inputs', i, 'pool'], message: unknownPool(input.pool), at: 'value' });
  });
  if (pools === undefined) return issues;
  const owner = new Map<number, number>();
  const firstByName = new Map<string, number>();
  pools.forEach((pool, i) => {
    const first = firstByName.get(pool.name);
    if (first === undefined) firstByName.set(pool.name, i);
    else issues.push({ path: ['cpupools', i, 'name'], message: `duplicate cpupool name ${quote(pool.name)} (already used by cpupools[${first}])`, at: 'value' });
    pool.cpus.forEach((cpu, j) => {
      if (cpu >= parsed.host.pcpus) {
        issues.push({ path: ['cpupools', i, 'cpus', j], message: `the host has no physical CPU ${cpu}: expected an index from 0 to ${parsed.host.pcpus - 1} (host.pcpus - 1)`, at: 'value' });
        return;
      }
      const other = owner.get(cpu);
      if (other === undefined) owner.set(cpu, i);
      else if (other === i) issues.push({ path: ['cpupools', i, 'cpus', j], message: `physical CPU ${cpu} is named twice in this pool`, at: 'value' });
      else {
        issues.push({
          path: ['cpupools', i, 'cpus', j],
          message: `physical CPU ${cpu} is already in cpupool ${quote(pools[other].name)} (cpupools[${other}]): every physical CPU belongs to exactly one pool`,
          at: 'value',
        });
      }
    });
  });
  const missing: number[] = [];
  for (let cpu = 0; cpu < parsed.host.pcpus; cpu++) if (!owner.has(cpu)) missing.push(cpu);
  if (missing.length > 0) {
    issues.push({
      path: ['cpupools'],
      message: `physical CPUs in no pool: ${missing.join(', ')}; every physical CPU of the host (host.pcpus: ${parsed.host.pcpus}) belongs to exactly one pool`,
      at: 'key',
    });
  }
  return issues;
}

// ---------------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------------

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function sortedParams(params: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(params).sort()) out[name] = params[name];
  return out;
}

function buildScenario(p: Parsed, sourceLineOf: (vmIndex: number) => number): Scenario {
  const costs: Partial<Record<CostName, number>> = {};
  for (const name of COST_NAMES) {
    const value = p.costs[costSourceKey(name)];
    if (value !== undefined) costs[name] = value;
  }
  const topScheduler = withRunqueue(
    resolveScheduler(p.scheduler, [...p.vms.map((vm) => ({ name: vm.name, vcpus: vm.vcpus })), ...(p.host.driverDomain === undefined ? [] : [{ name: DRIVER_DOMAIN_NAME, vcpus: p.host.driverDomain.vcpus }])]),
    p.host,
  );
  const cpupools = p.cpupools?.map((pool, index): CpupoolSpec => {
    const members = p.vms.filter((vm) => (vm.pool ?? p.cpupools?.[0].name) === pool.name).map((vm) => ({ name: vm.name, vcpus: vm.vcpus }));
    const pcpus = [...new Set(pool.cpus)].sort((x, y) => x - y);
    // A pool's policy sees its CPUs alone (no topology; a host's pool its host's topology): a
    // granularity is sized on the pool, and arinc653's default frame holds the pool's VMs.
    // Without its own section, the top-level one's.
    const topology = p.hosts?.find((host) => host.name === pool.name)?.topology;
    const scheduler = withRunqueue(resolveScheduler(pool.scheduler ?? p.scheduler, members), { pcpus: pcpus.length, ...(topology === undefined ? {} : { topology }) });
    return { name: pool.name || `Pool-${index}`, pcpus, scheduler };
  });
  const poolOf = (vm: Parsed['vms'][number]): CpupoolSpec | undefined => cpupools?.find((pool) => pool.name === (vm.pool ?? cpupools[0].name));
  const numaNodes = numaPlacement(p);
  const scenario: Scenario = {
    name: p.name,
    description: p.description,
    seed: p.seed,
    host: {
      pcpus: p.host.pcpus,
      ...(p.host.topology === undefined ? {} : { topology: resolveTopology(p.host.topology) }),
      memoryBytes: p.host.memory,
      type: p.host.type,
      load: p.host.load,
      ...(p.host.pageSharing === undefined ? {} : { pageSharing: { intervalNs: p.host.pageSharing.interval, pagesPerScan: p.host.pageSharing.pages } }),
      ...(p.host.overcommit ? { overcommit: true } : {}),
      ...(p.host.ballooning === undefined
        ? {}
        : { ballooning: { belowFraction: p.host.ballooning.below, stepPages: p.host.ballooning.step, intervalNs: p.host.ballooning.interval } }),
      ...(p.host.driverDomain === undefined ? {} : { driverDomain: { vcpus: p.host.driverDomain.vcpus, backendNs: p.host.driverDomain.backend } }),
    },
    scheduler: topScheduler,
    run: { timeNs: p.run.time, instructions: p.run.instructions, checkpointEvery: p.run.checkpointEvery, smpQuantumNs: p.run.smpQuantum },
    costs,
    vms: p.vms.map((vm, i): VmSpec => {
      let guest: GuestSpec;
      if (vm.guest !== undefined) guest = { kind: 'bundled', name: vm.guest };
      else if (vm.program !== undefined) guest = { kind: 'file', path: vm.program };
      else if (vm.trace !== undefined) guest = { kind: 'trace', path: vm.trace };
      else if (vm.image !== undefined) guest = { kind: 'image', path: vm.image };
      else guest = { kind: 'inline', source: vm.source ?? '', line: vm.sourceLine ?? sourceLineOf(i) };
      return {
        name: vm.name,
        vcpus: vm.vcpus,
        memoryBytes: vm.memory,
        guest,
        params: sortedParams(vm.params),
        startNs: vm.start,
        autostart: vm.autostart,
        sched: withNodeAffinity(resolveVmSched(poolOf(vm)?.scheduler.policy ?? p.scheduler.policy, vm.sched), p.host.topology, numaNodes?.[i]),
        virt: vm.virt,
        postedInterrupts: vm.postedInterrupts,
        paging: vm.paging ?? (vm.virt === 'hw' ? 'nested' : 'shadow'),
        tlbEntries: vm.tlbEntries,
        ...(vm.tlbTagged ? { tlbTagged: true } : {}),
        devices: { block: vm.devices.block, nic: vm.devices.nic, ...(vm.devices.blockQueue === undefined ? {} : { blockQueue: vm.devices.blockQueue }) },
        ...(vm.workload === undefined ? {} : { workload: vm.workload as WorkloadSpec }),
        ...(cpupools === undefined ? {} : { pool: poolOf(vm)?.name ?? cpupools[0].name }),
        ...(p.hosts === undefined ? {} : { host: vm.host ?? p.hosts[0].name }),
        ...(numaNodes === undefined ? {} : { numa: { node: numaNodes[i] } }),
      };
    }).concat(p.host.driverDomain === undefined ? [] : [driverDomainVm(p.host.driverDomain, p.scheduler.policy)]),
    inputs: resolveInputs(p.inputs as ParsedInput[]),
    ...(cpupools === undefined ? {} : { cpupools }),
    ...(p.hosts === undefined
      ? {}
      : {
          hosts: p.hosts.map(
            (host, index): HostEntrySpec => ({
              name: host.name,
              pcpus: hostPcpus(p.hosts ?? [])[index],
              memoryBytes: host.memory,
              // Only where they differ from host.type and host.load: a scenario whose hosts are all alike resolves as before.
              ...(host.type === undefined || host.type === p.host.type ? {} : { type: host.type }),
              ...(host.load === undefined || host.load === p.host.load ? {} : { load: host.load }),
              ...(host.topology === undefined ? {} : { topology: { ...host.topology } }),
            }),
          ),
          links: (p.links ?? []).map((link): LinkSpec => ({ between: [link.between[0], link.between[1]], bandwidthBytesPerSecond: link.bandwidth, latencyNs: link.latency })),
        }),
  };
  return deepFreeze(scenario);
}

type ParsedScheduler = Parsed['scheduler'];

/** The topology with the remote-memory slowdown's default written out when it has NUMA nodes. */
function resolveTopology(t: NonNullable<Parsed['host']['topology']>): TopologySpec {
  const { remoteSlowdown, ...rest } = t;
  return (t.nodes ?? 1) >= 2 ? { ...rest, remoteSlowdown: remoteSlowdown ?? REMOTE_SLOWDOWN_DEFAULT } : { ...t };
}

/** Each VM's memory node (numa.ts), or undefined without NUMA nodes. */
function numaPlacement(p: Parsed): number[] | undefined {
  const topology = p.host.topology;
  if (topology === undefined || (topology.nodes ?? 1) < 2) return undefined;
  return placeVms(
    topology,
    p.host.memory,
    p.vms.map((vm) => ({ vcpus: vm.vcpus, memoryBytes: vm.memory, node: vm.numa?.node, cpus: vm.sched.affinity?.soft ?? vm.sched.affinity?.hard })),
  );
}

/** libxl: the vCPUs of a VM placed on a node prefer its pCPUs (soft affinity), unless the VM names a soft mask. */
function withNodeAffinity(sched: VmSchedSpec, topology: Parsed['host']['topology'], node: number | undefined): VmSchedSpec {
  if (node === undefined || topology === undefined || sched.affinity?.soft !== undefined) return sched;
  return { ...sched, affinity: { ...sched.affinity, soft: nodeCpus(topology, node) } };
}

/** dom0's VM (appended after the scenario's own VMs, so their indexes and MACs do not move). */
function driverDomainVm(d: NonNullable<Parsed['host']['driverDomain']>, policy: PolicyName): VmSpec {
  return {
    name: DRIVER_DOMAIN_NAME,
    vcpus: d.vcpus,
    memoryBytes: d.memory,
    guest: { kind: 'bundled', name: DRIVER_DOMAIN_GUEST },
    params: { BACKEND_NS: d.backend },
    startNs: 0,
    autostart: true,
    sched: resolveVmSched(policy, d.sched),
    virt: 'para',
    postedInterrupts: false,
    paging: 'shadow',
    tlbEntries: 64,
    devices: DEFAULT_DEVICE_ATTACHMENTS,
  };
}

/**
 * credit2's run queue granularity turned into runqueueSize: the given one, or socket (Xen's
 * default) when the host has a topology and no runqueueSize is given. Hosts without a topology
 * and without `runqueue` keep runqueueSize as it was (so their logs do not change).
 */
function withRunqueue(spec: SchedulerSpec, host: { readonly pcpus: number; readonly topology?: TopologySpec }): SchedulerSpec {
  const granularity = spec.runqueue ?? (spec.policy === 'credit2' && host.topology !== undefined && spec.runqueueSize === L.runqueueSize.default ? 'socket' : undefined);
  if (granularity === undefined) return spec;
  return { ...spec, runqueue: granularity, runqueueSize: runqueueSizeOf(granularity, host) };
}

/** The policies that use each optional parameter of the scheduler section (its default is filled in for them). */
const POLICY_PARAMETERS = {
  timesliceNs: ['credit'],
  ratelimitNs: ['credit', 'credit2'],
  tickNs: ['credit'],
  runqueueSize: ['credit2'],
  latencyNs: ['cfs'],
  minGranularityNs: ['cfs'],
  charge: ['credit', 'credit2', 'rtds', 'cfs'],
  capEnforcement: ['credit'],
} as const satisfies Record<string, readonly PolicyName[]>;

function usesParameter(policy: PolicyName, parameter: keyof typeof POLICY_PARAMETERS): boolean {
  return (POLICY_PARAMETERS[parameter] as readonly PolicyName[]).includes(policy);
}

/** The scheduler section with the defaults of the chosen policy's parameters written out. */
function resolveScheduler(s: ParsedScheduler, vms: readonly FrameVm[]): SchedulerSpec {
  const spec: { -readonly [K in keyof SchedulerSpec]: SchedulerSpec[K] } = { policy: s.policy, quantumNs: s.quantum };
  const uses = (parameter: keyof typeof POLICY_PARAMETERS): boolean => usesParameter(s.policy, parameter);
  if (s.timeslice !== undefined || uses('timesliceNs')) spec.timesliceNs = s.timeslice ?? L.timesliceNs.default;
  if (s.ratelimit !== undefined || uses('ratelimitNs')) spec.ratelimitNs = s.ratelimit ?? L.ratelimitNs.default;
  if (s.tick !== undefined || uses('tickNs')) spec.tickNs = s.tick ?? defaultTick(spec.timesliceNs ?? L.timesliceNs.default);
  if (s.runqueueSize !== undefined || uses('runqueueSize')) spec.runqueueSize = s.runqueueSize ?? L.runqueueSize.default;
  if (s.runqueue !== undefined) spec.runqueue = s.runqueue;
  if (s.granularity !== undefined) spec.granularity = s.granularity;
  if (s.latency !== undefined || uses('latencyNs')) spec.latencyNs = s.latency ?? L.latencyNs.default;
  if (s.minGranularity !== undefined || uses('minGranularityNs')) spec.minGranularityNs = s.minGranularity ?? L.minGranularityNs.default;
  if (s.charge !== undefined || uses('charge')) spec.charge = s.charge ?? 'held';
  if (s.capEnforcement !== undefined || uses('capEnforcement')) spec.capEnforcement = s.capEnforcement ?? 'park';
  // Only when given: scenarios that do not name it keep their resolved form (and their logs).
  if (s.boost !== undefined) spec.boost = s.boost;
  if (s.frame !== undefined) spec.frame = s.frame.map((slot) => ({ vm: slot.vm ?? null, durationNs: slot.duration, ...(slot.vcpu === undefined ? {} : { vcpu: slot.vcpu }) }));
  else if (s.policy === 'arinc653') spec.frame = defaultFrame(vms, s.quantum);
  return spec;
}

/** credit's tick: a third of the time slice, or the slice itself below 3 ms (Xen's __csched_set_tslice). */
export function defaultTick(timesliceNs: number): number {
  return timesliceNs < 3 * MS ? timesliceNs : Math.floor(timesliceNs / 3);
}

interface FrameVm {
  readonly name: string;
  readonly vcpus: number;
}

/** arinc653's default major frame: one slot of a quantum per vCPU, VM by VM, in order. */
function defaultFrame(vms: readonly FrameVm[], quantumNs: number): FrameSlot[] {
  return vms.flatMap((vm) => Array.from({ length: vm.vcpus }, (_, vcpu) => ({ vm: vm.name, durationNs: quantumNs, ...(vcpu === 0 ? {} : { vcpu }) })));
}

/**
 * The scenario under another scheduling policy, its scheduler section and the VMs' `sched`
 * re-resolved as if the scenario file had named that policy: the new policy's parameters get
 * their defaults unless the scenario sets them. A resolved scenario does not say which values
 * its file gave, so a parameter the old policy uses that holds that policy's default is taken
 * as filled in, not given, and is left out when the new policy does not use it (as arinc653's
 * default frame and rtds's default budget and period are). Every other value is kept. The same
 * policy gives the same scenario.
 */
export function withPolicy(scenario: Scenario, policy: PolicyName): Scenario {
  const names = scenario.vms.map((vm) => ({ name: vm.name, vcpus: vm.vcpus }));
  const pools = scenario.cpupools;
  const poolOf = (vm: VmSpec): CpupoolSpec | undefined => pools?.find((pool) => pool.name === vm.pool);
  return deepFreeze({
    ...scenario,
    scheduler: schedulerUnder(scenario.scheduler, policy, names, scenario.host),
    // Under cpupools every pool goes under the policy too (each sized on its own pCPUs, as at load).
    ...(pools === undefined
      ? {}
      : {
          cpupools: pools.map((pool) => ({
            ...pool,
            scheduler: schedulerUnder(pool.scheduler, policy, names.filter((vm) => scenario.vms.find((each) => each.name === vm.name)?.pool === pool.name), poolHost(scenario, pool)),
          })),
        }),
    vms: scenario.vms.map((vm) => ({ ...vm, sched: resolveVmSched(policy, givenVmSched((poolOf(vm)?.scheduler ?? scenario.scheduler).policy, vm.sched)) })),
  });
}

/** A resolved scheduler section re-resolved under `policy` (see withPolicy). */
/** A pool's CPUs as its scheduler sees them: numbered from 0, with its host's topology when it is a host's pool. */
function poolHost(scenario: Scenario, pool: CpupoolSpec): { readonly pcpus: number; readonly topology?: TopologySpec } {
  const topology = scenario.hosts?.find((host) => host.name === pool.name)?.topology;
  return { pcpus: pool.pcpus.length, ...(topology === undefined ? {} : { topology }) };
}

function schedulerUnder(old: SchedulerSpec, policy: PolicyName, names: readonly FrameVm[], host: { readonly pcpus: number; readonly topology?: TopologySpec }): SchedulerSpec {
  const given = <T>(value: T | undefined, parameter: keyof typeof POLICY_PARAMETERS, fallback: T): T | undefined =>
    value === undefined || (usesParameter(old.policy, parameter) && value === fallback) ? undefined : value;
  const frameGiven =
    old.frame !== undefined &&
    !(old.policy === 'arinc653' && JSON.stringify(old.frame) === JSON.stringify(defaultFrame(names, old.quantumNs)));
  const source: ParsedScheduler = {
    policy,
    quantum: old.quantumNs,
    timeslice: given(old.timesliceNs, 'timesliceNs', L.timesliceNs.default),
    ratelimit: given(old.ratelimitNs, 'ratelimitNs', L.ratelimitNs.default),
    tick: given(old.tickNs, 'tickNs', defaultTick(old.timesliceNs ?? L.timesliceNs.default)),
    runqueueSize: old.runqueue === undefined ? given(old.runqueueSize, 'runqueueSize', L.runqueueSize.default) : undefined,
    runqueue: old.runqueue,
    granularity: old.granularity,
    latency: given(old.latencyNs, 'latencyNs', L.latencyNs.default),
    minGranularity: given(old.minGranularityNs, 'minGranularityNs', L.minGranularityNs.default),
    charge: given(old.charge, 'charge', 'held'),
    capEnforcement: given(old.capEnforcement, 'capEnforcement', 'park'),
    boost: old.boost,
    frame: frameGiven ? old.frame?.map((slot) => ({ ...(slot.vm === null ? {} : { vm: slot.vm }), duration: slot.durationNs, ...(slot.vcpu === undefined ? {} : { vcpu: slot.vcpu }) })) : undefined,
  };
  // The granularity (credit2_runqueue) is turned into a size from the host's topology, as at load.
  return withRunqueue(resolveScheduler(source, names), host);
}

/**
 * `next`, made from the source form of `original` (every default of its policy written out) with
 * another policy set in it (a fork's `--set scheduler.policy=...`, a sweep's grid): re-resolved so the new policy's parameters get their defaults and the old policy's
 * filled-in ones go (withPolicy), as a file naming the new policy would have it.
 */
export function withChangedPolicy(original: Scenario, next: Scenario): Scenario {
  const policy = next.scheduler.policy;
  if (policy === original.scheduler.policy) return next;
  return withPolicy({ ...next, scheduler: { ...next.scheduler, policy: original.scheduler.policy } }, policy);
}

/** A VM's resolved `sched` as its file could have given it: rtds's filled-in defaults taken out. */
function givenVmSched(oldPolicy: PolicyName, sched: VmSchedSpec): ParsedSched {
  const budget = sched.budgetNs;
  const filled =
    oldPolicy === 'rtds' &&
    budget === L.rtBudgetNs.default &&
    sched.periodNs === Math.max(L.rtPeriodNs.default, budget) &&
    sched.extratime !== 1;
  return {
    weight: sched.weight,
    cap: sched.cap,
    ...(budget === undefined || filled ? {} : { budget, period: sched.periodNs, extratime: sched.extratime === 1 }),
    ...(sched.pcpu === undefined ? {} : { pcpu: sched.pcpu }),
    ...(sched.affinity === undefined ? {} : { affinity: affinityToSource(sched.affinity) }),
  };
}

/** A resolved affinity in its source form. */
function affinityToSource(a: AffinitySpec): { hard?: number[]; soft?: number[] } {
  return { ...(a.hard === undefined ? {} : { hard: [...a.hard] }), ...(a.soft === undefined ? {} : { soft: [...a.soft] }) };
}

/** A mask sorted ascending without duplicates, so that policies and logs see one order. */
function normalMask(mask: readonly number[] | undefined): readonly number[] | undefined {
  return mask === undefined ? undefined : [...new Set(mask)].sort((a, b) => a - b);
}

type ParsedSched = Parsed['vms'][number]['sched'];

/** A VM's scheduling parameters with the defaults of the chosen policy's written out. */
function resolveVmSched(policy: PolicyName, sched: ParsedSched): VmSchedSpec {
  const spec: { -readonly [K in keyof VmSchedSpec]: VmSchedSpec[K] } = { weight: sched.weight, cap: sched.cap };
  if (policy === 'rtds' || sched.budget !== undefined || sched.period !== undefined || sched.extratime !== undefined) {
    spec.budgetNs = sched.budget ?? L.rtBudgetNs.default;
    spec.periodNs = sched.period ?? Math.max(L.rtPeriodNs.default, spec.budgetNs);
    spec.extratime = sched.extratime === true ? 1 : 0;
  }
  if (sched.pcpu !== undefined) spec.pcpu = sched.pcpu;
  if (sched.affinity !== undefined) {
    const hard = normalMask(sched.affinity.hard);
    const soft = normalMask(sched.affinity.soft);
    spec.affinity = { ...(hard === undefined ? {} : { hard }), ...(soft === undefined ? {} : { soft }) };
  }
  return spec;
}

/** The source form of a resolved scheduler section (every key it holds). */
function schedulerToSource(s: SchedulerSpec): Record<string, unknown> {
  return {
    policy: s.policy,
    quantum: s.quantumNs,
    ...(s.timesliceNs === undefined ? {} : { timeslice: s.timesliceNs }),
    ...(s.ratelimitNs === undefined ? {} : { ratelimit: s.ratelimitNs }),
    ...(s.tickNs === undefined ? {} : { tick: s.tickNs }),
    ...(s.runqueueSize === undefined || s.runqueue !== undefined ? {} : { runqueueSize: s.runqueueSize }),
    ...(s.runqueue === undefined ? {} : { runqueue: s.runqueue }),
    ...(s.granularity === undefined ? {} : { granularity: s.granularity }),
    ...(s.latencyNs === undefined ? {} : { latency: s.latencyNs }),
    ...(s.minGranularityNs === undefined ? {} : { minGranularity: s.minGranularityNs }),
    ...(s.charge === undefined ? {} : { charge: s.charge }),
    ...(s.capEnforcement === undefined ? {} : { capEnforcement: s.capEnforcement }),
    ...(s.boost === undefined ? {} : { boost: s.boost }),
    ...(s.frame === undefined ? {} : { frame: s.frame.map((slot) => ({ ...(slot.vm === null ? {} : { vm: slot.vm }), duration: slot.durationNs, ...(slot.vcpu === undefined ? {} : { vcpu: slot.vcpu }) })) }),
  };
}

function vmSchedToSource(s: VmSchedSpec): Record<string, unknown> {
  return {
    weight: s.weight,
    cap: s.cap,
    ...(s.budgetNs === undefined ? {} : { budget: s.budgetNs }),
    ...(s.periodNs === undefined ? {} : { period: s.periodNs }),
    ...(s.extratime === undefined ? {} : { extratime: s.extratime === 1 }),
    ...(s.pcpu === undefined ? {} : { pcpu: s.pcpu }),
    ...(s.affinity === undefined ? {} : { affinity: affinityToSource(s.affinity) }),
  };
}

/**
 * Turns a resolved scenario back into the plain source form (durations as integer ns, sizes as
 * integer bytes, every default written out), such that resolving it gives the same scenario.
 */
export function scenarioToSource(s: Scenario): Record<string, unknown> {
  const costs: Record<string, number> = {};
  for (const name of COST_NAMES) {
    const value = s.costs[name];
    if (value !== undefined) costs[costSourceKey(name)] = value;
  }
  return {
    name: s.name,
    ...(s.description === undefined ? {} : { description: s.description }),
    seed: s.seed,
    host: {
      ...(s.hosts === undefined ? { pcpus: s.host.pcpus } : {}),
      ...(s.host.topology === undefined ? {} : { topology: { ...s.host.topology } }),
      ...(s.hosts === undefined ? { memory: s.host.memoryBytes } : {}),
      type: s.host.type ?? 'type1',
      load: s.host.load ?? 0,
      ...(s.host.pageSharing === undefined ? {} : { pageSharing: { interval: s.host.pageSharing.intervalNs, pages: s.host.pageSharing.pagesPerScan } }),
      ...(s.host.overcommit === true ? { overcommit: true } : {}),
      ...(s.host.ballooning === undefined
        ? {}
        : { ballooning: { below: s.host.ballooning.belowFraction, step: s.host.ballooning.stepPages, interval: s.host.ballooning.intervalNs } }),
      ...(s.host.driverDomain === undefined ? {} : { driverDomain: driverDomainToSource(s) }),
    },
    scheduler: schedulerToSource(s.scheduler),
    ...(s.cpupools === undefined || s.hosts !== undefined ? {} : { cpupools: s.cpupools.map((pool) => ({ name: pool.name, cpus: [...pool.pcpus], scheduler: schedulerToSource(pool.scheduler) })) }),
    ...(s.hosts === undefined ? {} : hostsToSource(s)),
    run: {
      time: s.run.timeNs,
      ...(s.run.instructions === undefined ? {} : { instructions: s.run.instructions }),
      ...(s.run.checkpointEvery === undefined ? {} : { checkpointEvery: s.run.checkpointEvery }),
      smpQuantum: s.run.smpQuantumNs ?? L.smpQuantumNs.default,
    },
    costs,
    vms: userVms(s).map((vm) => ({
      name: vm.name,
      vcpus: vm.vcpus,
      memory: vm.memoryBytes,
      ...guestToSource(vm.guest),
      params: { ...vm.params },
      start: vm.startNs,
      autostart: vm.autostart,
      sched: vmSchedToSource(vm.sched),
      virt: vm.virt ?? 'full',
      postedInterrupts: vm.postedInterrupts ?? false,
      paging: vm.paging ?? ((vm.virt ?? 'full') === 'hw' ? 'nested' : 'shadow'),
      tlbEntries: vm.tlbEntries ?? 64,
      ...(vm.tlbTagged === true ? { tlbTagged: true } : {}),
      devices: { ...(vm.devices ?? DEFAULT_DEVICE_ATTACHMENTS) },
      ...(vm.workload === undefined ? {} : { workload: workloadToSource(vm.workload) }),
      ...(vm.pool === undefined || vm.host !== undefined ? {} : { pool: vm.pool }),
      ...(vm.host === undefined ? {} : { host: vm.host }),
      ...(vm.numa === undefined ? {} : { numa: { node: vm.numa.node } }),
    })),
    ...(s.inputs.length === 0 ? {} : { inputs: inputsToSource(s.inputs) }),
  };
}

/** `hosts:` and `links:` of a several-host scenario, each host's scheduler its pool's. */
function hostsToSource(s: Scenario): Record<string, unknown> {
  const hosts = s.hosts ?? [];
  return {
    hosts: hosts.map((host) => {
      const pool = s.cpupools?.find((candidate) => candidate.name === host.name);
      return {
        name: host.name,
        pcpus: host.pcpus.length,
        memory: host.memoryBytes,
        ...(host.type === undefined ? {} : { type: host.type }),
        ...(host.load === undefined ? {} : { load: host.load }),
        ...(host.topology === undefined ? {} : { topology: { ...host.topology } }),
        ...(pool === undefined ? {} : { scheduler: schedulerToSource(pool.scheduler) }),
      };
    }),
    links: linksToSource(s.links ?? []),
  };
}

/** The scenario's own VMs: all of them but the driver domain's, which host.driverDomain describes. */
export function userVms(s: Scenario): readonly VmSpec[] {
  return s.host.driverDomain === undefined ? s.vms : s.vms.filter((vm) => vm.name !== DRIVER_DOMAIN_NAME);
}

function driverDomainToSource(s: Scenario): Record<string, unknown> {
  const dom0 = s.vms.find((vm) => vm.name === DRIVER_DOMAIN_NAME);
  const spec = s.host.driverDomain as DriverDomainSpec;
  return {
    vcpus: spec.vcpus,
    backend: spec.backendNs,
    ...(dom0 === undefined ? {} : { memory: dom0.memoryBytes, sched: vmSchedToSource(dom0.sched) }),
  };
}

function guestToSource(guest: GuestSpec): Record<string, unknown> {
  switch (guest.kind) {
    case 'bundled':
      return { guest: guest.name };
    case 'file':
      return { program: guest.path };
    case 'trace':
      return { trace: guest.path };
    case 'image':
      return { image: guest.path };
    case 'inline':
      return { source: guest.source, sourceLine: guest.line };
  }
}
