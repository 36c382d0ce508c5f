/**
 * Scenarios for the queueing-theory validation (docs/validation.md): one VM, the costs of the
 * monitor set to 0 so that a request's service is its size alone (instructions still cost 1 ns
 * each: a few dozen per request).
 */
import { Simulation } from '../../src/actors/simulation.js';
import { RequestMetrics, scenarioServers, type RequestMetricsReport } from '../../src/actors/metrics/requests.js';
import type { Scenario } from '../../src/core/scenario/schema.js';
import type { RequestSpec, WorkloadSpec } from '../../src/core/scenario/workload.js';
import { testScenario, vmSpec } from '../../src/testing/scenario.js';

export const ZERO_COSTS = {
  exitNs: 0,
  entryNs: 0,
  privilegedEmulateNs: 0,
  ioEmulateNs: 0,
  interruptInjectNs: 0,
  contextSwitchNs: 0,
  scheduleNs: 0,
  timerJitterNs: 0,
  startJitterNs: 0,
  hypercallNs: 0,
  diskLatencyNs: 0,
  diskSectorNs: 1000,
} as const;

export interface QueueRun {
  readonly report: RequestMetricsReport;
  readonly simulation: Simulation;
}

/** One VM running the server guest with `workers` vCPUs on as many physical CPUs, under a workload. */
export function queueScenario(options: {
  readonly rate: number;
  readonly request: RequestSpec;
  readonly requests: number;
  readonly workers?: number;
  readonly quantumNs?: number;
  readonly seed?: number;
  /** Depth of the block device's queue (disk requests). */
  readonly blockQueue?: number;
}): Scenario {
  const workers = options.workers ?? 1;
  const workload: WorkloadSpec = { arrivals: { process: 'poisson', rate: options.rate }, requests: [options.request], queue: 1 << 20, limit: options.requests, start: 0 };
  const vm = vmSpec('q', { kind: 'bundled', name: 'server' }, { vcpus: workers, memoryBytes: 64 * 1024, params: { WORKERS: workers, QUANTUM_NS: options.quantumNs ?? 0 }, workload, virt: 'hw', paging: 'nested', devices: { block: 'emulated', nic: 'emulated', blockQueue: options.blockQueue ?? 4096 } });
  // Long enough for every request to arrive and finish (the run ends when the kernel runs dry).
  const timeNs = Math.ceil(((options.requests / options.rate) * 1.5 + 1) * 1e9);
  return testScenario([vm], {
    name: 'queue',
    seed: options.seed ?? 1,
    host: { pcpus: workers, memoryBytes: 64 * 1024 * 1024 },
    scheduler: { policy: 'round-robin', quantumNs: 100_000_000 },
    // Workers share no memory they poll, so vCPUs of the VM may run 100 us apart (fewer batches).
    run: { timeNs, instructions: undefined, checkpointEvery: 1_000_000, smpQuantumNs: 100_000 },
    costs: { ...ZERO_COSTS },
  });
}

export function runQueue(scenario: Scenario): QueueRun {
  const simulation = new Simulation({ scenario, maxBatchNs: 10_000_000 });
  const requests = new RequestMetrics(simulation.bus, scenarioServers(scenario.vms));
  simulation.run();
  return { report: requests.finish(simulation.kernel.now), simulation };
}

/** Erlang C: the probability that an arrival waits, c servers, offered load a = lambda / mu (Erlangs). */
export function erlangC(c: number, a: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 1; k < c; k++) {
    term *= a / k;
    sum += term;
  }
  const last = (term * a) / c;
  const rho = a / c;
  const top = last / (1 - rho);
  return top / (sum + top);
}

export interface Recorded {
  readonly arrivals: number[];
  readonly sizes: number[];
  /** Response time (ns) of request i, -1 when it did not complete. */
  readonly responses: number[];
}

/** Runs and records each request's arrival, size and response from the bus (the sample path). */
export function runRecorded(scenario: Scenario): QueueRun & { readonly path: Recorded } {
  const simulation = new Simulation({ scenario, maxBatchNs: 10_000_000 });
  const requests = new RequestMetrics(simulation.bus, scenarioServers(scenario.vms));
  const path: Recorded = { arrivals: [], sizes: [], responses: [] };
  simulation.bus.on('input.request', (event) => {
    path.arrivals.push(event.t);
    path.sizes.push(event.data.size);
    path.responses.push(-1);
  });
  simulation.bus.on('req.done', (event) => {
    path.responses[event.data.id] = event.t - path.arrivals[event.data.id];
  });
  simulation.run();
  return { report: requests.finish(simulation.kernel.now), simulation, path };
}

/**
 * The exact FCFS response times of a c-server queue on a sample path (the Kiefer-Wolfowitz
 * recursion: each arrival in order goes to the server that frees first), an independent reference.
 */
export function fcfsReference(arrivals: readonly number[], serviceNs: readonly number[], servers: number): number[] {
  const free = new Array<number>(servers).fill(0);
  return arrivals.map((arrival, index) => {
    let best = 0;
    for (let server = 1; server < servers; server++) if (free[server] < free[best]) best = server;
    const start = Math.max(arrival, free[best]);
    free[best] = start + serviceNs[index];
    return free[best] - arrival;
  });
}

export function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Plug-in inputs: the arrival rate (per ns) and the mean and second moment of service (ns) on the path. */
export function empiricalInputs(path: Recorded): { readonly lambda: number; readonly meanS: number; readonly secondS: number } {
  const n = path.arrivals.length;
  const lambda = (n - 1) / (path.arrivals[n - 1] - path.arrivals[0]);
  return { lambda, meanS: mean(path.sizes), secondS: mean(path.sizes.map((size) => size * size)) };
}

