/**
 * Validation against queueing theory (docs/validation.md). Every run has a fixed seed; the costs of
 * the monitor are 0 (queueing.helpers.ts), so a request's service is its size alone.
 *
 * Tolerances: the mean response of n requests is a random estimate; its standard error was
 * measured over seeds 1..6 (docs/validation.md gives the figures) and each n is chosen so that the
 * theory's 3% is at least 2 standard errors. The sample-path checks are exact up to the guest's
 * few instructions per request (1 ns each), so their tolerance is far tighter.
 *
 * A service time off by 10% moves every mean far outside its tolerance (rho 0.8 becomes 0.88).
 */
import { describe, expect, it } from 'vitest';
import { erlangC, fcfsReference, mean, queueScenario, runQueue, runRecorded } from './queueing.helpers.js';

const MS = 1_000_000;
/** Disk requests: 512,000 bytes at 1 us per 512 bytes (no latency, no seek) = 1 ms of service on average. */
const DISK_EXP = { kind: 'disk-read', size: { dist: 'exponential', mean: 512_000 }, share: 1 } as const;
const DISK_DET = { kind: 'disk-read', size: { dist: 'deterministic', value: 512_000 }, share: 1 } as const;
const CPU_EXP = { kind: 'cpu', size: { dist: 'exponential', mean: MS }, share: 1 } as const;

function relativeError(measured: number, theory: number): number {
  return measured / theory - 1;
}

describe('M/M/1 and M/D/1 at a disk (emulated block device, FIFO queue)', () => {
  // mu = 1000/s. M/M/1: E[T] = 1/(mu - lambda). M/D/1 (Pollaczek-Khinchine): E[T] = E[S] + rho E[S] / (2 (1 - rho)).
  const cases = [
    { name: 'M/M/1', rho: 0.5, request: DISK_EXP, requests: 100_000, theoryUs: 2000 },
    { name: 'M/M/1', rho: 0.8, request: DISK_EXP, requests: 300_000, theoryUs: 5000 },
    { name: 'M/D/1', rho: 0.5, request: DISK_DET, requests: 100_000, theoryUs: 1500 },
    { name: 'M/D/1', rho: 0.8, request: DISK_DET, requests: 600_000, theoryUs: 3000 },
  ] as const;
  for (const check of cases) {
    it(`${check.name} at rho = ${check.rho}: mean response within 3% of ${check.theoryUs} us (${check.requests} requests); Little's law on the measured queue length`, () => {
      const { report } = runQueue(queueScenario({ rate: 1000 * check.rho, request: check.request, requests: check.requests, seed: 1 }));
      const total = report.total;
      expect(total.completed).toBe(check.requests);
      expect(total.refused).toBe(0);
      expect(Math.abs(relativeError(total.responseUs.mean, check.theoryUs))).toBeLessThan(0.03);
      expect(Math.abs(relativeError(total.serviceUs.mean, 1000))).toBeLessThan(0.01);
      // Little's law: L = lambda W and Lq = lambda Wq, lambda = arrivals over the measured time.
      const lambdaPerUs = total.arrivals / (report.timeNs / 1000);
      expect(Math.abs(relativeError(total.meanInSystem, lambdaPerUs * total.responseUs.mean))).toBeLessThan(0.001);
      expect(Math.abs(relativeError(total.meanWaiting, lambdaPerUs * total.waitingUs.mean))).toBeLessThan(0.001);
      // Utilisation: the busy fraction of the disk is lambda E[S] (over the arrival period).
      expect(Math.abs(relativeError(total.utilisation * (report.timeNs / 1000), total.serviceUs.mean * total.completed))).toBeLessThan(0.001);
    });
  }
});

describe('CPU jobs through the server guest (request queue, guest workers)', () => {
  it('M/M/1, one worker, rho = 0.5: every response equals the exact FCFS recursion on the same path; mean within 3% of 1/(mu - lambda)', () => {
    const run = runRecorded(queueScenario({ rate: 500, request: CPU_EXP, requests: 40_000, seed: 1 }));
    const measured = mean(run.path.responses);
    expect(run.path.responses.every((response) => response >= 0)).toBe(true);
    const reference = mean(fcfsReference(run.path.arrivals, run.path.sizes, 1));
    // A few guest instructions (1 ns each) per request separate the two.
    expect(Math.abs(relativeError(measured, reference))).toBeLessThan(0.0005);
    expect(Math.abs(relativeError(run.report.total.responseUs.mean, 2000))).toBeLessThan(0.03);
  });

  it('M/M/1 processor sharing (QUANTUM_NS 100 us), rho = 0.5: mean sojourn within 3% of E[S]/(1 - rho); small and large jobs alike slowed by 1/(1 - rho) within 5%', () => {
    const run = runRecorded(queueScenario({ rate: 500, request: CPU_EXP, requests: 100_000, quantumNs: 100_000, seed: 1 }));
    expect(run.path.responses).toHaveLength(100_000);
    expect(Math.abs(relativeError(run.report.total.responseUs.mean, 2000))).toBeLessThan(0.03);
    // What tells processor sharing from FCFS: a job's expected sojourn is its size / (1 - rho),
    // whatever its size (under FCFS a 0.2 ms job waits as long as a 3 ms one: slowdown >> 2).
    const slowdown = (keep: (sizeNs: number) => boolean) => {
      const picked = run.path.sizes.map((size, index) => [size, run.path.responses[index]] as const).filter(([size]) => keep(size));
      return mean(picked.map(([, response]) => response)) / mean(picked.map(([size]) => size));
    };
    expect(Math.abs(relativeError(slowdown((size) => size < 500_000), 2))).toBeLessThan(0.05);
    expect(Math.abs(relativeError(slowdown((size) => size > 2_000_000), 2))).toBeLessThan(0.05);
  });

  for (const [workers, rho, requests] of [[2, 0.7, 60_000]] as const) {
    it(`M/M/${workers} with ${workers} worker vCPUs, rho = ${rho}: exact against the ${workers}-server FCFS recursion; mean within 3% of Erlang C`, () => {
      const lambda = workers * 1000 * rho;
      const run = runRecorded(queueScenario({ rate: lambda, request: CPU_EXP, requests, workers, seed: 1 }));
      const measured = mean(run.path.responses);
      const reference = mean(fcfsReference(run.path.arrivals, run.path.sizes, workers));
      expect(Math.abs(relativeError(measured, reference))).toBeLessThan(0.0005);
      const offered = lambda / 1000;
      const theoryUs = (erlangC(workers, offered) / (workers * 1000 - lambda)) * 1e6 + 1000;
      expect(Math.abs(relativeError(run.report.total.responseUs.mean, theoryUs))).toBeLessThan(0.03);
    });
  }
});
