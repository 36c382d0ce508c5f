/**
 * The device side of one virtio-like split virtqueue in guest memory (virtio 1.x, section 2.7,
 * reduced to what the simulation needs): a descriptor table of VIRTQ_SIZE descriptors of 4 words,
 * an available ring the driver fills ([flags, idx, ring[VIRTQ_SIZE]]) and a used ring the device
 * fills (same shape), at the guest-physical address the driver wrote to the device's queue port.
 * `idx` counts entries for ever; entry n is ring[n % VIRTQ_SIZE].
 *
 * Notification suppression both ways (section 2.7.7, the flags form, not VIRTIO_F_EVENT_IDX): the
 * driver sets VIRTQ_AVAIL_NO_INTERRUPT to ask for no interrupt when buffers are used; the device
 * sets VIRTQ_USED_NO_NOTIFY to tell the driver that it will see new available entries without a
 * notification. The descriptors' meaning belongs to the device (block.ts, nic.ts): this class only
 * moves indexes. Every word goes through the VM's guest-physical map; a queue that is not wholly
 * inside the VM's memory is refused by `valid()` and nothing of it is read or written.
 */
import type { GuestPhysicalMap } from '../../core/memory.js';
import { VIRTQ_AVAIL, VIRTQ_AVAIL_NO_INTERRUPT, VIRTQ_DESC, VIRTQ_SIZE, VIRTQ_USED, VIRTQ_USED_NO_NOTIFY, VIRTQ_WORDS } from '../../core/platform.js';

export class Virtqueue {
  /** The queue's guest-physical address (0 until the driver sets it). */
  address = 0;
  /** The next available entry the device has not taken yet. */
  lastAvail = 0;
  /** Entries the device has put in the used ring, for ever. */
  usedIdx = 0;

  constructor(private readonly memory: GuestPhysicalMap) {}

  /** The driver moved the queue: start again from its first entries. */
  reset(address: number): void {
    this.address = address;
    this.lastAvail = 0;
    this.usedIdx = 0;
  }

  /** Why the queue is unusable (a word of it outside the VM's memory), or null when it is inside. */
  invalid(): string | null {
    for (let offset = 0; offset < VIRTQ_WORDS; offset++) {
      if (this.memory.translateRead((this.address + offset) | 0) < 0) {
        return `the queue at guest-physical 0x${(this.address >>> 0).toString(16)} is not inside the VM's memory`;
      }
    }
    return null;
  }

  /** How many entries the driver has made available that the device has not taken (at most VIRTQ_SIZE). */
  pending(): number {
    const count = (this.memory.read(this.address + VIRTQ_AVAIL + 1) - this.lastAvail) | 0;
    return count <= 0 ? 0 : Math.min(count, VIRTQ_SIZE);
  }

  /** Takes the next available descriptor index (check `pending()` first). */
  take(): number {
    const id = this.memory.read(this.address + VIRTQ_AVAIL + 2 + (this.lastAvail & (VIRTQ_SIZE - 1)));
    this.lastAvail = (this.lastAvail + 1) | 0;
    return id;
  }

  /** The guest-physical address of descriptor `id`'s first word, or -1 when `id` is not a descriptor. */
  descriptor(id: number): number {
    return id >= 0 && id < VIRTQ_SIZE ? this.address + VIRTQ_DESC + 4 * id : -1;
  }

  /** Returns descriptor `id` to the driver: the used ring's next entry, then its idx. */
  use(id: number): void {
    this.memory.write(this.address + VIRTQ_USED + 2 + (this.usedIdx & (VIRTQ_SIZE - 1)), id);
    this.usedIdx = (this.usedIdx + 1) | 0;
    this.memory.write(this.address + VIRTQ_USED + 1, this.usedIdx);
  }

  /** Whether the driver asked for no interrupt when buffers are used. */
  interruptSuppressed(): boolean {
    return (this.memory.read(this.address + VIRTQ_AVAIL) & VIRTQ_AVAIL_NO_INTERRUPT) !== 0;
  }

  /** Sets or clears the device's "no notification needed" flag in the used ring. */
  suppressNotifications(on: boolean): void {
    const flags = this.memory.read(this.address + VIRTQ_USED);
    this.memory.write(this.address + VIRTQ_USED, on ? flags | VIRTQ_USED_NO_NOTIFY : flags & ~VIRTQ_USED_NO_NOTIFY);
  }

  snapshot(): Record<string, number> {
    return { address: this.address, lastAvail: this.lastAvail, usedIdx: this.usedIdx };
  }
}
