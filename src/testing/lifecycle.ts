/**
 * Lifecycle, model-based (fc.commands): random sequences of operator commands (start, suspend,
 * resume, shut down, destroy) with time passing between them, run against the monitor and
 * against a simple model of what each VM state allows. Each command must produce its fact when
 * the model allows it and a `vm.not-allowed` fact (and no change) when it does not; after each
 * step the VM's state must be the model's.
 *
 * Snapshot and restore are not modelled: the monitor has no snapshot command yet (a run can be
 * forked from its log, `vmmsim run --from`, but a VM cannot be saved and restored in a run).
 */
import fc from 'fast-check';
import type { Simulation } from '../actors/simulation.js';
import type { Vm } from '../actors/vm.js';
import type { SimEvent, VmState } from '../core/events.js';
import { Simulation as SimulationClass } from '../actors/simulation.js';
import { guestVm, testScenario } from './scenario.js';
import { PropertyViolation } from './properties.js';

/** The model: each VM's state as the operator sees it (running and blocked are one: "live"). */
export interface LifecycleModel {
  readonly states: ('defined' | 'live' | 'paused' | 'shutoff')[];
}

export interface LifecycleReal {
  readonly simulation: Simulation;
  readonly events: SimEvent[];
  now: number;
}

type Operation = 'start' | 'suspend' | 'resume' | 'shutdown' | 'destroy';

/** What the model allows: the VM state machine of docs/architecture.md, seen from outside. */
const ALLOWED: Readonly<Record<Operation, readonly LifecycleModel['states'][number][]>> = {
  start: ['defined'],
  suspend: ['live'],
  resume: ['paused'],
  shutdown: ['live'],
  destroy: ['defined', 'live', 'paused'],
};
const AFTER: Readonly<Record<Operation, LifecycleModel['states'][number]>> = {
  start: 'live',
  suspend: 'paused',
  resume: 'live',
  shutdown: 'shutoff',
  destroy: 'shutoff',
};
const FACT: Readonly<Record<Operation, string>> = {
  start: 'vm.started',
  suspend: 'vm.suspended',
  resume: 'vm.resumed',
  shutdown: 'vm.stopped',
  destroy: 'vm.stopped',
};

function modelOf(state: VmState): LifecycleModel['states'][number] | 'other' {
  if (state === 'running' || state === 'blocked') return 'live';
  if (state === 'defined' || state === 'paused' || state === 'shutoff') return state;
  return 'other';
}

class OperateCommand implements fc.Command<LifecycleModel, LifecycleReal> {
  constructor(
    readonly operation: Operation,
    readonly vm: number,
  ) {}

  check(): boolean {
    return true;
  }

  run(model: LifecycleModel, real: LifecycleReal): void {
    const vm = real.simulation.vms[this.vm];
    const from = real.events.length;
    const allowed = ALLOWED[this.operation].includes(model.states[this.vm] as never);
    const monitor = real.simulation.monitor;
    const result = this.apply(monitor, vm);
    const published = real.events.slice(from);
    const expectedFact = FACT[this.operation];
    if (allowed) {
      if (!result || !published.some((event) => event.type === expectedFact && event.src === vm.id)) {
        throw new PropertyViolation('lifecycle', `${this.toString()} in ${model.states[this.vm]}: expected ${expectedFact}, got ${published.map((event) => event.type).join(', ') || 'nothing'}`);
      }
      model.states[this.vm] = AFTER[this.operation];
    } else if (result || !published.some((event) => event.type === 'vm.not-allowed' && event.src === vm.id)) {
      throw new PropertyViolation('lifecycle', `${this.toString()} in ${model.states[this.vm]}: expected vm.not-allowed, got ${published.map((event) => event.type).join(', ') || 'nothing'}`);
    }
    checkStates(model, real);
  }

  private apply(monitor: Simulation['monitor'], vm: Vm): boolean {
    switch (this.operation) {
      case 'start':
        return monitor.start(vm);
      case 'suspend':
        return monitor.suspend(vm);
      case 'resume':
        return monitor.resume(vm);
      case 'destroy':
        return monitor.destroy(vm);
      case 'shutdown': {
        // An ACPI shutdown request from the operator: allowed only while the guest runs.
        if (modelOf(vm.state) !== 'live') return vm.command('SHUTDOWN', () => undefined);
        monitor.powerOff(vm, 'the operator shut it down');
        return true;
      }
    }
  }

  toString(): string {
    return `${this.operation}(vm${this.vm})`;
  }
}

class WaitCommand implements fc.Command<LifecycleModel, LifecycleReal> {
  constructor(readonly ns: number) {}

  check(): boolean {
    return true;
  }

  run(model: LifecycleModel, real: LifecycleReal): void {
    real.now += this.ns;
    if (!real.simulation.finished) real.simulation.runUntilTime(real.now);
    checkStates(model, real);
  }

  toString(): string {
    return `wait(${this.ns} ns)`;
  }
}

function checkStates(model: LifecycleModel, real: LifecycleReal): void {
  real.simulation.vms.forEach((vm, index) => {
    const seen = modelOf(vm.state);
    if (seen !== model.states[index]) throw new PropertyViolation('lifecycle', `vm${index} is ${vm.state}; the model says ${model.states[index]}`);
  });
}

const VM_COUNT = 2;

/** The commands: any operation on any VM, and time passing. */
export const lifecycleCommands = fc.commands(
  [
    fc.tuple(fc.constantFrom<Operation>('start', 'suspend', 'resume', 'shutdown', 'destroy'), fc.integer({ min: 0, max: VM_COUNT - 1 })).map(([operation, vm]) => new OperateCommand(operation, vm)),
    fc.integer({ min: 1, max: 200_000 }).map((ns) => new WaitCommand(ns)),
  ],
  { maxCommands: 30 },
);

/**
 * Runs one command sequence: two VMs that never stop on their own (one computes, one sleeps in
 * hlt between timer ticks, so running and blocked both occur), none started.
 */
export function runLifecycle(commands: Iterable<fc.Command<LifecycleModel, LifecycleReal>>): void {
  const events: SimEvent[] = [];
  const scenario = testScenario(
    [
      guestVm('vm0', 'spin:\n  work 1000\n  jmp spin\n', { autostart: false }),
      guestVm('vm1', '_start:\n  movi r1, ivt\n  csrw ivt, r1\n  movi r1, 50000\n  out PORT_TIMER_PERIOD, r1\n  sti\nidle:\n  hlt\n  jmp idle\ntick:\n  movi r1, 0\n  out PORT_PIC_EOI, r1\n  iret\nivt:\n  .space 32\n  .word tick\n  .space 31\n', { autostart: false }),
    ],
    { run: { timeNs: 1_000_000_000, instructions: undefined, checkpointEvery: 10_000 } },
  );
  const simulation = new SimulationClass({ scenario, sink: (event) => events.push(event) });
  simulation.runUntilTime(0);
  fc.modelRun(() => ({ model: { states: new Array(VM_COUNT).fill('defined') }, real: { simulation, events, now: 0 } }), commands);
}

/** The lifecycle property, for fc.assert. */
export const lifecycleProperty = fc.property(lifecycleCommands, (commands) => runLifecycle(commands));
