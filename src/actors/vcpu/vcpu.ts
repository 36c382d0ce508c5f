/**
 * The vCPU actor: its architectural state (CpuState), its lifecycle machine, and its counters.
 * It runs guest code in batches (interpreter.ts) when the monitor dispatches it, and publishes
 * its exits and lifecycle changes as facts on the bus.
 */
import type { EventBus } from '../../core/bus.js';
import { EXIT_REASONS, type ExitReason, type VcpuState } from '../../core/events.js';
import { Csr, Mode, OPCODE_INFO } from '../../core/isa/opcodes.js';
import { Lifecycle } from '../../machines/lifecycle.js';
import { RUN_TRANSITIONS, vcpuMachine, type VcpuCommand, type VcpuLifecycleCommand, type VcpuLifecycleState, type VcpuRunCommand, type VcpuRunState } from '../../machines/vcpuMachine.js';
import type { SchedEntity } from '../scheduler/policy.js';
import type { AffinitySpec } from '../../core/scenario/schema.js';
import type { Mmu } from '../paging.js';
import { CpuState, Stop } from './cpuState.js';
import { execute } from './interpreter.js';
import type { GuestPhysicalMap } from '../../core/memory.js';

export interface VcpuCounters {
  /** ns spent running guest code on a physical CPU. */
  cpuNs: number;
  /** ns spent runnable but waiting for a physical CPU. */
  waitNs: number;
  /** ns the monitor spent on this vCPU's behalf (exits, emulation, switches). */
  overheadNs: number;
  readonly exits: Record<ExitReason, number>;
  interrupts: number;
  dispatches: number;
  /** Exceptions (faults, syscalls) the monitor reflected into the guest (`exception.inject`). */
  exceptions: number;
  /**
   * Guest instructions completed outside the batch loop: emulated by the monitor after an exit
   * (io, mmio, hlt, hypercall, privileged, a page-table write), done by the CPU on an assigned
   * device or APIC, or a syscall delivered to the guest's handler. With `cpu.retired` (the
   * instructions the vCPU ran itself) they make the count a bare machine would retire, the same
   * whatever the technique.
   */
  completed: number;
}

/** The exit reason of each interpreter stop code (Stop.*), for `lastExitReason`. */
const STOP_REASONS: readonly (ExitReason | '')[] = ['', 'io', 'mmio', 'hlt', 'hypercall', 'privileged', 'page-fault', 'exception'];

export class Vcpu implements SchedEntity {
  readonly cpu = new CpuState();
  /** Its lifecycle (created, online, paused, halted, crashed): an xstate machine. */
  readonly lifecycle = new Lifecycle<VcpuLifecycleState, VcpuLifecycleCommand>(vcpuMachine);
  /**
   * Its run state while online (runnable, running, blocked): plain data, as Xen's runstate, since
   * it changes at every dispatch, preemption, block and wake (vcpuMachine.ts says why).
   */
  runState: VcpuRunState = 'runnable';
  readonly id: string;
  /** Physical CPU it runs on, or -1. */
  pcpu = -1;
  /** The translation the next batch runs on: the VM's guest-physical map, or a TLB when the guest pages. */
  translation: Int32Array;
  /** The same for stores: -1 where a page may be read but not written. */
  writeTranslation: Int32Array;
  /** Its MMU (TLBs), once the guest turns paging on. */
  mmu: Mmu | undefined;
  /** When it last became runnable (for wait time). */
  runnableSince = 0;
  readonly counters: VcpuCounters = {
    cpuNs: 0,
    waitNs: 0,
    overheadNs: 0,
    exits: Object.fromEntries(EXIT_REASONS.map((reason) => [reason, 0])) as Record<ExitReason, number>,
    interrupts: 0,
    dispatches: 0,
    exceptions: 0,
    completed: 0,
  };
  /** The last exit: its reason ('' before any), the pc the exit event reports and the mode then. */
  /**
   * Interrupt lines pending for this vCPU alone (its local APIC: inter-processor interrupts), as a
   * bit mask; the VM's interrupt controller holds the device lines, which go to vCPU 0.
   */
  localPending = 0;
  lastExitReason: ExitReason | '' = '';
  lastExitPc = -1;
  lastExitMode: number = Mode.KERNEL;
  /** The seq of the `vcpu.runnable` event that last made it runnable (run-queue order). */
  runnableSeq = -1;
  /**
   * Restored from an image in which it was the last vCPU to run on its physical CPU: its first
   * dispatch costs no context switch, as the unsaved run's next one would not (vmImage.ts).
   */
  warmStart = false;
  /** Hard and soft affinity from the scenario (absent: anywhere). */
  affinity: AffinitySpec | undefined = undefined;

  constructor(
    readonly vm: string,
    readonly index: number,
    readonly key: number,
    public params: Readonly<Record<string, number>>,
    private readonly memory: GuestPhysicalMap,
    private readonly bus: EventBus,
  ) {
    this.id = `vm/${vm}/vcpu/${index}`;
    this.translation = memory.pageBase;
    this.writeTranslation = memory.writeBase;
  }

  /** What it is doing: its lifecycle state, or its run state while online. */
  get state(): VcpuState {
    const lifecycle = this.lifecycle.state;
    return lifecycle === 'online' ? this.runState : lifecycle;
  }

  /** Sets the reset state: entry point, kernel mode, interrupts off, sp at the top of memory. */
  reset(entry: number): void {
    const cpu = this.cpu;
    this.localPending = 0;
    cpu.regs.fill(0);
    cpu.csr.fill(0);
    cpu.pc = entry;
    cpu.mode = Mode.KERNEL;
    cpu.ie = 0;
    cpu.regs[0] = this.index;
    cpu.regs[7] = this.memory.sizeWords;
    cpu.csr[Csr.VCPU] = this.index;
  }

  /** Runs guest code for at most budgetNs. */
  run(
    budgetNs: number,
    instructionNs: number,
    trapMask: Uint8Array,
    nativePrivilegedNs = instructionNs,
    translated: Uint8Array | null = null,
    translatePageNs = 0,
  ): number {
    return execute(this.cpu, this.memory.host.words, this.translation, this.writeTranslation, budgetNs, instructionNs, trapMask, nativePrivilegedNs, translated, translatePageNs);
  }

  /** Publishes the exit the last run stopped on (not BUDGET). */
  publishExit(): void {
    const cpu = this.cpu;
    const pc = cpu.pc;
    const reason = STOP_REASONS[cpu.stop];
    if (reason === undefined || reason === '') throw new Error(`vCPU ${this.id} has no exit to publish (stop ${cpu.stop})`);
    this.recordExit(reason);
    switch (cpu.stop) {
      case Stop.IO:
        this.bus.publish(this.id, 'exit.io', {
          pc,
          port: cpu.stopA,
          dir: cpu.stopB === 0 ? 'in' : 'out',
          value: cpu.stopB === 0 ? null : cpu.stopC,
          reg: cpu.stopB === 0 ? cpu.stopC : null,
        });
        return;
      case Stop.MMIO:
        this.bus.publish(this.id, 'exit.mmio', {
          pc,
          addr: cpu.stopA,
          dir: cpu.stopB === 0 ? 'read' : 'write',
          value: cpu.stopB === 0 ? null : cpu.stopC,
          reg: cpu.stopB === 0 ? cpu.stopC : null,
        });
        return;
      case Stop.HLT:
        this.bus.publish(this.id, 'exit.hlt', { pc, ie: cpu.stopA !== 0 });
        return;
      case Stop.HYPERCALL:
        this.bus.publish(this.id, 'exit.hypercall', { pc, nr: cpu.stopA, args: [cpu.regs[1], cpu.regs[2], cpu.regs[3]] });
        return;
      case Stop.PRIVILEGED:
        this.bus.publish(this.id, 'exit.privileged', {
          pc,
          op: OPCODE_INFO.get(cpu.stopA)?.mnemonic ?? String(cpu.stopA),
          mode: cpu.mode === Mode.USER ? 'user' : 'kernel',
        });
        return;
      case Stop.PAGE_FAULT:
        this.bus.publish(this.id, 'exit.page-fault', {
          pc,
          addr: cpu.stopA,
          access: cpu.stopB === 0 ? 'read' : cpu.stopB === 1 ? 'write' : 'fetch',
        });
        return;
      case Stop.EXCEPTION:
        this.bus.publish(this.id, 'exit.exception', { pc, vector: cpu.stopA, mode: cpu.mode === Mode.USER ? 'user' : 'kernel', code: cpu.stopB, resumePc: cpu.stopC });
        return;
    }
  }

  /** A preemption: the slice ended (the scheduler's), or the host OS's process took the CPU (`host`). */
  publishPreempt(pcpu: number, ranNs: number, byHost = false): void {
    this.recordExit('preempt');
    this.bus.publish(this.id, 'exit.preempt', byHost ? { pc: this.cpu.pc, pcpu, ranNs, by: 'host' } : { pc: this.cpu.pc, pcpu, ranNs });
  }

  /** An external-interrupt exit: an interrupt for the VM arrived while this vCPU ran guest code. */
  publishInterruptExit(line: number): void {
    this.recordExit('interrupt');
    this.bus.publish(this.id, 'exit.interrupt', { pc: this.cpu.pc, line });
  }

  /**
   * Counts an exit and makes it the vCPU's last: for the exits the vCPU publishes, and for those
   * the monitor publishes itself (a paging guest's page faults, a triple fault's shutdown).
   */
  recordExit(reason: ExitReason): void {
    this.counters.exits[reason]++;
    this.lastExitReason = reason;
    this.lastExitPc = this.cpu.pc;
    this.lastExitMode = this.cpu.mode;
  }

  // Lifecycle commands. Each returns whether it was allowed; a refusal is published as a fact.

  start(now: number): boolean {
    if (!this.command('START')) return false;
    this.runState = 'runnable';
    this.runnableSince = now;
    this.runnableSeq = this.bus.count;
    this.bus.publish(this.id, 'vcpu.runnable', { reason: 'start' });
    return true;
  }

  /** Starts a vCPU restored from an image that was waiting in `hlt` when saved: it waits again. */
  startBlocked(): boolean {
    if (!this.command('START')) return false;
    this.runState = 'blocked';
    this.bus.publish(this.id, 'vcpu.blocked', { pc: this.cpu.pc });
    return true;
  }

  dispatch(pcpu: number, now: number): boolean {
    if (!this.runCommand('DISPATCH')) return false;
    this.counters.waitNs += now - this.runnableSince;
    this.counters.dispatches++;
    this.pcpu = pcpu;
    this.bus.publish(this.id, 'vcpu.running', { pcpu });
    return true;
  }

  preempt(now: number): boolean {
    if (!this.runCommand('PREEMPT')) return false;
    this.pcpu = -1;
    this.runnableSince = now;
    this.runnableSeq = this.bus.count;
    this.bus.publish(this.id, 'vcpu.runnable', { reason: 'preempt' });
    return true;
  }

  block(): boolean {
    if (!this.runCommand('BLOCK')) return false;
    this.pcpu = -1;
    this.bus.publish(this.id, 'vcpu.blocked', { pc: this.cpu.pc });
    return true;
  }

  wake(now: number): boolean {
    if (!this.runCommand('WAKE')) return false;
    this.runnableSince = now;
    this.runnableSeq = this.bus.count;
    this.bus.publish(this.id, 'vcpu.runnable', { reason: 'wake' });
    return true;
  }

  pause(now: number): boolean {
    const wasRunnable = this.state === 'runnable';
    if (!this.command('PAUSE')) return false;
    if (wasRunnable) this.counters.waitNs += now - this.runnableSince;
    this.pcpu = -1;
    this.bus.publish(this.id, 'vcpu.paused', {});
    return true;
  }

  resume(now: number): boolean {
    if (!this.command('RESUME')) return false;
    this.runState = 'runnable';
    this.runnableSince = now;
    this.runnableSeq = this.bus.count;
    this.bus.publish(this.id, 'vcpu.runnable', { reason: 'resume' });
    return true;
  }

  halt(now: number): boolean {
    const wasRunnable = this.state === 'runnable';
    if (!this.command('HALT')) return false;
    if (wasRunnable) this.counters.waitNs += now - this.runnableSince;
    this.pcpu = -1;
    this.bus.publish(this.id, 'vcpu.halted', { pc: this.cpu.pc });
    return true;
  }

  crash(reason: string, now: number): boolean {
    const wasRunnable = this.state === 'runnable';
    if (this.state === 'halted' || this.state === 'crashed') return false;
    if (!this.command('CRASH')) return false;
    if (wasRunnable) this.counters.waitNs += now - this.runnableSince;
    this.pcpu = -1;
    this.bus.publish(this.id, 'vcpu.crashed', { reason, pc: this.cpu.pc });
    return true;
  }

  /** A lifecycle command, through the machine. */
  private command(type: VcpuLifecycleCommand['type']): boolean {
    const state = this.state;
    if (this.lifecycle.send({ type }) !== undefined) return true;
    this.refuse(type, state);
    return false;
  }

  /** A run-state command: allowed only online, from the run state it needs (RUN_TRANSITIONS). */
  private runCommand(type: VcpuRunCommand['type']): boolean {
    const transition = RUN_TRANSITIONS[type];
    if (this.lifecycle.state === 'online' && this.runState === transition.from) {
      this.runState = transition.to;
      return true;
    }
    this.refuse(type, this.state);
    return false;
  }

  private refuse(type: VcpuCommand['type'], state: VcpuState): void {
    this.bus.publish(this.id, 'vcpu.not-allowed', {
      command: type.toLowerCase(),
      state,
      reason: `a vCPU that is ${state} cannot ${type.toLowerCase()}`,
    });
  }

  /** State for checkpoints. */
  snapshot(): Record<string, unknown> {
    const cpu = this.cpu;
    return {
      state: this.state,
      machine: this.lifecycle.persisted(),
      pcpu: this.pcpu,
      pc: cpu.pc,
      mode: cpu.mode === Mode.USER ? 'user' : 'kernel',
      ie: cpu.ie,
      localPending: this.localPending,
      regs: [...cpu.regs],
      csr: [...cpu.csr],
      workLeftNs: cpu.workLeftNs,
      retired: cpu.retired,
      workNs: cpu.workNs,
      cpuNs: this.counters.cpuNs,
      waitNs: this.counters.waitNs,
      overheadNs: this.counters.overheadNs,
      exits: { ...this.counters.exits },
      interrupts: this.counters.interrupts,
      dispatches: this.counters.dispatches,
      exceptions: this.counters.exceptions,
      lastExit: this.lastExitReason === '' ? null : { reason: this.lastExitReason, pc: this.lastExitPc, mode: this.lastExitMode === Mode.USER ? 'user' : 'kernel' },
      runnableSeq: this.runnableSeq,
    };
  }
}
