import { describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { Lifecycle } from '../../src/machines/lifecycle.js';
import { vmMachine, type VmCommand, type VmLifecycleState } from '../../src/machines/vmMachine.js';
import { Simulation } from '../../src/actors/simulation.js';
import { guestVm, testScenario } from '../../src/testing/scenario.js';
import { vcpuMachine, type VcpuLifecycleCommand, type VcpuLifecycleState } from '../../src/machines/vcpuMachine.js';
import { Vcpu } from '../../src/actors/vcpu/vcpu.js';
import { EventBus } from '../../src/core/bus.js';
import { Kernel } from '../../src/core/kernel.js';
import { GuestPhysicalMap, HostMemory } from '../../src/core/memory.js';
import { deviceMachine, type DeviceCommand } from '../../src/machines/deviceMachine.js';
import type { DeviceState } from '../../src/core/events.js';

function drive<S extends string, C extends { type: string }>(machine: AnyStateMachine, commands: C['type'][]) {
  const lifecycle = new Lifecycle<S, C>(machine);
  return commands.map((type) => lifecycle.send({ type } as C) ?? `not-allowed:${type}`);
}

/** Drives a real VM actor: its state after each command, or the refusal it published. */
function driveVm(commands: VmCommand['type'][]): string[] {
  const simulation = new Simulation({ scenario: testScenario([guestVm('a', '_start: hlt')]) });
  const vm = simulation.vms[0];
  const refusals: string[] = [];
  simulation.bus.addSink((event) => {
    if (event.type === 'vm.not-allowed') refusals.push((event.data as { command: string }).command);
  });
  return commands.map((type) => (vm.command(type, () => undefined) ? vm.state : `not-allowed:${refusals[refusals.length - 1].toUpperCase()}`));
}

describe('VM lifecycle (libvirt states; blocked is a run state beside the machine)', () => {
  it('goes defined -> running -> paused -> running -> blocked -> running -> shutdown -> shutoff', () => {
    expect(driveVm(['START', 'SUSPEND', 'RESUME', 'BLOCK', 'UNBLOCK', 'SHUTDOWN', 'POWEROFF'])).toEqual([
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
    expect(driveVm(['RESUME', 'SUSPEND', 'START', 'START', 'UNBLOCK'])).toEqual([
      'not-allowed:RESUME',
      'not-allowed:SUSPEND',
      'running',
      'not-allowed:START',
      'not-allowed:UNBLOCK',
    ]);
  });

  it('treats crashed and shutoff as final', () => {
    expect(driveVm(['START', 'CRASH', 'RESUME', 'START', 'DESTROY'])).toEqual([
      'running',
      'crashed',
      'not-allowed:RESUME',
      'not-allowed:START',
      'not-allowed:DESTROY',
    ]);
    expect(driveVm(['START', 'DESTROY', 'START'])).toEqual(['running', 'shutoff', 'not-allowed:START']);
  });
});

describe('VM machine (lifecycle only)', () => {
  it('has no blocked state: BLOCK is not one of its events', () => {
    expect(drive<VmLifecycleState, VmCommand>(vmMachine, ['START', 'BLOCK', 'SUSPEND'])).toEqual(['running', 'not-allowed:BLOCK', 'paused']);
  });

  it('a blocked VM that is suspended resumes running, not blocked', () => {
    expect(driveVm(['START', 'BLOCK', 'SUSPEND', 'RESUME', 'UNBLOCK', 'BLOCK', 'CRASH', 'UNBLOCK'])).toEqual([
      'running',
      'blocked',
      'paused',
      'running',
      'not-allowed:UNBLOCK',
      'blocked',
      'crashed',
      'not-allowed:UNBLOCK',
    ]);
  });
});

describe('vCPU lifecycle (the machine: no run state in it)', () => {
  it('walks created -> online -> paused -> online -> halted', () => {
    expect(drive<VcpuLifecycleState, VcpuLifecycleCommand>(vcpuMachine, ['START', 'PAUSE', 'RESUME', 'HALT'])).toEqual(['online', 'paused', 'online', 'halted']);
  });

  it('refuses to resume what is not paused and anything after a crash', () => {
    expect(drive<VcpuLifecycleState, VcpuLifecycleCommand>(vcpuMachine, ['RESUME', 'START', 'START', 'CRASH', 'START'])).toEqual([
      'not-allowed:RESUME',
      'online',
      'not-allowed:START',
      'crashed',
      'not-allowed:START',
    ]);
  });
});

/** Drives a real vCPU actor; each step is its state after the command, or the refusal it published. */
function driveVcpu(commands: string[]): string[] {
  const kernel = new Kernel();
  const bus = new EventBus(kernel);
  const refusals: string[] = [];
  bus.addSink((event) => {
    if (event.type === 'vcpu.not-allowed') refusals.push((event.data as { command: string }).command);
  });
  const vcpu = new Vcpu('a', 0, 0, {}, new GuestPhysicalMap(new HostMemory(4), [0, 1]), bus);
  return commands.map((command) => {
    const before = refusals.length;
    switch (command) {
      case 'START': vcpu.start(0); break;
      case 'DISPATCH': vcpu.dispatch(0, 0); break;
      case 'PREEMPT': vcpu.preempt(0); break;
      case 'BLOCK': vcpu.block(); break;
      case 'WAKE': vcpu.wake(0); break;
      case 'PAUSE': vcpu.pause(0); break;
      case 'RESUME': vcpu.resume(0); break;
      case 'HALT': vcpu.halt(0); break;
      case 'CRASH': vcpu.crash('test', 0); break;
      default: throw new Error(command);
    }
    return refusals.length > before ? `not-allowed:${refusals[refusals.length - 1].toUpperCase()}` : vcpu.state;
  });
}

describe('vCPU run state (data beside the lifecycle, as Xen\'s runstate)', () => {
  it('walks created -> runnable -> running -> blocked -> runnable -> running -> runnable -> halted', () => {
    expect(driveVcpu(['START', 'DISPATCH', 'BLOCK', 'WAKE', 'DISPATCH', 'PREEMPT', 'HALT'])).toEqual([
      'runnable',
      'running',
      'blocked',
      'runnable',
      'running',
      'runnable',
      'halted',
    ]);
  });

  it('refuses to dispatch a blocked vCPU, to block a runnable one, and anything after a crash, with a not-allowed fact', () => {
    expect(driveVcpu(['DISPATCH', 'START', 'BLOCK', 'PAUSE', 'DISPATCH', 'RESUME', 'CRASH', 'START', 'WAKE'])).toEqual([
      'not-allowed:DISPATCH',
      'runnable',
      'not-allowed:BLOCK',
      'paused',
      'not-allowed:DISPATCH',
      'runnable',
      'crashed',
      'not-allowed:START',
      'not-allowed:WAKE',
    ]);
  });

  it('a paused vCPU comes back runnable, whatever it was doing', () => {
    expect(driveVcpu(['START', 'DISPATCH', 'BLOCK', 'PAUSE', 'RESUME', 'DISPATCH'])).toEqual(['runnable', 'running', 'blocked', 'paused', 'runnable', 'running']);
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
