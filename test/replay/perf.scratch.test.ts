import { it } from 'vitest';
import { Simulation } from '../../src/actors/simulation.js';
import { LogWriter } from '../../src/core/log/writer.js';
import { readLog } from '../../src/core/log/reader.js';
import { foldEvents } from '../../src/replay/fold/fold.js';
import { EMPTY_STATE } from '../../src/replay/fold/state.js';
import { scenario, vmSpec } from '../helpers.js';

it('perf', async () => {
  const s = scenario([vmSpec('a', { kind: 'bundled', name: 'kernel' }), vmSpec('b', { kind: 'bundled', name: 'io-loop' }), vmSpec('c', { kind: 'bundled', name: 'ticker' })], { host: { pcpus: 2, memoryBytes: 1 << 24 }, run: { timeNs: 1_000_000_000, instructions: undefined, checkpointEvery: 10_000 } });
  let text = '';
  const t0 = performance.now();
  const sim = new Simulation({ scenario: s, log: new LogWriter((c) => (text += c)) });
  sim.run();
  const t1 = performance.now();
  const events = readLog(text).events;
  const { LogFile } = await import('../../src/replay/logFile.js');
  const { memorySource } = await import('../../src/replay/source.js');
  const f = new LogFile(memorySource(text));
  let n = 0; const r0 = performance.now();
  for (const _ of f.events()) n++;
  console.log('LogFile.events', ((n / (performance.now() - r0)) * 1000).toFixed(0), '/s');
  let m = 0; const l0 = performance.now();
  for (const _ of f.lines()) m++;
  console.log('LogFile.lines (checked, unparsed)', ((m / (performance.now() - l0)) * 1000).toFixed(0), '/s');
  const lines = text.split('\n'); const j0 = performance.now();
  for (const line of lines) if (line) JSON.parse(line);
  console.log('JSON.parse only', ((lines.length / (performance.now() - j0)) * 1000).toFixed(0), '/s');
  const t2 = performance.now();
  console.log('events', events.length, 'run', ((events.length / (t1 - t0)) * 1000).toFixed(0), '/s; readLog', ((events.length / (t2 - t1)) * 1000).toFixed(0), '/s; bytes/event', (text.length / events.length).toFixed(1));
  for (const engine of ['mutable', 'mutable', 'mutable', 'mutable', 'immer', 'mutable', 'mutable'] as const) {
    const a = performance.now();
    foldEvents(EMPTY_STATE, events, { engine });
    const b = performance.now();
    console.log(engine, ((events.length / (b - a)) * 1000).toFixed(0), 'events/s');
  }
});
