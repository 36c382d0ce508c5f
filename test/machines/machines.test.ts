import { describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { Lifecycle } from '../../src/machines/lifecycle.js';
import { vmMachine, type VmCommand } from '../../src/machines/vmMachine.js';
import { vcpuMachine, type VcpuCommand } from '../../src/machines/vcpuMachine.js';
import { deviceMachine, type DeviceCommand } from '../../src/machines/deviceMachine.js';
import type { DeviceState, VcpuState, VmState } from '../../src/core/events.js';

function drive<S extends string, C extends { type: string }>(machine: AnyStateMachine, commands: C['type'][]) {
  const lifecycle = new Lifecycle<S, C>(machine);
  return commands.map((type) => lifecycle.send({ type } as C) ?? `not-allowed:${type}`);
}

describe('VM lifecycle (libvirt states)', () => {
  it('goes defined -> running -> paused -> running -> blocked -> running -> shutdown -> shutoff', () => {
    expect(drive<VmState, VmCommand>(vmMachine, ['START', 'SUSPEND', 'RESUME', 'BLOCK', 'UNBLOCK', 'SHUTDOWN', 'POWEROFF'])).toEqual([
      'running',
      'paused',
      'running',
      'blocked',
      'running',
      'shutdown',
      'shutoff',
    ]);
  });

  it('refuses commands that are illegal in the current state', () => {
    expect(drive<VmState, VmCommand>(vmMachine, ['RESUME', 'SUSPEND', 'START', 'START', 'UNBLOCK'])).toEqual([
      'not-allowed:RESUME',
      'not-allowed:SUSPEND',
      'running',
      'not-allowed:START',
      'not-allowed:UNBLOCK',
    ]);
  });

  it('treats crashed and shutoff as final', () => {
    expect(drive<VmState, VmCommand>(vmMachine, ['START', 'CRASH', 'RESUME', 'START', 'DESTROY'])).toEqual([
      'running',
      'crashed',
      'not-allowed:RESUME',
      'not-allowed:START',
      'not-allowed:DESTROY',
    ]);
    expect(drive<VmState, VmCommand>(vmMachine, ['START', 'DESTROY', 'START'])).toEqual(['running', 'shutoff', 'not-allowed:START']);
  });
});

describe('vCPU lifecycle', () => {
  it('walks created -> runnable -> running -> blocked -> runnable -> running -> runnable -> halted', () => {
    expect(drive<VcpuState, VcpuCommand>(vcpuMachine, ['START', 'DISPATCH', 'BLOCK', 'WAKE', 'DISPATCH', 'PREEMPT', 'HALT'])).toEqual([
      'runnable',
      'running',
      'blocked',
      'runnable',
      'running',
      'runnable',
      'halted',
    ]);
  });

  it('refuses to dispatch a blocked vCPU, to block a runnable one, and anything after a crash', () => {
    expect(drive<VcpuState, VcpuCommand>(vcpuMachine, ['DISPATCH', 'START', 'BLOCK', 'PAUSE', 'DISPATCH', 'RESUME', 'CRASH', 'START'])).toEqual([
      'not-allowed:DISPATCH',
      'runnable',
      'not-allowed:BLOCK',
      'paused',
      'not-allowed:DISPATCH',
      'runnable',
      'crashed',
      'not-allowed:START',
    ]);
  });
});

describe('device lifecycle', () => {
  it('realizes, fails, resets and stops', () => {
    expect(drive<DeviceState, DeviceCommand>(deviceMachine, ['FAIL', 'REALIZE', 'FAIL', 'RESET', 'STOP', 'REALIZE'])).toEqual([
      'not-allowed:FAIL',
      'ready',
      'failed',
      'ready',
      'stopped',
      'not-allowed:REALIZE',
    ]);
  });
});
