/** A timer whose jitter exceeds its period: the next expiry falls behind the clock and fires at once. */
import { expect, it } from 'vitest';
import { guestVm, runChecked, testScenario } from '../../src/testing/index.js';

it('a periodic timer with a jitter larger than its period keeps firing (never schedules in the past)', () => {
  const source = '_start:\n  movi r1, 1\n  out PORT_TIMER_PERIOD, r1\nx:\n  work 1000\n  jmp x\n';
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const run = runChecked(testScenario([guestVm('g', source)], { costs: { timerJitterNs: 5_000 }, run: { timeNs: 2_000_000, instructions: undefined, checkpointEvery: 10_000 } }), { seed });
    expect(run.simulation.vms[0].timer.fired).toBeGreaterThan(300);
  }
});
