/**
 * The VM's block device: an in-memory disk image (DISK_SECTORS sectors of SECTOR_WORDS words),
 * attached to the VM in one of three modes (the scenario's `devices.block`), which decides the
 * interface the guest sees; ports of the other interface are not claimed and read as the open bus.
 *
 * - **Emulated** (an IDE-like register file with a request queue, as NCQ gives a SATA disk): the
 *   guest writes the sector, the guest-physical buffer and the command to three ports, each write
 *   an exit emulated by the monitor. The command joins the device's FIFO queue of `queueDepth`
 *   requests (the one in service included; the scenario's `devices.blockQueue`, default 32); the
 *   disk serves them one at a time, each for its service time (`serviceNs`: `diskLatencyNs`, plus
 *   a seek of `diskSeekNs` x |sector - head| / (DISK_SECTORS - 1), plus the transfer at
 *   `diskSectorNs` per 512 bytes), and raises IRQ_BLOCK as each completes. The status port reads
 *   BUSY while requests are queued, then DONE or ERROR of the last completed. A command written
 *   while the queue is full is refused, never lost: `blk.refused` with the reason, and the status
 *   port reads FULL until a command is accepted or a request completes.
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
import { Device, savedNumber, savedNumbers } from './device.js';
import type { Iommu } from './iommu.js';
import type { InterruptController } from './pic.js';
import { Virtqueue } from './virtqueue.js';

const EMULATED = 0;
const VIRTIO = 1;

export interface DiskTiming {
  readonly latencyNs: number;
  readonly sectorNs: number;
  /** A full-stroke seek (from sector 0 to the last); 0: every request costs the same (fixed service). */
  readonly seekNs: number;
}

/** The default depth of the emulated register file's request queue (the one in service included). */
export const BLOCK_QUEUE_DEPTH = 32;
/** The largest queue depth a scenario may ask for. */
export const BLOCK_QUEUE_LIMIT = 4096;

/** One request in the emulated queue: from the guest's registers, or from a workload's arrival (tag >= 0). */
interface QueuedRequest {
  readonly command: number;
  readonly sector: number;
  readonly buffer: number;
  readonly bytes: number;
  /** The workload request's id, or -1 for the guest's own command. */
  readonly tag: number;
}

/** What the device tells a workload about the requests it queued (src/actors/workload/). */
export interface BlockRequestListener {
  started(tag: number, serviceNs: number): void;
  done(tag: number): void;
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
  private status: number = BlkStatus.IDLE;
  /** A command was refused because the queue was full: the status port reads FULL until one is accepted or a request completes. */
  private full = false;
  /** The emulated queue, FIFO; its head is in service while `inService`. */
  private readonly pending: QueuedRequest[] = [];
  private inService = false;
  /** The guest's own commands in the queue (its status port reads BUSY while there are any). */
  private guestQueued = 0;
  /** Where the disk's head is (the last sector served), for the seek time. */
  private head = 0;
  /** Told when a workload's request starts and completes. */
  listener: BlockRequestListener | null = null;
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
  /** Commands refused because the queue was full. */
  queueFull = 0;
  /** The most requests the emulated queue has held at once. */
  queueMax = 0;
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
    readonly queueDepth: number = BLOCK_QUEUE_DEPTH,
  ) {
    if (!Number.isInteger(queueDepth) || queueDepth < 1 || queueDepth > BLOCK_QUEUE_LIMIT) throw new RangeError(`block queue depth must be an integer from 1 to ${BLOCK_QUEUE_LIMIT}, got ${queueDepth}`);
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
    if (port === Port.BLK_COMMAND) return this.full ? BlkStatus.FULL : this.status;
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

  /** The guest's command (a write of Port.BLK_COMMAND): queued with the sector and buffer written before it. */
  private submit(command: number): void {
    const mode = this.mode === 'passthrough' ? 'passthrough' : 'emulated';
    if (!this.enqueue({ command, sector: this.sector, buffer: this.buffer, bytes: SECTOR_WORDS * 4, tag: -1 })) {
      this.full = true;
      this.refuse(mode, this.sector, this.buffer, `the request queue is full (${this.queueDepth} requests)`);
      return;
    }
    this.full = false;
    this.guestQueued++;
    this.status = BlkStatus.BUSY;
  }

  /**
   * A workload's request arriving at the disk (not through the guest): `bytes` from `sector`,
   * served in turn with the guest's; no guest memory moves. False when the queue is full.
   */
  submitRequest(tag: number, write: boolean, sector: number, bytes: number): boolean {
    if (!this.ready) return false;
    return this.enqueue({ command: write ? BlkCommand.WRITE : BlkCommand.READ, sector: ((sector % DISK_SECTORS) + DISK_SECTORS) % DISK_SECTORS, buffer: 0, bytes, tag });
  }

  /** Requests in the emulated queue, the one in service included. */
  get queued(): number {
    return this.pending.length;
  }

  private enqueue(request: QueuedRequest): boolean {
    if (this.pending.length >= this.queueDepth) {
      this.queueFull++;
      return false;
    }
    this.pending.push(request);
    if (this.pending.length > this.queueMax) this.queueMax = this.pending.length;
    if (!this.inService) this.serveNext();
    return true;
  }

  /** The service time of a request: access latency, seek from the head's sector, transfer. */
  serviceNs(sector: number, bytes: number): number {
    const timing = this.timing;
    const distance = Math.abs(sector - this.head);
    const seek = timing.seekNs === 0 ? 0 : Math.round((timing.seekNs * distance) / (DISK_SECTORS - 1));
    return timing.latencyNs + seek + Math.round((timing.sectorNs * bytes) / (SECTOR_WORDS * 4));
  }

  private serveNext(): void {
    const request = this.pending[0];
    if (request === undefined) {
      this.inService = false;
      return;
    }
    this.inService = true;
    const serviceNs = this.serviceNs(request.sector, request.bytes);
    if (request.sector >= 0 && request.sector < DISK_SECTORS) this.head = request.sector;
    if (request.tag >= 0) this.listener?.started(request.tag, serviceNs);
    this.kernel.schedule(this.kernel.now + serviceNs, this.target, EMULATED, this.generation);
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
      const request = this.pending.shift() as QueuedRequest;
      // A place is free again: the refusal has been seen or is moot.
      this.full = false;
      if (request.tag >= 0) {
        this.listener?.done(request.tag);
      } else {
        const mode = this.mode === 'passthrough' ? 'passthrough' : 'emulated';
        const ok = this.transfer(mode, request.command, request.sector, request.buffer);
        if (mode === 'passthrough') this.passthroughRequests++;
        else this.emulatedRequests++;
        this.guestQueued--;
        this.status = this.guestQueued > 0 ? BlkStatus.BUSY : ok ? BlkStatus.DONE : BlkStatus.ERROR;
        this.bus.publish(this.id, 'blk.done', { mode, requests: 1, refused: ok ? 0 : 1 });
        this.raise();
      }
      this.serveNext();
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
    this.dropQueue();
  }

  protected override onFail(): void {
    this.generation++;
    this.dropQueue();
  }

  /** A stopped, failed or reset device forgets its queue (a workload's requests in it are refused). */
  private dropQueue(): void {
    const lost = this.pending.splice(0);
    this.inService = false;
    this.guestQueued = 0;
    for (const request of lost) if (request.tag >= 0) this.listener?.done(-1 - request.tag);
  }

  protected override onReset(): void {
    this.generation++;
    this.dropQueue();
    this.sector = 0;
    this.buffer = 0;
    this.full = false;
    this.status = BlkStatus.IDLE;
    this.queue.reset(0);
    this.batch = null;
  }

  /** Whether no request is queued, in service or in flight (a VM is saved only once its disk is idle, as QEMU drains block I/O on stop). */
  get drained(): boolean {
    return this.pending.length === 0 && !this.inService && this.batch === null;
  }

  /**
   * Its registers, queue position and the sectors the guest changed (each `[sector, ...words]`;
   * an untouched disk is the same pattern for every VM). Saved only drained (see `drained`).
   */
  override saveState(): Record<string, unknown> {
    if (!this.drained) throw new Error(`${this.id}: saved with requests in flight`);
    const sectors: number[][] = [];
    if (this.image !== undefined) {
      const fresh = freshDisk();
      for (let sector = 0; sector < DISK_SECTORS; sector++) {
        const start = sector * SECTOR_WORDS;
        let changed = false;
        for (let offset = 0; offset < SECTOR_WORDS && !changed; offset++) changed = this.image[start + offset] !== fresh[start + offset];
        if (changed) sectors.push([sector, ...this.image.subarray(start, start + SECTOR_WORDS)]);
      }
    }
    return {
      sector: this.sector,
      buffer: this.buffer,
      status: this.status,
      full: this.full ? 1 : 0,
      guestQueued: this.guestQueued,
      head: this.head,
      queue: [this.queue.address, this.queue.lastAvail, this.queue.usedIdx],
      sectors,
    };
  }

  override loadState(state: Readonly<Record<string, unknown>>): void {
    this.sector = savedNumber(state, 'sector');
    this.buffer = savedNumber(state, 'buffer');
    this.status = savedNumber(state, 'status');
    this.full = savedNumber(state, 'full') !== 0;
    this.guestQueued = savedNumber(state, 'guestQueued');
    this.head = savedNumber(state, 'head');
    const [address, lastAvail, usedIdx] = savedNumbers(state, 'queue');
    this.queue.address = address ?? 0;
    this.queue.lastAvail = lastAvail ?? 0;
    this.queue.usedIdx = usedIdx ?? 0;
    const sectors = state.sectors;
    if (!Array.isArray(sectors)) throw new RangeError("device state: 'sectors' is not a list");
    if (sectors.length === 0) return;
    const disk = freshDisk();
    for (const entry of sectors as unknown[]) {
      const words = Array.isArray(entry) ? (entry as unknown[]) : [];
      const sector = words[0];
      if (typeof sector !== 'number' || !Number.isInteger(sector) || sector < 0 || sector >= DISK_SECTORS || words.length !== SECTOR_WORDS + 1) {
        throw new RangeError('device state: a disk sector entry is not [sector, ...words]');
      }
      disk.set(words.slice(1) as number[], sector * SECTOR_WORDS);
    }
    this.image = disk;
  }

  snapshot(): Record<string, unknown> {
    return {
      state: this.lifecycle.state,
      mode: this.mode,
      sector: this.sector,
      buffer: this.buffer,
      status: this.status,
      full: this.full,
      queued: this.pending.length,
      queueDepth: this.queueDepth,
      head: this.head,
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
      queueFull: this.queueFull,
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
