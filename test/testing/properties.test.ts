/**
 * The ready-made properties hold for the real monitor, at their default number of runs; the
 * lifecycle model agrees with the monitor; and the reference interpreter agrees with the bare
 * machine on what it is built for.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { lifecycleProperty, PROPERTIES, referenceRun, runChecked, testScenario, guestVm, toFastCheck, trapGuest, GUEST_WORDS } from '../../src/testing/index.js';
import { hashWords } from '../../src/core/hash.js';

describe('the properties hold for the real monitor', () => {
  for (const property of PROPERTIES) {
    it(`${property.name}: ${property.description}`, () => {
      fc.assert(toFastCheck(property), { numRuns: property.numRuns });
    }, 120_000);
  }

  it('lifecycle: commands in any order do what the model of each VM state allows', () => {
    fc.assert(lifecycleProperty, { numRuns: 150 });
  }, 60_000);
});

describe('the reference execution', () => {
  it('counts a user-mode cli as one #GP and ends with the memory the simulation gives', () => {
    const source = fc.sample(trapGuest, { numRuns: 1, seed: 4 })[0];
    const reference = referenceRun(source, GUEST_WORDS);
    expect(reference.end).toBe('powered-off');
    const run = runChecked(testScenario([guestVm('guest', source)]));
    expect(run.simulation.vms[0].memoryDigest()).toBe(hashWords(reference.memory));
  });

  it('sees the sensitive instructions a hand-written guest runs in each mode', () => {
    const source = `
      movi sp, 0x2000
      movi r1, ivt
      csrw ivt, r1
      movi r1, user
      csrw epc, r1
      movi r1, 1
      csrw estatus, r1
      iret
    user:
      cli
      hypercall 0
      syscall 0
    handler:
      csrr r1, cause
      movi r2, 3
      beq r1, r2, off
      csrr r1, epc
      addi r1, r1, 4
      csrw epc, r1
      iret
    off:
      out PORT_POWER, r0
    ivt: .word handler, handler, handler, handler
      .space 60
    `;
    const reference = referenceRun(source, GUEST_WORDS);
    expect(reference.end).toBe('powered-off');
    expect(reference.userSensitive).toBe(2);
    expect(reference.userExceptions).toEqual({ 1: 2, 3: 1 });
    expect(reference.kernelSensitive).toEqual({ csrw: 5, iret: 3, csrr: 5, out: 1 });
  });
});
