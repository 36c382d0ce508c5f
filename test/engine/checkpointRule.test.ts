/**
 * Where checkpoint lines go (src/core/scenario/schema.ts, CHECKPOINT_AUTO): without
 * `run.checkpointEvery`, a checkpoint once at least 10,000 events came since the last one and the
 * event lines since it take at least 9 times its size; with it, every `checkpointEvery` events.
 */
import { describe, expect, it } from 'vitest';
import { scaleScenario } from '../../src/bench/scale.js';
import { CHECKPOINT_AUTO, type Scenario } from '../../src/core/scenario/schema.js';
import { LogFile, memorySource, replay, stateAtSeq } from '../../src/index.js';
import { runScenario } from '../helpers.js';

/** 200 VMs on 16 pCPUs for 200 ms: about 55 k events, checkpoints of about 400 KB (bigger than 10,000 event lines / 9). */
function manyVms(checkpointEvery: number | undefined): Scenario {
  const base = scaleScenario(200, 'aligned');
  return { ...base, run: { ...base.run, timeNs: 200_000_000, checkpointEvery } };
}

interface Checkpoint {
  readonly seq: number;
  /** Its line's length (newline included). */
  readonly chars: number;
  /** Characters and events of the lines between the checkpoint before (or the header) and it. */
  readonly charsBefore: number;
  readonly eventsBefore: number;
  /** The lengths of the event lines just before it, last first. */
  readonly lastLines: readonly number[];
}

function checkpointsOf(log: string): Checkpoint[] {
  const found: Checkpoint[] = [];
  let chars = 0;
  let events = 0;
  let recent: number[] = [];
  for (const line of log.split('\n').slice(1, -1)) {
    if (line.startsWith('{"checkpoint":')) {
      const seq = (JSON.parse(line) as { checkpoint: { seq: number } }).checkpoint.seq;
      found.push({ seq, chars: line.length + 1, charsBefore: chars, eventsBefore: events, lastLines: recent });
      chars = 0;
      events = 0;
      recent = [];
    } else if (line.startsWith('{"seq":')) {
      chars += line.length + 1;
      events++;
      recent = [line.length + 1, ...recent.slice(0, 49)];
    }
  }
  return found;
}

describe('checkpoint lines', () => {
  const auto = runScenario(manyVms(undefined), 3);
  const checkpoints = checkpointsOf(auto.log);

  it('by default: after 10,000 events, then once the event lines since the last take 9 times its size', () => {
    expect(auto.events.length).toBeGreaterThan(45_000);
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    const [first, ...rest] = checkpoints;
    expect(first.eventsBefore).toBeGreaterThanOrEqual(CHECKPOINT_AUTO.minEvents);
    // One kernel step publishes a few events: the first comes within a step of 10,000.
    expect(first.eventsBefore).toBeLessThan(CHECKPOINT_AUTO.minEvents + 50);
    let previous = first;
    for (const checkpoint of rest) {
      expect(checkpoint.eventsBefore).toBeGreaterThanOrEqual(CHECKPOINT_AUTO.minEvents);
      const needed = CHECKPOINT_AUTO.linesPerCheckpointByte * previous.chars;
      // Here the size binds: 9 x 400 KB is about 27,000 event lines, not 10,000.
      expect(needed).toBeGreaterThan(CHECKPOINT_AUTO.minEvents * 200);
      expect(checkpoint.charsBefore).toBeGreaterThanOrEqual(needed);
      // ... and it came as soon as it held: the lines of the step before it did not reach it.
      expect(checkpoint.charsBefore - checkpoint.lastLines.slice(0, 20).reduce((sum, length) => sum + length, 0)).toBeLessThan(needed);
      previous = checkpoint;
    }
    const total = auto.log.length;
    const inCheckpoints = checkpoints.reduce((sum, checkpoint) => sum + checkpoint.chars, 0);
    expect(inCheckpoints / total).toBeLessThan(0.12);
  });

  it('with run.checkpointEvery: every that many events, whatever their size', () => {
    const fixed = checkpointsOf(runScenario(manyVms(5_000), 3).log);
    expect(fixed.length).toBeGreaterThanOrEqual(9);
    for (const checkpoint of fixed) {
      expect(checkpoint.eventsBefore).toBeGreaterThanOrEqual(5_000);
      expect(checkpoint.eventsBefore).toBeLessThan(5_050);
    }
  });

  it('the header says which: no checkpointEvery by default, the number when given', () => {
    const header = (log: string) => (JSON.parse(log.slice(0, log.indexOf('\n'))) as { scenario: { run: Record<string, unknown> } }).scenario.run;
    expect(header(auto.log)).not.toHaveProperty('checkpointEvery');
    const small = { ...manyVms(700), vms: manyVms(700).vms.slice(0, 2), run: { ...manyVms(700).run, timeNs: 2_000_000 } };
    expect(header(runScenario(small, 3).log).checkpointEvery).toBe(700);
  });

  it('a log written by the default rule replays identical, checkpoints included, and seeks from them', () => {
    const file = new LogFile(memorySource(auto.log, 'auto.jsonl'));
    const result = replay(file);
    expect(result.divergence).toBeUndefined();
    expect(result.identical).toBe(true);
    const at = checkpoints[1].seq + 17;
    const state = stateAtSeq(file, at);
    expect(state.event.seq).toBe(at);
    // Folded from the checkpoint before it, not from the top.
    expect(state.from).toBe(checkpoints[1].seq);
    expect(state.folded).toBe(18);
  });
});
