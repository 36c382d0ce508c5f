import { it } from 'vitest';
import fc from 'fast-check';
import { PROPERTIES, toFastCheck, propertyNamed } from '../../src/testing/properties.js';
import { MUTATIONS, MUTATION_INFO } from '../../src/actors/mutations.js';

it('scratch', () => {
  for (const p of PROPERTIES) {
    const t0 = performance.now();
    const r = fc.check(toFastCheck(p), { numRuns: p.numRuns, seed: 2 });
    console.log(p.name, 'correct', r.failed ? 'FAILED ' + String(r.errorInstance).slice(0, 600) + ' ' + JSON.stringify(r.counterexample).slice(0, 3000) : 'ok', Math.round(performance.now() - t0), 'ms');
  }
  for (const m of MUTATIONS) {
    const p = propertyNamed(MUTATION_INFO[m].caughtBy)!;
    const cases = fc.sample(p.arbitrary, { numRuns: 100, seed: 3 });
    let caught = 0;
    const t0 = performance.now();
    for (const c of cases) { try { p.check(c, m); } catch { caught++; } }
    console.log(m, p.name, `rate ${caught}/100`, Math.round(performance.now() - t0), 'ms');
  }
}, 600_000);
