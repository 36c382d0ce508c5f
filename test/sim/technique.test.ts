import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { inline, runScenario, scenario, vmSpec } from '../helpers.js';
import type { VirtTechnique } from '../../src/core/scenario/schema.js';

/** A guest that uses privileged instructions, a user-mode syscall, a #DE it handles, and memory. */
const program = (seedValue: number, rounds: number) => `
  movi sp, 3000
  movi r1, ivt
  csrw ivt, r1
  movi r5, ${seedValue}
  movi r6, 0
  movi r1, user
  csrw epc, r1
  movi r1, 1
  csrw estatus, r1
  iret
user:
  movi r2, ${rounds}
loop:
  mul r5, r5, r5
  addi r5, r5, 12345
  st r5, [r6 + 2000]
  addi r6, r6, 1
  syscall 1
  blt r6, r2, loop
  movi r3, 0
  div r4, r5, r3         ; #DE in user mode: the kernel's handler counts it and returns past it
  syscall 2
syscall_handler:
  csrr r3, eval
  movi r4, 2
  beq r3, r4, done
  csrr r3, scratch
  addi r3, r3, 1
  csrw scratch, r3
  iret
de_handler:
  csrr r3, epc
  addi r3, r3, 4
  csrw epc, r3
  movi r7, 777
  iret
done:
  csrr r1, scratch
  st r1, [2999]
  hypercall HC_POWER_OFF
ivt: .word de_handler, 0, 0, syscall_handler
`;

function resultUnder(virt: VirtTechnique, seedValue: number, rounds: number) {
  const run = runScenario(scenario([vmSpec('g', inline(program(seedValue, rounds)), { virt })]));
  const vm = run.simulation.vms[0];
  return { state: vm.state, digest: vm.memoryDigest(), syscalls: vm.memory.read(2999), instructions: run.summary.vms[0].vcpus[0].instructions, exits: run.summary.vms[0].vcpus[0].exitsTotal };
}

describe('virtualization techniques', () => {
  it('give the guest the same result as trap-and-emulate (equivalence) and retire the same instructions, with fewer exits', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 40 }), (seedValue, rounds) => {
        const full = resultUnder('full', seedValue, rounds);
        expect(full.state).toBe('shutoff');
        expect(full.syscalls).toBe(rounds);
        for (const virt of ['hw', 'bt', 'para'] as const) {
          const other = resultUnder(virt, seedValue, rounds);
          expect({ ...other, exits: 0 }).toEqual({ ...full, exits: 0 });
        }
        expect(resultUnder('hw', seedValue, rounds).exits).toBeLessThan(full.exits);
      }),
      { numRuns: 25 },
    );
  });

  it('under hw, a guest exception with no handler is a triple fault: a shutdown exit and a crash', () => {
    const run = runScenario(
      scenario([vmSpec('g', inline('movi r1, user\n csrw epc, r1\n movi r1, 1\n csrw estatus, r1\n iret\nuser:\n cli\n'), { virt: 'hw' })]),
    );
    expect(run.summary.vms[0].state).toBe('crashed');
    expect(run.summary.vms[0].reason).toBe('triple fault: #GP (privileged instruction) in user mode with no handler installed');
    expect(run.events.some((event) => event.type === 'exit.shutdown')).toBe(true);
  });

  it('binary translation charges the translation of each kernel code page once', () => {
    const code = 'loop:\n cli\n sti\n jmp loop\n';
    const bt = runScenario(scenario([vmSpec('g', inline(code), { virt: 'bt' })], { run: { timeNs: 1_000_000, instructions: undefined, checkpointEvery: 10_000 } }));
    const hw = runScenario(scenario([vmSpec('g', inline(code), { virt: 'hw' })], { run: { timeNs: 1_000_000, instructions: undefined, checkpointEvery: 10_000 } }));
    const btRetired = bt.summary.vms[0].vcpus[0].instructions;
    const hwRetired = hw.summary.vms[0].vcpus[0].instructions;
    // hw runs cli/sti at 1 ns; bt pays a call into the monitor (40 ns) for each: far fewer retire.
    expect(hwRetired).toBeGreaterThan(btRetired * 10);
    expect(bt.summary.vms[0].vcpus[0].exitsTotal).toBe(0);
  });
});
