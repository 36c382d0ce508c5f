/**
 * The virtual platform every VM sees: where its devices live in the port and MMIO spaces, which
 * interrupt lines they use, and the layout of guest-physical memory. Guests are written against
 * these numbers (see docs/isa.md), so they are part of the ISA contract.
 */

/** Guest addresses count 32-bit words. A page is 1024 words (4 KiB). */
export const PAGE_SHIFT = 10;
export const PAGE_WORDS = 1 << PAGE_SHIFT;
export const PAGE_MASK = PAGE_WORDS - 1;
export const PAGE_BYTES = PAGE_WORDS * 4;

/** Guest-physical addresses from MMIO_BASE up to MMIO_LIMIT (exclusive) belong to devices. */
export const MMIO_BASE = 0x4000_0000;
export const MMIO_LIMIT = 0x8000_0000;

export const Port = {
  PIC_EOI: 0x20, // write: end of interrupt for the line written
  PIC_MASK: 0x21, // read/write: bit n set masks line n
  PIC_PENDING: 0x22, // read: pending lines
  IPI_SEND: 0x23, // write: send an inter-processor interrupt (IRQ_IPI) to the vCPU of this VM whose index is written
  PIC_ROUTE: 0x24, // write (vcpu << 8) | line: device line `line` goes to vCPU `vcpu` from now on (default: vCPU 0)
  TIMER_PERIOD: 0x40, // write: periodic interrupt every value ns (0 stops the timer)
  TIMER_ONESHOT: 0x41, // write: one interrupt after value ns
  TIMER_NOW: 0x42, // read: virtual time in microseconds (low 31 bits)
  CONSOLE_DATA: 0x3f8, // write: one character; read: next input character or -1
  CONSOLE_STATUS: 0x3f9, // read: 1 when input is waiting
  POWER: 0x604, // write: power the VM off (ACPI-like shutdown)
  DMA_SOURCE: 0x80, // read/write: the DMA engine's source (guest-physical word address)
  DMA_DESTINATION: 0x81, // read/write: its destination
  DMA_LENGTH: 0x82, // read/write: words to copy (0..DMA_LIMIT_WORDS)
  DMA_GO: 0x83, // write: start the copy; read: its status (DmaStatus)
  BLK_SECTOR: 0x1f0, // read/write: emulated block device: the sector of the next request
  BLK_BUFFER: 0x1f1, // read/write: its guest-physical buffer (SECTOR_WORDS words)
  BLK_COMMAND: 0x1f2, // write: start the request (BlkCommand); read: the status (BlkStatus)
  VIRTIO_QUEUE: 0x1f8, // read/write: paravirtual block device: guest-physical address of its queue
  VIRTIO_NOTIFY: 0x1f9, // write: process every available descriptor (one notification per batch)
  BALLOON_TARGET: 0x1e0, // read: pages the monitor asks the guest to give back (not yet given)
  BALLOON_GIVE: 0x1e1, // write: give back the guest-physical page whose number is written
  BALLOON_SIZE: 0x1e2, // read: pages given back so far
  NIC_DEST: 0x300, // read/write: NIC: the destination MAC of the next packet sent
  NIC_BUFFER: 0x301, // read/write: its guest-physical buffer
  NIC_LENGTH: 0x302, // read/write: its length in words (1..NIC_MAX_WORDS)
  NIC_SEND: 0x303, // write: send the packet; read: the last send's or receive's status (NicStatus)
  NIC_RX_LENGTH: 0x304, // read: length in words of the next received packet, 0 when none is queued
  NIC_RX_SOURCE: 0x305, // read: the MAC it came from, 0 when none is queued
  NIC_RECEIVE: 0x306, // write: copy the next received packet to the guest-physical buffer written, dequeue it
  NIC_MAC: 0x307, // read: this NIC's own MAC (the VM's index in the scenario + 1), in every attach mode
  VIRTIO_NET_RX_QUEUE: 0x310, // read/write: paravirtual NIC: guest-physical address of its receive queue
  VIRTIO_NET_TX_QUEUE: 0x311, // read/write: paravirtual NIC: guest-physical address of its transmit queue
  VIRTIO_NET_NOTIFY: 0x312, // write: the queue index (VirtioNetQueue) that has new available descriptors
  REQ_TAKE: 0x340, // read (port REQ_TAKE + worker, worker < REQ_WORKERS): take the next request: its tag, or -1 when none waits
  REQ_SIZE: 0x360, // read (port REQ_SIZE + worker): the size (ns of work) of the request that worker took last
  REQ_DONE: 0x380, // write: the request with the tag written is complete
  REQ_NOTIFY: 0x381, // write 1: interrupt on every arrival (a processor-sharing server); 0: only to wake an idle worker
  REQ_QUEUED: 0x382, // read: requests waiting in the queue
  BACKEND_TAKE: 0x3a0, // driver domain only (devices/backend.ts): read: take the next queued completion: its id, or -1 when none waits
  BACKEND_DONE: 0x3a1, // driver domain only: write: the backend work of the completion with the id written is done (the guest's interrupt is raised)
} as const;

/**
 * The request queue (src/actors/devices/requests.ts): a paravirtual device the monitor fills with
 * a workload's arrivals (scenario `workload:`). Worker w (< REQ_WORKERS) reads Port.REQ_TAKE + w;
 * at most REQ_TAGS requests are taken and not yet done at once.
 */
export const REQ_WORKERS = 32;
export const REQ_TAGS = 128;

/** The block device's disk: DISK_SECTORS sectors of SECTOR_WORDS words (512 bytes), 64 KiB in all. */
export const SECTOR_WORDS = 128;
export const DISK_SECTORS = 128;
/** What word `offset` of `sector` of a fresh disk image holds (so a guest can check what it read). */
export function diskPattern(sector: number, offset: number): number {
  return ((sector << 16) | offset) ^ 0x5a00_0000;
}
/** A block request's command (emulated: written to Port.BLK_COMMAND; virtio: a descriptor's word 0). */
export const BlkCommand = { READ: 1, WRITE: 2 } as const;
/** What a read of Port.BLK_COMMAND returns; a virtio descriptor's word 3 after completion. */
export const BlkStatus = {
  IDLE: 0,
  BUSY: 1,
  DONE: 2,
  /** Refused: a bad command, a sector beyond the disk, or a buffer outside the VM's memory. */
  ERROR: 3,
  /** The last command was refused because the request queue was full (emulated and passthrough; until a command is accepted or a request completes). */
  FULL: 4,
} as const;
/**
 * The virtio-like queue, at the guest-physical address written to Port.VIRTIO_QUEUE (word offsets):
 * a descriptor table of VIRTQ_SIZE descriptors of 4 words [command, sector, buffer, status], an
 * available ring (driver to device: [flags, idx, ring[VIRTQ_SIZE]]) and a used ring (device to
 * driver: [flags, idx, ring[VIRTQ_SIZE]]). idx counts entries for ever; entry n is ring[n % size].
 */
export const VIRTQ_SIZE = 16;
export const VIRTQ_DESC = 0;
export const VIRTQ_AVAIL = VIRTQ_SIZE * 4;
export const VIRTQ_USED = VIRTQ_AVAIL + 2 + VIRTQ_SIZE;
export const VIRTQ_WORDS = VIRTQ_USED + 2 + VIRTQ_SIZE;
/** avail.flags bit: the driver asks for no interrupt on completion (it polls the used ring). */
export const VIRTQ_AVAIL_NO_INTERRUPT = 1;
/** used.flags bit: the device is busy with a batch and will see new entries without a notification. */
export const VIRTQ_USED_NO_NOTIFY = 1;

/**
 * The paravirtual NIC's two queues (same layout as the block queue above; one notification port,
 * written with the queue's index, as virtio-pci's notify register is). A network descriptor is
 * [mac, buffer, length, status]: on transmit the driver writes the destination MAC, the buffer and
 * the length in words; on receive it writes the buffer and its capacity in words, and the device
 * writes the source MAC, the received length and the status (NicStatus).
 */
export const VirtioNetQueue = { RX: 0, TX: 1 } as const;

/** The most words one DMA transfer copies. */
export const DMA_LIMIT_WORDS = 4096;
/** What a read of Port.DMA_GO returns. */
export const DmaStatus = {
  IDLE: 0,
  DONE: 1,
  /** The IOMMU refused the last transfer: a word of it was outside the VM's memory. */
  BLOCKED: 2,
} as const;

/**
 * The NIC (src/actors/devices/nic.ts) and the virtual switch (src/actors/vswitch.ts). MACs are
 * small integers, the VM's index in the scenario + 1; 0 is no MAC. A packet is 1..NIC_MAX_WORDS
 * words; each NIC queues at most NIC_RX_QUEUE received packets (more are dropped and counted).
 */
export const NIC_MAX_WORDS = 256;
export const NIC_RX_QUEUE = 8;
/** What a read of Port.NIC_SEND returns. */
export const NicStatus = {
  IDLE: 0,
  DONE: 1,
  /** Refused: a bad length or MAC, or a buffer outside the VM's memory; nothing was sent or copied. */
  ERROR: 2,
} as const;

export const Mmio = {
  CONSOLE_DATA: MMIO_BASE, // same as Port.CONSOLE_DATA, memory-mapped
  CONSOLE_STATUS: MMIO_BASE + 1,
} as const;

export const Irq = {
  TIMER: 0,
  IPI: 1, // an inter-processor interrupt (Port.IPI_SEND): local to the vCPU it was sent to, no EOI needed
  CONSOLE: 4,
  NET: 5, // the NIC queued a received packet
  BLOCK: 6, // the block device (emulated or virtio) completed a request or a batch
  BALLOON: 7, // the balloon's target changed
  REQUEST: 3, // the request queue has a request for an idle worker (routed to that worker's vCPU)
  BACKEND: 8, // driver domain only: a guest's device completion waits for the backend (the event channel)
} as const;

/** What a read from a port or MMIO address that no device claims returns (an open bus). */
export const OPEN_BUS = -1;

/** Hypercall numbers (the `hypercall` instruction's immediate); arguments in r1..r3, result in r1. */
export const Hypercall = {
  VERSION: 0, // r1 = interface version (1)
  CONSOLE_PUTC: 1, // write the character in r1 to the console, without an I/O exit
  POWER_OFF: 2, // power the VM off
  YIELD: 3, // give up the physical CPU for now
  TIME_US: 4, // r1 = virtual time in microseconds (low 31 bits)
  CONSOLE_WRITE: 5, // write r2 characters from guest-physical address r1 to the console: one exit per string
  SET_TIMER: 6, // program the timer: periodic every r1 ns (0 stops it), without an I/O exit
} as const;
/** The most characters one CONSOLE_WRITE takes. */
export const CONSOLE_WRITE_LIMIT = 4096;
export const HYPERCALL_VERSION = 1;
/** What r1 holds after an unknown hypercall. */
export const HYPERCALL_UNKNOWN = -1;
