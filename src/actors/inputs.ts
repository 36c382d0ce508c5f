/**
 * Applies inputs from outside the simulation at their virtual times: console text typed to a
 * guest, and injected faults (a device error, a device reset, a vCPU stall). Each is published
 * as an input record (`input.console`, `input.fault`) before it takes effect, so the log holds
 * everything that came from outside and replay can feed the same inputs again.
 */
import type { EventBus } from '../core/bus.js';
import type { Kernel } from '../core/kernel.js';
import type { InputSpec, MigrateSpec, StopInput, UntimedInput } from '../core/scenario/inputs.js';
import type { Monitor } from './monitor/monitor.js';
import type { Vm } from './vm.js';
import type { VmSaver } from './saver.js';

export class InputDriver {
  private readonly target: number;
  private readonly inputs: (InputSpec | StopInput)[] = [];

  constructor(
    private readonly kernel: Kernel,
    private readonly bus: EventBus,
    private readonly monitor: Monitor,
    private readonly vms: ReadonlyMap<string, Vm>,
    scheduled: readonly (InputSpec | StopInput)[],
    private readonly saver: VmSaver,
    /** Moves a VM to a cpupool (the simulation's, when the scenario has cpupools). */
    private readonly cpupools?: (vm: Vm, pool: string) => void,
    /** Migrates a VM live to another host (the simulation's; refused without several hosts). */
    private readonly migrate?: (vm: Vm, spec: MigrateSpec) => void,
  ) {
    this.target = kernel.register('inputs', (_kind, index) => this.apply(index));
    for (const input of scheduled) this.add(input);
  }

  /**
   * An input typed in while the run goes on: it applies just after the current instant (1 ns
   * later, before anything else due then), which is where replay will apply it again.
   */
  inject(input: UntimedInput): InputSpec | StopInput {
    const atNs = this.kernel.now + 1;
    const placed = { ...input, atNs } as InputSpec | StopInput;
    this.add(placed);
    return placed;
  }

  /** An input a log recorded, applied at its recorded time (replay). */
  addRecorded(input: InputSpec | StopInput): void {
    this.add(input);
  }

  private add(input: InputSpec | StopInput): void {
    if (input.kind !== 'stop' && !this.vms.has(input.vm)) throw new RangeError(`input for unknown VM '${input.vm}'`);
    if (input.kind === 'vcpu-stall' && (this.vms.get(input.vm) as Vm).vcpus[input.vcpu] === undefined) {
      throw new RangeError(`VM '${input.vm}' has no vCPU ${input.vcpu}`);
    }
    this.inputs.push(input);
    this.kernel.scheduleInput(input.atNs, this.target, 0, this.inputs.length - 1);
  }

  private apply(index: number): void {
    const input = this.inputs[index];
    if (input.kind === 'stop') {
      this.bus.publish('host', 'input.stop', {});
      this.monitor.stopRun();
      return;
    }
    const vm = this.vms.get(input.vm) as Vm;
    switch (input.kind) {
      case 'console':
        this.bus.publish(vm.console.id, 'input.console', { text: input.text });
        if (vm.console.ready) vm.console.type(input.text);
        return;
      case 'device-error':
      case 'device-reset': {
        const device = input.device === 'console' ? vm.console : vm.timer;
        this.bus.publish(device.id, 'input.fault', { fault: input.kind, target: device.id, durationNs: 0 });
        if (input.kind === 'device-error') device.fail();
        else device.reset();
        return;
      }
      case 'balloon':
        this.bus.publish(vm.balloon.id, 'input.balloon', { pages: input.pages });
        this.monitor.setBalloonTarget(vm, input.pages);
        return;
      case 'save':
        this.bus.publish(vm.id, 'input.save', { file: input.file });
        this.saver.save(vm, input.file);
        return;
      case 'cpupool':
        this.bus.publish(vm.id, 'input.cpupool', { pool: input.pool });
        this.cpupools?.(vm, input.pool);
        return;
      case 'migrate': {
        const spec: MigrateSpec = { to: input.to, mode: input.mode, downtimeLimitNs: input.downtimeLimitNs, maxRounds: input.maxRounds, bandwidth: input.bandwidth, autoConverge: input.autoConverge };
        this.bus.publish(vm.id, 'input.migrate', spec);
        this.migrate?.(vm, spec);
        return;
      }
      case 'vcpu-stall': {
        const vcpu = vm.vcpus[input.vcpu];
        this.bus.publish(vcpu.id, 'input.fault', { fault: 'vcpu-stall', target: vcpu.id, durationNs: input.durationNs });
        this.monitor.stall(vcpu, input.durationNs);
        return;
      }
    }
  }
}

/** The inputs a log recorded (its input records), in the form a Simulation takes. */
export function inputsFromEvents(
  events: Iterable<{ readonly t: number; readonly src: string; readonly type: string; readonly data: unknown }>,
): (InputSpec | StopInput)[] {
  const inputs: (InputSpec | StopInput)[] = [];
  for (const event of events) {
    if (event.type === 'input.stop') inputs.push({ kind: 'stop', atNs: event.t });
    if (event.type === 'input.console') {
      const vm = vmOfSource(event.src);
      inputs.push({ kind: 'console', atNs: event.t, vm, text: (event.data as { text: string }).text });
    } else if (event.type === 'input.save') {
      inputs.push({ kind: 'save', atNs: event.t, vm: vmOfSource(event.src), file: (event.data as { file: string }).file });
    } else if (event.type === 'input.cpupool') {
      inputs.push({ kind: 'cpupool', atNs: event.t, vm: vmOfSource(event.src), pool: (event.data as { pool: string }).pool });
    } else if (event.type === 'input.migrate') {
      inputs.push({ kind: 'migrate', atNs: event.t, vm: vmOfSource(event.src), ...(event.data as MigrateSpec) });
    } else if (event.type === 'input.balloon') {
      inputs.push({ kind: 'balloon', atNs: event.t, vm: vmOfSource(event.src), pages: (event.data as { pages: number }).pages });
    } else if (event.type === 'input.fault') {
      const data = event.data as { fault: InputSpec['kind']; target: string; durationNs: number };
      const vm = vmOfSource(event.src);
      if (data.fault === 'vcpu-stall') {
        inputs.push({ kind: 'vcpu-stall', atNs: event.t, vm, vcpu: Number(data.target.split('/').at(-1)), durationNs: data.durationNs });
      } else if (data.fault === 'device-error' || data.fault === 'device-reset') {
        inputs.push({ kind: data.fault, atNs: event.t, vm, device: data.target.endsWith('/timer') ? 'timer' : 'console' });
      }
    }
  }
  return inputs;
}

function vmOfSource(src: string): string {
  return src.split('/')[1];
}
