import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Tlb } from '../../src/actors/paging.js';
import { ReferenceTlb } from './referenceTlb.js';

describe('TLB', () => {
  it('an invalidated page refilled takes one place: evicting never drops a live entry by mistake', () => {
    const tlb = new Tlb(3);
    tlb.fill(1, 1024);
    tlb.fill(2, 2048);
    tlb.invalidate(1);
    tlb.fill(1, 4096);
    tlb.fill(3, 3072); // three live entries: nothing to evict
    expect([tlb.map[1], tlb.map[2], tlb.map[3]]).toEqual([4096, 2048, 3072]);
    tlb.fill(4, 5120); // evicts 2, the oldest live entry
    expect([tlb.map[1], tlb.map[2], tlb.map[3], tlb.map[4]]).toEqual([4096, -1, 3072, 5120]);
  });

  it('matches a FIFO reference under any sequence of fills, invalidations and flushes', () => {
    const operation = fc.oneof(
      fc.record({ op: fc.constant('fill' as const), page: fc.integer({ min: 0, max: 11 }), base: fc.integer({ min: 0, max: 63 }).map((n) => n * 1024) }),
      fc.record({ op: fc.constant('invalidate' as const), page: fc.integer({ min: 0, max: 11 }) }),
      fc.record({ op: fc.constant('invalidateHost' as const), base: fc.integer({ min: 0, max: 63 }).map((n) => n * 1024) }),
      fc.record({ op: fc.constant('flush' as const) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(operation, { maxLength: 80 }), (entries, operations) => {
        const tlb = new Tlb(entries);
        const reference = new ReferenceTlb(entries);
        for (const step of operations) {
          reference.apply(tlb, step);
          for (let page = 0; page < 12; page++) expect(tlb.map[page]).toBe(reference.base(page));
        }
      }),
      { numRuns: 300 },
    );
  });
});
