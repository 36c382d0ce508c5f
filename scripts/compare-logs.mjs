#!/usr/bin/env node
/* global console, process, structuredClone */
// Byte-for-byte log comparison of two builds (issue 13: a speed-up must leave every log as it was).
// Runs every examples/*.yaml and COUNT random scenarios (scenarioArbitrary, generated once with the
// first build) on both builds' dist folders, with the log on (checkpoints included), and compares
// the logs' text. Prints the first difference and exits 1 if any log differs.
// Usage: node scripts/compare-logs.mjs <distA> <distB> [count=200] [seed=13]
// With COMPARE=events, the events alone are compared (the header, whose engine version differs
// between engine versions, and the running hashes that depend on it are left out): what an engine
// version bump changed in the runs themselves. With COMPARE=facts, checkpoint lines are left out too:
// the events alone, for a change that moves where batches end (a checkpoint shows the batches in
// flight and the kernel's pending entries), not what happens. COMPARE_POLICY=NAME runs every
// scenario under NAME.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';

const [distA, distB] = process.argv.slice(2, 4).map((dist) => resolve(dist));
const count = Number(process.argv[4] ?? 200);
const seed = Number(process.argv[5] ?? 13);
if (distA === undefined || distB === undefined) throw new Error('usage: compare-logs.mjs <distA> <distB> [count] [seed]');
const examples = resolve(import.meta.dirname, '..', 'examples');

async function build(dist) {
  const simulation = await import(`${dist}/actors/simulation.js`);
  const writer = await import(`${dist}/core/log/writer.js`);
  const load = await import(`${dist}/core/scenario/load.js`);
  const guests = await import(`${dist}/guests/index.js`);
  const arbitraries = await import(`${dist}/testing/arbitraries.js`);
  /** The whole log of one run, as text. */
  function logOf(scenario, runSeed) {
    const chunks = [];
    const log = new writer.LogWriter((chunk) => chunks.push(chunk));
    new simulation.Simulation({ scenario, seed: runSeed, log, readProgram: (path) => readFileSync(resolve(examples, path), 'utf8') }).run();
    const text = chunks.join('');
    const mode = process.env.COMPARE;
    if (mode !== 'events' && mode !== 'facts') return text;
    const events = text.slice(text.indexOf('\n') + 1).replace(/,"h":"[0-9a-f]+"/g, '').replace(/"hash":"[0-9a-f]+"/g, '');
    if (mode === 'events') return events;
    return events
      .split('\n')
      .filter((line) => !line.startsWith('{"checkpoint":'))
      .join('\n');
  }
  const loadExample = (file) => load.loadScenario(readFileSync(resolve(examples, file), 'utf8'), { file, guests: guests.BUNDLED_GUEST_NAMES });
  return { logOf, loadExample, arbitraries };
}

/** The scenario under COMPARE_POLICY's policy, when it is set (cpupools and hosts keep theirs). */
function withPolicy(scenario) {
  const policy = process.env.COMPARE_POLICY;
  if (policy === undefined) return scenario;
  return { ...scenario, scheduler: { ...scenario.scheduler, policy } };
}

function firstDifference(a, b) {
  let index = 0;
  while (index < a.length && a[index] === b[index]) index++;
  const line = a.slice(0, index).split('\n').length;
  return `line ${line}: ${a.slice(index - 80, index + 80)} | ${b.slice(index - 80, index + 80)}`;
}

const a = await build(distA);
const b = await build(distB);
let differ = 0;
let runs = 0;
let bytes = 0;
function compare(label, scenarioA, scenarioB, runSeed) {
  let logA, logB;
  try {
    logA = a.logOf(scenarioA, runSeed);
  } catch (error) {
    logA = `threw ${String(error)}`;
  }
  try {
    logB = b.logOf(scenarioB, runSeed);
  } catch (error) {
    logB = `threw ${String(error)}`;
  }
  runs++;
  bytes += logA.length;
  if (logA !== logB) {
    differ++;
    console.log(`DIFFERS ${label}: ${firstDifference(logA, logB)}`);
  }
}
let skipped = 0;
for (const file of readdirSync(examples).filter((name) => name.endsWith('.yaml')).sort()) {
  let scenario;
  try {
    scenario = a.loadExample(file);
  } catch (error) {
    // An example newer than the first build (a feature it does not have): nothing to compare.
    skipped++;
    console.log(`skipped ${file}: the first build refuses it (${String(error.message ?? error).split('\n')[0]})`);
    continue;
  }
  compare(file, withPolicy(scenario), withPolicy(b.loadExample(file)), scenario.seed ?? 1);
}
const samples = fc.sample(a.arbitraries.scenarioArbitrary(), { numRuns: count, seed });
samples.forEach((run, index) => compare(`random #${index} (seed ${seed})`, withPolicy(run.scenario), withPolicy(structuredClone(run.scenario)), run.seed));
console.log(`${runs} runs, ${(bytes / 1e6).toFixed(1)} MB of log: ${differ === 0 ? 'all identical' : `${differ} differ`}${skipped === 0 ? '' : ` (${skipped} examples skipped)`}`);
process.exit(differ === 0 ? 0 : 1);
