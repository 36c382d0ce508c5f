#!/usr/bin/env node
/* global console, process */
// The covert-channel figure the confidentiality property leaves out (timing): how many bits per
// second a sender VM can push to a receiver VM across the scheduler alone, by computing (bit 1) or
// sleeping (bit 0) for each bit window while the receiver counts how far it gets in each window.
// No memory, device or port is shared: the only channel is CPU time. The capacity is that of a
// binary symmetric channel with the measured error rate p: (1 - H(p)) bits per window.
// Usage: node scripts/covert.mjs [policy] [windowUs] [bits] (npm run covert).
import { Simulation } from '../dist/actors/simulation.js';
import { guestVm, testScenario } from '../dist/testing/scenario.js';

const policy = process.argv[2] ?? 'credit';
const windowUs = Number(process.argv[3] ?? 2000);
const bitCount = Number(process.argv[4] ?? 256);
// The message: a fixed pseudo-random bit string (a linear congruential generator, seed 1).
const bits = [];
for (let state = 1, index = 0; index < bitCount; index++) {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  bits.push((state >>> 16) & 1);
}
// The sender keeps to the windows by the clock (TIMER_NOW, in microseconds): bit 1 computes until
// the window's end, bit 0 sleeps until it (a one-shot timer). The window's end is kept at 0x3000.
const sender = `
_start:
  movi r1, sender_ivt
  csrw ivt, r1
  sti
  movi r5, ${windowUs}
  st r5, [0x3000]
  movi r6, 0
  movi r7, ${bitCount}
next:
  ld r5, [0x3000]
  ld r2, [r6 + message]
  jz r2, zero
spin:
  work 20000                     ; bit 1: compute until the window ends
  in r4, PORT_TIMER_NOW
  blt r4, r5, spin
  jmp done
zero:
  in r4, PORT_TIMER_NOW          ; bit 0: sleep until the window ends
  sub r3, r5, r4
  movi r1, 1000
  mul r3, r3, r1
  out PORT_TIMER_ONESHOT, r3
  hlt
done:
  addi r5, r5, ${windowUs}
  st r5, [0x3000]
  addi r6, r6, 1
  blt r6, r7, next
idle:
  hlt
  jmp idle
on_timer:
  csrr r3, eval
  out PORT_PIC_EOI, r3
  iret
message: .word ${bits.join(', ')}
sender_ivt:
  .space 32
  .word ${new Array(32).fill('on_timer').join(', ')}
`;
// The receiver counts loop iterations and stores the count reached in each window's slot.
const receiver = `
_start:
  movi r6, ${windowUs}
  movi r5, 0
loop:
  work 2000
  addi r5, r5, 1
  in r4, PORT_TIMER_NOW
  div r4, r4, r6
  st r5, [r4 + 0x2000]
  jmp loop
`;
const scenario = testScenario([guestVm('sender', sender), guestVm('receiver', receiver)], {
  scheduler: policy === 'credit' ? { policy, quantumNs: 1_000_000, timesliceNs: 1_000_000, tickNs: 1_000_000 } : { policy, quantumNs: 1_000_000 },
  run: { timeNs: (bitCount + 2) * windowUs * 1000, instructions: undefined, checkpointEvery: 100_000 },
});
const simulation = new Simulation({ scenario, seed: 1 });
simulation.run();
const memory = simulation.vms[1].memory;
const progress = [];
for (let window = 0; window < bitCount; window++) {
  const before = window === 0 ? 0 : memory.read(0x2000 + window - 1);
  progress.push(memory.read(0x2000 + window) - before);
}
// Decode against the midpoint between the least and the most progress seen in a window.
const median = (Math.min(...progress) + Math.max(...progress)) / 2;
let errors = 0;
for (let window = 0; window < bitCount; window++) if ((progress[window] < median ? 1 : 0) !== bits[window]) errors++;
const p = Math.min(errors, bitCount - errors) / bitCount;
const entropy = p === 0 ? 0 : -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p));
const capacity = (1 - entropy) / (windowUs / 1e6);
console.log(`covert channel across the ${policy} scheduler (1 pCPU, window ${windowUs} us, ${bitCount} bits): error rate ${(100 * p).toFixed(1)}%, capacity ${capacity.toFixed(0)} bits/s of virtual time`);
if (process.env.COVERT_DEBUG !== undefined) console.log(progress.slice(0, 20).join(' '), bits.slice(0, 20).join(''));
