/**
 * Loader fuzzing: any input gives a result or one of the project's own errors (LogError for
 * event logs, AssemblyError for assembler source, ScenarioError for scenario YAML; the last two
 * are fuzzed in test/isa and test/scenario), never an uncaught exception of another kind.
 * Event logs are fuzzed from valid logs, by flipping, cutting, duplicating and editing lines.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LogError, readLog } from '../../src/core/log/reader.js';
import { LogFile } from '../../src/replay/logFile.js';
import { memorySource } from '../../src/replay/source.js';
import { replay } from '../../src/replay/replay.js';
import { ScenarioError } from '../../src/core/scenario/load.js';
import { scenarioArbitrary, runChecked } from '../../src/testing/index.js';

const VALID = fc.sample(scenarioArbitrary({ maxVms: 2, timeNs: 300_000 }), { numRuns: 4, seed: 11 }).map((run) => runChecked(run.scenario, { seed: run.seed, log: true }).log);

const edit = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), char: fc.constantFrom('0', '9', '"', '{', '}', ',', ':', 'x', '\n', ' ', '-', 'é') }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), length: fc.nat(200) }),
  fc.record({ kind: fc.constant('line' as const), at: fc.nat(), to: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function apply(text: string, edits: readonly fc.Arbitrary<unknown>[] | readonly { kind: string; at: number; [key: string]: unknown }[]): string {
  let out = text;
  for (const change of edits as { kind: string; at: number; char?: string; length?: number; to?: number }[]) {
    const at = change.at % Math.max(1, out.length);
    if (change.kind === 'flip') out = out.slice(0, at) + (change.char as string) + out.slice(at + 1);
    else if (change.kind === 'cut') out = out.slice(0, at) + out.slice(at + (change.length as number));
    else if (change.kind === 'truncate') out = out.slice(0, at);
    else {
      const lines = out.split('\n');
      const from = change.at % lines.length;
      const to = (change.to as number) % lines.length;
      lines.splice(to, 0, lines[from]);
      out = lines.join('\n');
    }
  }
  return out;
}

function readsOrReports(read: () => unknown): void {
  try {
    read();
  } catch (error) {
    if (error instanceof LogError || error instanceof ScenarioError) {
      expect(error.message).not.toBe('');
      return;
    }
    throw error;
  }
}

describe('event log loaders never throw anything but their own errors', () => {
  it('readLog on damaged logs', () => {
    fc.assert(
      fc.property(fc.constantFrom(...VALID), fc.array(edit, { minLength: 1, maxLength: 4 }), (log, edits) => readsOrReports(() => readLog(apply(log, edits)))),
      { numRuns: 400 },
    );
  });

  it('LogFile (memorySource) reading every record, and replay, on damaged logs', () => {
    fc.assert(
      fc.property(fc.constantFrom(...VALID), fc.array(edit, { minLength: 1, maxLength: 3 }), (log, edits) =>
        readsOrReports(() => {
          const file = new LogFile(memorySource(apply(log, edits)));
          for (const record of file.records()) void record;
          const result = replay(new LogFile(memorySource(apply(log, edits))));
          expect(typeof result.identical).toBe('boolean');
        }),
      ),
      { numRuns: 150 },
    );
  });

  it('readLog and LogFile on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        readsOrReports(() => readLog(text));
        readsOrReports(() => {
          for (const record of new LogFile(memorySource(text)).records()) void record;
        });
      }),
      { numRuns: 500 },
    );
  });

  it('the undamaged logs read and replay identically', () => {
    for (const log of VALID) {
      expect(readLog(log).events.length).toBeGreaterThan(0);
      expect(replay(new LogFile(memorySource(log))).identical).toBe(true);
    }
  });
});
