#!/usr/bin/env node
/* global console, process */
// The log writer alone, two builds side by side: `node scripts/bench-writer.mjs OLD/dist NEW/dist [N] [rounds]`.
// Runs the scale load (src/bench/scale.ts, N VMs aligned, default 200) once to collect its events,
// then appends them all with each build's LogWriter in turn, `rounds` times (default 5), and
// prints CPU ns per event for each and whether the two wrote the same bytes.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [oldDist, newDist, count = '200', rounds = '5'] = process.argv.slice(2);
if (oldDist === undefined || newDist === undefined) {
  console.error('usage: node scripts/bench-writer.mjs OLD/dist NEW/dist [N] [rounds]');
  process.exit(2);
}
const load = (dist, path) => import(pathToFileURL(resolve(dist, path)).href);
const { Simulation } = await load(newDist, 'actors/simulation.js');
const { scaleScenario } = await load(newDist, 'bench/scale.js');
const { LogWriter: OldWriter } = await load(oldDist, 'core/log/writer.js');
const { LogWriter: NewWriter } = await load(newDist, 'core/log/writer.js');

const simulation = new Simulation({ scenario: scaleScenario(Number(count), 'aligned') });
const events = [];
simulation.bus.events$.subscribe((event) => events.push(event));
simulation.run();
console.log(`${events.length} events of the scale load, N = ${count} aligned`);

// The chunks are not kept (hundreds of MB would make the collector the figure): the last one holds
// the closing line, whose hash covers every line before it, and the lengths are summed.
function time(Writer) {
  let length = 0;
  let last = '';
  const writer = new Writer((chunk) => {
    length += chunk.length;
    last = chunk;
  });
  const begin = process.cpuUsage();
  for (const event of events) writer.append(event);
  writer.close();
  const cpu = process.cpuUsage(begin);
  return { ns: ((cpu.user + cpu.system) * 1000) / events.length, text: `${length}:${last}` };
}

for (let round = 0; round < Number(rounds); round++) {
  const before = time(OldWriter);
  const after = time(NewWriter);
  console.log(`old ${before.ns.toFixed(0)} ns/event, new ${after.ns.toFixed(0)} ns/event, ${before.text === after.text ? 'same bytes' : 'DIFFERENT BYTES (expected only between builds of different log format versions)'}`);
}
