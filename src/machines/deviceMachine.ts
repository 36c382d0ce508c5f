/**
 * A device's lifecycle.
 *
 *   created --REALIZE--> ready --FAIL--> failed --RESET--> ready
 *   ready|failed --STOP--> stopped
 */
import { setup } from 'xstate';
import type { DeviceState } from '../core/events.js';

export type DeviceCommand = { type: 'REALIZE' } | { type: 'FAIL' } | { type: 'RESET' } | { type: 'STOP' };

export const deviceMachine = setup({
  types: {
    events: {} as DeviceCommand,
  },
}).createMachine({
  id: 'device',
  initial: 'created',
  states: {
    created: { on: { REALIZE: 'ready', STOP: 'stopped' } },
    ready: { on: { FAIL: 'failed', STOP: 'stopped', RESET: 'ready' } },
    failed: { on: { RESET: 'ready', STOP: 'stopped' } },
    stopped: { type: 'final' },
  },
});

export const DEVICE_STATES: readonly DeviceState[] = ['created', 'ready', 'failed', 'stopped'];
