/**
 * The cost of simulating scheduling at scale: wall time to simulate one second of virtual time
 * for 10, 100 and 1,000 VMs on 16 physical CPUs under Xen's credit policy. Each VM alternates
 * 1 ms of computation and 1 ms of sleep on its device (the io-bound workload), with staggered
 * starts: the load ARCHITECTURE.md's SimGrid anchor uses (about 24 k phases per wall second at
 * N = 100 and 1.9 k at N = 1,000 for SimGrid 3.32). A phase is one computation or one sleep.
 */
import { performance } from 'node:perf_hooks';
import { runWithMetrics } from '../actors/metrics/index.js';
import type { Scenario, VmSpec } from '../core/scenario/schema.js';
import { testScenario, vmSpec } from '../testing/scenario.js';

export interface ScaleMeasurement {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
}

function scaleScenario(count: number): Scenario {
  const vms: VmSpec[] = Array.from({ length: count }, (_, index) =>
    vmSpec(
      `vm${index}`,
      { kind: 'bundled', name: 'io-bound' },
      // Staggered over one 2 ms cycle.
      { memoryBytes: 16 * 1024, params: { BURST_NS: 1_000_000, IO_NS: 1_000_000 }, startNs: Math.floor((index * 2_000_000) / count) },
    ),
  );
  return testScenario(vms, {
    name: `scale-${count}`,
    host: { pcpus: 16, memoryBytes: 1 << 30 },
    scheduler: { policy: 'credit', quantumNs: 1_000_000 },
    run: { timeNs: 1_000_000_000, instructions: undefined, checkpointEvery: 100_000 },
  });
}

export function schedulingScaleMeasurements(quick: boolean): ScaleMeasurement[] {
  const results: ScaleMeasurement[] = [];
  for (const count of [10, 100, 1000]) {
    const scenario = scaleScenario(count);
    const repeats = quick || count === 1000 ? 1 : 3;
    const times: number[] = [];
    let phases = 0;
    let events = 0;
    for (let repeat = 0; repeat < repeats; repeat++) {
      const start = performance.now();
      const measured = runWithMetrics(scenario);
      times.push((performance.now() - start) / 1000);
      // Each reported request is one computation and one sleep.
      phases = 2 * measured.metrics.system.workUnits;
      events = measured.summary.events;
    }
    const seconds = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
    results.push({ name: `1 s virtual, ${count} VMs on 16 pCPUs (credit), wall time`, unit: 'ms', value: seconds * 1000 });
    results.push({ name: `  phases per wall second (${phases} phases, ${events} events)`, unit: 'phases/s', value: phases / seconds });
  }
  return results;
}
