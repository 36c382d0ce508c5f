#!/usr/bin/env node
/* global console, process */
// The mutant campaign (npm run mutants, outside npm test): every bundled mutant against the property
// meant to catch it, `vmmsim fuzz --runs 1000` on three seeds. Prints one line per mutant and seed
// and exits 1 if any mutant escapes on any seed. Usage: node scripts/mutant-catch.mjs [runs] [seeds...]
import fc from 'fast-check';
import { MUTATIONS, MUTATION_INFO, propertyNamed, PropertyViolation } from '../dist/testing/index.js';

const runs = Number(process.argv[2] ?? 1000);
const seeds = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [1, 2, 3];
let escaped = 0;
for (const mutation of MUTATIONS) {
  const { caughtBy } = MUTATION_INFO[mutation];
  const property = propertyNamed(caughtBy);
  for (const seed of seeds) {
    const started = Date.now();
    // Caught is what counts: no shrinking (the fuzzer shrinks), the run number of the first failure.
    const result = fc.check(fc.property(property.arbitrary, (value) => property.check(value, mutation)), { numRuns: runs, seed, endOnFailure: true });
    const caught = result.failed && result.errorInstance instanceof PropertyViolation && result.errorInstance.property === caughtBy;
    if (!caught) escaped++;
    const what = caught ? `caught at run ${result.numRuns}` : result.failed ? `FAILED OTHERWISE: ${String(result.errorInstance).slice(0, 120)}` : `ESCAPED ${runs} runs`;
    console.log(`${mutation.padEnd(20)} ${caughtBy.padEnd(18)} seed ${seed}: ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
}
console.log(escaped === 0 ? `every mutant caught on every seed (${MUTATIONS.length} mutants x ${seeds.length} seeds, at most ${runs} runs)` : `${escaped} escapes`);
process.exit(escaped === 0 ? 0 : 1);
