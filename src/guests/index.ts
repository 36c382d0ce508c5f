/**
 * The bundled guests, by the name a scenario's `guest:` uses. Each has its source and default
 * parameters (a scenario's `params:` override them; the assembler sees them as symbols).
 */
import { BALLOON_GUEST_DEFAULTS, BALLOON_GUEST_SOURCE, BLK_DEFAULTS, BLK_EMULATED_SOURCE, BLK_VIRTIO_SOURCE } from './block.js';
import { KERNEL_DEFAULTS, KERNEL_SOURCE } from './kernel.js';
import { NET_DEFAULTS, NET_PING_PV_SOURCE, NET_PING_SOURCE, NET_PONG_PV_SOURCE, NET_PONG_SOURCE } from './net.js';
import { KERNEL_PV_SOURCE } from './kernelPv.js';
import { SMP_IPI_DEFAULTS, SMP_IPI_SOURCE } from './smp.js';
import { MEM_HUNGRY_DEFAULTS, MEM_HUNGRY_SOURCE } from './memory.js';
import { DIRTY_PAGES_DEFAULTS, DIRTY_PAGES_SOURCE } from './dirty.js';
import { PT_HEAVY_DEFAULTS, PT_HEAVY_SOURCE, TLB_HEAVY_DEFAULTS, TLB_HEAVY_SOURCE } from './paging.js';
import { ROGUE_MEMORY_DEFAULTS, ROGUE_MEMORY_SOURCE, ROGUE_PRIVILEGED_DEFAULTS, ROGUE_PRIVILEGED_SOURCE } from './rogue.js';
import {
  CPU_BOUND_DEFAULTS,
  CPU_BOUND_SOURCE,
  INTERACTIVE_DEFAULTS,
  INTERACTIVE_SOURCE,
  IO_BOUND_DEFAULTS,
  IO_BOUND_PV_DEFAULTS,
  IO_BOUND_PV_SOURCE,
  IO_BOUND_SOURCE,
  PERIODIC_RT_DEFAULTS,
  PERIODIC_RT_SOURCE,
  SMP_LOCK_DEFAULTS,
  SMP_LOCK_SOURCE,
  TRACE_SOURCE,
} from './workloads.js';
import { DRIVER_DOMAIN_DEFAULTS, DRIVER_DOMAIN_SOURCE } from './driverDomain.js';
import { SERVER_DEFAULTS, SERVER_SOURCE } from './server.js';
import { COMPUTE_SOURCE, ECHO_SOURCE, HELLO_PV_DEFAULTS, HELLO_PV_SOURCE, IO_LOOP_SOURCE, TICKER_DEFAULTS, TICKER_SOURCE } from './small.js';

export interface BundledGuest {
  readonly name: string;
  readonly description: string;
  readonly source: string;
  readonly defaults: Readonly<Record<string, number>>;
}

const guests: readonly BundledGuest[] = [
  { name: 'kernel', description: 'tiny kernel: timer interrupt, two user tasks, syscalls, power-off', source: KERNEL_SOURCE, defaults: KERNEL_DEFAULTS },
  {
    name: 'kernel-pv',
    description: 'the tiny kernel, paravirtualized: a line per syscall and per hypercall, timer by hypercall',
    source: KERNEL_PV_SOURCE,
    defaults: KERNEL_DEFAULTS,
  },
  { name: 'ticker', description: 'interrupt-driven: idles in hlt, wakes on its timer, prints ticks', source: TICKER_SOURCE, defaults: TICKER_DEFAULTS },
  { name: 'echo', description: 'echoes console input in upper case (interrupt-driven); the line "off" powers it off', source: ECHO_SOURCE, defaults: {} },
  { name: 'tlb-heavy', description: 'pages; touches more pages than the TLB holds (TLB-miss-heavy)', source: TLB_HEAVY_SOURCE, defaults: TLB_HEAVY_DEFAULTS },
  { name: 'pt-heavy', description: 'pages; remaps a page over and over (page-table-write-heavy)', source: PT_HEAVY_SOURCE, defaults: PT_HEAVY_DEFAULTS },
  { name: 'hello-pv', description: 'paravirtualized hello: prints with hypercalls, powers off', source: HELLO_PV_SOURCE, defaults: HELLO_PV_DEFAULTS },
  { name: 'rogue-memory', description: 'misbehaves: reads guest-physical memory outside its own', source: ROGUE_MEMORY_SOURCE, defaults: ROGUE_MEMORY_DEFAULTS },
  { name: 'rogue-cli', description: 'misbehaves: runs cli in user mode with no #GP handler', source: ROGUE_PRIVILEGED_SOURCE, defaults: ROGUE_PRIVILEGED_DEFAULTS },
  { name: 'compute', description: 'arithmetic loop with no exits (CPU-bound; interpreter speed)', source: COMPUTE_SOURCE, defaults: {} },
  { name: 'io-loop', description: 'one port write per iteration (exit path speed)', source: IO_LOOP_SOURCE, defaults: {} },
  { name: 'cpu-bound', description: 'workload: computes for ever in CHUNK_NS pieces', source: CPU_BOUND_SOURCE, defaults: CPU_BOUND_DEFAULTS },
  { name: 'io-bound', description: 'workload: BURST_NS of work, then an I/O of IO_NS (blocks, wakes on the interrupt)', source: IO_BOUND_SOURCE, defaults: IO_BOUND_DEFAULTS },
  {
    name: 'io-bound-pv',
    description: 'workload: BURST_NS of work, then one read through the paravirtual block device (blocks, wakes on its interrupt)',
    source: IO_BOUND_PV_SOURCE,
    defaults: IO_BOUND_PV_DEFAULTS,
  },
  { name: 'interactive', description: 'workload: sleeps about THINK_NS, wakes, answers with a BURST_NS burst', source: INTERACTIVE_SOURCE, defaults: INTERACTIVE_DEFAULTS },
  { name: 'periodic-rt', description: 'workload: a WCET_NS job every PERIOD_NS, due DEADLINE_NS after release', source: PERIODIC_RT_SOURCE, defaults: PERIODIC_RT_DEFAULTS },
  {
    name: 'server',
    description: 'workload server: WORKERS vCPUs take requests from the request queue (scenario workload:), run them to completion (QUANTUM_NS 0) or share vCPU 0 among them in QUANTUM_NS slices, complete them',
    source: SERVER_SOURCE,
    defaults: SERVER_DEFAULTS,
  },
  { name: 'smp-lock', description: 'workload: every vCPU takes a shared spin lock (lock-holder preemption)', source: SMP_LOCK_SOURCE, defaults: SMP_LOCK_DEFAULTS },
  { name: 'mem-hungry', description: 'writes a word into PAGES pages twice, checks them, prints, powers off (memory overcommit)', source: MEM_HUNGRY_SOURCE, defaults: MEM_HUNGRY_DEFAULTS },
  {
    name: 'dirty-pages',
    description: 'writes WRITES times to pages chosen uniformly at random among PAGES (its own LCG), WORK_NS apart, prints a checksum, powers off (live migration)',
    source: DIRTY_PAGES_SOURCE,
    defaults: DIRTY_PAGES_DEFAULTS,
  },
  { name: 'smp-ipi', description: "SMP: vCPU 0 wakes the others with inter-processor interrupts, each answers (set VCPUS to the VM's vcpus)", source: SMP_IPI_SOURCE, defaults: SMP_IPI_DEFAULTS },
  { name: 'blk-emulated', description: 'reads REQUESTS sectors through the emulated block device (three port writes and an interrupt each), checks them', source: BLK_EMULATED_SOURCE, defaults: BLK_DEFAULTS },
  { name: 'blk-virtio', description: 'reads REQUESTS sectors through the virtio-like block queue (one notification, one interrupt), checks them', source: BLK_VIRTIO_SOURCE, defaults: BLK_DEFAULTS },
  { name: 'balloon-guest', description: 'timer workload with a balloon driver: gives unused pages back when the balloon asks', source: BALLOON_GUEST_SOURCE, defaults: BALLOON_GUEST_DEFAULTS },
  { name: 'net-ping', description: 'sends COUNT packets to MAC PEER over the virtual switch and checks each reply', source: NET_PING_SOURCE, defaults: NET_DEFAULTS },
  { name: 'net-pong', description: 'answers COUNT packets from MAC PEER (every word + 1), checking each', source: NET_PONG_SOURCE, defaults: NET_DEFAULTS },
  {
    name: 'net-ping-pv',
    description: 'net-ping through the paravirtual NIC: all COUNT packets in one batch (one notification), checks the replies',
    source: NET_PING_PV_SOURCE,
    defaults: NET_DEFAULTS,
  },
  {
    name: 'net-pong-pv',
    description: 'net-pong through the paravirtual NIC: answers each batch received with one batch of replies',
    source: NET_PONG_PV_SOURCE,
    defaults: NET_DEFAULTS,
  },
  {
    name: 'dom0-backend',
    description: "the driver domain's backend loop (host.driverDomain): BACKEND_NS of work per guest completion, then the guest's interrupt; waits in hlt",
    source: DRIVER_DOMAIN_SOURCE,
    defaults: DRIVER_DOMAIN_DEFAULTS,
  },
  { name: 'trace', description: 'workload: replays a built-in trace of (burst, sleep) pairs (see traceGuestSource)', source: TRACE_SOURCE, defaults: {} },
];

export const BUNDLED_GUESTS: ReadonlyMap<string, BundledGuest> = new Map(guests.map((guest) => [guest.name, guest]));
export const BUNDLED_GUEST_NAMES: readonly string[] = guests.map((guest) => guest.name);

export function bundledGuest(name: string): BundledGuest {
  const guest = BUNDLED_GUESTS.get(name);
  if (guest === undefined) throw new Error(`unknown bundled guest '${name}' (known: ${BUNDLED_GUEST_NAMES.join(', ')})`);
  return guest;
}
