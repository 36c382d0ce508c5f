/**
 * Proof that the properties catch bugs: each deliberately broken build (src/testing/mutants/)
 * is caught, within 200 runs from seed 1 (npm run mutants: 1000 runs on three seeds), by the property expected to catch it
 * (the correct monitor passes them all: properties.test.ts). A log written by a mutant replays
 * identically, because its header names the mutant.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MUTATION_INFO, MUTATIONS, mutantParts, propertyNamed, PropertyViolation, runChecked, toFastCheck } from '../../src/testing/index.js';
import { LogFile } from '../../src/replay/logFile.js';
import { replay } from '../../src/replay/replay.js';
import { memorySource } from '../../src/replay/source.js';
import { Simulation } from '../../src/actors/simulation.js';
import { testScenario, guestVm } from '../../src/testing/scenario.js';

describe('every mutant is caught by the property expected to catch it', () => {
  for (const mutation of MUTATIONS) {
    const { bug, caughtBy } = MUTATION_INFO[mutation];
    it(`${mutation} (${bug}) is caught by ${caughtBy}`, () => {
      const property = propertyNamed(caughtBy);
      expect(property).toBeDefined();
      if (property === undefined) return;
      // Caught is what counts here; the fuzzer (vmmsim fuzz) shrinks the counterexample.
      // A fixed seed, so the suite is repeatable: `npm run mutants` tries 1000 runs on three seeds.
      const result = fc.check(toFastCheck(property, mutation), { numRuns: 200, seed: 1, endOnFailure: true });
      expect(result.failed, `seed ${result.seed}`).toBe(true);
      expect(result.errorInstance).toBeInstanceOf(PropertyViolation);
      expect((result.errorInstance as PropertyViolation).property).toBe(caughtBy);
    }, 120_000);
  }
});

describe('mutants', () => {
  it('an unknown mutation is refused', () => {
    expect(() => runChecked(testScenario([guestVm('g', 'hlt')]), { mutation: 'nope' })).toThrow(/unknown mutation 'nope'/);
  });

  it('sit behind the component seam: production code names no mutant and never imports the testing layer', () => {
    const production = ['src/core', 'src/actors', 'src/machines', 'src/guests'].flatMap((dir) => sourceFiles(dir));
    expect(production.length).toBeGreaterThan(20);
    for (const file of production) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/from '[./]*\/testing\//);
      // Names of one word ('cap', 'privileged') are also ordinary words of the model; the
      // hyphenated ones and any test of a mutation are what a mutant left inside would show.
      expect(text, file).not.toMatch(/mutation === '/);
      for (const name of MUTATIONS.filter((mutation) => mutation.includes('-'))) expect(text, `${file} names the mutant ${name}`).not.toContain(`'${name}'`);
    }
  });

  it("a Simulation built with a mutant's parts runs with its bug", () => {
    const run = new Simulation({ scenario: testScenario([guestVm('g', 'hlt')]), parts: mutantParts('cap') });
    expect(run.vms[0].options.params.cap).toBe(0);
  });

  it("a mutant's log names it, and replays identically", () => {
    const adversary = '_start:\n  movi r1, 66000\n  movi r2, 7\n  st r2, [r1]\nforever:\n  work 1000\n  jmp forever\n';
    const run = runChecked(testScenario([guestVm('a', adversary, { memoryBytes: 256 * 1024 }), guestVm('b', 'x:\n  work 1000\n  jmp x\n')], { host: { pcpus: 2, memoryBytes: 4 * 1024 * 1024 }, run: { timeNs: 500_000, instructions: undefined, checkpointEvery: 100 } }), { mutation: 'gpa-bounds', log: true });
    expect(run.log.split('\n')[0]).toContain('"mutation":"gpa-bounds"');
    expect(run.simulation.vms[0].state).toBe('running');
    const result = replay(new LogFile(memorySource(run.log)));
    expect(result.identical).toBe(true);
    // The real monitor stops that store: the same guest crashes with an EPT violation.
    const real = runChecked(testScenario([guestVm('a', adversary, { memoryBytes: 256 * 1024 }), guestVm('b', 'x:\n  work 1000\n  jmp x\n')], { host: { pcpus: 2, memoryBytes: 4 * 1024 * 1024 }, run: { timeNs: 500_000, instructions: undefined, checkpointEvery: 100 } }));
    expect(real.simulation.vms[0].state).toBe('crashed');
  });
});

/** Every .ts file under a folder (sorted). */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
    });
}
