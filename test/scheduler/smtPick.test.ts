/**
 * The pure SMT-aware pick (src/actors/scheduler/smtPick.ts, Xen's _csched_cpu_pick): given which
 * CPUs are idle, where does a vCPU go? 2 sockets x 2 cores x 2 threads: socket 0 is pCPUs 0-3
 * (cores 0-1, 2-3), socket 1 is pCPUs 4-7.
 */
import { describe, expect, it } from 'vitest';
import { smtPick } from '../../src/actors/scheduler/smtPick.js';

const topology = { sockets: 2, coresPerSocket: 2, threadsPerCore: 2 };
const ALL = [0, 1, 2, 3, 4, 5, 6, 7];
const BIAS = ALL.map(() => 7);

/** The pick for a vCPU whose CPU is `master`, with the CPUs of `busy` busy. */
function pick(master: number, busy: readonly number[], steps: readonly (readonly number[])[] = [ALL]) {
  return smtPick({ topology, master, steps, idle: (pcpu) => !busy.includes(pcpu), idleBias: BIAS }).pcpu;
}

describe('_csched_cpu_pick', () => {
  it('keeps an idle CPU whose sibling is idle too', () => {
    expect(pick(0, [])).toBe(0);
  });

  it('within a socket, leaves a core with a busy sibling for a fully idle core', () => {
    expect(pick(0, [1])).toBe(2);
  });

  it('moves from a busy CPU to an idle one', () => {
    expect(pick(1, [1, 2, 3, 4, 5, 6, 7])).toBe(0);
  });

  it('across sockets, moves only if the other socket has more than twice as many idle CPUs (migrate_factor 2)', () => {
    // Socket 0 has one idle CPU, socket 1 four: 1 x 2 < 4, it moves.
    expect(pick(0, [1, 2, 3])).toBeGreaterThanOrEqual(4);
    // Socket 0 has two idle CPUs on distinct cores, socket 1 four: 2 x 2 is not below 4, it stays.
    expect(pick(0, [1, 3])).toBe(0);
  });

  it('tries the soft affinity first, and the hard one when the soft step finds no idle CPU', () => {
    expect(pick(0, [], [[4, 5, 6, 7], ALL])).toBe(4);
    expect(pick(0, [4, 5, 6, 7], [[4, 5, 6, 7], ALL])).toBe(0);
  });

  it('stays within the hard mask even when a whole idle core lies outside it', () => {
    expect(pick(0, [1], [[0, 1]])).toBe(0);
  });
});
