/**
 * The replay library: fold engines, checkpoints, the seek, the cursor, queries, restore.
 */
import { describe, expect, it } from 'vitest';
import { readLog } from '../../src/core/log/reader.js';
import { EMPTY_STATE, foldEvents, openLog, projectSimulation, stateFromCheckpoint, type InspectState } from '../../src/index.js';
import { runScenario, scenario, vmSpec } from '../helpers.js';

const RUN = runScenario(
  scenario(
    [
      vmSpec('alpha', { kind: 'bundled', name: 'kernel' }),
      vmSpec('tick', { kind: 'bundled', name: 'ticker' }),
      vmSpec('io', { kind: 'bundled', name: 'io-bound' }, { vcpus: 2 }),
    ],
    { host: { pcpus: 2, memoryBytes: 1 << 24 }, run: { timeNs: 20_000_000, instructions: undefined, checkpointEvery: 200 } },
  ),
  5,
);
const PARSED = readLog(RUN.log);
const EVENTS = PARSED.events;
const LAST = EVENTS.length - 1;

/** The fold of the first `count` events from the top, in one stretch. */
function foldTop(count: number): InspectState {
  return foldEvents(EMPTY_STATE, EVENTS.slice(0, count), { engine: 'mutable' });
}

describe('the fold', () => {
  it('gives the same frozen state with one immer produce and with a private mutable copy', () => {
    const immer = foldEvents(EMPTY_STATE, EVENTS, { engine: 'immer' });
    const mutable = foldEvents(EMPTY_STATE, EVENTS, { engine: 'mutable' });
    expect(mutable).toEqual(immer);
    expect(Object.isFrozen(mutable)).toBe(true);
    expect(Object.isFrozen(mutable.vms.alpha.vcpus[0].counters)).toBe(true);
    expect(Object.isFrozen(immer.vms.alpha)).toBe(true);
    expect(mutable.seq).toBe(LAST);
    expect(mutable).toEqual(JSON.parse(JSON.stringify(projectSimulation(RUN.simulation))));
  });

  it('leaves its base untouched and continues a stretch exactly', () => {
    const half = foldTop(1000);
    const copy = JSON.parse(JSON.stringify(half));
    const whole = foldEvents(half, EVENTS.slice(1000));
    expect(half).toEqual(copy);
    expect(whole).toEqual(foldTop(EVENTS.length));
  });

  it('the state a checkpoint carries equals the fold from the top to just before it', () => {
    expect(PARSED.checkpoints.length).toBeGreaterThan(5);
    for (const checkpoint of PARSED.checkpoints) {
      expect(stateFromCheckpoint(checkpoint), `checkpoint at seq ${checkpoint.seq}`).toEqual(foldTop(checkpoint.seq));
    }
  });
});

describe('the library', () => {
  it('opens bytes or text, seeks by seq and time, and matches the fold from the top', () => {
    const log = openLog(RUN.log, 'run.jsonl');
    expect(log.header.seed).toBe(5);
    expect(log.lastSeq()).toBe(LAST);
    for (const seq of [0, 1, 199, 200, 201, 777, LAST]) expect(log.stateAt(seq)).toEqual(foldTop(seq + 1));
    const time = EVENTS[900].t;
    const expected = EVENTS.filter((event) => event.t <= time).at(-1)?.seq as number;
    expect(log.stateAtTime(time).seq).toBe(expected);
    expect(() => log.stateAt(LAST + 1)).toThrow(/past the end of the log/);
    expect(openLog(new TextEncoder().encode(RUN.log)).stateAt(300)).toEqual(log.stateAt(300));
  });

  it('steps a cursor forward and back through the same states', () => {
    const log = openLog(RUN.log, 'run.jsonl');
    const cursor = log.cursor();
    expect(cursor.seq).toBe(0);
    const seen: InspectState[] = [cursor.state];
    for (let index = 0; index < 450; index++) {
      expect(cursor.next()).toBe(true);
      seen.push(cursor.state);
    }
    expect(cursor.seq).toBe(450);
    expect(cursor.state).toEqual(foldTop(451));
    expect(cursor.next(50)).toBe(true);
    expect(cursor.state).toEqual(foldTop(501));
    for (let seq = 449; seq >= 390; seq -= 7) {
      cursor.seek(seq + 1);
      expect(cursor.prev()).toBe(true);
      expect(cursor.seq).toBe(seq);
      expect(cursor.state).toEqual(seen[seq]);
      expect(cursor.event).toEqual(EVENTS[seq]);
    }
    cursor.seek(LAST - 1);
    expect(cursor.next()).toBe(true);
    expect(cursor.next()).toBe(false);
    expect(cursor.seq).toBe(LAST);
    cursor.seek(2);
    expect(cursor.prev(3)).toBe(false);
    expect(cursor.seq).toBe(2);
    cursor.seekTime(EVENTS[600].t);
    expect(cursor.t).toBe(EVENTS[600].t);
  });

  it('queries and counts events with the CLI filters', () => {
    const log = openLog(RUN.log, 'run.jsonl');
    const exits = [...log.events({ vm: 'io', type: 'exit.*', from: { seq: 300 }, to: { time: EVENTS[Math.floor(LAST * 0.8)].t } })];
    expect(exits).toEqual(EVENTS.filter((event) => event.seq >= 300 && event.t <= EVENTS[Math.floor(LAST * 0.8)].t && event.src.startsWith('vm/io/') && event.type.startsWith('exit.')));
    expect(exits.length).toBeGreaterThan(0);
    const stats = log.stats();
    expect(stats.events).toBe(EVENTS.length);
    expect(Object.values(stats.byType).reduce((sum, count) => sum + count, 0)).toBe(EVENTS.length);
    expect(stats.byExitReason.io).toBe(EVENTS.filter((event) => event.type === 'exit.io').length);
    expect(() => log.stats({ type: 'nope' })).toThrow(/matches no event type/);
  });

  it('restores a live simulation paused at a point, whose actors are the fold at that point', () => {
    const log = openLog(RUN.log, 'run.jsonl');
    for (const seq of [0, 10, Math.floor(LAST / 2), LAST - 5]) {
      const simulation = log.restore(seq);
      const at = simulation.bus.count - 1;
      expect(at).toBeGreaterThanOrEqual(seq);
      expect(JSON.parse(JSON.stringify(projectSimulation(simulation)))).toEqual(JSON.parse(JSON.stringify(log.stateAt(at))));
    }
    const resumed = log.restore(Math.floor(LAST * 0.7));
    expect(resumed.run().events).toBe(EVENTS.length);
    expect(() => log.restore(LAST + 10)).toThrow(/past the end of the run/);
  });

  it('counts page-fault exits by cause in stats', () => {
    const paging = runScenario(scenario([vmSpec('t', { kind: 'bundled', name: 'tlb-heavy' }, { memoryBytes: 512 * 1024 })], { run: { timeNs: 2_000_000, instructions: undefined, checkpointEvery: 1_000_000 } }), 2);
    const stats = openLog(paging.log, 'paging.jsonl').stats();
    const causes = stats.byPageFaultCause;
    expect(causes['shadow-fill']).toBeGreaterThan(0);
    expect(Object.values(causes).reduce((sum, count) => sum + count, 0)).toBe(stats.byExitReason['page-fault']);
  });
});
