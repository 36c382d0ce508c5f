import { describe, expect, it } from 'vitest';
import { Simulation } from '../../src/actors/simulation.js';
import { RequestMetrics, scenarioServers } from '../../src/actors/metrics/requests.js';
import { testScenario, vmSpec } from '../../src/testing/scenario.js';

describe('smoke', () => {
  it('runs', () => {
    const vm = vmSpec('web', { kind: 'bundled', name: 'server' }, {
      vcpus: 1,
      params: { WORKERS: 1, QUANTUM_NS: 0 },
      workload: { arrivals: { process: 'poisson', rate: 500 }, requests: [{ kind: 'cpu', size: { dist: 'exponential', mean: 1_000_000 }, share: 1 }], queue: 1024, start: 0 },
    });
    const scenario = testScenario([vm], { run: { timeNs: 2_000_000_000, instructions: undefined, checkpointEvery: 10_000 } });
    const sim = new Simulation({ scenario });
    const metrics = new RequestMetrics(sim.bus, scenarioServers(scenario.vms));
    const ring: string[] = [];
    let done = 0;
    sim.bus.addSink((e) => { if (e.type === 'req.done') done++; if (done >= 69) { if (ring.length < 80) ring.push(`${e.t} ${e.src} ${e.type} ${JSON.stringify(e.data)}`); } });
    sim.run();
    const report = metrics.finish(sim.kernel.now);
    console.log(JSON.stringify(report.total));
    expect(report.total.completed).toBeGreaterThan(0);
  });
});
