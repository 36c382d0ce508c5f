/**
 * A VM's lifecycle, in libvirt's vocabulary (virDomainState and its lifecycle events).
 *
 *   defined --START--> running --SUSPEND--> paused --RESUME--> running
 *   running --BLOCK--> blocked --UNBLOCK--> running        (every vCPU waits for an interrupt)
 *   running|blocked --SHUTDOWN--> shutdown --POWEROFF--> shutoff   (the guest powers off)
 *   running|blocked|paused|shutdown --CRASH--> crashed     (the guest broke; only this VM stops)
 *   any live state --DESTROY--> shutoff                    (pulled out by the operator)
 *
 * shutoff and crashed are final here: restarting a VM (libvirt allows it) arrives with snapshots.
 */
import { setup } from 'xstate';
import type { VmState } from '../core/events.js';

export type VmCommand =
  | { type: 'START' }
  | { type: 'SUSPEND' }
  | { type: 'RESUME' }
  | { type: 'BLOCK' }
  | { type: 'UNBLOCK' }
  | { type: 'SHUTDOWN' }
  | { type: 'POWEROFF' }
  | { type: 'CRASH' }
  | { type: 'DESTROY' };

export const vmMachine = setup({
  types: {
    events: {} as VmCommand,
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
        BLOCK: 'blocked',
        SHUTDOWN: 'shutdown',
        POWEROFF: 'shutoff',
        CRASH: 'crashed',
        DESTROY: 'shutoff',
      },
    },
    blocked: {
      on: {
        UNBLOCK: 'running',
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
