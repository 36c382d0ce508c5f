import { it } from 'vitest';
import { runScenario, scenario, vmSpec } from '../helpers.js';
it('x', () => {
  const s = scenario([
    vmSpec('a', { kind: 'bundled', name: 'cpu-bound' }, { sched: { weight: 256, cap: 0 } }),
    vmSpec('b', { kind: 'bundled', name: 'cpu-bound' }, { sched: { weight: 512, cap: 0 } }),
  ], { scheduler: { policy: 'credit', quantumNs: 1_000_000 }, run: { timeNs: 3_000_000_000, instructions: undefined, checkpointEvery: 10_000 } });
  const t = Date.now();
  const r = runScenario(s);
  console.log(Date.now() - t, r.summary.vms.map((v) => v.vcpus[0].cpuNs / 3e9), r.events.length);
});
