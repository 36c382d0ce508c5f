/**
 * The time-travel machine never changes the run: with one-instruction batches, after going back
 * and forth, the events from there to the end equal the log's, byte for byte once serialised.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, closeSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Simulation } from '../../src/actors/simulation.js';
import { LogWriter } from '../../src/core/log/writer.js';
import { readLog } from '../../src/core/log/reader.js';
import { loadScenario } from '../../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { openLog } from '../../src/replay/index.js';
import { TimeTravelMachine } from '../../src/debug/machine.js';

function logOf(example: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'vmmsim-debug-machine-')), 'run.jsonl');
  const fd = openSync(path, 'w');
  const scenario = loadScenario(readFileSync(`examples/${example}.yaml`, 'utf8'), { file: example, guests: BUNDLED_GUEST_NAMES });
  new Simulation({ scenario, log: new LogWriter((chunk) => void writeSync(fd, chunk)) }).run();
  closeSync(fd);
  return path;
}

const key = (event: { seq: number; t: number; src: string; type: string; data: unknown }): string => JSON.stringify([event.seq, event.t, event.src, event.type, event.data]);

describe('TimeTravelMachine', () => {
  for (const example of ['demo', 'misbehaving']) {
    it(`${example}: after steps back and forth, the events from there to the end equal the log's`, () => {
      const path = logOf(example);
      const log = openLog(path);
      const machine = new TimeTravelMachine(log.file);
      machine.goto(4000);
      machine.stepBackThread(0);
      machine.stepBackThread(0);
      machine.stepThread(0);
      machine.goto(1500);
      const from = machine.seq + 1;
      const seen: string[] = [];
      while (!machine.ended) {
        machine.forward(1);
        for (const event of machine.lastEvents) seen.push(key(event));
      }
      const logged = readLog(readFileSync(path, 'utf8')).events.filter((event) => event.seq >= from).map(key);
      expect(seen.length).toBeGreaterThan(100);
      expect(seen).toEqual(logged);
      log.close();
    });
  }

  // Checkpoints: going back restores the nearest one and re-runs from there. Random walks of
  // gotos, steps back and reverse-continues over examples that use devices, paging, SMP and
  // credit, with checkpoints every 50 steps and at most 4 kept (so they thin out), must leave the
  // run as the log has it: from wherever the walk ends, the events to the end equal the log's.
  for (const example of ['demo', 'io', 'memory', 'smp', 'mixed']) {
    it(`${example}: random walks over checkpoints leave the run as the log has it`, () => {
      const path = logOf(example);
      const log = openLog(path);
      const logged = readLog(readFileSync(path, 'utf8')).events;
      const step = fc.oneof(
        fc.record({ op: fc.constant('goto' as const), to: fc.integer({ min: 0, max: 6000 }) }),
        fc.record({ op: fc.constant('back' as const), thread: fc.nat(3) }),
        fc.record({ op: fc.constant('next' as const), thread: fc.nat(3) }),
      );
      fc.assert(
        fc.property(fc.array(step, { minLength: 1, maxLength: 8 }), (walk) => {
          const machine = new TimeTravelMachine(log.file, undefined, { checkpointEvery: 50, maxCheckpoints: 4 });
          for (const move of walk) {
            if (move.op === 'goto') machine.goto(move.to);
            else if (move.op === 'back') machine.stepBackThread(move.thread % machine.vcpus.length);
            else if (!machine.ended) machine.stepThread(move.thread % machine.vcpus.length);
          }
          // The state here equals a fresh machine's at the same position.
          const fresh = new TimeTravelMachine(log.file);
          fresh.goto(machine.position);
          expect(machine.digest()).toBe(fresh.digest());
          expect(machine.seq).toBe(fresh.seq);
          const from = machine.seq + 1;
          const seen: string[] = [];
          for (let count = 0; count < 3000 && !machine.ended; count++) {
            machine.forward(1);
            for (const event of machine.lastEvents) seen.push(key(event));
          }
          expect(seen).toEqual(logged.filter((event) => event.seq >= from).slice(0, seen.length).map(key));
        }),
        { numRuns: 12, seed: 17, endOnFailure: true },
      );
      log.close();
    });
  }

  // A VM with several vCPUs keeps the run's batches: cut into one-instruction batches, mixed's
  // smp-lock VM saw a sibling's write earlier, and its exit.io of seq 243 came 1,003 ns early.
  for (const example of ['mixed', 'smp']) {
    it(`${example}: over the whole run, the events the machine publishes equal the log's (SMP VMs are not cut)`, () => {
      const path = logOf(example);
      const log = openLog(path);
      const machine = new TimeTravelMachine(log.file);
      const from = machine.seq + 1;
      const logged = readLog(readFileSync(path, 'utf8')).events.filter((event) => event.seq >= from).map(key);
      expect(logged.length).toBeGreaterThan(400);
      const seen: string[] = [];
      while (!machine.ended) {
        machine.forward(1);
        for (const event of machine.lastEvents) seen.push(key(event));
      }
      expect(seen).toEqual(logged);
      log.close();
    });
  }

  it('going back re-runs from the nearest checkpoint, not from the start', () => {
    const path = logOf('demo');
    const log = openLog(path);
    const machine = new TimeTravelMachine(log.file, undefined, { checkpointEvery: 500, maxCheckpoints: 64 });
    machine.goto(20_000);
    expect(machine.checkpointPositions).toEqual(Array.from({ length: 41 }, (_, index) => index * 500));
    machine.goto(19_990);
    // Restored the checkpoint at 19,500 and re-ran 490 steps, not 19,990.
    expect(machine.stats).toEqual({ restores: 1, stepsRerun: 490 });
    for (let count = 0; count < 10; count++) machine.stepBackThread(0);
    expect(machine.stats.stepsRerun).toBeLessThan(490 + 10 * 500);
    // Full: every other checkpoint goes and the spacing doubles.
    const thin = new TimeTravelMachine(log.file, undefined, { checkpointEvery: 500, maxCheckpoints: 8 });
    thin.goto(20_000);
    expect(thin.checkpointPositions.length).toBeLessThanOrEqual(8);
    expect(thin.checkpointPositions.every((position) => position % thin.checkpointEvery === 0)).toBe(true);
    expect(thin.checkpointEvery).toBe(4000);
    log.close();
  });
});
