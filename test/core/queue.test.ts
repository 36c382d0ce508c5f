import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EventQueue } from '../../src/core/queue.js';
import { Kernel } from '../../src/core/kernel.js';

describe('EventQueue', () => {
  it('pops entries in (time, seq) order for any insertion order', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 50 }), { maxLength: 300 }), (times) => {
        const queue = new EventQueue();
        times.forEach((time, seq) => queue.push({ time, seq, target: 0, kind: 0, arg: 0 }));
        const popped: [number, number][] = [];
        for (let entry = queue.pop(); entry !== undefined; entry = queue.pop()) popped.push([entry.time, entry.seq]);
        const expected = times.map((time, seq) => [time, seq] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(popped).toEqual(expected);
      }),
    );
  });

  it('reports Infinity as the time of an empty queue', () => {
    expect(new EventQueue().peekTime()).toBe(Infinity);
  });
});

describe('Kernel', () => {
  it('runs entries scheduled for the same instant in the order they were scheduled', () => {
    const kernel = new Kernel();
    const seen: string[] = [];
    const a = kernel.register('a', (kind) => seen.push(`a${kind}`));
    const b = kernel.register('b', (kind) => seen.push(`b${kind}`));
    kernel.schedule(10, b, 1);
    kernel.schedule(10, a, 2);
    kernel.scheduleCpu(10, b, 3);
    kernel.schedule(5, a, 4);
    expect(kernel.run(100)).toBe('empty');
    expect(seen).toEqual(['a4', 'b1', 'a2', 'b3']);
    expect(kernel.now).toBe(10);
  });

  it('stops at the end time without running later entries, and refuses the past', () => {
    const kernel = new Kernel();
    const seen: number[] = [];
    const target = kernel.register('t', (_kind, arg) => seen.push(arg));
    kernel.schedule(5, target, 0, 1);
    kernel.schedule(50, target, 0, 2);
    expect(kernel.run(20)).toBe('time');
    expect(seen).toEqual([1]);
    expect(kernel.now).toBe(20);
    expect(() => kernel.schedule(10, target, 0)).toThrow(/past/);
  });
});
