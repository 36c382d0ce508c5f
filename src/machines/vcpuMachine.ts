/**
 * A vCPU's lifecycle.
 *
 *   created --START--> runnable --DISPATCH--> running --PREEMPT--> runnable
 *   running --BLOCK--> blocked --WAKE--> runnable           (hlt with interrupts on; an interrupt)
 *   runnable|running|blocked --PAUSE--> paused --RESUME--> runnable
 *   any live state --HALT--> halted                          (hlt with interrupts off, power off)
 *   any live state --CRASH--> crashed                        (its VM crashed)
 */
import { setup } from 'xstate';
import type { VcpuState } from '../core/events.js';

export type VcpuCommand =
  | { type: 'START' }
  | { type: 'DISPATCH' }
  | { type: 'PREEMPT' }
  | { type: 'BLOCK' }
  | { type: 'WAKE' }
  | { type: 'PAUSE' }
  | { type: 'RESUME' }
  | { type: 'HALT' }
  | { type: 'CRASH' };

export const vcpuMachine = setup({
  types: {
    events: {} as VcpuCommand,
  },
}).createMachine({
  id: 'vcpu',
  initial: 'created',
  states: {
    created: {
      on: { START: 'runnable', HALT: 'halted', CRASH: 'crashed' },
    },
    runnable: {
      on: { DISPATCH: 'running', PAUSE: 'paused', HALT: 'halted', CRASH: 'crashed' },
    },
    running: {
      on: { PREEMPT: 'runnable', BLOCK: 'blocked', PAUSE: 'paused', HALT: 'halted', CRASH: 'crashed' },
    },
    blocked: {
      on: { WAKE: 'runnable', PAUSE: 'paused', HALT: 'halted', CRASH: 'crashed' },
    },
    paused: {
      on: { RESUME: 'runnable', HALT: 'halted', CRASH: 'crashed' },
    },
    halted: { type: 'final' },
    crashed: { type: 'final' },
  },
});

export const VCPU_STATES: readonly VcpuState[] = ['created', 'runnable', 'running', 'blocked', 'paused', 'halted', 'crashed'];
