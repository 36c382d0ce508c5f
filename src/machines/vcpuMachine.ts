/**
 * A vCPU's lifecycle (not its run state).
 *
 *   created --START--> online --PAUSE--> paused --RESUME--> online
 *   any live state --HALT--> halted                 (hlt with interrupts off, power off)
 *   any live state --CRASH--> crashed               (its VM crashed)
 *
 * While online, the vCPU's per-slice run state (runnable, running, blocked) changes thousands of
 * times a second. It is plain data owned by the vCPU actor, the scheduler and the monitor, as Xen
 * keeps its runstate (xen/common/sched/core.c, vcpu_runstate_change), not a state of this machine:
 * an xstate transition costs about 5 us, a field write nanoseconds (ARCHITECTURE.md, section 2).
 * Its changes are still events in the log (vcpu.runnable, vcpu.running, vcpu.blocked).
 */
import { setup } from 'xstate';
import type { VcpuState } from '../core/events.js';

/** A lifecycle command of a vCPU. */
export type VcpuLifecycleCommand = { type: 'START' } | { type: 'PAUSE' } | { type: 'RESUME' } | { type: 'HALT' } | { type: 'CRASH' };

/** A run-state command (checked against the run state, data: see vcpu.ts). */
export type VcpuRunCommand = { type: 'DISPATCH' } | { type: 'PREEMPT' } | { type: 'BLOCK' } | { type: 'WAKE' };

/** Every command a vCPU takes; its `not-allowed` facts name them in lower case. */
export type VcpuCommand = VcpuLifecycleCommand | VcpuRunCommand;

/** The states of the lifecycle machine. */
export type VcpuLifecycleState = 'created' | 'online' | 'paused' | 'halted' | 'crashed';

/** The per-slice run state of an online vCPU. */
export type VcpuRunState = 'runnable' | 'running' | 'blocked';

export const vcpuMachine = setup({
  types: {
    events: {} as VcpuLifecycleCommand,
  },
}).createMachine({
  id: 'vcpu',
  initial: 'created',
  states: {
    created: {
      on: { START: 'online', HALT: 'halted', CRASH: 'crashed' },
    },
    online: {
      on: { PAUSE: 'paused', HALT: 'halted', CRASH: 'crashed' },
    },
    paused: {
      on: { RESUME: 'online', HALT: 'halted', CRASH: 'crashed' },
    },
    halted: { type: 'final' },
    crashed: { type: 'final' },
  },
});

/**
 * Which run state each run-state command needs, and the one it leaves:
 *   runnable --DISPATCH--> running --PREEMPT--> runnable
 *   running --BLOCK--> blocked --WAKE--> runnable
 */
export const RUN_TRANSITIONS: Readonly<Record<VcpuRunCommand['type'], { readonly from: VcpuRunState; readonly to: VcpuRunState }>> = {
  DISPATCH: { from: 'runnable', to: 'running' },
  PREEMPT: { from: 'running', to: 'runnable' },
  BLOCK: { from: 'running', to: 'blocked' },
  WAKE: { from: 'blocked', to: 'runnable' },
};

/** Every state a vCPU can be seen in: its lifecycle, with `online` shown as its run state. */
export const VCPU_STATES: readonly VcpuState[] = ['created', 'runnable', 'running', 'blocked', 'paused', 'halted', 'crashed'];
