/**
 * A VM's lifecycle, in libvirt's vocabulary (virDomainState and its lifecycle events).
 *
 *   defined --START--> running --SUSPEND--> paused --RESUME--> running
 *   running --SHUTDOWN--> shutdown --POWEROFF--> shutoff   (the guest powers off)
 *   running|paused|shutdown --CRASH--> crashed             (the guest broke; only this VM stops)
 *   any live state --DESTROY--> shutoff                    (pulled out by the operator)
 *
 * libvirt's `blocked` (every vCPU waits for an interrupt) is a run state of a running VM, not a
 * lifecycle step: it flips at every sleep and wake of a guest, so it is plain data of the VM actor
 * (vm.ts, RUN_COMMANDS below), as the vCPU's runstate is (vcpuMachine.ts). A running VM is seen as
 * `blocked` while the flag is set, and BLOCK/UNBLOCK still get a `not-allowed` fact when refused.
 *
 * shutoff and crashed are final here: restarting a VM (libvirt allows it) arrives with snapshots.
 */
import { setup } from 'xstate';
import type { VmState } from '../core/events.js';

/** A lifecycle command of a VM (the machine's events). */
export type VmLifecycleCommand =
  | { type: 'START' }
  | { type: 'SUSPEND' }
  | { type: 'RESUME' }
  | { type: 'SHUTDOWN' }
  | { type: 'POWEROFF' }
  | { type: 'CRASH' }
  | { type: 'DESTROY' };

/** A run-state command of a running VM (data, not the machine). */
export type VmRunCommand = { type: 'BLOCK' } | { type: 'UNBLOCK' };

export type VmCommand = VmLifecycleCommand | VmRunCommand;

/** The states of the lifecycle machine: every VmState but `blocked`. */
export type VmLifecycleState = Exclude<VmState, 'blocked'>;

/** BLOCK needs a running VM that is not blocked; UNBLOCK a blocked one. */
export const VM_RUN_COMMANDS: Readonly<Record<VmRunCommand['type'], { readonly blocked: boolean }>> = {
  BLOCK: { blocked: false },
  UNBLOCK: { blocked: true },
};

export const vmMachine = setup({
  types: {
    events: {} as VmLifecycleCommand,
  },
}).createMachine({
  id: 'vm',
  initial: 'defined',
  states: {
    defined: {
      on: { START: 'running', DESTROY: 'shutoff' },
    },
    running: {
      on: {
        SUSPEND: 'paused',
        SHUTDOWN: 'shutdown',
        POWEROFF: 'shutoff',
        CRASH: 'crashed',
        DESTROY: 'shutoff',
      },
    },
    paused: {
      on: { RESUME: 'running', CRASH: 'crashed', DESTROY: 'shutoff' },
    },
    shutdown: {
      on: { POWEROFF: 'shutoff', CRASH: 'crashed', DESTROY: 'shutoff' },
    },
    shutoff: { type: 'final' },
    crashed: { type: 'final' },
  },
});

export const VM_STATES: readonly VmState[] = ['defined', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed'];
