/**
 * The host's balloon manager (src/actors/monitor/hostBalloons.ts) alone: min-funding revocation
 * against a greedy reference, and one check's decision (who is eligible, what is asked of whom,
 * the counters). Written from StrykerJS's survivors on the module (docs/testing.md).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { divideByMinFunding, HostBalloons } from '../../src/actors/monitor/hostBalloons.js';
import { EventBus } from '../../src/core/bus.js';
import { Kernel } from '../../src/core/kernel.js';
import { HostMemory } from '../../src/core/memory.js';
import type { SimEvent } from '../../src/core/events.js';
import type { Vm } from '../../src/actors/vm.js';

/** Min-funding revocation by its definition: one page at a time from the largest holder left (ties: lowest index). */
function greedy(frames: readonly number[], pages: number): number[] {
  const left = frames.slice();
  const shares = frames.map(() => 0);
  for (let page = 0; page < pages; page++) {
    let best = -1;
    for (let index = 0; index < left.length; index++) if (left[index] > 0 && (best < 0 || left[index] > left[best])) best = index;
    if (best < 0) break;
    left[best]--;
    shares[best]++;
  }
  return shares;
}

describe('divideByMinFunding', () => {
  it('equals the greedy definition on any holdings and request (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 8 }), fc.integer({ min: 0, max: 200 }), (frames, pages) => {
        const shares = divideByMinFunding(frames, pages);
        expect(shares).toEqual(greedy(frames, pages));
        shares.forEach((share, index) => expect(share).toBeLessThanOrEqual(frames[index]));
        expect(shares.reduce((sum, share) => sum + share, 0)).toBe(Math.min(pages, frames.reduce((sum, count) => sum + count, 0)));
      }),
      { seed: 1204, numRuns: 500, verbose: 1 },
    );
  });

  it('levels the largest first, the rest to the lowest indexes; all of it when asked for more than there is, as a copy', () => {
    expect(divideByMinFunding([10, 4, 10], 8)).toEqual([4, 0, 4]);
    expect(divideByMinFunding([10, 4, 10], 13)).toEqual([7, 0, 6]);
    expect(divideByMinFunding([10, 4, 10], 14)).toEqual([7, 1, 6]);
    expect(divideByMinFunding([1, 9, 1], 9)).toEqual([1, 8, 0]);
    expect(divideByMinFunding([3, 3, 3], 2)).toEqual([1, 1, 0]);
    const frames = [2, 1];
    const all = divideByMinFunding(frames, 3);
    expect(all).toEqual([2, 1]);
    expect(all).not.toBe(frames);
    expect(divideByMinFunding(frames, 5)).toEqual([2, 1]);
    expect(divideByMinFunding([], 4)).toEqual([]);
    expect(divideByMinFunding([5, 0], 0)).toEqual([0, 0]);
  });
});

interface FakeVm {
  readonly name: string;
  finished: boolean;
  readonly memory: { mappedPages: number };
  readonly balloon: { ready: boolean; driver: boolean; size: number; target: number };
}

function fakeVm(name: string, mappedPages: number, balloon: Partial<FakeVm['balloon']> = {}, finished = false): FakeVm {
  return { name, finished, memory: { mappedPages }, balloon: { ready: true, driver: true, size: 0, target: 0, ...balloon } };
}

/** A host of 100 frames with `used` taken, a manager asking 6 pages a step below 10% free. */
function manager(used: number) {
  const host = new HostMemory(100);
  host.allocate(used, 'someone');
  const bus = new EventBus(new Kernel());
  const events: SimEvent[] = [];
  bus.addSink((event) => events.push(event));
  const balloons = new HostBalloons({ belowFraction: 0.1, stepPages: 6, intervalNs: 1_000 }, host, bus, 'host/memory');
  const targets: [string, number][] = [];
  let quiesced = 0;
  const hooks = { quiesceAll: () => quiesced++, setBalloonTarget: (vm: Vm, pages: number) => targets.push([(vm as unknown as FakeVm).name, pages]) };
  return { balloons, events, targets, hooks, quiesced: () => quiesced };
}

describe('HostBalloons.check', () => {
  it('does nothing but count when free frames are at the threshold or above', () => {
    const m = manager(90);
    expect(m.balloons.thresholdFrames).toBe(10);
    m.balloons.check([fakeVm('a', 50) as unknown as Vm], m.hooks);
    expect(m.quiesced()).toBe(1);
    expect(m.targets).toEqual([]);
    expect(m.events).toEqual([]);
    expect(m.balloons.stats()).toEqual({ balloonChecks: 1, balloonPressured: 0, balloonRequested: 0 });
  });

  it('below it, asks the eligible VMs by min-funding, from where their balloons stand, and publishes the decision first', () => {
    const m = manager(91);
    const vms = [
      fakeVm('big', 10, { size: 2, target: 2 }),
      fakeVm('small', 4),
      fakeVm('done', 50, {}, true), // finished
      fakeVm('booting', 50, { ready: false }), // its driver is not up yet
      fakeVm('no-driver', 50, { driver: false }),
      fakeVm('inflating', 50, { size: 1, target: 3 }), // still giving what it was asked
      fakeVm('also-big', 10),
    ];
    m.balloons.check(vms as unknown as Vm[], m.hooks);
    // 6 pages from big (10), small (4), also-big (10): 3, 0, 3.
    expect(m.targets).toEqual([
      ['big', 2 + 3],
      ['also-big', 3],
    ]);
    expect(m.events.map((event) => [event.type, event.src, event.data])).toEqual([['memory.balloon', 'host/memory', { freeFrames: 9, thresholdFrames: 10, pages: 6, vms: 2 }]]);
    expect(m.balloons.stats()).toEqual({ balloonChecks: 1, balloonPressured: 1, balloonRequested: 6 });
    m.balloons.check(vms as unknown as Vm[], m.hooks);
    expect(m.balloons.stats()).toEqual({ balloonChecks: 2, balloonPressured: 2, balloonRequested: 12 });
  });

  it('a balloon that holds more than its target is asked from its size', () => {
    const m = manager(95);
    m.balloons.check([fakeVm('a', 20, { size: 5, target: 1 })] as unknown as Vm[], m.hooks);
    expect(m.targets).toEqual([['a', 5 + 6]]);
  });

  it('with no eligible VM, publishes a decision of nothing and asks no one', () => {
    const m = manager(95);
    m.balloons.check([fakeVm('a', 20, { driver: false })] as unknown as Vm[], m.hooks);
    expect(m.targets).toEqual([]);
    expect(m.events.map((event) => event.data)).toEqual([{ freeFrames: 5, thresholdFrames: 10, pages: 0, vms: 0 }]);
  });
});
