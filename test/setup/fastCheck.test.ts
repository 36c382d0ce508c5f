import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** test/setup/fastCheck.ts: an explicit maxLength is the bound lengths are drawn up to, in every test file. */
describe('fast-check sizes in the test suite', () => {
  it('draws arrays and strings up to their maxLength, not the small size of 10', () => {
    const arrays = fc.sample(fc.array(fc.nat(), { maxLength: 60 }), { numRuns: 300, seed: 1 }).map((array) => array.length);
    const strings = fc.sample(fc.string({ maxLength: 200 }), { numRuns: 300, seed: 1 }).map((text) => text.length);
    expect(Math.max(...arrays)).toBeGreaterThan(40);
    expect(arrays.filter((length) => length > 12).length).toBeGreaterThan(100);
    expect(Math.max(...strings)).toBeGreaterThan(120);
    expect(Math.max(...arrays)).toBeLessThanOrEqual(60);
  });

  it('leaves arbitraries without a maxLength, or with one of 10 or less, as fast-check sizes them', () => {
    const unbounded = fc.sample(fc.array(fc.nat()), { numRuns: 300, seed: 1 }).map((array) => array.length);
    expect(Math.max(...unbounded)).toBeLessThanOrEqual(10);
    const short = fc.sample(fc.array(fc.nat(), { maxLength: 3 }), { numRuns: 300, seed: 1 }).map((array) => array.length);
    expect(Math.max(...short)).toBe(3);
  });
});
