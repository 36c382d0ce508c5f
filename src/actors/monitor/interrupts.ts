/**
 * Interrupt delivery. Device lines go through the VM's interrupt controller to vCPU 0; an
 * inter-processor interrupt (Port.IPI_SEND) is pending on the vCPU it was sent to alone. A
 * pending line reaches a vCPU:
 *
 *   blocked in hlt           it is woken (Type 2: the host scheduler wakes its thread later)
 *   running guest code       its batch is cut at the arrival, and the line is taken then: through
 *                            an external-interrupt exit (`exit.interrupt`), or, with posted
 *                            interrupts, by the CPU without one (`irq.posted`)
 *   in the monitor           injected when it re-enters
 *
 * At each entry the lowest deliverable line is injected if the guest has interrupts on
 * (`irq.inject`; `interruptInjectNs`, or `postedInterruptNs` when the CPU delivers it).
 */
import type { EventOf } from '../../core/events.js';
import { Vector } from '../../core/isa/opcodes.js';
import { Irq } from '../../core/platform.js';
import { enterHandler } from '../vcpu/interpreter.js';
import { hostedVm } from './hostOs.js';
import type { Vcpu } from '../vcpu/vcpu.js';
import type { Vm } from '../vm.js';
import { Entry, type MonitorCore } from './core.js';

export class Interrupts {
  constructor(private readonly core: MonitorCore) {}

  /** A device raised a line of its VM's controller (`irq.raise`). */
  onIrq(event: EventOf<'irq.raise'>): void {
    const core = this.core;
    const from = core.vmOfDevice(event.src);
    if (from === undefined) return;
    // A line the driver domain delivers: dom0's backend must run for it first (backend.ts).
    const backend = core.options.backend;
    if (backend !== undefined && (from.pic.diverted & (1 << event.data.line)) !== 0) {
      backend.enqueue(from.name, event.data.line);
      return;
    }
    const route = core.options.parts?.routeInterrupt;
    const vm = route === undefined ? from : route(core.vms, from, event.data.line);
    // The line goes to the vCPU it is routed to (vCPU 0 unless the guest routed it).
    this.signal(vm, vm.vcpus[vm.pic.routeOf(event.data.line)] ?? vm.bsp, event.data.line);
  }

  /** dom0's backend finished a completion (`backend.done`): the guest's line is latched and delivered now. */
  onBackendDone(event: EventOf<'backend.done'>): void {
    const vm = this.core.vms.find((candidate) => candidate.name === event.data.vm);
    if (vm === undefined) return;
    vm.pic.latch(event.data.line);
    this.signal(vm, vm.vcpus[vm.pic.routeOf(event.data.line)] ?? vm.bsp, event.data.line);
  }

  /** An inter-processor interrupt from one vCPU to another of the same VM (an index outside the VM is dropped). */
  sendIpi(vm: Vm, from: Vcpu, index: number): void {
    // An index outside the VM reads undefined.
    const to: Vcpu | undefined = vm.vcpus[index];
    if (to === undefined || to.state === 'created' || to.state === 'halted' || to.state === 'crashed') return;
    to.localPending |= 1 << Irq.IPI;
    this.core.bus.publish(from.id, 'irq.ipi', { to: index });
    this.signal(vm, to, Irq.IPI);
  }

  /** The line, among those pending for this vCPU (its own, and the VM's device lines routed to it), to inject next, or -1. */
  deliverable(vm: Vm, vcpu: Vcpu): number {
    const device = vm.pic.deliverable(vcpu.index);
    const local = vcpu.localPending;
    if (local === 0) return device;
    const line = 31 - Math.clz32(local & -local);
    return device >= 0 && device < line ? device : line;
  }

  /**
   * At entry: injects the next deliverable line if the guest has interrupts on. Returns the time
   * the injection takes (0 when there was none), or -1 when the VM crashed (no handler).
   */
  injectAtEntry(vm: Vm, vcpu: Vcpu): number {
    if (vcpu.cpu.ie === 0) return 0;
    const line = this.deliverable(vm, vcpu);
    if (line < 0) return 0;
    const core = this.core;
    const vector = Vector.IRQ_BASE + line;
    if (!enterHandler(vcpu.cpu, vector, vcpu.cpu.pc, line, (address) => core.readGuest(vm, address))) {
      core.crash(vm, vcpu, `interrupt on vector ${vector} with no handler installed`);
      return -1;
    }
    if ((vcpu.localPending & (1 << line)) !== 0) vcpu.localPending &= ~(1 << line);
    else vm.pic.acknowledge(line);
    vcpu.counters.interrupts++;
    // Posted interrupts: the CPU delivers it (virtual-interrupt delivery); otherwise the monitor injects it.
    const injectNs = vm.options.postedInterrupts === true ? core.costs.postedInterruptNs : core.costs.interruptInjectNs;
    vcpu.counters.overheadNs += injectNs;
    core.bus.publish(vcpu.id, 'irq.inject', { vector, line });
    return injectNs;
  }

  /** A line is pending for a vCPU: cut its batch if it runs guest code, or wake it if it waits in hlt. */
  signal(vm: Vm, vcpu: Vcpu, line: number): void {
    const core = this.core;
    if (vcpu.state === 'running' && vcpu.pcpu >= 0) {
      const pcpu = core.pcpus[vcpu.pcpu];
      // Raised while the monitor handles one of this vCPU's exits: injected when it re-enters.
      if (!pcpu.inBatch || pcpu.current !== vcpu) return;
      // It arrives while the vCPU runs guest code, in a batch that may run past now: cut the batch
      // here (or at its very start, if it starts later, after an injection) so it is taken now.
      // (The batch was checkpointed before any injection, so the rerun sees the same ie.)
      core.truncate(pcpu, Math.max(core.kernel.now, pcpu.batchStart));
      if (vm.options.postedInterrupts === true) core.bus.publish(vcpu.id, 'irq.posted', { line });
      else if (pcpu.interruptLine < 0) pcpu.interruptLine = line;
      return;
    }
    // Whether it can take the line is wake's to decide (when the host wakes its thread, for Type 2).
    if (vcpu.state !== 'blocked') return;
    if (hostedVm(core.options, vm)) {
      // The vCPU is a host thread asleep in the kernel: the host scheduler wakes it, later.
      core.kernel.schedule(core.kernel.now + core.costs.hostWakeNs, core.target, Entry.HOST_WAKE, vcpu.key);
      return;
    }
    this.wake(vcpu);
  }

  /** Wakes a vCPU blocked in hlt that has a line to take. */
  wake(vcpu: Vcpu): void {
    const core = this.core;
    const vm = core.vmOf(vcpu);
    if (vcpu.state !== 'blocked' || vcpu.cpu.ie === 0 || this.deliverable(vm, vcpu) < 0) return;
    const now = core.kernel.now;
    if (!vcpu.wake(now)) return;
    if (vm.state === 'blocked') vm.command('UNBLOCK', () => core.bus.publish(vm.id, 'vm.unblocked', {}));
    core.enqueue(vcpu, now, 'wake');
    core.kick();
  }

  /** An external-interrupt exit (handled by ExitHandlers.onInterrupt, from the bus). */
  interruptExit(vcpu: Vcpu, line: number): void {
    vcpu.publishInterruptExit(line);
  }
}
