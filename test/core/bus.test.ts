import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/core/bus.js';
import type { SimEvent } from '../../src/core/events.js';

describe('EventBus', () => {
  it('numbers events, stamps the clock, and routes by type', () => {
    const clock = { now: 5 };
    const bus = new EventBus(clock);
    const seen: string[] = [];
    bus.on('vm.started', (event) => seen.push(`${event.seq}:${event.src}@${event.t}`));
    bus.publish('vm/a', 'vm.started', {});
    clock.now = 9;
    bus.publish('vm/a', 'vm.suspended', {});
    bus.publish('vm/b', 'vm.started', {});
    expect(seen).toEqual(['0:vm/a@5', '2:vm/b@9']);
    expect(bus.count).toBe(3);
  });

  it('delivers events published by a handler after the current one, to every subscriber in seq order', () => {
    const bus = new EventBus({ now: 0 });
    const observed: number[] = [];
    const logged: number[] = [];
    bus.addSink((event) => logged.push(event.seq));
    bus.on('vm.started', (event) => {
      bus.publish(event.src, 'vm.suspended', {});
      bus.publish(event.src, 'vm.resumed', {});
    });
    bus.on('vm.suspended', (event) => bus.publish(event.src, 'vm.blocked', {}));
    bus.events$.subscribe((event: SimEvent) => observed.push(event.seq));
    bus.publish('vm/a', 'vm.started', {});
    expect(logged).toEqual([0, 1, 2, 3]);
    expect(observed).toEqual([0, 1, 2, 3]);
  });

  it('a handler that throws makes publish throw to its caller (RxJS alone would report it later from a timer), and the bus goes on', () => {
    const bus = new EventBus({ now: 0 });
    bus.on('vm.started', () => {
      throw new Error('a bug in a handler');
    });
    const later: number[] = [];
    bus.on('vm.suspended', (event) => later.push(event.seq));
    expect(() => bus.publish('vm/a', 'vm.started', {})).toThrow('a bug in a handler');
    bus.publish('vm/a', 'vm.suspended', {});
    expect(later).toEqual([1]);
  });
});
