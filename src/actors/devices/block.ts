/**
 * The VM's block device: an in-memory disk image (DISK_SECTORS sectors of SECTOR_WORDS words)
 * reached two ways, over one disk.
 *
 * - **Emulated** (an IDE-like register file): the guest writes the sector, the guest-physical
 *   buffer and the command to three ports, each write an exit; the request completes after
 *   `diskLatencyNs + diskSectorNs` and raises IRQ_BLOCK; the status port then reads DONE or ERROR.
 * - **Paravirtual** (virtio-like): the guest writes its queue's address once, then puts requests
 *   in guest memory (descriptor table and available ring, see platform.ts) and notifies the
 *   device with one port write per batch. The device takes every available descriptor, completes
 *   the whole batch after `diskLatencyNs + n x diskSectorNs` into the used ring and raises one
 *   interrupt, unless the driver set VIRTQ_AVAIL_NO_INTERRUPT. While a batch is in flight it sets
 *   VIRTQ_USED_NO_NOTIFY in the used ring: entries added meanwhile need no notification, the
 *   device takes them when the batch completes.
 *
 * Every buffer goes through the VM's own guest-physical map, as the DMA engine's does: a request
 * whose buffer has a word outside the VM's memory is refused whole (`blk.refused`, status ERROR)
 * and nothing is copied. Data moves when the request completes (a kernel queue entry), after the
 * monitor has cut any batch of this VM's vCPUs that runs past that instant (`quiesce`), so the
 * copy lands at its virtual time and no batch's undo log covers it.
 */
import type { EventBus } from '../../core/bus.js';
import { hashWords } from '../../core/hash.js';
import type { Kernel } from '../../core/kernel.js';
import type { GuestPhysicalMap } from '../../core/memory.js';
import {
  BlkCommand,
  BlkStatus,
  DISK_SECTORS,
  Irq,
  Port,
  SECTOR_WORDS,
  VIRTQ_AVAIL,
  VIRTQ_AVAIL_NO_INTERRUPT,
  VIRTQ_DESC,
  VIRTQ_SIZE,
  VIRTQ_USED,
  VIRTQ_USED_NO_NOTIFY,
  VIRTQ_WORDS,
  diskPattern,
} from '../../core/platform.js';
import { Device } from './device.js';
import type { InterruptController } from './pic.js';

const EMULATED = 0;
const VIRTIO = 1;

export interface DiskTiming {
  readonly latencyNs: number;
  readonly sectorNs: number;
}

export class BlockDevice extends Device {
  readonly ports = [Port.BLK_SECTOR, Port.BLK_BUFFER, Port.BLK_COMMAND, Port.VIRTIO_QUEUE, Port.VIRTIO_NOTIFY];
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
  private queue = 0;
  private lastAvail = 0;
  private usedIdx = 0;
  private batch: number[] | null = null;
  /** Counters: requests completed (and refused) per interface, batches, notifications. */
  emulatedRequests = 0;
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
  ) {
    super(id, 'block', bus);
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
    if (port === Port.VIRTIO_QUEUE) return this.queue;
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
    this.queue = address;
    this.lastAvail = 0;
    this.usedIdx = 0;
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
    for (let offset = 0; offset < VIRTQ_WORDS; offset++) {
      if (this.memory.translate((queue + offset) | 0) < 0) {
        this.refuse('virtio', -1, queue, `the queue at guest-physical 0x${(queue >>> 0).toString(16)} is not inside the VM's memory`);
        return;
      }
    }
    const availIdx = this.memory.read(queue + VIRTQ_AVAIL + 1);
    const count = Math.min((availIdx - this.lastAvail) | 0, VIRTQ_SIZE);
    if (count <= 0) return;
    const batch: number[] = [];
    for (let n = 0; n < count; n++) batch.push(this.memory.read(queue + VIRTQ_AVAIL + 2 + ((this.lastAvail + n) & (VIRTQ_SIZE - 1))));
    this.lastAvail = (this.lastAvail + count) | 0;
    this.batch = batch;
    this.quiesce();
    this.memory.write(queue + VIRTQ_USED, this.memory.read(queue + VIRTQ_USED) | VIRTQ_USED_NO_NOTIFY);
    this.kernel.schedule(this.kernel.now + this.timing.latencyNs + count * this.timing.sectorNs, this.target, VIRTIO, this.generation * 65536 + (this.queueGeneration & 0xffff));
  }

  // ------------------------------------------------------------------ completion

  private complete(kind: number, arg: number): void {
    const current = kind === EMULATED ? this.generation : this.generation * 65536 + (this.queueGeneration & 0xffff);
    if (arg !== current || !this.ready) return;
    this.quiesce();
    if (kind === EMULATED) {
      const ok = this.transfer('emulated', this.command, this.sector, this.buffer);
      this.status = ok ? BlkStatus.DONE : BlkStatus.ERROR;
      this.emulatedRequests++;
      this.bus.publish(this.id, 'blk.done', { mode: 'emulated', requests: 1, refused: ok ? 0 : 1 });
      this.raise();
      return;
    }
    const batch = this.batch ?? [];
    const queue = this.queue;
    let refused = 0;
    for (const id of batch) {
      let ok = false;
      if (id >= 0 && id < VIRTQ_SIZE) {
        const descriptor = queue + VIRTQ_DESC + 4 * id;
        ok = this.transfer('virtio', this.memory.read(descriptor), this.memory.read(descriptor + 1), this.memory.read(descriptor + 2));
        this.memory.write(descriptor + 3, ok ? BlkStatus.DONE : BlkStatus.ERROR);
      } else {
        this.refuse('virtio', -1, queue, `descriptor index ${id} is not in 0..${VIRTQ_SIZE - 1}`);
      }
      if (!ok) refused++;
      this.memory.write(queue + VIRTQ_USED + 2 + (this.usedIdx & (VIRTQ_SIZE - 1)), id);
      this.usedIdx = (this.usedIdx + 1) | 0;
    }
    this.memory.write(queue + VIRTQ_USED + 1, this.usedIdx);
    this.memory.write(queue + VIRTQ_USED, this.memory.read(queue + VIRTQ_USED) & ~VIRTQ_USED_NO_NOTIFY);
    this.virtioRequests += batch.length;
    this.batches++;
    this.batch = null;
    this.bus.publish(this.id, 'blk.done', { mode: 'virtio', requests: batch.length, refused });
    if ((this.memory.read(queue + VIRTQ_AVAIL) & VIRTQ_AVAIL_NO_INTERRUPT) === 0) this.raise();
    // Entries the driver added while NO_NOTIFY was set, without a notification.
    if (this.memory.read(queue + VIRTQ_AVAIL + 1) !== this.lastAvail) this.startBatch();
  }

  /** Copies one sector between the disk and guest memory; false (and `blk.refused`) when refused. */
  private transfer(mode: 'emulated' | 'virtio', command: number, sector: number, buffer: number): boolean {
    if (command !== BlkCommand.READ && command !== BlkCommand.WRITE) {
      this.refuse(mode, sector, buffer, `unknown command ${command}`);
      return false;
    }
    if (sector < 0 || sector >= DISK_SECTORS) {
      this.refuse(mode, sector, buffer, `sector ${sector} is not on the disk (0..${DISK_SECTORS - 1})`);
      return false;
    }
    // Check the whole buffer before copying a word, so a refused request changes nothing.
    const indexes = new Int32Array(SECTOR_WORDS);
    for (let offset = 0; offset < SECTOR_WORDS; offset++) {
      // A read from the disk writes guest memory: a shared (read-only) page is copied for this VM first.
      const address = (buffer + offset) | 0;
      const index = command === BlkCommand.READ ? this.memory.translateWrite(address) : this.memory.translate(address);
      if (index < 0) {
        this.refuse(mode, sector, buffer, `guest-physical address 0x${((buffer + offset) >>> 0).toString(16)} is outside the VM's memory`);
        return false;
      }
      indexes[offset] = index;
    }
    const host = this.memory.host.words;
    const base = sector * SECTOR_WORDS;
    if (command === BlkCommand.READ) for (let offset = 0; offset < SECTOR_WORDS; offset++) host[indexes[offset]] = this.disk[base + offset];
    else for (let offset = 0; offset < SECTOR_WORDS; offset++) this.disk[base + offset] = host[indexes[offset]];
    return true;
  }

  private refuse(mode: 'emulated' | 'virtio', sector: number, addr: number, reason: string): void {
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
    this.queue = 0;
    this.lastAvail = 0;
    this.usedIdx = 0;
    this.batch = null;
  }

  snapshot(): Record<string, unknown> {
    return {
      state: this.lifecycle.state,
      sector: this.sector,
      buffer: this.buffer,
      status: this.status,
      queue: this.queue,
      lastAvail: this.lastAvail,
      usedIdx: this.usedIdx,
      inFlight: this.batch?.length ?? 0,
      emulatedRequests: this.emulatedRequests,
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
