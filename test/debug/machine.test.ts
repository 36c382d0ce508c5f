/**
 * The time-travel machine never changes the run: with one-instruction batches, after going back
 * and forth, the events from there to the end equal the log's, byte for byte once serialised.
 */
import { describe, expect, it } from 'vitest';
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
});
