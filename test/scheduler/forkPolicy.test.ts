/**
 * A fork that switches the scheduling policy in the middle of a run (`run --from LOG --at SEQ
 * --set scheduler.policy=...`, monitor.reconfigure and scheduler/adopt.ts). It used to crash as
 * soon as a vCPU that was running at the switch was charged or preempted (credit2's `maxWeight`,
 * then its run queue), or when the new policy asked for its first tick (credit, arinc653: a tick
 * in the past). Given a run under each policy, when it is forked into each other policy at an
 * instant where vCPUs run and others are blocked, then the fork runs to its end, every vCPU is
 * scheduled again after the switch, and the fork's log replays byte for byte.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/core/scenario/load.js';
import { POLICY_NAMES } from '../../src/core/scenario/schema.js';
import type { SimEvent } from '../../src/core/events.js';
import { LogWriter } from '../../src/core/log/writer.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { openLog } from '../../src/index.js';
import { fork } from '../../src/replay/fork.js';
import { runScenario, type TestRun } from '../helpers.js';

/** 2 cores x 2 threads; six vCPUs: CPU-bound (one SMP VM) and I/O-bound ones that block often. */
const scenarioText = (policy: string) =>
  [
    'name: fork-policy',
    'host: { pcpus: 4, topology: { sockets: 1, coresPerSocket: 2, threadsPerCore: 2 } }',
    `scheduler: { policy: '${policy}' }`,
    'run: { time: 100ms }',
    'vms:',
    '  - { name: smp, vcpus: 2, guest: cpu-bound }',
    '  - { name: hog, guest: cpu-bound, sched: { weight: 512 } }',
    '  - { name: io-a, guest: io-bound }',
    '  - { name: io-b, guest: io-bound }',
    '  - { name: hog2, guest: cpu-bound }',
  ].join('\n');

const VCPUS = ['vm/smp/vcpu/0', 'vm/smp/vcpu/1', 'vm/hog/vcpu/0', 'vm/io-a/vcpu/0', 'vm/io-b/vcpu/0', 'vm/hog2/vcpu/0'];

const baseRuns = new Map<string, TestRun>();
function baseRun(policy: string): TestRun {
  let run = baseRuns.get(policy);
  if (run === undefined) {
    run = runScenario(loadScenario(scenarioText(policy), { file: 's.yaml', guests: BUNDLED_GUEST_NAMES }));
    baseRuns.set(policy, run);
  }
  return run;
}

/** The run state of each vCPU after each event, read from the log: the seqs where some run and some are blocked. */
function mixedPoints(run: TestRun): number[] {
  const state = new Map<string, string>();
  const points: number[] = [];
  for (const event of run.events) {
    if (event.type.startsWith('vcpu.')) state.set(event.src, event.type.slice(5));
    const states = [...state.values()];
    if (states.includes('running') && states.includes('blocked')) points.push(event.seq);
  }
  return points;
}

interface Forked {
  readonly events: SimEvent[];
  readonly log: string;
}

function forkInto(run: TestRun, at: number, policy: string): Forked {
  const events: SimEvent[] = [];
  let log = '';
  const forked = fork(openLog(run.log, 'base.jsonl').file, {
    at,
    set: [`scheduler.policy=${JSON.stringify(policy)}`],
    log: new LogWriter((chunk) => (log += chunk)),
    sink: (event) => events.push(event),
  });
  forked.simulation.run();
  return { events, log };
}

/** The vCPUs dispatched after `at`. */
function scheduledAfter(events: readonly SimEvent[], at: number): Set<string> {
  return new Set(events.filter((event) => event.seq > at && event.type === 'vcpu.running').map((event) => event.src));
}

function checkFork(from: string, to: string, at: number): void {
  const forked = forkInto(baseRun(from), at, to);
  const scheduled = scheduledAfter(forked.events, at);
  const endTime = forked.events[forked.events.length - 1].t;
  expect(endTime, `${from} -> ${to} at ${at}: ran to the end`).toBeGreaterThanOrEqual(100_000_000);
  // null gives each pCPU one vCPU for good: four of the six run, each on a pCPU of its own.
  if (to === 'null') expect(scheduled.size, `${from} -> null at ${at}`).toBe(4);
  else expect([...scheduled].sort(), `${from} -> ${to} at ${at}: every vCPU scheduled again`).toEqual([...VCPUS].sort());
  const replay = openLog(forked.log, 'fork.jsonl').replay();
  expect(replay.divergence, `${from} -> ${to} at ${at}: the fork replays`).toBeUndefined();
  expect(replay.identical).toBe(true);
}

describe('a fork that switches policy mid-run (sched_move_domain: the running vCPUs are adopted)', () => {
  for (const from of POLICY_NAMES) {
    it(`forks ${from} into every other policy while vCPUs run and others are blocked`, () => {
      const points = mixedPoints(baseRun(from));
      expect(points.length).toBeGreaterThan(0);
      const at = points[Math.floor(points.length / 5)];
      for (const to of POLICY_NAMES) if (to !== from) checkFork(from, to, at);
    }, 60_000);
  }

  it('holds at random fork points (fast-check; FORK_POLICY_SEED repeats a run)', () => {
    const seed = Number(process.env.FORK_POLICY_SEED ?? 20261204);
    console.log(`fork-policy property: fast-check seed ${seed} (FORK_POLICY_SEED to repeat)`);
    const pair = fc.tuple(fc.constantFrom(...POLICY_NAMES), fc.constantFrom(...POLICY_NAMES)).filter(([from, to]) => from !== to);
    fc.assert(
      fc.property(pair, fc.integer({ min: 0, max: 999 }), ([from, to], permille) => {
        const run = baseRun(from);
        const last = run.events[run.events.length - 1].seq;
        // In the first half: every vCPU must have time to be scheduled again.
        const at = Math.max(1, Math.floor((permille * last) / 2000));
        checkFork(from, to, at);
      }),
      { seed, numRuns: 16, verbose: true },
    );
  }, 120_000);
});
