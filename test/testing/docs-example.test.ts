// The example of docs/testing.md, exactly as printed there (the test below checks they match).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
// In your project: from 'vmmsim/testing'.
import { adversarialGuest, guestVm, quietGuest, runChecked, testScenario } from '../../src/testing/index.js';

describe('my property', () => {
  it('an adversary never makes its neighbour crash', () => {
    fc.assert(
      fc.property(adversarialGuest(), fc.nat(), (adversary, seed) => {
        const scenario = testScenario([guestVm('adversary', adversary), guestVm('neighbour', quietGuest)], {
          host: { pcpus: 2, memoryBytes: 4 * 1024 * 1024 },
          run: { timeNs: 1_000_000, instructions: undefined, checkpointEvery: 10_000 },
        });
        const run = runChecked(scenario, { seed });
        expect(run.simulation.vms[1].state).toBe('running');
      }),
      { numRuns: 50 },
    );
  });
});
// end of example

describe('docs/testing.md', () => {
  it('prints this file\'s example verbatim', () => {
    const source = readFileSync(new URL(import.meta.url), 'utf8');
    const example = source.slice(source.indexOf("describe('my property'"), source.indexOf('// end of example')).trim();
    const docs = readFileSync(new URL('../../docs/testing.md', import.meta.url), 'utf8');
    expect(docs).toContain(example);
  });
});
