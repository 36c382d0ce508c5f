/**
 * Replay, fold and seek figures for `npm run bench` (docs/replay.md explains them):
 *
 *   replay events/s       `replay()` of an io-loop run's log (re-execute and compare every line),
 *                         next to the original run's events/s with logging on (same scenario)
 *   fold events/s         the reducers over parsed events (one stretch, private mutable copy),
 *                         and end to end from the log's bytes (lines checked, parsed, folded)
 *   log bytes per event   that log's size over its event count
 *   seek                  state at a random seq of a 10-million-event log (1 million with
 *                         --quick) written to a temporary file once: median and worst of 20
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Simulation } from '../actors/simulation.js';
import type { SimEvent } from '../core/events.js';
import { LogWriter } from '../core/log/writer.js';
import type { Scenario } from '../core/scenario/schema.js';
import { testScenario, vmSpec } from '../testing/scenario.js';
import { foldEvents } from '../replay/fold/fold.js';
import { EMPTY_STATE } from '../replay/fold/state.js';
import { LogFile } from '../replay/logFile.js';
import { replay } from '../replay/replay.js';
import { stateAtSeq } from '../replay/seek.js';
import { fileSource, memorySource } from '../replay/source.js';

export interface ReplayMeasurement {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly baseline?: number;
  readonly baselineName?: string;
}

function ioLoop(timeNs: number): Scenario {
  return testScenario(
    ['io-loop', 'io-loop', 'kernel'].map((guest, index) => vmSpec(`vm${index}`, { kind: 'bundled', name: guest })),
    { name: 'bench-replay', host: { pcpus: 2, memoryBytes: 1 << 26 }, run: { timeNs, instructions: undefined, checkpointEvery: 10_000 } },
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timed<T>(work: () => T): { seconds: number; value: T } {
  const start = performance.now();
  const value = work();
  return { seconds: (performance.now() - start) / 1000, value };
}

/** Writes a log of at least `events` events to a file; returns its path and event count. */
function writeLongLog(dir: string, events: number): { path: string; events: number } {
  const path = join(dir, 'long.jsonl');
  const fd = openSync(path, 'w');
  try {
    // About one event per 1.5 us of virtual time for this scenario; the run stops at the count.
    const simulation = new Simulation({ scenario: ioLoop(events * 5_000), log: new LogWriter((chunk) => writeSync(fd, chunk), 1 << 20) });
    simulation.onStep(() => {
      if (simulation.bus.count >= events) simulation.kernel.requestStop();
    });
    const summary = simulation.run();
    return { path, events: summary.events };
  } finally {
    closeSync(fd);
  }
}

export function replayMeasurements(quick: boolean, repeats: number): ReplayMeasurement[] {
  const results: ReplayMeasurement[] = [];
  const timeNs = quick ? 500_000_000 : 1_500_000_000;

  // The original run, logging on, and its log in memory.
  let text = '';
  const runRates: number[] = [];
  for (let index = 0; index <= repeats; index++) {
    const chunks: string[] = [];
    const run = timed(() => new Simulation({ scenario: ioLoop(timeNs), log: new LogWriter((chunk) => chunks.push(chunk)) }).run());
    if (index > 0) runRates.push(run.value.events / run.seconds);
    text = chunks.join('');
  }
  const bytes = new TextEncoder().encode(text);
  const replayRates: number[] = [];
  let events = 0;
  for (let index = 0; index <= Math.max(1, Math.floor(repeats / 2)); index++) {
    const result = timed(() => replay(new LogFile(memorySource(bytes, 'bench.jsonl'))));
    if (!result.value.identical) throw new Error('bench: the replay differs from the run');
    events = result.value.events;
    if (index > 0) replayRates.push(events / result.seconds);
  }
  const runRate = median(runRates);
  results.push({ name: `replay (re-execute + compare), ${(events / 1e6).toFixed(2)} M events`, unit: 'events/s', value: median(replayRates), baseline: runRate, baselineName: 'the original run, logging on' });
  results.push({ name: 'log bytes per event', unit: 'bytes', value: bytes.length / events });

  // Fold: reducers only (events parsed beforehand), then end to end from the bytes.
  const parsed: SimEvent[] = [...new LogFile(memorySource(bytes)).events()];
  const foldRates: number[] = [];
  for (let index = 0; index <= repeats; index++) {
    const fold = timed(() => foldEvents(EMPTY_STATE, parsed, { engine: 'mutable' }));
    if (index > 0) foldRates.push(parsed.length / fold.seconds);
  }
  results.push({ name: 'fold: reducers over parsed events', unit: 'events/s', value: median(foldRates) });
  const endToEnd: number[] = [];
  for (let index = 0; index <= Math.max(1, Math.floor(repeats / 2)); index++) {
    const fold = timed(() => foldEvents(EMPTY_STATE, new LogFile(memorySource(bytes)).events(), { engine: 'mutable' }));
    if (index > 0) endToEnd.push(parsed.length / fold.seconds);
  }
  results.push({ name: 'fold: from log bytes (check + parse + fold)', unit: 'events/s', value: median(endToEnd) });

  // Seek in a long log on disk.
  const target = quick ? 1_000_000 : 10_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'vmmsim-bench-'));
  try {
    const written = timed(() => writeLongLog(dir, target));
    const size = statSync(written.value.path).size;
    const file = new LogFile(fileSource(written.value.path));
    try {
      const seeks: number[] = [];
      let state = 0x9e3779b9;
      for (let index = 0; index < 20; index++) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        const seq = state % written.value.events;
        const seek = timed(() => stateAtSeq(file, seq));
        if (seek.value.state.seq !== seq) throw new Error('bench: seek landed elsewhere');
        seeks.push(seek.seconds * 1000);
      }
      const label = `${(written.value.events / 1e6).toFixed(0)} M-event log (${(size / 1e9).toFixed(2)} GB, written in ${written.seconds.toFixed(1)} s)`;
      results.push({ name: `seek: state at a random seq, ${label}, median`, unit: 'ms', value: median(seeks) });
      results.push({ name: 'seek: the same, worst of 20', unit: 'ms', value: Math.max(...seeks) });
    } finally {
      file.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
