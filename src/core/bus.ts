/**
 * The event bus. Actors publish facts; the bus stamps them with the next `seq` and the current
 * virtual time, hands them to the sinks (the log writer) and delivers them through an RxJS
 * Subject to one routing subscription that looks handlers up by type in a Map.
 *
 * Delivery is trampolined: an event published while another is being delivered waits until that
 * delivery ends, so every subscriber sees events in `seq` order (a plain re-entrant Subject would
 * let later subscribers see them out of order). Handlers react by scheduling work on the kernel
 * queue; the loop, not a subscriber, decides what runs next.
 */
import { Subject, type Observable } from 'rxjs';
import type { EventDataMap, EventOf, EventType, SimEvent } from './events.js';

export type EventHandler<K extends EventType> = (event: EventOf<K>) => void;
export type EventSink = (event: SimEvent) => void;

export class EventBus {
  private nextSeq = 0;
  private readonly subject = new Subject<SimEvent>();
  private readonly handlers = new Map<string, EventHandler<EventType>[]>();
  private readonly sinks: EventSink[] = [];
  private delivering = false;
  private readonly pending: SimEvent[] = [];
  private pendingHead = 0;
  /**
   * An error a handler threw during delivery. RxJS does not let an error thrown by a subscriber's
   * `next` reach the caller of `Subject.next`: it reports it later from a timer, where no caller
   * sees it and the run goes on. The routing subscription catches it here instead, and `publish`
   * throws it to its caller, so a bug in a handler stops the run where it happened.
   */
  private failure: { readonly error: unknown } | undefined;

  /** Every event, in seq order, for observers outside the simulation (CLI, UI, tests). */
  readonly events$: Observable<SimEvent> = this.subject.asObservable();

  constructor(private readonly clock: { readonly now: number }) {
    this.subject.subscribe((event) => {
      const list = this.handlers.get(event.type);
      if (list === undefined) return;
      try {
        for (let index = 0; index < list.length; index++) list[index](event);
      } catch (error) {
        this.failure ??= { error };
      }
    });
  }

  /** Number of events published so far (the next event's seq). */
  get count(): number {
    return this.nextSeq;
  }

  /** Continues numbering from a restored position. */
  restoreCount(count: number): void {
    this.nextSeq = count;
  }

  /** Registers a handler for one event type. Handlers run in registration order. */
  on<K extends EventType>(type: K, handler: EventHandler<K>): void {
    let list = this.handlers.get(type);
    if (list === undefined) {
      list = [];
      this.handlers.set(type, list);
    }
    list.push(handler as EventHandler<EventType>);
  }

  /** A synchronous sink that sees every event at publication, before any handler (the log). */
  addSink(sink: EventSink): void {
    this.sinks.push(sink);
  }

  publish<K extends EventType>(src: string, type: K, data: EventDataMap[K]): EventOf<K> {
    const event = { seq: this.nextSeq++, t: this.clock.now, src, type, data } as EventOf<K>;
    const sinks = this.sinks;
    for (let index = 0; index < sinks.length; index++) sinks[index](event as SimEvent);
    if (this.delivering) {
      this.pending.push(event as SimEvent);
      return event;
    }
    this.delivering = true;
    try {
      this.subject.next(event as SimEvent);
      while (this.failure === undefined && this.pendingHead < this.pending.length) {
        const next = this.pending[this.pendingHead++];
        this.subject.next(next);
      }
    } finally {
      if (this.pending.length !== 0) this.pending.length = 0;
      this.pendingHead = 0;
      this.delivering = false;
    }
    const failure = this.failure;
    if (failure !== undefined) {
      this.failure = undefined;
      throw failure.error;
    }
    return event;
  }

  /** Ends the stream for observers. */
  complete(): void {
    this.subject.complete();
  }
}
