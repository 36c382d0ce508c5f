/**
 * The contract of host memory and of a VM's guest-physical map (src/core/memory.ts): what the
 * isolation properties rely on without seeing it directly. Frames are handed out one owner at a
 * time and scrubbed when given back; a map translates only inside its own pages, refuses what it
 * does not back, and routes writes to read-only pages and reads of unbacked pages through the
 * host's memory manager. Written from StrykerJS's survivors on memory.ts (docs/testing.md).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GuestPhysicalMap, HostMemory } from '../../src/core/memory.js';
import { PAGE_WORDS } from '../../src/core/platform.js';

describe('HostMemory: frames', () => {
  it('refuses a bad frame count and counts its free frames', () => {
    expect(() => new HostMemory(-1)).toThrow(/bad frame count -1/);
    expect(() => new HostMemory(1.5)).toThrow(RangeError);
    expect(() => new HostMemory(Number.MAX_SAFE_INTEGER + 1)).toThrow(RangeError);
    const empty = new HostMemory(0);
    expect(empty.freeFrameCount).toBe(0);
    expect(empty.words.length).toBe(0);
    const host = new HostMemory(3);
    expect(host.words.length).toBe(3 * PAGE_WORDS);
    expect(host.freeFrameCount).toBe(3);
  });

  it('hands out the lowest free frames first, to one owner each', () => {
    const host = new HostMemory(4);
    expect(host.allocate(2, 'a')).toEqual([0, 1]);
    expect(host.allocate(1, 'b')).toEqual([2]);
    expect(host.freeFrameCount).toBe(1);
    expect([0, 1, 2, 3].map((frame) => host.ownerOf(frame))).toEqual(['a', 'a', 'b', '']);
    expect(host.ownerOf(99)).toBe('');
    expect(host.allocate(0, 'c')).toEqual([]);
  });

  it('refuses more frames than are free, taking none', () => {
    const host = new HostMemory(2);
    host.allocate(1, 'a');
    expect(() => host.allocate(2, 'b')).toThrow('host memory exhausted: b needs 2 frames, 1 free');
    expect(host.freeFrameCount).toBe(1);
    expect(host.ownerOf(1)).toBe('');
    // Exactly what is free is not too much.
    expect(host.allocate(1, 'b')).toEqual([1]);
    expect(host.freeFrameCount).toBe(0);
  });

  it('scrubs a released frame, and only that frame, before anyone gets it again', () => {
    const host = new HostMemory(3);
    const [a, b] = host.allocate(2, 'a');
    host.words.fill(7, a * PAGE_WORDS, (a + 1) * PAGE_WORDS);
    host.words.fill(9, b * PAGE_WORDS, (b + 1) * PAGE_WORDS);
    host.release([a]);
    expect(host.ownerOf(a)).toBe('');
    expect(host.freeFrameCount).toBe(2);
    expect(host.words.subarray(a * PAGE_WORDS, (a + 1) * PAGE_WORDS).every((word) => word === 0)).toBe(true);
    // The neighbouring frame keeps every word, its first and last included.
    expect(host.words[b * PAGE_WORDS]).toBe(9);
    expect(host.words[(b + 1) * PAGE_WORDS - 1]).toBe(9);
    const [again] = host.allocate(1, 'b');
    expect(again).toBe(a);
    expect(host.ownerOf(again)).toBe('b');
  });

  it('never gives a frame to two owners, whatever the allocations and releases (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3 })), { maxLength: 40 }), (steps) => {
        const host = new HostMemory(8);
        const held = new Map<number, string>();
        steps.forEach(([take, count], step) => {
          if (take) {
            if (count > host.freeFrameCount) return;
            for (const frame of host.allocate(count, `o${step}`)) {
              expect(held.has(frame)).toBe(false);
              held.set(frame, `o${step}`);
            }
          } else {
            const frames = [...held.keys()].slice(0, count);
            host.release(frames);
            for (const frame of frames) held.delete(frame);
          }
          expect(host.freeFrameCount).toBe(8 - held.size);
          for (let frame = 0; frame < 8; frame++) expect(host.ownerOf(frame)).toBe(held.get(frame) ?? '');
        });
      }),
      { seed: 1204, verbose: 1 },
    );
  });
});

describe('HostMemory: page sharing', () => {
  it('reads: a free frame has no reader, an owned one its owner, a shared one every mapping', () => {
    const host = new HostMemory(2);
    expect(host.readersOf(0)).toEqual([]);
    host.allocate(1, 'a');
    expect(host.readersOf(0)).toEqual(['a']);
    expect(host.isShared(0)).toBe(false);
    host.share(0, 'b');
    host.share(0, 'b');
    expect(host.readersOf(0)).toEqual(['a', 'b', 'b']);
    expect(host.isShared(0)).toBe(true);
    expect(host.sharedFrameCount).toBe(1);
    expect(host.sharedMappingCount).toBe(3);
  });

  it('refuses to share a free frame', () => {
    const host = new HostMemory(2);
    expect(() => host.share(1, 'a')).toThrow('frame 1 is free: nothing to share');
    expect(() => host.share(5, 'a')).toThrow(/is free/);
    expect(host.sharedFrameCount).toBe(0);
  });

  it('drops mappings one by one; the last one releases (and scrubs) the frame', () => {
    const host = new HostMemory(2);
    const [frame] = host.allocate(1, 'a');
    host.words[frame * PAGE_WORDS + 5] = 42;
    host.share(frame, 'b');
    host.share(frame, 'c');
    expect(host.drop(frame, 'a')).toBe(2);
    // The frame's owner is now its first remaining mapping; still shared, still holding its data.
    expect(host.ownerOf(frame)).toBe('b');
    expect(host.readersOf(frame)).toEqual(['b', 'c']);
    expect(host.words[frame * PAGE_WORDS + 5]).toBe(42);
    expect(host.drop(frame, 'b')).toBe(1);
    expect(host.isShared(frame)).toBe(true);
    expect(host.ownerOf(frame)).toBe('c');
    expect(host.drop(frame, 'c')).toBe(0);
    expect(host.isShared(frame)).toBe(false);
    expect(host.ownerOf(frame)).toBe('');
    expect(host.words[frame * PAGE_WORDS + 5]).toBe(0);
    expect(host.freeFrameCount).toBe(2);
  });

  it('drops an unshared frame only for its owner', () => {
    const host = new HostMemory(2);
    const [frame] = host.allocate(1, 'a');
    expect(() => host.drop(frame, 'b')).toThrow(`frame ${frame} belongs to a, not b`);
    expect(() => host.drop(1, 'b')).toThrow('frame 1 belongs to nobody, not b');
    expect(host.ownerOf(frame)).toBe('a');
    host.words[frame * PAGE_WORDS] = 3;
    expect(host.drop(frame, 'a')).toBe(0);
    expect(host.ownerOf(frame)).toBe('');
    expect(host.words[frame * PAGE_WORDS]).toBe(0);
  });

  it('refuses to drop a shared frame for a VM that does not map it', () => {
    const host = new HostMemory(1);
    host.allocate(1, 'a');
    host.share(0, 'b');
    expect(() => host.drop(0, 'c')).toThrow('c does not map shared frame 0');
    expect(host.readersOf(0)).toEqual(['a', 'b']);
  });

  it('unshares a frame only when one mapping is left, which then owns it', () => {
    const host = new HostMemory(1);
    host.allocate(1, 'a');
    expect(() => host.unshare(0)).toThrow('frame 0 has 0 sharers, not 1');
    host.share(0, 'b');
    expect(() => host.unshare(0)).toThrow('frame 0 has 2 sharers, not 1');
    host.drop(0, 'a');
    host.unshare(0);
    expect(host.isShared(0)).toBe(false);
    expect(host.ownerOf(0)).toBe('b');
    expect(host.readersOf(0)).toEqual(['b']);
    expect(host.sharedFrameCount).toBe(0);
  });
});

/** A map of `pages` guest pages over scattered frames of a host with a neighbour at frame 0. */
function map(pages = 3) {
  const host = new HostMemory(pages + 2);
  host.allocate(1, 'neighbour');
  const frames = host.allocate(pages, 'vm').reverse();
  const memory = new GuestPhysicalMap(host, frames);
  return { host, frames, memory };
}

describe('GuestPhysicalMap: translation', () => {
  it('translates inside its pages, at the frame that backs each', () => {
    const { frames, memory } = map();
    expect(memory.pageCount).toBe(3);
    expect(memory.sizeWords).toBe(3 * PAGE_WORDS);
    expect(memory.mappedPages).toBe(3);
    expect(memory.translate(0)).toBe(frames[0] * PAGE_WORDS);
    expect(memory.translate(PAGE_WORDS - 1)).toBe(frames[0] * PAGE_WORDS + PAGE_WORDS - 1);
    expect(memory.translate(PAGE_WORDS)).toBe(frames[1] * PAGE_WORDS);
    expect(memory.translate(3 * PAGE_WORDS - 1)).toBe(frames[2] * PAGE_WORDS + PAGE_WORDS - 1);
    expect(memory.translateRead(PAGE_WORDS + 7)).toBe(frames[1] * PAGE_WORDS + 7);
    expect(memory.translateWrite(2 * PAGE_WORDS + 7)).toBe(frames[2] * PAGE_WORDS + 7);
  });

  it('refuses every address outside its pages: negative, one past the end, far away', () => {
    const { memory } = map();
    for (const address of [-1, -PAGE_WORDS, 3 * PAGE_WORDS, 3 * PAGE_WORDS + 1, 0x4000_0000, 2 ** 31 - 1]) {
      expect(memory.translate(address)).toBe(-1);
      expect(memory.translateRead(address)).toBe(-1);
      expect(memory.translateWrite(address)).toBe(-1);
    }
    expect(() => memory.read(3 * PAGE_WORDS)).toThrow(`guest-physical address ${3 * PAGE_WORDS} is not mapped`);
    expect(() => memory.write(-1, 1)).toThrow('guest-physical address -1 is not mapped writable');
  });

  it('a map built with unbacked pages (-1) translates them to nothing and counts only the backed', () => {
    const host = new HostMemory(2);
    const memory = new GuestPhysicalMap(host, [-1, 1, -1]);
    expect([...memory.pageBase]).toEqual([-1, PAGE_WORDS, -1]);
    expect([...memory.writeBase]).toEqual([-1, PAGE_WORDS, -1]);
    expect(memory.mappedPages).toBe(1);
    expect(memory.translate(5)).toBe(-1);
    expect(memory.translate(PAGE_WORDS + 5)).toBe(PAGE_WORDS + 5);
    expect(memory.translateRead(2 * PAGE_WORDS)).toBe(-1);
    expect(memory.translateWrite(2 * PAGE_WORDS)).toBe(-1);
    // Not only a page's first word: an unbacked page has no word at all.
    expect(memory.translateRead(2 * PAGE_WORDS + 9)).toBe(-1);
    expect(memory.translateWrite(PAGE_WORDS - 1)).toBe(-1);
  });

  it('host frame 0 is a frame like any other: mapped, counted, unmapped, read and written without faults', () => {
    const host = new HostMemory(2);
    const memory = new GuestPhysicalMap(host, [0, 1]);
    expect(memory.mappedPages).toBe(2);
    let faults = 0;
    memory.onWriteFault = () => (faults++, true);
    memory.onReadFault = () => (faults++, true);
    expect(memory.translateWrite(3)).toBe(3);
    expect(memory.translateRead(3)).toBe(3);
    expect(faults).toBe(0);
    expect(memory.unmap(0)).toBe(0);
    expect(memory.mappedPages).toBe(1);
    expect(memory.translate(0)).toBe(-1);
  });

  it('refuses addresses that are not 32-bit words of guest memory (beyond -2^31 they would wrap to page 0)', () => {
    const { memory } = map();
    for (const address of [-(2 ** 32), -(2 ** 32) + 5, -(2 ** 42)]) {
      expect(memory.translate(address)).toBe(-1);
      expect(memory.translateRead(address)).toBe(-1);
      expect(memory.translateWrite(address)).toBe(-1);
    }
  });

  it('reads and writes through the map, never another frame', () => {
    const { host, frames, memory } = map();
    memory.write(PAGE_WORDS + 3, 11);
    expect(host.words[frames[1] * PAGE_WORDS + 3]).toBe(11);
    expect(memory.read(PAGE_WORDS + 3)).toBe(11);
    // The neighbour's frame (0) is untouched.
    expect(host.words.subarray(0, PAGE_WORDS).every((word) => word === 0)).toBe(true);
  });

  it('unmaps a page (ballooning): gives back the frame once, then refuses', () => {
    const { frames, memory } = map();
    expect(memory.unmap(1)).toBe(frames[1]);
    expect(memory.mappedPages).toBe(2);
    expect(memory.translate(PAGE_WORDS)).toBe(-1);
    expect(memory.translateWrite(PAGE_WORDS)).toBe(-1);
    expect(memory.unmap(1)).toBe(-1);
    for (const page of [-1, 3, 0.5, Number.NaN]) expect(memory.unmap(page)).toBe(-1);
    // Page 0 is a page like the others.
    expect(memory.unmap(0)).toBe(frames[0]);
    expect(memory.mappedPages).toBe(1);
    expect(memory.translate(0)).toBe(-1);
    // The other page still translates.
    expect(memory.translate(2 * PAGE_WORDS)).toBe(frames[2] * PAGE_WORDS);
  });
});

describe('GuestPhysicalMap: faults to the memory manager', () => {
  it('a write to a read-only page asks onWriteFault first, and writes where it made the page writable', () => {
    const { host, frames, memory } = map();
    memory.writeBase[1] = -1;
    // Without a memory manager a read-only page is not writable.
    expect(memory.translateWrite(PAGE_WORDS)).toBe(-1);
    const faults: number[] = [];
    memory.onWriteFault = (page) => {
      faults.push(page);
      memory.writeBase[page] = frames[2] * PAGE_WORDS;
      return true;
    };
    expect(memory.translateWrite(PAGE_WORDS + 4)).toBe(frames[2] * PAGE_WORDS + 4);
    expect(faults).toEqual([1]);
    // A writable page does not fault.
    expect(memory.translateWrite(4)).toBe(frames[0] * PAGE_WORDS + 4);
    expect(faults).toEqual([1]);
    // Reads are not writes: a read-only page reads without a write fault.
    memory.writeBase[0] = -1;
    expect(memory.translateRead(4)).toBe(frames[0] * PAGE_WORDS + 4);
    expect(faults).toEqual([1]);
    memory.write(PAGE_WORDS + 4, 5);
    expect(host.words[frames[2] * PAGE_WORDS + 4]).toBe(5);
  });

  it('a write fault the manager cannot serve leaves the page unwritable', () => {
    const { memory } = map();
    memory.writeBase[0] = -1;
    memory.onWriteFault = () => false;
    expect(memory.translateWrite(0)).toBe(-1);
    expect(memory.translateWrite(7)).toBe(-1);
    expect(() => memory.write(0, 1)).toThrow(/not mapped writable/);
  });

  it('a read of an unbacked page asks onReadFault first; translate (the guest path) never does', () => {
    const { frames, memory } = map();
    memory.unmap(2);
    expect(memory.translateRead(2 * PAGE_WORDS + 3)).toBe(-1);
    const faults: number[] = [];
    memory.onReadFault = (page) => {
      faults.push(page);
      memory.pageBase[page] = frames[2] * PAGE_WORDS;
      return true;
    };
    expect(memory.translate(2 * PAGE_WORDS)).toBe(-1);
    expect(faults).toEqual([]);
    expect(memory.translateRead(2 * PAGE_WORDS + 1)).toBe(frames[2] * PAGE_WORDS + 1);
    expect(faults).toEqual([2]);
    // A backed page reads without a fault.
    expect(memory.translateRead(1)).toBe(frames[0] * PAGE_WORDS + 1);
    expect(faults).toEqual([2]);
    // Out of range never faults.
    expect(memory.translateRead(3 * PAGE_WORDS)).toBe(-1);
    expect(faults).toEqual([2]);
  });
});

describe('GuestPhysicalMap: images and snapshots', () => {
  it('loads an image at an address, and refuses one that does not fit', () => {
    const { memory } = map(2);
    memory.load(Int32Array.of(1, 2, 3), PAGE_WORDS - 1);
    expect([memory.read(PAGE_WORDS - 1), memory.read(PAGE_WORDS), memory.read(PAGE_WORDS + 1)]).toEqual([1, 2, 3]);
    memory.load(Int32Array.of(9));
    expect(memory.read(0)).toBe(9);
    // Exactly filling the memory fits.
    memory.load(new Int32Array(2 * PAGE_WORDS).fill(4));
    expect(memory.read(2 * PAGE_WORDS - 1)).toBe(4);
    expect(() => memory.load(new Int32Array(2), 2 * PAGE_WORDS - 1)).toThrow(`image of 2 words does not fit in ${2 * PAGE_WORDS} words of guest memory`);
    expect(() => memory.load(new Int32Array(1), -1)).toThrow(/does not fit/);
  });

  it('snapshots in guest-physical order; unbacked pages read as zeroes, swapped ones as their saved words', () => {
    const { memory } = map(3);
    memory.write(0, 1);
    memory.write(PAGE_WORDS, 2);
    memory.write(3 * PAGE_WORDS - 1, 3);
    const snapshot = memory.snapshotWords();
    expect(snapshot.length).toBe(3 * PAGE_WORDS);
    expect([snapshot[0], snapshot[PAGE_WORDS], snapshot[3 * PAGE_WORDS - 1]]).toEqual([1, 2, 3]);
    memory.unmap(1);
    const unbacked = memory.snapshotWords();
    expect(unbacked[PAGE_WORDS]).toBe(0);
    expect(unbacked[0]).toBe(1);
    memory.swappedWords = (page) => (page === 1 ? new Int32Array(PAGE_WORDS).fill(8) : undefined);
    const swapped = memory.snapshotWords();
    expect(swapped[PAGE_WORDS]).toBe(8);
    expect(swapped[2 * PAGE_WORDS - 1]).toBe(8);
    expect(swapped[2 * PAGE_WORDS]).toBe(0);
    expect(swapped[3 * PAGE_WORDS - 1]).toBe(3);
  });
});
