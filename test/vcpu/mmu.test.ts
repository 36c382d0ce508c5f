/**
 * Contract tests of paging.ts's parts (issue 11): the TLB's write map, its flush count, a vCPU's
 * MMU across world switches (untagged TLBs are flushed by every switch; tagged ones, VPID/ASID,
 * keep their entries on the same pCPU), and the shadow tables.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Mmu, SHADOW_WRITABLE, ShadowTables, Tlb } from '../../src/actors/paging.js';
import { ReferenceTlb } from './referenceTlb.js';

describe('TLB: the write map', () => {
  it('holds a page for stores only when it was filled writable, and loses it with the entry (property against a FIFO reference)', () => {
    const operation = fc.oneof(
      fc.record({ op: fc.constant('fill' as const), page: fc.integer({ min: 0, max: 9 }), base: fc.integer({ min: 0, max: 31 }).map((n) => n * 1024), writable: fc.boolean() }),
      fc.record({ op: fc.constant('invalidate' as const), page: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ op: fc.constant('invalidateHost' as const), base: fc.integer({ min: 0, max: 31 }).map((n) => n * 1024) }),
      fc.record({ op: fc.constant('flush' as const) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(operation, { maxLength: 60 }), (entries, operations) => {
        const tlb = new Tlb(entries);
        const reference = new ReferenceTlb(entries);
        for (const step of operations) {
          reference.apply(tlb, step);
          for (let page = 0; page < 10; page++) {
            expect(tlb.map[page]).toBe(reference.base(page));
            expect(tlb.writeMap[page]).toBe(reference.writeBase(page));
          }
          expect(tlb.flushes).toBe(reference.flushes);
        }
      }),
      { numRuns: 300, seed: 11_320 },
    );
  });

  it('a refill of a live entry changes its base and write permission in place, and keeps its age', () => {
    const tlb = new Tlb(2);
    tlb.fill(1, 1024, true);
    tlb.fill(2, 2048, true);
    tlb.fill(1, 4096, false);
    expect([tlb.map[1], tlb.writeMap[1]]).toEqual([4096, -1]);
    tlb.fill(3, 3072);
    // Page 1 is still the oldest: it goes first.
    expect([tlb.map[1], tlb.map[2], tlb.map[3]]).toEqual([-1, 2048, 3072]);
    expect(tlb.writeMap[3]).toBe(3072);
  });
});

describe('TLB: the replacement order', () => {
  it('evicts in first-in first-out order after any fills, refills, invalidations and flushes (property against a FIFO reference, long runs over few pages)', () => {
    // Few pages and long runs: the TLB is full often, so an invalidation that frees the wrong
    // place (or none) shows at the next eviction. The property above draws short runs over ten pages.
    const operation = fc.oneof(
      { arbitrary: fc.record({ op: fc.constant('fill' as const), page: fc.integer({ min: 0, max: 5 }), base: fc.integer({ min: 0, max: 3 }).map((n) => n * 1024) }), weight: 4 },
      { arbitrary: fc.record({ op: fc.constant('invalidate' as const), page: fc.integer({ min: 0, max: 5 }) }), weight: 2 },
      { arbitrary: fc.record({ op: fc.constant('invalidateHost' as const), base: fc.integer({ min: 0, max: 3 }).map((n) => n * 1024) }), weight: 1 },
      { arbitrary: fc.record({ op: fc.constant('flush' as const) }), weight: 1 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(operation, { minLength: 20, maxLength: 120 }), (entries, operations) => {
        const tlb = new Tlb(entries);
        const reference = new ReferenceTlb(entries);
        for (const step of operations) {
          reference.apply(tlb, step);
          for (let page = 0; page < 6; page++) expect(tlb.map[page], `page ${page}`).toBe(reference.base(page));
        }
      }),
      { numRuns: 300, seed: 11_321 },
    );
  });
});

describe('TLB: entries on host word 0', () => {
  // Host frame 0 is a frame like any other: an entry mapping it is live (map >= 0, not > 0).
  it('a refill of a live entry mapping host word 0 keeps its one place in the order', () => {
    const tlb = new Tlb(2);
    tlb.fill(1, 0);
    tlb.fill(1, 0, false);
    tlb.fill(2, 1024);
    expect([tlb.map[1], tlb.writeMap[1], tlb.map[2]]).toEqual([0, -1, 1024]);
    tlb.fill(3, 2048);
    expect([tlb.map[1], tlb.map[2], tlb.map[3]]).toEqual([-1, 1024, 2048]);
  });

  it('an entry mapping host word 0 is invalidated (by page and by host page) and frees its place', () => {
    for (const drop of [(tlb: Tlb) => tlb.invalidate(1), (tlb: Tlb) => tlb.invalidateHost(0)]) {
      const tlb = new Tlb(2);
      tlb.fill(1, 0);
      tlb.fill(2, 1024);
      drop(tlb);
      expect([tlb.map[1], tlb.writeMap[1], tlb.map[2]]).toEqual([-1, -1, 1024]);
      tlb.fill(3, 2048);
      // Page 1's place was freed: page 2 stays; then page 2, the oldest, goes first.
      expect([tlb.map[2], tlb.map[3]]).toEqual([1024, 2048]);
      tlb.fill(4, 3072);
      expect([tlb.map[2], tlb.map[3], tlb.map[4]]).toEqual([-1, 2048, 3072]);
    }
  });
});

describe('MMU across world switches', () => {
  const filled = (tagged: boolean) => {
    const mmu = new Mmu(4, tagged);
    mmu.kernel.fill(1, 1024);
    mmu.user.fill(2, 2048);
    return mmu;
  };

  it('untagged: every switch flushes both TLBs', () => {
    const mmu = filled(false);
    mmu.pcpu = 0;
    mmu.switchedTo(0);
    expect([mmu.kernel.map[1], mmu.user.map[2]]).toEqual([-1, -1]);
    expect(mmu.pcpu).toBe(0);
  });

  it('tagged: a switch back on the same pCPU keeps the entries; one from another pCPU starts cold', () => {
    const mmu = filled(true);
    mmu.pcpu = 0;
    mmu.switchedTo(0);
    expect([mmu.kernel.map[1], mmu.user.map[2]]).toEqual([1024, 2048]);
    mmu.switchedTo(1);
    expect([mmu.kernel.map[1], mmu.user.map[2]]).toEqual([-1, -1]);
    expect(mmu.pcpu).toBe(1);
  });

  it('invalidations reach both TLBs; misses count both', () => {
    const mmu = filled(true);
    mmu.kernel.fill(2, 2048);
    mmu.invalidate(2);
    expect([mmu.kernel.map[2], mmu.user.map[2], mmu.kernel.map[1]]).toEqual([-1, -1, 1024]);
    mmu.user.fill(3, 1024);
    mmu.invalidateHost(1024);
    expect([mmu.kernel.map[1], mmu.user.map[3]]).toEqual([-1, -1]);
    mmu.kernel.misses = 3;
    mmu.user.misses = 4;
    expect(mmu.misses).toBe(7);
  });
});

describe('shadow tables', () => {
  it('one table per page-table base, empty (-1) when first used, the same one after', () => {
    const shadow = new ShadowTables();
    const table = shadow.table(0x8000);
    expect(table.every((entry) => entry === -1)).toBe(true);
    table[3] = 2048;
    expect(shadow.table(0x8000)[3]).toBe(2048);
    expect(shadow.table(0x9000)[3]).toBe(-1);
  });

  it('drop forgets one entry of one table; dropHost every entry of a host page, writable or not; clear everything', () => {
    const shadow = new ShadowTables();
    const a = shadow.table(0x8000);
    const b = shadow.table(0x9000);
    a[1] = 1024;
    a[2] = 1024 | SHADOW_WRITABLE;
    a[3] = 2048 | SHADOW_WRITABLE;
    a[4] = 0;
    b[1] = 1024;
    shadow.drop(0x8000, 3);
    shadow.drop(0xa000, 1); // no such table: nothing
    expect([a[1], a[2], a[3], b[1]]).toEqual([1024, 1024 | SHADOW_WRITABLE, -1, 1024]);
    shadow.dropHost(1024);
    expect([a[1], a[2], a[4], b[1]]).toEqual([-1, -1, 0, -1]);
    a[5] = 4096;
    b[6] = 0 | SHADOW_WRITABLE;
    shadow.dropHost(0);
    expect([a[4], a[5], b[6]]).toEqual([-1, 4096, -1]);
    shadow.clear();
    expect([...a, ...b].every((entry) => entry === -1)).toBe(true);
  });
});
