import { describe, expect, it } from 'vitest';
import { RandomSource, RandomStream } from '../../src/core/prng.js';

describe('RandomSource', () => {
  it('gives the same numbers for the same seed and component', () => {
    const draw = (seed: number) => {
      const stream = new RandomSource(seed).stream('vm/a/timer');
      return Array.from({ length: 20 }, () => stream.int(0, 1000));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it("keeps a component's stream independent of which other streams exist", () => {
    const alone = new RandomSource(3).stream('vm/b/timer');
    const crowded = new RandomSource(3);
    crowded.stream('vm/a/timer').int(0, 10);
    crowded.stream('vm/zz/disk');
    const same = crowded.stream('vm/b/timer');
    expect(Array.from({ length: 10 }, () => same.int(0, 99))).toEqual(Array.from({ length: 10 }, () => alone.int(0, 99)));
  });

  it('restores a stream from its state', () => {
    const source = new RandomSource(11);
    const stream = source.stream('x');
    stream.int(0, 5);
    const restored = RandomStream.fromState('x', source.states().x);
    expect(restored.int(0, 1_000_000)).toBe(stream.int(0, 1_000_000));
  });

  it('draws within bounds', () => {
    const stream = new RandomSource(1).stream('bounds');
    for (let index = 0; index < 1000; index++) {
      const value = stream.int(-3, 3);
      expect(value).toBeGreaterThanOrEqual(-3);
      expect(value).toBeLessThanOrEqual(3);
    }
  });
});
