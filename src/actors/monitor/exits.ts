/**
 * The exit handlers: what the monitor does with each exit a vCPU publishes (I/O, MMIO, hlt,
 * hypercalls, trapped privileged instructions, page faults outside a paging guest, exceptions),
 * and the stops the CPU handles without an exit (a hardware-assisted guest's own exceptions, the
 * end of interrupt under APIC virtualization, a passthrough device's registers). Each handler
 * emulates, then resumes the vCPU (resumeAfterExit), takes it off its CPU, or crashes its VM.
 */
import type { EventOf, ExitTable } from '../../core/events.js';
import { Mode, OPCODE_INFO, Vector } from '../../core/isa/opcodes.js';
import { CONSOLE_WRITE_LIMIT, Hypercall, HYPERCALL_UNKNOWN, HYPERCALL_VERSION, Port } from '../../core/platform.js';
import { NS_PER_US } from '../../core/time.js';
import { Stop } from '../vcpu/cpuState.js';
import { enterHandler, executePrivileged } from '../vcpu/interpreter.js';
import type { Vcpu } from '../vcpu/vcpu.js';
import { Entry, VECTOR_NAMES, type MonitorCore, type Pcpu } from './core.js';
import type { HostOs } from './hostOs.js';
import type { Interrupts } from './interrupts.js';
import type { MemoryVirtualization } from './memoryVirtualization.js';
import { accessDirectly, isDirectAccess } from './passthrough.js';

/** Opcodes by mnemonic: a trapped privileged instruction's record names it. */
const OPCODE_OF = new Map([...OPCODE_INFO].map(([opcode, info]) => [info.mnemonic, opcode]));

export class ExitHandlers {
  /**
   * What the monitor does with each exit: one handler per reason, each reading the exit record
   * (the event) and the state of the vCPU and VM it emulates on, never the CPU's stop fields.
   */
  readonly table: ExitTable = {
    io: (exit) => this.onIo(exit),
    mmio: (exit) => this.onMmio(exit),
    hlt: (exit) => this.onHlt(exit),
    hypercall: (exit) => this.onHypercall(exit),
    privileged: (exit) => this.onPrivileged(exit),
    'page-fault': (exit) => this.onPageFault(exit),
    exception: (exit) => this.onException(exit),
    shutdown: (exit) => this.onShutdown(exit),
    preempt: (exit) => this.onPreempt(exit),
    interrupt: (exit) => this.onInterrupt(exit),
  };

  constructor(
    private readonly core: MonitorCore,
    private readonly interrupts: Interrupts,
    private readonly memory: MemoryVirtualization,
    private readonly host: HostOs,
  ) {}

  /**
   * A stop the CPU handles itself, with no exit: an end of interrupt under APIC virtualization
   * (posted interrupts), or an access to a passthrough device's register. Returns false for a
   * stop that is an exit. `interrupted`: the line of an interrupt that cut the batch, or -1.
   */
  withoutExit(pcpu: Pcpu, vcpu: Vcpu, interrupted: number): boolean {
    const core = this.core;
    const cpu = vcpu.cpu;
    if (cpu.stop !== Stop.IO) return false;
    const vm = core.vmOf(vcpu);
    const now = core.kernel.now;
    const costs = core.costs;
    if (cpu.stopA === Port.PIC_EOI && cpu.stopB === 1 && vm.options.postedInterrupts === true) {
      // APIC virtualization (APICv) comes with posted interrupts: the guest's end of interrupt
      // is handled by the CPU on the virtual controller, without an exit.
      vm.io.writePort(Port.PIC_EOI, cpu.stopC);
      cpu.pc += 4;
      vcpu.counters.completed++;
      vcpu.counters.cpuNs += costs.postedInterruptNs;
      core.schedule(pcpu, Entry.ENTER, now + costs.postedInterruptNs);
      return true;
    }
    if (!isDirectAccess(vm, cpu.stopA)) return false;
    // A passthrough device: no exit, the guest goes on after the access (see passthrough.ts).
    const accessNs = accessDirectly(vm, vcpu, costs);
    if (interrupted >= 0) {
      // ... unless an interrupt arrived meanwhile: its exit comes at the end of the access.
      pcpu.exitAtEntry = interrupted;
      pcpu.exitAtEntryGeneration = pcpu.generation;
    }
    core.schedule(pcpu, Entry.ENTER, now + accessNs);
    return true;
  }

  /**
   * Hardware-assisted virtualization: the CPU delivers a guest exception through the guest's own
   * vector table, with no exit. A fault the guest cannot take (no handler, or a fault in kernel
   * mode other than a syscall) is a triple fault: the CPU shuts down, which exits (KVM's
   * KVM_EXIT_SHUTDOWN) and the monitor crashes the VM.
   */
  deliverNatively(pcpu: Pcpu, vcpu: Vcpu): void {
    const core = this.core;
    const vm = core.vmOf(vcpu);
    const cpu = vcpu.cpu;
    const vector = cpu.stopA;
    const inKernel = cpu.mode === Mode.KERNEL && vector !== Vector.SYSCALL;
    if (!inKernel && enterHandler(cpu, vector, cpu.stopC, cpu.stopB, (address) => core.readGuest(vm, address))) {
      vm.nativeExceptions++;
      if (vector === Vector.SYSCALL) vcpu.counters.completed++;
      core.schedule(pcpu, Entry.ENTER, core.kernel.now);
      return;
    }
    const name = VECTOR_NAMES[vector] ?? `vector ${vector}`;
    const reason = `triple fault: ${name} in ${inKernel ? 'kernel' : 'user'} mode${inKernel ? '' : ' with no handler installed'}`;
    vcpu.recordExit('shutdown');
    core.bus.publish(vcpu.id, 'exit.shutdown', { pc: cpu.pc, reason });
  }

  /** The CPU shut down (a triple fault): the monitor crashes the VM (KVM_EXIT_SHUTDOWN). */
  onShutdown(exit: EventOf<'exit.shutdown'>): void {
    const vcpu = this.core.vcpuOf(exit.src);
    this.core.crash(this.core.vmOf(vcpu), vcpu, exit.data.reason);
  }

  /**
   * The vCPU was preempted: its slice ended and the scheduler gave the CPU to another, or (Type 2,
   * `by: host`) the host's own process took the CPU until its burst ends.
   */
  onPreempt(exit: EventOf<'exit.preempt'>): void {
    const core = this.core;
    const vcpu = core.vcpuOf(exit.src);
    const pcpu = core.pcpus[exit.data.pcpu];
    const now = core.kernel.now;
    if (exit.data.by === 'host') this.host.preempted(pcpu, vcpu);
    else core.release(pcpu, vcpu, core.costs.exitNs);
    if (vcpu.preempt(now)) core.enqueue(vcpu, now, 'preempt');
    core.kick();
  }

  /**
   * An external-interrupt exit: the interrupt arrived on the physical CPU while it ran the guest,
   * so the CPU left the guest; the monitor re-enters, injecting the line at entry. (With posted
   * interrupts the CPU delivers it to the guest and there is no exit.)
   */
  onInterrupt(exit: EventOf<'exit.interrupt'>): void {
    this.core.resumeAfterExit(this.core.vcpuOf(exit.src), 0);
  }

  onIo(event: EventOf<'exit.io'>): void {
    const core = this.core;
    const vcpu = core.vcpuOf(event.src);
    const vm = core.vmOf(vcpu);
    const cpu = vcpu.cpu;
    cpu.pc += 4;
    vcpu.counters.completed++;
    if (event.data.dir === 'in') {
      cpu.regs[(event.data.reg as number) & 7] = vm.io.readPort(event.data.port);
    } else if (event.data.port === Port.IPI_SEND) {
      // The vCPU's local interrupt controller: the monitor emulates the send (an APIC ICR write).
      this.interrupts.sendIpi(vm, vcpu, event.data.value as number);
    } else {
      vm.io.writePort(event.data.port, event.data.value as number);
      if (event.data.port === Port.POWER) return;
    }
    const balloonNs = event.data.port === Port.BALLOON_GIVE ? core.costs.balloonPageNs : 0;
    if (vcpu.state === 'running') core.resumeAfterExit(vcpu, core.costs.ioEmulateNs + this.host.ioNs(vm) + balloonNs);
  }

  onMmio(event: EventOf<'exit.mmio'>): void {
    const core = this.core;
    const vcpu = core.vcpuOf(event.src);
    const vm = core.vmOf(vcpu);
    const cpu = vcpu.cpu;
    cpu.pc += 4;
    vcpu.counters.completed++;
    if (event.data.dir === 'read') cpu.regs[(event.data.reg as number) & 7] = vm.io.readMmio(event.data.addr);
    else vm.io.writeMmio(event.data.addr, event.data.value as number);
    if (vcpu.state === 'running') core.resumeAfterExit(vcpu, core.costs.mmioEmulateNs + this.host.ioNs(vm));
  }

  onHlt(event: EventOf<'exit.hlt'>): void {
    const core = this.core;
    const costs = core.costs;
    const vcpu = core.vcpuOf(event.src);
    const vm = core.vmOf(vcpu);
    const now = core.kernel.now;
    const pcpu = core.pcpus[vcpu.pcpu];
    vcpu.cpu.pc += 4;
    vcpu.counters.completed++;
    if (event.data.ie) {
      if (this.interrupts.deliverable(vm, vcpu) >= 0) {
        // An interrupt is already waiting: hlt returns at once, and entry injects it.
        core.resumeAfterExit(vcpu, costs.privilegedEmulateNs);
        return;
      }
      core.release(pcpu, vcpu, costs.exitNs + costs.privilegedEmulateNs);
      vcpu.block();
      if (vm.state === 'running' && vm.allBlocked()) vm.command('BLOCK', () => core.bus.publish(vm.id, 'vm.blocked', {}));
      return;
    }
    // hlt with interrupts off: nothing can wake this vCPU again.
    core.release(pcpu, vcpu, costs.exitNs + costs.privilegedEmulateNs);
    vcpu.halt(now);
    if (vm.allHalted()) core.powerOff(vm, 'every vCPU halted with interrupts disabled');
  }

  onHypercall(event: EventOf<'exit.hypercall'>): void {
    const core = this.core;
    const costs = core.costs;
    const vcpu = core.vcpuOf(event.src);
    const vm = core.vmOf(vcpu);
    const cpu = vcpu.cpu;
    cpu.pc += 4;
    vcpu.counters.completed++;
    let handlingNs = costs.hypercallNs;
    switch (event.data.nr) {
      case Hypercall.VERSION:
        cpu.regs[1] = HYPERCALL_VERSION;
        break;
      case Hypercall.CONSOLE_PUTC:
        vm.io.writePort(Port.CONSOLE_DATA, event.data.args[0]);
        handlingNs += this.host.ioNs(vm);
        break;
      case Hypercall.CONSOLE_WRITE: {
        // A paravirtual console: the whole string in one exit, read from guest memory.
        const [address, length] = event.data.args;
        const count = Math.max(0, Math.min(length, CONSOLE_WRITE_LIMIT));
        const bufferWord = core.options.parts?.hypercallBufferWord;
        let written = 0;
        for (; written < count; written++) {
          const value = bufferWord === undefined ? core.readGuest(vm, address + written) : bufferWord(vm, address, written);
          if (value === undefined) break;
          vm.io.writePort(Port.CONSOLE_DATA, value);
        }
        cpu.regs[1] = written;
        handlingNs += this.host.ioNs(vm) + written * costs.instructionNs;
        break;
      }
      case Hypercall.SET_TIMER:
        vm.io.writePort(Port.TIMER_PERIOD, event.data.args[0]);
        break;
      case Hypercall.POWER_OFF:
        core.powerOff(vm, 'the guest asked the monitor to power off');
        return;
      case Hypercall.YIELD: {
        const now = core.kernel.now;
        core.release(core.pcpus[vcpu.pcpu], vcpu, costs.exitNs + costs.hypercallNs);
        if (vcpu.preempt(now)) core.enqueue(vcpu, now, 'yield');
        core.kick();
        return;
      }
      case Hypercall.TIME_US:
        cpu.regs[1] = Math.floor(core.kernel.now / NS_PER_US) & 0x7fff_ffff;
        break;
      default:
        cpu.regs[1] = HYPERCALL_UNKNOWN;
    }
    core.resumeAfterExit(vcpu, handlingNs);
  }

  onPrivileged(event: EventOf<'exit.privileged'>): void {
    const core = this.core;
    const vcpu = core.vcpuOf(event.src);
    const cpu = vcpu.cpu;
    const address = cpu.pc;
    const vm = core.vmOf(vcpu);
    const a = this.memory.readVirtual(vcpu, address + 1) ?? 0;
    const b = this.memory.readVirtual(vcpu, address + 2) ?? 0;
    const opcode = OPCODE_OF.get(event.data.op) ?? Number(event.data.op);
    if (!executePrivileged(cpu, opcode, a, b)) {
      core.crash(vm, vcpu, `cannot emulate privileged opcode ${opcode}`);
      return;
    }
    vcpu.counters.completed++;
    core.resumeAfterExit(vcpu, core.costs.privilegedEmulateNs);
  }

  onPageFault(event: EventOf<'exit.page-fault'>): void {
    // The page faults of a paging guest are handled where they are published (pagingFault).
    if (event.data.cause !== undefined) return;
    const core = this.core;
    const vcpu = core.vcpuOf(event.src);
    const { addr, access } = event.data;
    core.crash(core.vmOf(vcpu), vcpu, `${access} of guest-physical address 0x${(addr >>> 0).toString(16)} outside the VM's memory (EPT violation)`);
  }

  onException(event: EventOf<'exit.exception'>): void {
    const core = this.core;
    if (core.options.parts?.exits?.exception?.(core, event) === true) return;
    const vcpu = core.vcpuOf(event.src);
    const vm = core.vmOf(vcpu);
    const cpu = vcpu.cpu;
    const { vector, code, resumePc } = event.data;
    const name = VECTOR_NAMES[vector] ?? `vector ${vector}`;
    // A fault raised by the guest kernel itself (other than a syscall) is fatal, as a triple
    // fault is on hardware: the monitor does not second-guess a broken kernel.
    if (event.data.mode === 'kernel' && vector !== Vector.SYSCALL) {
      core.crash(vm, vcpu, `${name} in kernel mode at pc 0x${(event.data.pc >>> 0).toString(16)}`);
      return;
    }
    if (!enterHandler(cpu, vector, resumePc, code, (address) => core.readGuest(vm, address))) {
      core.crash(vm, vcpu, `${name} in ${event.data.mode} mode with no handler installed`);
      return;
    }
    vcpu.counters.exceptions++;
    if (vector === Vector.SYSCALL) vcpu.counters.completed++;
    core.bus.publish(vcpu.id, 'exception.inject', { vector, pc: cpu.pc });
    core.resumeAfterExit(vcpu, core.costs.exceptionReflectNs);
  }
}
