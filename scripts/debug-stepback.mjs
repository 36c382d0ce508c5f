/* global console, process */
// What a step back costs in `vmmsim debug`: runs a log's run to the end in the time-travel
// machine, steps back once, then ten more times, going back from the nearest checkpoint and (unless
// `--checkpoints-only`) from the start, as the debugger did before checkpoints. docs/debugging.md.
// Usage: npm run build && node scripts/debug-stepback.mjs LOG [--checkpoints-only]
import { openLog } from '../dist/replay/index.js';
import { TimeTravelMachine } from '../dist/debug/machine.js';
const log = openLog(process.argv[2]);
const ms = (t) => (Number(process.hrtime.bigint() - t) / 1e6).toFixed(0);
const modes = [['from the start', { checkpointEvery: 2 ** 52 }], ['nearest checkpoint', {}]];
for (const [label, options] of process.argv.includes('--checkpoints-only') ? modes.slice(1) : modes) {
  const m = new TimeTravelMachine(log.file, undefined, options);
  let t = process.hrtime.bigint();
  while (!m.ended) m.forward(1_000_000);
  const fwd = ms(t);
  const end = m.position;
  t = process.hrtime.bigint();
  m.stepBackThread(0);
  const back1 = ms(t);
  t = process.hrtime.bigint();
  for (let i = 0; i < 10; i++) m.stepBackThread(0);
  const back10 = ms(t);
  console.log(`${label}: ${end} steps, first pass ${fwd} ms, checkpoints ${m.checkpointPositions.length} every ${m.checkpointEvery} (${(m.checkpointBytes/1048576).toFixed(1)} MiB), 1 step back ${back1} ms, 10 more ${back10} ms, steps re-run ${m.stats.stepsRerun}`);
}
