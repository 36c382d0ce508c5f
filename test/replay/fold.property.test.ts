/**
 * The fold against the live run: for random scenarios and seeds, the state folded from the log
 * (seeking through checkpoints) at every seq where a kernel step ended equals the state the
 * live actors had there; and replaying the log is identical.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Simulation } from '../../src/actors/simulation.js';
import { LogWriter } from '../../src/core/log/writer.js';
import { projectSimulation } from '../../src/replay/fold/project.js';
import { thaw } from '../../src/replay/fold/fold.js';
import { reduce } from '../../src/replay/fold/reducers.js';
import { EMPTY_STATE } from '../../src/replay/fold/state.js';
import { readLog } from '../../src/core/log/reader.js';
import type { InspectState } from '../../src/replay/fold/state.js';
import { LogFile } from '../../src/replay/logFile.js';
import { replay } from '../../src/replay/replay.js';
import { stateAtSeq } from '../../src/replay/seek.js';
import { memorySource } from '../../src/replay/source.js';
import { randomRun, type RandomRun } from './generators.js';

/** Runs with a log, capturing the live projection after every step that published events. */
function runCapturing(run: RandomRun): { log: string; captured: Map<number, InspectState>; simulation: Simulation } {
  let log = '';
  const simulation = new Simulation({ scenario: run.scenario, seed: run.seed, log: new LogWriter((chunk) => (log += chunk)) });
  const captured = new Map<number, InspectState>();
  let last = simulation.bus.count - 1;
  captured.set(last, projectSimulation(simulation));
  simulation.onStep(() => {
    const seq = simulation.bus.count - 1;
    if (seq === last) return;
    last = seq;
    const state = projectSimulation(simulation);
    captured.set(seq, state);
    // The run queue in the order vCPUs became runnable is exactly round-robin's FIFO.
    if (simulation.monitor.policy.name === 'round-robin') {
      expect(state.runQueue, `run queue at seq ${seq}`).toEqual((simulation.monitor.policy.snapshot() as { runQueue: string[] }).runQueue);
    }
  });
  simulation.run();
  captured.set(simulation.bus.count - 1, projectSimulation(simulation));
  return { log, captured, simulation };
}

describe('fold properties', () => {
  it('the state folded from the log at seq N equals the live state at N', () => {
    fc.assert(
      fc.property(randomRun, (run) => {
        const { log, captured } = runCapturing(run);
        // Every captured point, folding the whole log in one pass...
        const draft = thaw(EMPTY_STATE);
        for (const event of readLog(log).events) {
          reduce(draft, event);
          const live = captured.get(event.seq);
          if (live !== undefined) expect(draft, `seq ${event.seq} (one pass)`).toEqual(live);
        }
        // ...and a sample of them through the seek (nearest checkpoint, then a fold): the ones
        // just before and after checkpoints, the last, and some others.
        const file = new LogFile(memorySource(log));
        const seqs = [...captured.keys()].filter((seq) => seq >= 0);
        const sample = seqs.filter((seq, index) => index % 17 === 0 || seq % 100 < 3 || seq % 100 > 97 || index === seqs.length - 1);
        for (const seq of sample) expect(stateAtSeq(file, seq).state, `seq ${seq} (seek)`).toEqual(captured.get(seq));
      }),
      { numRuns: 40 },
    );
  });

  it('replay(run(s, seed)) is identical', () => {
    fc.assert(
      fc.property(randomRun, (run) => {
        const { log } = runCapturing(run);
        const result = replay(new LogFile(memorySource(log)));
        expect(result.divergence).toBeUndefined();
        expect(result.identical).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});
