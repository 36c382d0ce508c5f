import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { consoleOf, runScenario, scenario, vmSpec } from '../helpers.js';

describe('work interrupted by a task switch', () => {
  it('each task of the tiny kernel computes exactly what it asks for, however its timer cuts the work', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 20_000, max: 400_000 }),
        fc.integer({ min: 10_000, max: 400_000 }),
        fc.integer({ min: 10_000, max: 400_000 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom('full' as const, 'hw' as const, 'para' as const),
        (tick, workA, workB, rounds, virt) => {
          const guest = virt === 'para' ? 'kernel-pv' : 'kernel';
          const run = runScenario(
            scenario([vmSpec('k', { kind: 'bundled', name: guest }, { virt, params: { TICK_NS: tick, WORK_A_NS: workA, WORK_B_NS: workB, ROUNDS: rounds } })], {
              run: { timeNs: 200_000_000, instructions: undefined, checkpointEvery: 1_000_000 },
            }),
          );
          const vm = run.simulation.vms[0];
          expect(vm.state).toBe('shutoff');
          expect(consoleOf(run, 'k').at(-1)).toMatch(/finished|powering off|done/);
          // The `work` the vCPU did is exactly the tasks' (the kernel itself runs no `work`).
          expect(vm.vcpus[0].cpu.workNs).toBe(rounds * (workA + workB));
        },
      ),
      { numRuns: 40 },
    );
  });
});
