/**
 * The host's memory manager (src/actors/monitor/hostMemory.ts) alone, driven through its public
 * interface on a real HostMemory, Kernel and EventBus with stand-in VMs: which pages a sharing
 * scan reaches and when it skips a candidate, the costs of demand paging, swap-in and copy on
 * write, the swap victim chooser against a reference clock, and what `register`, `attach`,
 * `discard` and `vmEnded` leave behind. Written from StrykerJS's survivors on the module
 * (docs/testing.md); every expectation is worked out by hand or by a reference model in this file.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryManager, type HostFault } from '../../src/actors/monitor/hostMemory.js';
import type { Vm } from '../../src/actors/vm.js';
import { EventBus } from '../../src/core/bus.js';
import { resolveCosts, type CostModel } from '../../src/core/costs.js';
import type { SimEvent } from '../../src/core/events.js';
import { Kernel } from '../../src/core/kernel.js';
import { GuestPhysicalMap, HostMemory } from '../../src/core/memory.js';
import { PAGE_WORDS } from '../../src/core/platform.js';

/** Costs with values whose sums are all distinct, so that a cost charged twice or not at all shows. */
const COSTS: CostModel = resolveCosts({ shareScanPageNs: 7, cowBreakNs: 2_000, demandPageNs: 1_000, swapOutNs: 20_000, swapInNs: 300_000 });

interface FakeVm {
  readonly id: string;
  finished: boolean;
  readonly vcpus: { readonly mmu: { invalidateHost(base: number): void } | null }[];
  readonly shadow: { dropHost(base: number): void };
}

interface Options {
  readonly frames: number;
  readonly overcommit?: boolean;
  readonly sharing?: { intervalNs: number; pagesPerScan: number };
  readonly sharedWrite?: (map: GuestPhysicalMap, page: number, frame: number) => boolean;
  readonly ballooning?: { intervalNs: number; belowFraction: number; stepPages: number };
}

function setup(options: Options) {
  const host = new HostMemory(options.frames);
  const kernel = new Kernel();
  const bus = new EventBus(kernel);
  const events: SimEvent[] = [];
  bus.addSink((event) => events.push(event));
  const manager = new MemoryManager(host, kernel, bus, () => COSTS, {
    sharing: options.sharing,
    overcommit: options.overcommit === true,
    sharedWrite: options.sharedWrite,
    ballooning: options.ballooning,
  });
  /** What the manager did to the VMs, in order: `quiesce a`, `tlb a/0 4096`, `shadow a 4096`. */
  const log: string[] = [];
  const vms: FakeVm[] = [];
  const maps = new Map<string, GuestPhysicalMap>();
  /** A VM of `pages` pages: backed by fresh frames, or (overcommit) unbacked, or by the frames given. */
  const addVm = (id: string, pages: number | readonly number[], vcpus = 1): GuestPhysicalMap => {
    const frames = typeof pages !== 'number' ? pages : options.overcommit === true ? new Array<number>(pages).fill(-1) : host.allocate(pages, id);
    const map = new GuestPhysicalMap(host, frames);
    manager.register(id, map);
    maps.set(id, map);
    vms.push({
      id,
      finished: false,
      vcpus: Array.from({ length: vcpus }, (_, index) => ({ mmu: { invalidateHost: (base: number) => log.push(`tlb ${id}/${index} ${base}`) } })),
      shadow: { dropHost: (base: number) => log.push(`shadow ${id} ${base}`) },
    });
    return map;
  };
  const attach = () =>
    manager.attach(vms as unknown as Vm[], {
      quiesce: (vm) => log.push(`quiesce ${vm.id}`),
      setBalloonTarget: () => undefined,
    });
  const vm = (id: string) => vms.find((candidate) => candidate.id === id) as unknown as Vm;
  const fault = (id: string, page: number, write: boolean): HostFault => manager.handleFault(vm(id), page, write);
  const of = (type: string) => events.filter((event) => event.type === type);
  /** Fills a guest page with `fill(offset)` straight in host memory (as the guest's stores would). */
  const fillPage = (id: string, page: number, fill: (offset: number) => number) => {
    const base = (maps.get(id) as GuestPhysicalMap).pageBase[page];
    for (let offset = 0; offset < PAGE_WORDS; offset++) host.words[base + offset] = fill(offset);
  };
  return { host, kernel, bus, manager, log, vms, maps, addVm, attach, vm, fault, events, of, fillPage };
}

/** FNV-1a over a page's words, as the scan hashes (to build two different pages with one hash). */
function fnv(words: ArrayLike<number>): number {
  let hash = 0x811c9dc5 | 0;
  for (let offset = 0; offset < PAGE_WORDS; offset++) hash = Math.imul(hash ^ words[offset], 0x01000193);
  return hash;
}

/** Content of a page numbered `n` that no other `n` shares. */
const distinct = (n: number) => (offset: number) => (offset === 0 ? n + 1 : offset === 1 ? 77 : 0);

const handled = (cause: string, ns: number) => ({ kind: 'handled', cause, ns });

describe('MemoryManager: register', () => {
  it('under overcommit, marks exactly the unbacked pages as never touched (a page on host frame 0 is backed)', () => {
    const t = setup({ frames: 8, overcommit: true });
    const frame0 = t.host.allocate(1, 'a')[0];
    expect(frame0).toBe(0);
    t.addVm('a', [0, -1, -1]);
    t.attach();
    expect(t.fault('a', 0, false)).toEqual({ kind: 'none' });
    expect(t.fault('a', 0, true)).toEqual({ kind: 'none' });
    // The backed page is not the balloon's to discard as frameless; the never-touched ones are.
    expect(t.manager.discard(t.vm('a'), 0)).toBe(false);
    expect(t.fault('a', 1, false)).toEqual(handled('demand', 1_000));
    expect(t.manager.discard(t.vm('a'), 2)).toBe(true);
  });

  it('without overcommit, an unbacked page is not the host\'s business (no demand paging)', () => {
    const t = setup({ frames: 8, sharing: { intervalNs: 1_000, pagesPerScan: 4 } });
    const map = t.addVm('a', [0, -1]);
    t.host.allocate(1, 'a');
    t.attach();
    const free = t.host.freeFrameCount;
    expect(t.fault('a', 1, false)).toEqual({ kind: 'none' });
    expect(t.fault('a', 1, true)).toEqual({ kind: 'none' });
    expect(map.pageBase[1]).toBe(-1);
    expect(t.host.freeFrameCount).toBe(free);
    expect(t.manager.discard(t.vm('a'), 1)).toBe(false);
  });

  it('hooks the map: a read of an unbacked page backs it, a write to a shared page copies it, each saying whether it did', () => {
    const t = setup({ frames: 8, overcommit: true, sharing: { intervalNs: 1_000, pagesPerScan: 100 } });
    const a = t.addVm('a', 2);
    const b = t.addVm('b', 2);
    t.attach();
    expect(a.onReadFault?.(0)).toBe(true);
    expect(a.pageBase[0]).toBeGreaterThanOrEqual(0);
    expect(a.onReadFault?.(0)).toBe(false);
    expect(a.onReadFault?.(2)).toBe(false);
    expect(b.onReadFault?.(0)).toBe(true);
    // a:0 and b:0 are both zero pages: the scan merges them.
    t.kernel.run(1_000);
    expect(a.writeBase[0]).toBe(-1);
    expect(b.writeBase[0]).toBe(-1);
    expect(a.onWriteFault?.(0)).toBe(true);
    expect(a.writeBase[0]).toBeGreaterThanOrEqual(0);
    expect(a.onWriteFault?.(0)).toBe(false);
    expect(a.onWriteFault?.(-1)).toBe(false);
  });

  it('lets a snapshot read a swapped page from the swap store, and only a swapped one', () => {
    const t = setup({ frames: 3, overcommit: true });
    const a = t.addVm('a', 4);
    t.attach();
    for (const page of [0, 1, 2]) {
      t.fault('a', page, true);
      t.fillPage('a', page, distinct(page));
    }
    expect(a.swappedWords?.(0)).toBeUndefined();
    expect(t.fault('a', 3, true)).toEqual(handled('demand', 1_000 + 20_000));
    const swapped = a.swappedWords?.(0);
    expect(swapped?.[0]).toBe(1);
    expect(swapped?.[1]).toBe(77);
    expect(a.swappedWords?.(1)).toBeUndefined();
    expect(a.snapshotWords()[0]).toBe(1);
  });
});

describe('MemoryManager: faults', () => {
  it('refuses pages outside the map and VMs it does not manage, taking no frame', () => {
    const t = setup({ frames: 8, overcommit: true });
    t.addVm('a', 2);
    t.attach();
    for (const page of [-1, 2, 3]) for (const write of [false, true]) expect(t.fault('a', page, write)).toEqual({ kind: 'none' });
    expect(t.manager.handleFault({ id: 'nobody' } as Vm, 0, true)).toEqual({ kind: 'none' });
    expect(t.host.freeFrameCount).toBe(8);
    // Page 0 is inside: the first page is backed on demand.
    expect(t.fault('a', 0, false)).toEqual(handled('demand', 1_000));
    expect(t.host.freeFrameCount).toBe(7);
  });

  it('leaves alone an access the page already allows, and a write to a read-only page that is not shared', () => {
    const t = setup({ frames: 8, overcommit: true });
    const a = t.addVm('a', 2);
    t.attach();
    t.fault('a', 0, true);
    expect(t.fault('a', 0, false)).toEqual({ kind: 'none' });
    expect(t.fault('a', 0, true)).toEqual({ kind: 'none' });
    a.writeBase[0] = -1;
    expect(t.fault('a', 0, true)).toEqual({ kind: 'none' });
    expect(a.writeBase[0]).toBe(-1);
    expect(t.manager.stats().cowBreaks).toBe(0);
  });

  it('charges demandPageNs for a first touch, swapInNs for a swapped page, plus swapOutNs when a page had to go', () => {
    const t = setup({ frames: 3, overcommit: true });
    const a = t.addVm('a', 5);
    t.attach();
    expect(t.fault('a', 0, false)).toEqual(handled('demand', 1_000));
    expect(t.fault('a', 1, true)).toEqual(handled('demand', 1_000));
    expect(t.fault('a', 2, false)).toEqual(handled('demand', 1_000));
    t.fillPage('a', 0, distinct(10));
    const base0 = a.pageBase[0];
    t.log.length = 0;
    // No frame left: page 0 (the clock hand's first, not among the last two touched) goes out,
    // the VM quiesced first and the TLB and shadow entries of its frame dropped.
    expect(t.fault('a', 3, true)).toEqual(handled('demand', 21_000));
    expect(t.log).toEqual(['quiesce a', `tlb a/0 ${base0}`, `shadow a ${base0}`]);
    expect(a.pageBase[0]).toBe(-1);
    expect(a.writeBase[0]).toBe(-1);
    expect(t.of('memory.swap-out').map((event) => event.data)).toEqual([{ page: 0 }]);
    // Page 0 back: page 1 goes out (hand past 0; 2 and 3 are the last two touched), its frame serves page 0.
    const frameOf1 = a.pageBase[1];
    expect(t.fault('a', 0, false)).toEqual(handled('swap-in', 320_000));
    expect(a.pageBase[0]).toBe(frameOf1);
    expect(t.host.words[frameOf1]).toBe(11);
    expect(t.host.words[frameOf1 + 1]).toBe(77);
    expect(t.host.words[frameOf1 + 2]).toBe(0);
    expect(a.swappedWords?.(0)).toBeUndefined();
    const stats = t.manager.stats();
    expect([stats.demandPages, stats.swapIns, stats.swapOuts, stats.swappedPages]).toEqual([4, 1, 2, 1]);
    expect([stats.frames, stats.framesUsed]).toEqual([3, 3]);
  });

  it('crashes only with a reason when nothing is left to swap, and backs the page once a frame is free', () => {
    const t = setup({ frames: 2, overcommit: true });
    const a = t.addVm('a', 3);
    t.attach();
    t.fault('a', 0, true);
    t.fault('a', 1, true);
    const free = t.host.freeFrameCount;
    expect(t.fault('a', 2, false)).toEqual({ kind: 'out-of-memory', reason: "host out of memory: no free frame for guest page 2, and nothing of a's left to swap out" });
    expect(t.host.freeFrameCount).toBe(free);
    expect(a.pageBase[2]).toBe(-1);
    expect(t.manager.stats().swapOuts).toBe(0);
  });

  it('swaps out the VM\'s own pages only, by a clock hand sparing the last two touched (reference model, property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 6 }),
        fc.integer({ min: 4, max: 9 }),
        fc.array(fc.tuple(fc.nat(), fc.boolean()), { minLength: 1, maxLength: 60 }),
        (frames, pages, touches) => {
          const t = setup({ frames, overcommit: true });
          const a = t.addVm('a', pages);
          t.attach();
          // The reference: which page each page's frame went to, what each page holds, the hand and the last two touched.
          const backed = new Array<boolean>(pages).fill(false);
          const swapped = new Set<number>();
          const content = new Array<number>(pages).fill(0);
          let free = frames;
          let hand = 0;
          const recent: number[] = [];
          let value = 1;
          for (const [pick, write] of touches) {
            const page = pick % pages;
            const result = t.fault('a', page, write);
            if (backed[page]) {
              expect(result).toEqual({ kind: 'none' });
            } else {
              let cost = 0;
              if (free === 0) {
                let victim = -1;
                for (let step = 0; step < pages; step++) {
                  const candidate = (hand + step) % pages;
                  if (!backed[candidate] || candidate === page || recent.includes(candidate)) continue;
                  victim = candidate;
                  hand = (candidate + 1) % pages;
                  break;
                }
                if (victim < 0) {
                  expect(result.kind).toBe('out-of-memory');
                  continue;
                }
                backed[victim] = false;
                swapped.add(victim);
                cost = COSTS.swapOutNs;
                free++;
              }
              free--;
              backed[page] = true;
              recent.push(page);
              if (recent.length > 2) recent.shift();
              const wasSwapped = swapped.delete(page);
              expect(result).toEqual(handled(wasSwapped ? 'swap-in' : 'demand', (wasSwapped ? COSTS.swapInNs : COSTS.demandPageNs) + cost));
            }
            // The page holds what it held before it went out; the guest then writes a new value.
            const base = a.pageBase[page];
            expect(t.host.words[base]).toBe(content[page]);
            if (write) {
              content[page] = value++;
              t.host.words[base] = content[page];
            }
            for (let other = 0; other < pages; other++) expect(a.pageBase[other] >= 0, `page ${other}`).toBe(backed[other]);
            expect(t.host.freeFrameCount).toBe(free);
          }
          expect(t.manager.stats().swappedPages).toBe(swapped.size);
          expect(t.of('memory.swap-out').every((event) => event.src === 'a')).toBe(true);
        },
      ),
      { seed: 1104, numRuns: 300 },
    );
  });


  it('reclaims by sharing before swapping, and never swaps out a shared page', () => {
    const t = setup({ frames: 5, overcommit: true, sharing: { intervalNs: 1_000_000, pagesPerScan: 100 } });
    const a = t.addVm('a', 6);
    const b = t.addVm('b', 1);
    t.attach();
    t.fault('b', 0, true);
    t.fillPage('b', 0, distinct(1));
    for (const page of [0, 1, 2]) {
      t.fault('a', page, true);
      t.fillPage('a', page, distinct(page + 1));
    }
    t.fault('a', 3, true);
    t.fillPage('a', 3, distinct(4));
    // Host full. a:0 equals b:0: the reclaim pass merges them and the frame freed serves a:4.
    expect(t.fault('a', 4, true)).toEqual(handled('demand', 1_000));
    expect(t.manager.stats().merges).toBe(1);
    const shared = a.pageBase[0];
    expect(t.host.readersOf(shared / PAGE_WORDS)).toEqual(['a', 'b']);
    // Full again, no second pass within the interval: a swaps out page 1 (the hand's first page
    // that is not shared and not among the last two touched, 3 and 4), never the shared page 0.
    expect(t.fault('a', 5, true)).toEqual(handled('demand', 21_000));
    expect(t.of('memory.swap-out').map((event) => event.data)).toEqual([{ page: 1 }]);
    expect(a.pageBase[0]).toBe(shared);
    expect(b.pageBase[0]).toBe(shared);
    expect(t.host.readersOf(shared / PAGE_WORDS)).toEqual(['a', 'b']);
  });
});

describe('MemoryManager: reclaim by sharing', () => {
  it('scans every page once before swapping (no scan event, host CPU time counted), then not again within the interval', () => {
    const t = setup({ frames: 4, overcommit: true, sharing: { intervalNs: 1_000_000, pagesPerScan: 1 } });
    t.addVm('a', 3);
    const b = t.addVm('b', 4);
    t.attach();
    for (const page of [0, 1, 2]) t.fault('a', page, true);
    t.fault('b', 0, true);
    t.fillPage('a', 0, distinct(1));
    t.fillPage('a', 1, distinct(2));
    t.fillPage('a', 2, distinct(3));
    t.fillPage('b', 0, distinct(1));
    // At time 0 (no reclaim yet): a full pass (7 pages) merges b:0 onto a:0, and the frame freed serves b:1.
    expect(t.fault('b', 1, true)).toEqual(handled('demand', 1_000));
    let stats = t.manager.stats();
    expect([stats.scans, stats.pagesScanned, stats.merges, stats.scanNs]).toEqual([1, 7, 1, 49]);
    expect(t.of('memory.scan')).toHaveLength(0);
    t.fillPage('b', 1, distinct(9));
    // Again at time 0: no second pass; b has nothing to swap (page 0 shared, page 1 among its last two).
    expect(t.fault('b', 2, true)).toEqual({ kind: 'out-of-memory', reason: "host out of memory: no free frame for guest page 2, and nothing of b's left to swap out" });
    stats = t.manager.stats();
    expect([stats.scans, stats.pagesScanned, stats.merges, stats.swapOuts]).toEqual([1, 7, 1, 0]);
    expect(b.pageBase[2]).toBe(-1);
  });

  it('runs the reclaim pass again once a whole interval has passed (at exactly the interval), not before', () => {
    const t = setup({ frames: 3, overcommit: true, sharing: { intervalNs: 1_000_000, pagesPerScan: 0 } });
    t.addVm('a', 6);
    t.attach();
    for (const page of [0, 1, 2]) {
      t.fault('a', page, true);
      t.fillPage('a', page, distinct(page));
    }
    expect(t.fault('a', 3, true)).toEqual(handled('demand', 21_000));
    expect(t.manager.stats().pagesScanned).toBe(6);
    t.kernel.run(999_999);
    expect(t.fault('a', 4, true)).toEqual(handled('demand', 21_000));
    expect(t.manager.stats().pagesScanned).toBe(6);
    expect(t.manager.stats().merges).toBe(0);
    t.kernel.run(1_000_000);
    // The second pass merges pages 3 and 4 (both zeroes: the guest wrote neither), freeing a frame: no swap.
    expect(t.fault('a', 5, true)).toEqual(handled('demand', 1_000));
    expect(t.manager.stats().pagesScanned).toBe(12);
    expect(t.manager.stats().merges).toBe(1);
  });
});

describe('MemoryManager: the sharing scan', () => {
  /** a: 4 pages, b: 3, every page different but a:3 and b:1 (X). */
  const layout = (pagesPerScan: number) => {
    const t = setup({ frames: 16, sharing: { intervalNs: 1_000, pagesPerScan } });
    const a = t.addVm('a', 4);
    const b = t.addVm('b', 3);
    t.attach();
    for (let page = 0; page < 4; page++) t.fillPage('a', page, distinct(page));
    t.fillPage('b', 0, distinct(10));
    t.fillPage('b', 1, distinct(3));
    t.fillPage('b', 2, distinct(12));
    return { t, a, b };
  };
  const scans = (t: ReturnType<typeof setup>) =>
    t.of('memory.scan').map((event) => {
      expect(event.src).toBe('host/memory');
      return { t: event.t, ...(event.data as { scanned: number; merged: number; sharedFrames: number; savedFrames: number; ns: number }) };
    });

  it('reaches pagesPerScan pages a scan, VMs in order and pages in order, the cursor wrapping; a new pass forgets the last one\'s pages', () => {
    const { t, a, b } = layout(3);
    const x = a.pageBase[3];
    const bOld = b.pageBase[1];
    t.kernel.run(4_000);
    // 1000: a0 a1 a2; 2000: a3 b0 b1 (b1 merges onto a3); 3000: b2 a0 a1 (new pass: a0 and a1 are not
    // merged with their own last-pass selves); 4000: a2 a3 (read-only now: skipped) b0.
    expect(scans(t)).toEqual([
      { t: 1_000, scanned: 3, merged: 0, sharedFrames: 0, savedFrames: 0, ns: 21 },
      { t: 2_000, scanned: 3, merged: 1, sharedFrames: 1, savedFrames: 1, ns: 21 },
      { t: 3_000, scanned: 3, merged: 0, sharedFrames: 1, savedFrames: 1, ns: 21 },
      { t: 4_000, scanned: 3, merged: 0, sharedFrames: 1, savedFrames: 1, ns: 21 },
    ]);
    expect(b.pageBase[1]).toBe(x);
    expect([a.writeBase[3], b.writeBase[1]]).toEqual([-1, -1]);
    expect(t.host.readersOf(x / PAGE_WORDS)).toEqual(['a', 'b']);
    expect(t.host.ownerOf(bOld / PAGE_WORDS)).toBe('');
    for (let page = 0; page < 3; page++) expect(a.writeBase[page]).toBe(a.pageBase[page]);
    const stats = t.manager.stats();
    expect([stats.scans, stats.pagesScanned, stats.merges, stats.scanNs]).toEqual([4, 12, 1, 84]);
    expect([stats.sharedFrames, stats.sharedPages, stats.savedFrames, stats.framesUsed]).toEqual([1, 2, 1, 6]);
  });

  it('scans no more than every page once a scan when pagesPerScan exceeds them', () => {
    const { t } = layout(100);
    t.kernel.run(2_000);
    expect(scans(t).map((scan) => [scan.scanned, scan.merged, scan.ns])).toEqual([
      [7, 1, 49],
      [7, 0, 49],
    ]);
  });

  it('quiesces every VM before reading, then each side of a merge, and drops the TLB and shadow entries of the frames that moved', () => {
    const t = setup({ frames: 8, sharing: { intervalNs: 1_000, pagesPerScan: 1 } });
    const a = t.addVm('a', 1);
    const b = t.addVm('b', 1, 2);
    t.attach();
    t.fillPage('a', 0, distinct(1));
    t.fillPage('b', 0, distinct(1));
    const [aBase, bBase] = [a.pageBase[0], b.pageBase[0]];
    t.kernel.run(1_000);
    expect(t.log).toEqual(['quiesce a', 'quiesce b']);
    t.log.length = 0;
    t.kernel.run(2_000);
    expect(t.log).toEqual([
      'quiesce a', 'quiesce b',
      `quiesce a`, `tlb a/0 ${aBase}`, `shadow a ${aBase}`,
      `quiesce b`, `tlb b/0 ${bBase}`, `tlb b/1 ${bBase}`, `shadow b ${bBase}`,
    ]);
  });

  it('merges a third copy onto the shared frame (the stable tree), and forgets a shared frame that is no longer shared', () => {
    const t = setup({ frames: 8, sharing: { intervalNs: 1_000, pagesPerScan: 1 } });
    const maps = ['a', 'b', 'c'].map((id) => t.addVm(id, 1));
    t.attach();
    for (const id of ['a', 'b', 'c']) t.fillPage(id, 0, distinct(5));
    const frame = maps[0].pageBase[0] / PAGE_WORDS;
    const free = t.host.freeFrameCount;
    t.kernel.run(3_000);
    expect(scans(t).map((scan) => scan.merged)).toEqual([0, 1, 1]);
    for (const map of maps) expect([map.pageBase[0], map.writeBase[0]]).toEqual([frame * PAGE_WORDS, -1]);
    expect(t.host.readersOf(frame)).toEqual(['a', 'b', 'c']);
    expect(t.host.freeFrameCount).toBe(free + 2);
    // Every sharer writes (copy on write): the last takes the frame back, writable, with the same words.
    for (const id of ['a', 'b', 'c']) expect(t.fault(id, 0, true)).toEqual(handled('cow', 2_000));
    expect(t.host.isShared(frame)).toBe(false);
    expect(maps[2].writeBase[0]).toBe(frame * PAGE_WORDS);
    // The next pass: a:0 must not merge onto c's writable frame (its stable entry is stale); b:0 merges with a:0.
    t.kernel.run(5_000);
    expect(scans(t).map((scan) => scan.merged)).toEqual([0, 1, 1, 0, 1]);
    expect(t.host.readersOf(frame)).toEqual(['c']);
    expect(maps[0].pageBase[0]).not.toBe(frame * PAGE_WORDS);
    expect(maps[1].pageBase[0]).toBe(maps[0].pageBase[0]);
    expect(t.host.readersOf(maps[0].pageBase[0] / PAGE_WORDS)).toEqual(['a', 'b']);
    // c:0 then finds the stable tree's entry for a:0 and b:0's frame.
    t.kernel.run(6_000);
    expect(scans(t).map((scan) => scan.merged)).toEqual([0, 1, 1, 0, 1, 1]);
    expect(t.host.readersOf(maps[0].pageBase[0] / PAGE_WORDS)).toEqual(['a', 'b', 'c']);
    expect(t.host.ownerOf(frame)).toBe('');
  });

  it('compares the words after the hash: two different pages with one hash never merge', () => {
    const t = setup({ frames: 8, sharing: { intervalNs: 1_000, pagesPerScan: 1 } });
    const maps = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => t.addVm(id, 1));
    t.attach();
    t.fillPage('e', 0, distinct(50));
    t.fillPage('f', 0, distinct(60));
    // P and Q differ in their first and last words and hash alike (the last word makes up for the first).
    const p = new Int32Array(PAGE_WORDS);
    const q = new Int32Array(PAGE_WORDS);
    p[0] = 1;
    q[0] = 2;
    p[PAGE_WORDS - 1] = 5;
    const prefix = (words: Int32Array) => {
      let hash = 0x811c9dc5 | 0;
      for (let offset = 0; offset < PAGE_WORDS - 1; offset++) hash = Math.imul(hash ^ words[offset], 0x01000193);
      return hash;
    };
    q[PAGE_WORDS - 1] = prefix(p) ^ 5 ^ prefix(q);
    expect(fnv(p)).toBe(fnv(q));
    t.fillPage('a', 0, (offset) => p[offset]);
    t.fillPage('b', 0, (offset) => q[offset]);
    t.fillPage('c', 0, (offset) => p[offset]);
    t.fillPage('d', 0, (offset) => q[offset]);
    t.kernel.run(4_000);
    // b (Q) does not merge with a (P); c (P) merges with a; d (Q) skips the stable P frame and merges with b.
    expect(scans(t).map((scan) => scan.merged)).toEqual([0, 0, 1, 1]);
    expect(maps[2].pageBase[0]).toBe(maps[0].pageBase[0]);
    expect(maps[3].pageBase[0]).toBe(maps[1].pageBase[0]);
    expect(maps[0].pageBase[0]).not.toBe(maps[1].pageBase[0]);
    expect(t.host.words[maps[3].pageBase[0] + PAGE_WORDS - 1]).toBe(q[PAGE_WORDS - 1]);
    // The stable tree keeps both frames of the hash: e, now P, merges onto a's frame (the list's first).
    const [fp, fq] = [maps[0].pageBase[0], maps[1].pageBase[0]];
    t.fillPage('e', 0, (offset) => p[offset]);
    t.kernel.run(7_000);
    expect(scans(t).map((scan) => scan.merged)).toEqual([0, 0, 1, 1, 1, 0, 0]);
    expect(maps[4].pageBase[0]).toBe(fp);
    expect(t.host.readersOf(fp / PAGE_WORDS)).toEqual(['a', 'c', 'e']);
    // P's frame goes stale (every sharer writes; e, the last, keeps it writable); f, now Q, still
    // finds Q's frame after the stale one is dropped from the list.
    for (const id of ['a', 'c', 'e']) {
      t.fault(id, 0, true);
      t.fillPage(id, 0, distinct(70 + id.charCodeAt(0)));
    }
    expect(t.host.isShared(fp / PAGE_WORDS)).toBe(false);
    t.fillPage('f', 0, (offset) => q[offset]);
    t.kernel.run(12_000);
    expect(maps[5].pageBase[0]).toBe(fq);
    expect(t.host.readersOf(fq / PAGE_WORDS)).toEqual(['b', 'd', 'f']);
    expect(t.host.readersOf(fp / PAGE_WORDS)).toEqual(['e']);
  });

  it('skips a candidate whose page was remapped, made read-only, or whose VM has finished since it was seen', () => {
    for (const change of ['remapped', 'read-only', 'finished'] as const) {
      const t = setup({ frames: 8, sharing: { intervalNs: 1_000, pagesPerScan: 1 } });
      const a = t.addVm('a', 1);
      const b = t.addVm('b', 1);
      const c = t.addVm('c', 1);
      t.attach();
      for (const id of ['a', 'b', 'c']) t.fillPage(id, 0, distinct(3));
      t.kernel.run(1_000);
      const old = a.pageBase[0];
      if (change === 'remapped') {
        const moved = t.host.allocate(1, 'a')[0] * PAGE_WORDS;
        t.host.words.copyWithin(moved, old, old + PAGE_WORDS);
        a.pageBase[0] = moved;
        a.writeBase[0] = moved;
      } else if (change === 'read-only') a.writeBase[0] = -1;
      else t.vms[0].finished = true;
      t.kernel.run(3_000);
      // b does not merge with the stale a:0 but becomes the candidate c merges with.
      expect(scans(t).map((scan) => scan.merged), change).toEqual([0, 0, 1]);
      expect(c.pageBase[0], change).toBe(b.pageBase[0]);
      expect(t.host.readersOf(b.pageBase[0] / PAGE_WORDS), change).toEqual(['b', 'c']);
      expect(t.host.isShared(old / PAGE_WORDS), change).toBe(false);
    }
  });

  it('counts a finished VM\'s pages as scanned but merges none of them, and stops scanning when every VM has finished', () => {
    const t = setup({ frames: 8, sharing: { intervalNs: 1_000, pagesPerScan: 4 } });
    const a = t.addVm('a', 2);
    const b = t.addVm('b', 2);
    t.attach();
    t.fillPage('a', 0, distinct(1));
    t.fillPage('a', 1, distinct(2));
    t.fillPage('b', 0, distinct(1));
    t.fillPage('b', 1, distinct(2));
    // b, scanned after a, has finished: its pages are not merged with a's candidates, nor a's with its.
    t.vms[1].finished = true;
    t.kernel.run(2_000);
    expect(scans(t).map((scan) => [scan.scanned, scan.merged])).toEqual([
      [4, 0],
      [4, 0],
    ]);
    expect([a.writeBase[0], b.writeBase[0]]).toEqual([a.pageBase[0], b.pageBase[0]]);
    t.vms[0].finished = true;
    expect(t.kernel.run(10_000)).toBe('empty');
    expect(scans(t)).toHaveLength(2);
  });
});

describe('MemoryManager: copy on write', () => {
  /** a:0 and b:0 (2 vCPUs) merged by a scan, with `frames` host frames. */
  const merged = (frames: number, sharedWrite?: Options['sharedWrite']) => {
    const t = setup({ frames, sharing: { intervalNs: 1_000, pagesPerScan: 2 }, sharedWrite });
    t.host.allocate(1, 'host'); // frame 0: the shared frame is another
    const a = t.addVm('a', 1);
    const b = t.addVm('b', 1, 2);
    t.attach();
    t.fillPage('a', 0, distinct(4));
    t.fillPage('b', 0, distinct(4));
    t.kernel.run(1_000);
    expect(b.pageBase[0]).toBe(a.pageBase[0]);
    t.log.length = 0;
    return { t, a, b, shared: a.pageBase[0] };
  };

  it('gives a sharer its own copy (the words, writable, the TLB and shadow entries of the old frame dropped), and the last sharer the frame itself', () => {
    const { t, a, b, shared } = merged(5);
    expect(shared).toBeGreaterThan(0);
    const free = t.host.freeFrameCount;
    // A read of a shared page is not the host's business: the page stays shared.
    expect(t.fault('b', 0, false)).toEqual({ kind: 'none' });
    expect(t.host.readersOf(shared / PAGE_WORDS)).toEqual(['a', 'b']);
    expect(t.log).toEqual([]);
    expect(t.fault('b', 0, true)).toEqual(handled('cow', 2_000));
    expect(t.log).toEqual(['quiesce b', `tlb b/0 ${shared}`, `tlb b/1 ${shared}`, `shadow b ${shared}`]);
    const copy = b.pageBase[0];
    expect(copy).not.toBe(shared);
    expect(b.writeBase[0]).toBe(copy);
    expect(Array.from(t.host.words.subarray(copy, copy + PAGE_WORDS))).toEqual(Array.from(t.host.words.subarray(shared, shared + PAGE_WORDS)));
    expect(t.host.words[copy]).toBe(5);
    expect(t.host.freeFrameCount).toBe(free - 1);
    expect(t.host.readersOf(shared / PAGE_WORDS)).toEqual(['a']);
    expect(a.writeBase[0]).toBe(-1);
    t.log.length = 0;
    expect(t.fault('a', 0, true)).toEqual(handled('cow', 2_000));
    expect(t.log).toEqual(['quiesce a', `tlb a/0 ${shared}`, `shadow a ${shared}`]);
    expect([a.pageBase[0], a.writeBase[0]]).toEqual([shared, shared]);
    expect(t.host.isShared(shared / PAGE_WORDS)).toBe(false);
    expect(t.host.ownerOf(shared / PAGE_WORDS)).toBe('a');
    expect(t.host.freeFrameCount).toBe(free - 1);
    expect(t.manager.stats().cowBreaks).toBe(2);
  });

  it('lets a part handle the write itself: nothing copied, the entries of the frame dropped, copy on write not counted', () => {
    const calls: [number, number][] = [];
    const { t, a, b, shared } = merged(5, (map, page, frame) => {
      calls.push([page, frame]);
      return map === b;
    });
    void a;
    expect(t.fault('b', 0, true)).toEqual(handled('cow', 2_000));
    expect(calls).toEqual([[0, shared / PAGE_WORDS]]);
    expect(t.log).toEqual(['quiesce b', `tlb b/0 ${shared}`, `tlb b/1 ${shared}`, `shadow b ${shared}`]);
    expect([b.pageBase[0], b.writeBase[0]]).toEqual([shared, -1]);
    expect(t.manager.stats().cowBreaks).toBe(0);
    // The part declines a's write: the usual copy on write.
    expect(t.fault('a', 0, true)).toEqual(handled('cow', 2_000));
    expect(a.writeBase[0]).toBe(a.pageBase[0]);
    expect(a.pageBase[0]).not.toBe(shared);
    expect(t.manager.stats().cowBreaks).toBe(1);
  });

  it('runs out of memory when no frame is left for the copy, leaving the page shared', () => {
    const t = setup({ frames: 3, overcommit: true, sharing: { intervalNs: 1_000, pagesPerScan: 10 } });
    const a = t.addVm('a', 2);
    const b = t.addVm('b', 2);
    t.attach();
    t.fault('a', 0, true);
    t.fault('a', 1, true);
    t.fillPage('a', 1, distinct(1));
    t.fault('b', 0, true);
    t.kernel.run(1_000);
    expect(b.pageBase[0]).toBe(a.pageBase[0]);
    t.fault('b', 1, true);
    t.fillPage('b', 1, distinct(2));
    expect(t.host.freeFrameCount).toBe(0);
    expect(t.fault('a', 0, true)).toEqual({ kind: 'out-of-memory', reason: "host out of memory: no free frame for guest page 0, and nothing of a's left to swap out" });
    expect(a.writeBase[0]).toBe(-1);
    expect(t.host.readersOf(a.pageBase[0] / PAGE_WORDS)).toEqual(['a', 'b']);
    expect(t.manager.stats().cowBreaks).toBe(0);
  });
});

describe('MemoryManager: attach, discard, vmEnded, stats', () => {
  it('counts a balloon\'s released frame only when it went back to the pool (frame 0 included)', () => {
    const t = setup({ frames: 4, overcommit: true });
    t.addVm('a', 2);
    t.attach();
    t.fault('a', 0, true);
    const owned = t.maps.get('a')?.pageBase[0] as number;
    expect(owned).toBe(0);
    t.bus.publish('a', 'balloon.released', { page: 1, frame: -1, size: 1 });
    t.bus.publish('a', 'balloon.released', { page: 0, frame: 0, size: 1 });
    expect(t.manager.stats().balloonedFrames).toBe(0);
    t.host.drop(0, 'a');
    t.bus.publish('a', 'balloon.released', { page: 0, frame: 0, size: 1 });
    expect(t.manager.stats().balloonedFrames).toBe(1);
  });

  it('links only the VMs it manages, and schedules the first scan one interval after attaching', () => {
    const t = setup({ frames: 8, sharing: { intervalNs: 2_500, pagesPerScan: 1 } });
    t.addVm('a', 1);
    const stranger = { id: 'stranger', finished: false, vcpus: [], shadow: { dropHost: () => undefined } };
    t.kernel.advanceTo(100);
    t.manager.attach([...t.vms, stranger] as unknown as Vm[], { quiesce: (vm) => t.log.push(`quiesce ${vm.id}`), setBalloonTarget: () => undefined });
    t.kernel.run(5_100);
    expect(t.of('memory.scan').map((event) => event.t)).toEqual([2_600, 5_100]);
    expect(t.log).toEqual(['quiesce a', 'quiesce a']);
  });

  it('refuses host-driven ballooning without overcommit', () => {
    const kernel = new Kernel();
    const make = (overcommit: boolean) => () =>
      new MemoryManager(new HostMemory(4), kernel, new EventBus(kernel), () => COSTS, { overcommit, ballooning: { intervalNs: 1_000_000, belowFraction: 0.1, stepPages: 1 } });
    expect(make(false)).toThrow('host-driven ballooning needs memory overcommit (host.overcommit: true)');
    expect(make(true)).not.toThrow();
  });

  it('manages a map whose VM is not linked yet (an image loaded under pressure): it backs, swaps and scans it, touching no VM', () => {
    const t = setup({ frames: 3, overcommit: true, sharing: { intervalNs: 1_000, pagesPerScan: 10 } });
    const ghost = new GuestPhysicalMap(t.host, [-1, -1, -1, -1]);
    t.manager.register('ghost', ghost);
    for (let page = 0; page < 4; page++) ghost.write(page * PAGE_WORDS, Math.min(page + 1, 3));
    expect(t.of('memory.swap-out').map((event) => [event.src, event.data])).toEqual([['ghost', { page: 0 }]]);
    expect(ghost.pageBase[0]).toBe(-1);
    t.addVm('a', 1);
    t.attach();
    // The host is full with the unlinked map's pages: a can take none of them.
    expect(t.fault('a', 0, true).kind).toBe('out-of-memory');
    // The scans read the unlinked map too (its pages are merged like any), and quiesce only a.
    t.kernel.run(3_000);
    expect(t.of('memory.scan')).toHaveLength(3);
    expect(new Set(t.log)).toEqual(new Set(['quiesce a']));
    // Its pages 2 and 3 are equal: merged.
    expect(t.manager.stats().merges).toBe(1);
    expect(ghost.pageBase[3]).toBe(ghost.pageBase[2]);
    expect([0, 1, 2, 3].map((page) => ghost.read(page * PAGE_WORDS))).toEqual([1, 2, 3, 3]);
  });

  it('discards only a frameless page inside the map (never touched or swapped out), once', () => {
    const t = setup({ frames: 3, overcommit: true });
    const a = t.addVm('a', 5);
    t.attach();
    for (const page of [0, 1, 2, 3]) t.fault('a', page, true);
    expect(a.pageBase[0]).toBe(-1);
    expect(t.manager.stats().swappedPages).toBe(1);
    const vm = t.vm('a');
    expect([-1, 5].map((page) => t.manager.discard(vm, page))).toEqual([false, false]);
    expect(t.manager.discard(vm, 1)).toBe(false);
    expect(t.manager.discard({ id: 'nobody' } as Vm, 4)).toBe(false);
    expect(t.manager.discard(vm, 0)).toBe(true);
    expect(t.manager.stats().swappedPages).toBe(0);
    expect(a.swappedWords?.(0)).toBeUndefined();
    expect(t.manager.discard(vm, 0)).toBe(false);
    expect(t.manager.discard(vm, 4)).toBe(true);
    expect(t.manager.discard(vm, 4)).toBe(false);
    for (const page of [0, 4]) expect(t.fault('a', page, false)).toEqual({ kind: 'none' });
  });

  it('takes an ended VM\'s frames and swap back under overcommit, leaving a shared frame to its other sharers', () => {
    const t = setup({ frames: 4, overcommit: true, sharing: { intervalNs: 1_000, pagesPerScan: 10 } });
    const a = t.addVm('a', 5);
    const b = t.addVm('b', 1);
    t.attach();
    for (const page of [0, 1, 2]) t.fault('a', page, true);
    t.fault('b', 0, true);
    t.fillPage('a', 0, distinct(8));
    t.fillPage('a', 1, distinct(1));
    t.fillPage('a', 2, distinct(2));
    t.fillPage('b', 0, distinct(8));
    t.kernel.run(1_000);
    // b:0 merged onto a:0's frame, host frame 0.
    expect([a.pageBase[0], b.pageBase[0]]).toEqual([0, 0]);
    expect(t.fault('a', 3, true)).toEqual(handled('demand', 1_000));
    t.fillPage('a', 3, distinct(3));
    // Full: a:1 goes to swap (a:0 is shared, 2 and 3 are the last touched).
    expect(t.fault('a', 4, true)).toEqual(handled('demand', 21_000));
    expect(a.pageBase[1]).toBe(-1);
    expect(t.host.freeFrameCount).toBe(0);
    t.manager.vmEnded(t.vm('a'));
    expect(t.of('memory.freed').map((event) => [event.src, event.data])).toEqual([['a', { frames: 4, swapped: 1 }]]);
    expect(t.host.freeFrameCount).toBe(3);
    expect(Array.from(a.pageBase)).toEqual([-1, -1, -1, -1, -1]);
    expect(Array.from(a.writeBase)).toEqual([-1, -1, -1, -1, -1]);
    expect(t.manager.stats().swappedPages).toBe(0);
    expect(a.swappedWords?.(1)).toBeUndefined();
    expect(b.pageBase[0]).toBe(0);
    expect(t.host.readersOf(0)).toEqual(['b']);
    expect(t.host.words[0]).toBe(9);
    // Its pages are untouched again: a touch backs them on demand (the swapped one too, as zeroes).
    expect(t.fault('a', 1, false)).toEqual(handled('demand', 1_000));
    expect(t.host.words[a.pageBase[1]]).toBe(0);
  });

  it('ignores the end of a VM it does not manage', () => {
    const t = setup({ frames: 4, overcommit: true });
    t.addVm('a', 2);
    t.attach();
    t.fault('a', 0, true);
    t.manager.vmEnded({ id: 'nobody' } as Vm);
    expect(t.of('memory.freed')).toHaveLength(0);
    expect(t.host.freeFrameCount).toBe(3);
  });

  it('runs host-driven balloon checks every interval, quiescing every VM, until every VM has finished', () => {
    const t = setup({ frames: 4, overcommit: true, ballooning: { intervalNs: 1_000, belowFraction: 0.01, stepPages: 1 } });
    t.addVm('a', 2);
    t.addVm('b', 2);
    t.attach();
    t.kernel.run(3_000);
    expect(t.manager.stats().balloonChecks).toBe(3);
    expect(t.log).toEqual(['quiesce a', 'quiesce b', 'quiesce a', 'quiesce b', 'quiesce a', 'quiesce b']);
    expect(t.of('memory.scan')).toHaveLength(0);
    t.vms[0].finished = true;
    t.kernel.run(4_000);
    expect(t.manager.stats().balloonChecks).toBe(4);
    t.vms[1].finished = true;
    expect(t.kernel.run(100_000)).toBe('empty');
    expect(t.manager.stats().balloonChecks).toBe(4);
  });

  it('leaves an ended VM\'s memory alone without overcommit', () => {
    const t = setup({ frames: 4, sharing: { intervalNs: 1_000, pagesPerScan: 1 } });
    const a = t.addVm('a', 2);
    t.attach();
    const before = Array.from(a.pageBase);
    t.manager.vmEnded(t.vm('a'));
    t.manager.vmEnded({ id: 'nobody' } as Vm);
    expect(t.of('memory.freed')).toHaveLength(0);
    expect(Array.from(a.pageBase)).toEqual(before);
    expect(t.host.freeFrameCount).toBe(2);
  });

  it('reports every counter, and charges the swap-out a copy on write needed', () => {
    const t = setup({ frames: 6, overcommit: true, sharing: { intervalNs: 1_000, pagesPerScan: 3 } });
    const a = t.addVm('a', 3);
    const b = t.addVm('b', 4);
    t.attach();
    t.fault('a', 0, true);
    t.fault('b', 0, true);
    t.kernel.run(2_000);
    // 1000: a0 a1 a2 (a0, zeroes, a candidate); 2000: b0 (merges onto a0) b1 b2.
    expect(b.pageBase[0]).toBe(a.pageBase[0]);
    for (const [id, page] of [['a', 1], ['a', 2], ['b', 1], ['b', 2], ['b', 3]] as const) {
      t.fault(id, page, true);
      t.fillPage(id, page, distinct(page * 10 + id.length + (id === 'b' ? 5 : 0)));
    }
    // Host full: b's copy of page 0 needs a frame; the reclaim pass (7 pages) merges nothing, b:1 goes to swap.
    expect(t.fault('b', 0, true)).toEqual(handled('cow', 2_000 + 20_000));
    expect(t.of('memory.swap-out').map((event) => event.data)).toEqual([{ page: 1 }]);
    expect(t.manager.stats()).toEqual({
      frames: 6, framesUsed: 6, sharedFrames: 1, sharedPages: 1, savedFrames: 0, swappedPages: 1,
      scans: 3, pagesScanned: 3 + 3 + 7, merges: 1, cowBreaks: 1, demandPages: 7, swapOuts: 1, swapIns: 0,
      scanNs: 13 * 7, balloonedFrames: 0, balloonChecks: 0, balloonPressured: 0, balloonRequested: 0,
    });
    // b:1 back: b:0 (its own now, not among the last two faulted in, 2 and 3) goes out.
    expect(t.fault('b', 1, false)).toEqual(handled('swap-in', 320_000));
    expect(t.of('memory.swap-out').map((event) => event.data)).toEqual([{ page: 1 }, { page: 0 }]);
    const stats = t.manager.stats();
    expect([stats.swapIns, stats.swapOuts, stats.swappedPages, stats.demandPages]).toEqual([1, 2, 1, 7]);
  });
});
