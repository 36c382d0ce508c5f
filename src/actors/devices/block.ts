/**
 * The VM's block device: an in-memory disk image (DISK_SECTORS sectors of SECTOR_WORDS words),
 * attached to the VM in one of three modes (the scenario's `devices.block`), which decides the
 * interface the guest sees; ports of the other interface are not claimed and read as the open bus.
 *
 * - **Emulated** (an IDE-like register file): the guest writes the sector, the guest-physical
 *   buffer and the command to three ports, each write an exit emulated by the monitor; the request
 *   completes after `diskLatencyNs + diskSectorNs` and raises IRQ_BLOCK; the status port then
 *   reads DONE or ERROR.
 * - **Paravirtual** (virtio-like, virtqueue.ts): the guest writes its queue's address once, then
 *   puts requests in guest memory (descriptor table and available ring) and notifies the device
 *   with one port write per batch. The device takes every available descriptor, completes the
 *   whole batch after `diskLatencyNs + n x diskSectorNs` into the used ring and raises one
 *   interrupt, unless the driver set VIRTQ_AVAIL_NO_INTERRUPT. While a batch is in flight it sets
 *   VIRTQ_USED_NO_NOTIFY in the used ring: entries added meanwhile need no notification, the
 *   device takes them when the batch completes.
 * - **Passthrough** (an assigned device, as with VFIO and VT-d): the same register file as
 *   emulated, but the guest reaches it without exits (the monitor handles the batch stop before
 *   an exit would be published, see monitor/passthrough.ts), and the device's DMA goes through the
 *   VM's IOMMU (iommu.ts): a buffer outside the VM's memory is blocked whole and reported as
 *   `iommu.fault`; the guest reads status ERROR.
 *
 * Every buffer goes through the VM's own guest-physical map: in the emulated and paravirtual
 * modes a request whose buffer has a word outside the VM's memory is refused whole by the device
 * model (`blk.refused`, status ERROR) and nothing is copied. Data moves when the request completes
 * (a kernel queue entry), after the monitor has cut any batch of this VM's vCPUs that runs past
 * that instant (`quiesce`), so the copy lands at its virtual time and no batch's undo log covers it.
 */
import type { EventBus } from '../../core/bus.js';
import { hashWords } from '../../core/hash.js';
import type { Kernel } from '../../core/kernel.js';
import type { GuestPhysicalMap } from '../../core/memory.js';
import { BlkCommand, BlkStatus, DISK_SECTORS, Irq, Port, SECTOR_WORDS, VIRTQ_SIZE, diskPattern } from '../../core/platform.js';
import type { AttachMode } from '../../core/scenario/schema.js';
import { Device } from './device.js';
import type { Iommu } from './iommu.js';
import type { InterruptController } from './pic.js';
import { Virtqueue } from './virtqueue.js';

const EMULATED = 0;
const VIRTIO = 1;

export interface DiskTiming {
  readonly latencyNs: number;
  readonly sectorNs: number;
}

/** The ports of the register file (emulated and passthrough) and of the paravirtual queue. */
export const BLOCK_REGISTER_PORTS: readonly number[] = [Port.BLK_SECTOR, Port.BLK_BUFFER, Port.BLK_COMMAND];
export const BLOCK_VIRTIO_PORTS: readonly number[] = [Port.VIRTIO_QUEUE, Port.VIRTIO_NOTIFY];

export class BlockDevice extends Device {
  readonly ports: readonly number[];
  private image: Int32Array | undefined;
  private readonly target: number;
  /** Bumped on stop, failure and reset, so completions already queued are ignored. */
  private generation = 0;
  /** Bumped when the guest moves its queue, so a batch of the old queue is forgotten. */
  private queueGeneration = 0;
  // Emulated registers.
  private sector = 0;
  private buffer = 0;
  private command = 0;
  private status: number = BlkStatus.IDLE;
  // The virtio queue.
  private readonly queue: Virtqueue;
  private batch: number[] | null = null;
  /** Counters: requests completed (and refused) per interface, batches, notifications. */
  emulatedRequests = 0;
  passthroughRequests = 0;
  virtioRequests = 0;
  batches = 0;
  notifications = 0;
  refused = 0;
  /** Called before the device writes guest memory (the monitor cuts this VM's running batches). */
  quiesce: () => void = () => {};

  constructor(
    id: string,
    bus: EventBus,
    private readonly kernel: Kernel,
    private readonly pic: InterruptController,
    private readonly memory: GuestPhysicalMap,
    private readonly timing: DiskTiming,
    readonly mode: AttachMode = 'emulated',
    private readonly iommu: Iommu | null = null,
  ) {
    super(id, 'block', bus);
    this.ports = mode === 'paravirtual' ? BLOCK_VIRTIO_PORTS : BLOCK_REGISTER_PORTS;
    this.queue = new Virtqueue(memory);
    this.target = kernel.register(id, (kind, arg) => this.complete(kind, arg));
  }

  /** The disk image, made and filled with its pattern the first time it is used (most VMs never do). */
  get disk(): Int32Array {
    if (this.image === undefined) this.image = freshDisk();
    return this.image;
  }

  read(port: number): number {
    if (port === Port.BLK_SECTOR) return this.sector;
    if (port === Port.BLK_BUFFER) return this.buffer;
    if (port === Port.BLK_COMMAND) return this.status;
    if (port === Port.VIRTIO_QUEUE) return this.queue.address;
    return 0;
  }

  write(port: number, value: number): void {
    if (port === Port.BLK_SECTOR) this.sector = value;
    else if (port === Port.BLK_BUFFER) this.buffer = value;
    else if (port === Port.BLK_COMMAND) this.submit(value);
    else if (port === Port.VIRTIO_QUEUE) this.setQueue(value);
    else if (port === Port.VIRTIO_NOTIFY) this.notify();
  }

  // ------------------------------------------------------------------ emulated

  private submit(command: number): void {
    if (this.status === BlkStatus.BUSY) return;
    this.command = command;
    this.status = BlkStatus.BUSY;
    this.kernel.schedule(this.kernel.now + this.timing.latencyNs + this.timing.sectorNs, this.target, EMULATED, this.generation);
  }

  // ------------------------------------------------------------------ virtio

  private setQueue(address: number): void {
    this.queue.reset(address);
    this.batch = null;
    this.queueGeneration++;
  }

  private notify(): void {
    this.notifications++;
    // A batch in flight: the device takes the new entries when it completes (NO_NOTIFY was set).
    if (this.batch === null) this.startBatch();
  }

  /** Takes every available descriptor as one batch and schedules its completion. */
  private startBatch(): void {
    const queue = this.queue;
    const invalid = queue.invalid();
    if (invalid !== null) {
      this.refuse('virtio', -1, queue.address, invalid);
      return;
    }
    const count = queue.pending();
    if (count === 0) return;
    const batch: number[] = [];
    for (let n = 0; n < count; n++) batch.push(queue.take());
    this.batch = batch;
    this.quiesce();
    queue.suppressNotifications(true);
    this.kernel.schedule(this.kernel.now + this.timing.latencyNs + count * this.timing.sectorNs, this.target, VIRTIO, this.generation * 65536 + (this.queueGeneration & 0xffff));
  }

  // ------------------------------------------------------------------ completion

  private complete(kind: number, arg: number): void {
    const current = kind === EMULATED ? this.generation : this.generation * 65536 + (this.queueGeneration & 0xffff);
    if (arg !== current || !this.ready) return;
    this.quiesce();
    if (kind === EMULATED) {
      const mode = this.mode === 'passthrough' ? 'passthrough' : 'emulated';
      const ok = this.transfer(mode, this.command, this.sector, this.buffer);
      this.status = ok ? BlkStatus.DONE : BlkStatus.ERROR;
      if (mode === 'passthrough') this.passthroughRequests++;
      else this.emulatedRequests++;
      this.bus.publish(this.id, 'blk.done', { mode, requests: 1, refused: ok ? 0 : 1 });
      this.raise();
      return;
    }
    const batch = this.batch ?? [];
    const queue = this.queue;
    let refused = 0;
    for (const id of batch) {
      let ok = false;
      const descriptor = queue.descriptor(id);
      if (descriptor >= 0) {
        ok = this.transfer('virtio', this.memory.read(descriptor), this.memory.read(descriptor + 1), this.memory.read(descriptor + 2));
        this.memory.write(descriptor + 3, ok ? BlkStatus.DONE : BlkStatus.ERROR);
      } else {
        this.refuse('virtio', -1, queue.address, `descriptor index ${id} is not in 0..${VIRTQ_SIZE - 1}`);
      }
      if (!ok) refused++;
      queue.use(id);
    }
    queue.suppressNotifications(false);
    this.virtioRequests += batch.length;
    this.batches++;
    this.batch = null;
    this.bus.publish(this.id, 'blk.done', { mode: 'virtio', requests: batch.length, refused });
    if (!queue.interruptSuppressed()) this.raise();
    // Entries the driver added while NO_NOTIFY was set, without a notification.
    if (queue.pending() > 0) this.startBatch();
  }

  /** Copies one sector between the disk and guest memory; false (and `blk.refused`) when refused. */
  private transfer(mode: 'emulated' | 'virtio' | 'passthrough', command: number, sector: number, buffer: number): boolean {
    if (command !== BlkCommand.READ && command !== BlkCommand.WRITE) {
      this.refuse(mode, sector, buffer, `unknown command ${command}`);
      return false;
    }
    if (sector < 0 || sector >= DISK_SECTORS) {
      this.refuse(mode, sector, buffer, `sector ${sector} is not on the disk (0..${DISK_SECTORS - 1})`);
      return false;
    }
    // Check the whole buffer before copying a word, so a refused request changes nothing.
    if (this.iommu !== null && mode === 'passthrough') {
      // The assigned device's own DMA: the IOMMU blocks it and reports the fault.
      const mapped = this.iommu.map(this.id, buffer, SECTOR_WORDS, command === BlkCommand.READ ? 'write' : 'read');
      if (mapped === null) {
        this.refused++;
        return false;
      }
      this.copy(command, sector, mapped);
      return true;
    }
    const indexes = new Int32Array(SECTOR_WORDS);
    for (let offset = 0; offset < SECTOR_WORDS; offset++) {
      // A read from the disk writes guest memory: a shared (read-only) page is copied for this VM first.
      const address = (buffer + offset) | 0;
      const index = command === BlkCommand.READ ? this.memory.translateWrite(address) : this.memory.translateRead(address);
      if (index < 0) {
        this.refuse(mode, sector, buffer, `guest-physical address 0x${((buffer + offset) >>> 0).toString(16)} is outside the VM's memory`);
        return false;
      }
      indexes[offset] = index;
    }
    this.copy(command, sector, indexes);
    return true;
  }

  private copy(command: number, sector: number, indexes: Int32Array): void {
    const host = this.memory.host.words;
    const base = sector * SECTOR_WORDS;
    if (command === BlkCommand.READ) for (let offset = 0; offset < SECTOR_WORDS; offset++) host[indexes[offset]] = this.disk[base + offset];
    else for (let offset = 0; offset < SECTOR_WORDS; offset++) this.disk[base + offset] = host[indexes[offset]];
  }

  private refuse(mode: 'emulated' | 'virtio' | 'passthrough', sector: number, addr: number, reason: string): void {
    this.refused++;
    this.bus.publish(this.id, 'blk.refused', { mode, sector, addr, reason });
  }

  private raise(): void {
    this.pic.raise(Irq.BLOCK);
    this.bus.publish(this.id, 'irq.raise', { line: Irq.BLOCK });
  }

  protected override onStop(): void {
    this.generation++;
  }

  protected override onFail(): void {
    this.generation++;
  }

  protected override onReset(): void {
    this.generation++;
    this.sector = 0;
    this.buffer = 0;
    this.command = 0;
    this.status = BlkStatus.IDLE;
    this.queue.reset(0);
    this.batch = null;
  }

  snapshot(): Record<string, unknown> {
    return {
      state: this.lifecycle.state,
      mode: this.mode,
      sector: this.sector,
      buffer: this.buffer,
      status: this.status,
      queue: this.queue.address,
      lastAvail: this.queue.lastAvail,
      usedIdx: this.queue.usedIdx,
      inFlight: this.batch?.length ?? 0,
      emulatedRequests: this.emulatedRequests,
      passthroughRequests: this.passthroughRequests,
      virtioRequests: this.virtioRequests,
      batches: this.batches,
      notifications: this.notifications,
      refused: this.refused,
      disk: this.image === undefined ? freshDiskDigest() : hashWords(this.image),
    };
  }
}

function freshDisk(): Int32Array {
  const disk = new Int32Array(DISK_SECTORS * SECTOR_WORDS);
  for (let sector = 0; sector < DISK_SECTORS; sector++) {
    for (let offset = 0; offset < SECTOR_WORDS; offset++) disk[sector * SECTOR_WORDS + offset] = diskPattern(sector, offset);
  }
  return disk;
}

let freshDigest: string | undefined;

/** The digest of an untouched disk (the same for every VM), computed once. */
function freshDiskDigest(): string {
  freshDigest ??= hashWords(freshDisk());
  return freshDigest;
}
