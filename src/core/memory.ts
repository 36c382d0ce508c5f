/**
 * Host physical memory and each VM's guest-physical map.
 *
 * Host memory is one array of 32-bit words cut into 4 KiB frames. The monitor gives each VM a
 * GuestPhysicalMap, a page table from guest page number to the host word index of the frame that
 * backs it (-1 when the page has no backing). The interpreter is handed the host array and the
 * map, and translates every guest-physical access (fetch, load, store) through the map; an
 * address outside it is an exit (EPT violation, or MMIO inside the device window), never a
 * silent read of someone else's frame. The isolation property tests check this from outside.
 */
import { PAGE_MASK, PAGE_SHIFT, PAGE_WORDS } from './platform.js';

export type GuestPhysicalAddress = number;
export type HostWordIndex = number;

export class HostMemory {
  readonly words: Int32Array;
  /** Owner of each frame ('' when free), for the isolation checkers. */
  private readonly owners: string[];
  private readonly freeFrames: number[] = [];

  constructor(readonly frameCount: number) {
    if (!Number.isSafeInteger(frameCount) || frameCount < 0) throw new RangeError(`bad frame count ${frameCount}`);
    this.words = new Int32Array(frameCount * PAGE_WORDS);
    this.owners = new Array<string>(frameCount).fill('');
    for (let frame = frameCount - 1; frame >= 0; frame--) this.freeFrames.push(frame);
  }

  get freeFrameCount(): number {
    return this.freeFrames.length;
  }

  /** Takes `count` free frames for `owner`, lowest first; throws when there are not enough. */
  allocate(count: number, owner: string): number[] {
    if (count > this.freeFrames.length) {
      throw new RangeError(`host memory exhausted: ${owner} needs ${count} frames, ${this.freeFrames.length} free`);
    }
    const frames: number[] = [];
    for (let index = 0; index < count; index++) {
      const frame = this.freeFrames.pop() as number;
      this.owners[frame] = owner;
      frames.push(frame);
    }
    return frames;
  }

  /**
   * Takes `count` free frames for `owner` from frames [first, end), lowest first (a host's share
   * of the memory when a scenario has several hosts); throws when there are not enough.
   */
  allocateIn(count: number, owner: string, first: number, end: number): number[] {
    const frames: number[] = [];
    for (let index = this.freeFrames.length - 1; index >= 0 && frames.length < count; index--) {
      const frame = this.freeFrames[index];
      if (frame >= first && frame < end) frames.push(frame);
    }
    if (frames.length < count) throw new RangeError(`host memory exhausted: ${owner} needs ${count} frames, ${frames.length} free in frames ${first} to ${end - 1}`);
    const taken = new Set(frames);
    const kept = this.freeFrames.filter((frame) => !taken.has(frame));
    this.freeFrames.length = 0;
    this.freeFrames.push(...kept);
    for (const frame of frames) this.owners[frame] = owner;
    return frames;
  }

  /** Free frames in [first, end). */
  freeFramesIn(first: number, end: number): number {
    let free = 0;
    for (const frame of this.freeFrames) if (frame >= first && frame < end) free++;
    return free;
  }

  /** Gives frames back, zeroing them so no data leaks to their next owner. */
  release(frames: readonly number[]): void {
    for (const frame of frames) {
      this.words.fill(0, frame * PAGE_WORDS, (frame + 1) * PAGE_WORDS);
      this.owners[frame] = '';
      this.freeFrames.push(frame);
    }
  }

  ownerOf(frame: number): string {
    return this.owners[frame] ?? '';
  }

  /**
   * Page sharing: the mappings of each shared frame, one owner id per guest page that maps it (a
   * VM twice when two of its own pages were merged). A frame is in here from the merge that made
   * it shared until it is released or its last mapping takes it back writable.
   */
  private readonly sharers = new Map<number, string[]>();

  /** The VMs that may read a frame: every sharer of a shared frame, else its owner ('' when free). */
  readersOf(frame: number): readonly string[] {
    const sharers = this.sharers.get(frame);
    if (sharers !== undefined) return sharers;
    const owner = this.ownerOf(frame);
    return owner === '' ? [] : [owner];
  }

  isShared(frame: number): boolean {
    return this.sharers.has(frame);
  }

  /** Shared frames, and the guest pages that map them (the frames saved are the difference). */
  get sharedFrameCount(): number {
    return this.sharers.size;
  }

  get sharedMappingCount(): number {
    let mappings = 0;
    for (const sharers of this.sharers.values()) mappings += sharers.length;
    return mappings;
  }

  /** Adds a mapping of `frame` by `owner` (the first call makes an owned frame shared). */
  share(frame: number, owner: string): void {
    const current = this.owners[frame];
    if (current === '' || current === undefined) throw new RangeError(`frame ${frame} is free: nothing to share`);
    let sharers = this.sharers.get(frame);
    if (sharers === undefined) {
      sharers = [current];
      this.sharers.set(frame, sharers);
    }
    sharers.push(owner);
  }

  /**
   * Removes one mapping of `frame` by `owner` (a guest page stops using it: copy on write,
   * ballooning, swapping): the frame is released when it was the last; a shared frame left with
   * one mapping stays shared (read-only) until that one writes. Returns the mappings left.
   */
  drop(frame: number, owner: string): number {
    const sharers = this.sharers.get(frame);
    if (sharers === undefined) {
      if (this.owners[frame] !== owner) throw new RangeError(`frame ${frame} belongs to ${this.ownerOf(frame) || 'nobody'}, not ${owner}`);
      this.release([frame]);
      return 0;
    }
    const index = sharers.indexOf(owner);
    if (index < 0) throw new RangeError(`${owner} does not map shared frame ${frame}`);
    sharers.splice(index, 1);
    if (sharers.length === 0) {
      this.sharers.delete(frame);
      this.release([frame]);
      return 0;
    }
    this.owners[frame] = sharers[0];
    return sharers.length;
  }

  /** The last mapping of a shared frame takes it back as its own, writable (no copy needed). */
  unshare(frame: number): void {
    const sharers = this.sharers.get(frame);
    if (sharers === undefined || sharers.length !== 1) throw new RangeError(`frame ${frame} has ${sharers?.length ?? 0} sharers, not 1`);
    this.sharers.delete(frame);
    this.owners[frame] = sharers[0];
  }
}

export class GuestPhysicalMap {
  /** Host word index of the first word of each guest page, or -1: what fetches and loads use. */
  readonly pageBase: Int32Array;
  /**
   * The same for stores: equal to pageBase where the page is writable, -1 where the guest may
   * read the page but not write it (a frame shared with other VMs, copied on the first write).
   */
  readonly writeBase: Int32Array;

  constructor(
    readonly host: HostMemory,
    frames: readonly number[],
  ) {
    this.pageBase = new Int32Array(frames.length);
    for (let page = 0; page < frames.length; page++) this.pageBase[page] = frames[page] < 0 ? -1 : frames[page] * PAGE_WORDS;
    this.writeBase = this.pageBase.slice();
  }

  get pageCount(): number {
    return this.pageBase.length;
  }

  get sizeWords(): number {
    return this.pageBase.length * PAGE_WORDS;
  }

  /** Guest pages that have a backing frame. */
  get mappedPages(): number {
    let mapped = 0;
    for (let page = 0; page < this.pageBase.length; page++) if (this.pageBase[page] >= 0) mapped++;
    return mapped;
  }

  /**
   * Takes a guest page out of the map (ballooning) and returns the host frame that backed it, or
   * -1 when the page is outside the map or already unmapped. The caller releases the frame.
   */
  unmap(page: number): number {
    if (!Number.isInteger(page) || page < 0 || page >= this.pageBase.length || this.pageBase[page] < 0) return -1;
    const frame = this.pageBase[page] / PAGE_WORDS;
    this.pageBase[page] = -1;
    this.writeBase[page] = -1;
    return frame;
  }

  /**
   * Called by translateWrite for a page that is mapped read-only (shared), so that the host's
   * memory manager can give the VM its own copy first; returns whether the page is now writable.
   * Undefined when nothing manages the host's memory (no sharing).
   */
  onWriteFault: ((page: number) => boolean) | undefined;
  /**
   * Called by translateRead for a page the map does not back, so that an overcommitting host can
   * back it (first touch) or swap it back in; returns whether the page is now backed.
   */
  onReadFault: ((page: number) => boolean) | undefined;

  /** Host word index for a guest-physical address, or -1 when the map has no backing for it. */
  translate(address: GuestPhysicalAddress): HostWordIndex {
    const page = address >>> PAGE_SHIFT;
    if (address < 0 || page >= this.pageBase.length) return -1;
    const base = this.pageBase[page];
    return base < 0 ? -1 : base + (address & PAGE_MASK);
  }

  /**
   * Host word index to write a guest-physical address (a device's DMA, the monitor's emulation),
   * or -1. A read-only (shared) page is first copied for this VM through onWriteFault, as a
   * guest store to it would be.
   */
  translateWrite(address: GuestPhysicalAddress): HostWordIndex {
    const page = address >>> PAGE_SHIFT;
    if (address < 0 || page >= this.writeBase.length) return -1;
    if (this.writeBase[page] < 0 && this.onWriteFault !== undefined) this.onWriteFault(page);
    const base = this.writeBase[page];
    return base < 0 ? -1 : base + (address & PAGE_MASK);
  }

  /**
   * Host word index to read a guest-physical address from outside the guest (a device, the
   * monitor), or -1: a page an overcommitting host has not backed yet is backed first.
   */
  translateRead(address: GuestPhysicalAddress): HostWordIndex {
    const page = address >>> PAGE_SHIFT;
    if (address < 0 || page >= this.pageBase.length) return -1;
    if (this.pageBase[page] < 0 && this.onReadFault !== undefined) this.onReadFault(page);
    const base = this.pageBase[page];
    return base < 0 ? -1 : base + (address & PAGE_MASK);
  }

  read(address: GuestPhysicalAddress): number {
    const index = this.translateRead(address);
    if (index < 0) throw new RangeError(`guest-physical address ${address} is not mapped`);
    return this.host.words[index];
  }

  write(address: GuestPhysicalAddress, value: number): void {
    const index = this.translateWrite(address);
    if (index < 0) throw new RangeError(`guest-physical address ${address} is not mapped writable`);
    this.host.words[index] = value;
  }

  /** Copies an image into guest memory starting at a guest-physical address. */
  load(image: Int32Array, at: GuestPhysicalAddress = 0): void {
    if (at < 0 || at + image.length > this.sizeWords) {
      throw new RangeError(`image of ${image.length} words does not fit in ${this.sizeWords} words of guest memory`);
    }
    for (let offset = 0; offset < image.length; offset++) this.write(at + offset, image[offset]);
  }

  /** The words of a page the host swapped out (overcommit), for snapshots; undefined when none. */
  swappedWords: ((page: number) => Int32Array | undefined) | undefined;

  /** Copies the VM's memory out, page by page, in guest-physical order (an unbacked page reads as zeroes). */
  snapshotWords(): Int32Array {
    const out = new Int32Array(this.sizeWords);
    for (let page = 0; page < this.pageBase.length; page++) {
      const base = this.pageBase[page];
      if (base >= 0) out.set(this.host.words.subarray(base, base + PAGE_WORDS), page * PAGE_WORDS);
      else {
        const swapped = this.swappedWords?.(page);
        if (swapped !== undefined) out.set(swapped, page * PAGE_WORDS);
      }
    }
    return out;
  }
}
