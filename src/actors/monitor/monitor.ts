/**
 * The monitor (the hypervisor proper). It owns the physical CPUs and decides which vCPU runs on
 * each (through a SchedulingPolicy), enters vCPUs, injects interrupts at entry, and handles every
 * exit that reaches it on the bus: it emulates trapped privileged instructions, forwards I/O to
 * the VM's devices, reflects guest exceptions, blocks vCPUs on hlt and wakes them on interrupts,
 * and crashes a VM that breaks the rules without touching any other VM.
 *
 * Time on a physical CPU (all entries go through the kernel queue):
 *
 *   DISPATCH ---pick, switch---> ENTER ---guest runs a batch---> STOP
 *   STOP (budget) ---slice left---> ENTER            (the batch was cut by another event)
 *   STOP (budget) ---slice over, others waiting---> exit.preempt ---> DISPATCH
 *   STOP (exit) ---exit.* on the bus---> handler ---> ENTER (resume) | DISPATCH (vCPU left)
 *
 * A batch runs the guest ahead of the clock up to the next queued entry (or the end of its slice,
 * or maxBatchNs), and its stop is handled at the time it happens, so every event is handled in
 * virtual-time order. maxBatchNs is the quantum of temporal decoupling (as in SystemC TLM or
 * QEMU's icount): it bounds how late a vCPU notices something another vCPU did meanwhile.
 */
import type { EventBus } from '../../core/bus.js';
import type { CostModel } from '../../core/costs.js';
import type { EventOf, PageFaultCause } from '../../core/events.js';
import type { Kernel } from '../../core/kernel.js';
import { Csr, Mode, Op, Vector } from '../../core/isa/opcodes.js';
import { DEFAULT_TLB_ENTRIES, GUEST_VIRTUAL_PAGES, Mmu, PTE_PRESENT, PTE_USER, PTE_WRITE, SHADOW_WRITABLE } from '../paging.js';
import { CONSOLE_WRITE_LIMIT, Hypercall, HYPERCALL_UNKNOWN, HYPERCALL_VERSION, Irq, PAGE_MASK, PAGE_SHIFT, Port } from '../../core/platform.js';
import { NS_PER_US } from '../../core/time.js';
import type { PolicyHost, SchedulingPolicy } from '../scheduler/policy.js';
import { Access, Stop } from '../vcpu/cpuState.js';
import { enterHandler, executePrivileged } from '../vcpu/interpreter.js';
import type { Vcpu } from '../vcpu/vcpu.js';
import type { Vm } from '../vm.js';
import { neighbourOf, type Mutation } from '../mutations.js';
import { accessDirectly, isDirectAccess } from './passthrough.js';
import type { MemoryManager } from './hostMemory.js';

const DISPATCH = 0;
const ENTER = 1;
const STOP = 2;
const STALL_END = 3;
const HOST_WAKE = 5;
const HOST_TICK = 6;
/** The policy's tick (arg: the tick generation). */
const TICK = 4;

/** pcpu index and a generation number packed into one queue argument. */
const PCPU_BITS = 1024;

interface Pcpu {
  readonly index: number;
  current: Vcpu | null;
  /** The vCPU that ran last (a switch to another costs contextSwitchNs). */
  last: Vcpu | null;
  sliceEnd: number;
  /** Bumped whenever the CPU's plan changes, so stale queue entries are ignored. */
  generation: number;
  dispatchPending: boolean;
  idle: boolean;
  sliceStart: number;
  busyNs: number;
  /** Between ENTER and its STOP: the batch started at batchStart and stops at stopTime. */
  inBatch: boolean;
  batchStart: number;
  stopTime: number;
  /**
   * An interrupt line that arrived while the vCPU ran guest code (without posted interrupts): the
   * batch was cut there and its stop is an external-interrupt exit. -1: none.
   */
  interruptLine: number;
}

export interface MonitorOptions {
  readonly pcpus: number;
  readonly runEndNs: number;
  /** type2: the monitor runs as processes of a host OS (costs and interference; see docs). */
  readonly hostType?: 'type1' | 'type2';
  /** type2: share of each physical CPU the host's own processes take. */
  readonly hostLoad?: number;
  readonly instructionLimit: number | undefined;
  readonly maxBatchNs: number;
  /** The longest batch of a vCPU while another vCPU of its VM runs (default 1 us; see enter). */
  readonly smpQuantumNs?: number;
  /** A deliberately broken monitor (src/actors/mutations.ts); undefined for the real one. */
  readonly mutation?: Mutation | undefined;
  /** The host's memory manager when it shares pages or overcommits (hostMemory.ts). */
  readonly memory?: MemoryManager | undefined;
}

export type EndReason = 'time' | 'instructions' | 'idle' | 'stopped';

export class Monitor {
  readonly id = 'monitor';
  readonly pcpus: Pcpu[] = [];
  private readonly target: number;
  private readonly vcpusById = new Map<string, Vcpu>();
  private readonly vmsByDevice = new Map<string, Vm>();
  private readonly vmsByName = new Map<string, Vm>();
  /** Which privileged instructions exit in virtual kernel mode: all of them (trap-and-emulate). */
  retiredTotal = 0;
  private currentPolicy: SchedulingPolicy;

  get policy(): SchedulingPolicy {
    return this.currentPolicy;
  }

  /**
   * Changes the rules in the middle of a run (a fork's `--set`): another scheduling policy (the
   * runnable vCPUs join its queue in the order they became runnable; running ones are seen at the
   * end of their slice), another cost model, another end.
   */
  reconfigure(changes: { readonly policy?: SchedulingPolicy; readonly costs?: CostModel; readonly runEndNs?: number; readonly instructionLimit?: number | undefined }): void {
    if (changes.costs !== undefined) this.costs = changes.costs;
    if (changes.runEndNs !== undefined || 'instructionLimit' in changes) {
      this.options = {
        ...this.options,
        runEndNs: changes.runEndNs ?? this.options.runEndNs,
        instructionLimit: 'instructionLimit' in changes ? changes.instructionLimit : this.options.instructionLimit,
      };
    }
    if (changes.policy !== undefined) {
      const now = this.kernel.now;
      this.currentPolicy = changes.policy;
      this.tickAt = Number.POSITIVE_INFINITY;
      this.tickGeneration++;
      changes.policy.attach?.(this.policyHost());
      const runnable = [...this.vcpusById.values()]
        .filter((vcpu) => vcpu.state === 'runnable')
        .sort((x, y) => x.runnableSince - y.runnableSince || x.key - y.key);
      for (const vcpu of runnable) changes.policy.enqueue(vcpu, now, 'resume');
      this.kick();
    }
  }
  endReason: EndReason | undefined;
  /** When the policy's next tick is due (Infinity: none), and its generation. */
  private tickAt = Number.POSITIVE_INFINITY;
  private tickGeneration = 0;

  constructor(
    private readonly kernel: Kernel,
    private readonly bus: EventBus,
    policy: SchedulingPolicy,
    private costs: CostModel,
    readonly vms: readonly Vm[],
    private options: MonitorOptions,
  ) {
    this.currentPolicy = policy;
    if (options.pcpus >= PCPU_BITS) throw new RangeError(`at most ${PCPU_BITS - 1} physical CPUs`);
    for (let index = 0; index < options.pcpus; index++) {
      this.pcpus.push({ index, current: null, last: null, sliceEnd: 0, generation: 0, dispatchPending: false, idle: true, sliceStart: 0, busyNs: 0, inBatch: false, batchStart: 0, stopTime: 0, interruptLine: -1 });
    }
    for (const vm of vms) {
      this.vmsByName.set(vm.name, vm);
      for (const vcpu of vm.vcpus) {
        this.vcpusById.set(vcpu.id, vcpu);
        this.vcpusByKey[vcpu.key] = vcpu;
      }
      for (const device of vm.io.devices) this.vmsByDevice.set(device.id, vm);
      vm.power.onPowerOff = () => this.powerOff(vm, 'the guest powered off');
      vm.block.quiesce = () => this.quiesce(vm);
      vm.nic.quiesce = () => this.quiesce(vm);
      vm.balloon.onGive = (page) => this.balloonGive(vm, page);
    }
    this.target = kernel.register(this.id, (kind, arg) => this.step(kind, arg));
    policy.attach?.(this.policyHost());
    options.memory?.attach(vms, { quiesce: (vm) => this.quiesce(vm) });

    bus.on('exit.io', (event) => this.onIo(event));
    bus.on('exit.mmio', (event) => this.onMmio(event));
    bus.on('exit.hlt', (event) => this.onHlt(event));
    bus.on('exit.hypercall', (event) => this.onHypercall(event));
    bus.on('exit.privileged', (event) => this.onPrivileged(event));
    bus.on('exit.page-fault', (event) => this.onPageFault(event));
    bus.on('exit.exception', (event) => this.onException(event));
    bus.on('irq.raise', (event) => this.onIrq(event));
  }

  get vmNames(): string[] {
    return [...this.vmsByName.keys()];
  }

  vm(name: string): Vm | undefined {
    return this.vmsByName.get(name);
  }

  // ---------------------------------------------------------------- commands (operator)

  /** Starts a defined VM: devices up, vCPUs runnable. */
  start(vm: Vm): boolean {
    const now = this.kernel.now;
    if (!vm.command('START', () => this.bus.publish(vm.id, 'vm.started', {}))) return false;
    for (const device of vm.io.devices) device.realize();
    for (const vcpu of vm.vcpus) if (vcpu.start(now)) this.policy.enqueue(vcpu, now, 'start');
    this.kick();
    return true;
  }

  /** Pauses a running VM: its vCPUs leave the physical CPUs and the run queue. */
  suspend(vm: Vm): boolean {
    const now = this.kernel.now;
    if (!vm.command('SUSPEND', () => this.bus.publish(vm.id, 'vm.suspended', {}))) return false;
    for (const vcpu of vm.vcpus) this.takeOff(vcpu, () => vcpu.pause(now));
    return true;
  }

  resume(vm: Vm): boolean {
    const now = this.kernel.now;
    if (!vm.command('RESUME', () => this.bus.publish(vm.id, 'vm.resumed', {}))) return false;
    for (const vcpu of vm.vcpus) if (vcpu.state === 'paused' && vcpu.resume(now)) this.policy.enqueue(vcpu, now, 'resume');
    this.kick();
    return true;
  }

  /** Pulls the plug (libvirt's destroy). */
  destroy(vm: Vm): boolean {
    const now = this.kernel.now;
    if (!vm.command('DESTROY', () => this.bus.publish(vm.id, 'vm.stopped', { reason: 'destroyed' }))) return false;
    vm.endReason = 'destroyed';
    for (const vcpu of vm.vcpus) this.takeOff(vcpu, () => vcpu.halt(now));
    vm.stopDevices();
    this.checkAllFinished();
    return true;
  }

  // ---------------------------------------------------------------- physical CPU time line

  private step(kind: number, arg: number): void {
    if (kind === STALL_END) {
      this.endStall(arg);
      return;
    }
    if (kind === HOST_WAKE) {
      this.wake(this.vcpusByKey[arg]);
      return;
    }
    if (kind === HOST_TICK) {
      this.hostTick(this.pcpus[arg]);
      return;
    }
    if (kind === TICK) {
      if (arg !== this.tickGeneration) return;
      this.tickAt = Number.POSITIVE_INFINITY;
      this.policy.tick?.(this.kernel.now);
      return;
    }
    const pcpu = this.pcpus[arg % PCPU_BITS];
    const generation = Math.floor(arg / PCPU_BITS);
    if (kind === DISPATCH) {
      pcpu.dispatchPending = false;
      this.dispatch(pcpu);
      return;
    }
    if (generation !== pcpu.generation || pcpu.current === null) return;
    if (kind === ENTER) this.enter(pcpu);
    else this.stop(pcpu);
  }

  private schedule(pcpu: Pcpu, kind: number, time: number): void {
    const arg = pcpu.generation * PCPU_BITS + pcpu.index;
    if (kind === DISPATCH) this.kernel.schedule(time, this.target, kind, arg);
    else this.kernel.scheduleCpu(time, this.target, kind, arg, pcpu.index);
  }

  /** The services the policy may call (see PolicyHost). */
  private policyHost(): PolicyHost {
    const kernel = this.kernel;
    return {
      get now() {
        return kernel.now;
      },
      preempt: (pcpu) => this.preemptNow(pcpu),
      wakeIdle: (pcpu) => this.wakeIdle(pcpu),
      requestTick: (time) => this.requestTick(time),
    };
  }

  private requestTick(time: number): void {
    if (!(time >= this.kernel.now)) throw new RangeError(`policy ${this.policy.name} asked for a tick in the past: ${time} < ${this.kernel.now}`);
    if (time >= this.tickAt) return;
    this.tickAt = time;
    this.tickGeneration++;
    this.kernel.schedule(time, this.target, TICK, this.tickGeneration);
  }

  /** Asks one idle physical CPU to pick work (for policies whose queues are per CPU). */
  private wakeIdle(index: number): void {
    const pcpu = this.pcpus[index];
    if (pcpu === undefined || pcpu.current !== null || pcpu.dispatchPending) return;
    pcpu.dispatchPending = true;
    this.schedule(pcpu, DISPATCH, this.kernel.now + this.costs.scheduleNs);
  }

  /** Asks idle physical CPUs to pick work, lowest index first. */
  private kick(): void {
    let waiting = this.policy.waiting;
    if (waiting === 0) return;
    for (const pcpu of this.pcpus) {
      if (waiting === 0) break;
      if (pcpu.current !== null || pcpu.dispatchPending) continue;
      pcpu.dispatchPending = true;
      waiting--;
      this.schedule(pcpu, DISPATCH, this.kernel.now + this.costs.scheduleNs);
    }
  }

  private dispatch(pcpu: Pcpu): void {
    if (pcpu.current !== null) return;
    const now = this.kernel.now;
    const busyUntil = this.hostBusyUntil[pcpu.index] ?? 0;
    if (now < busyUntil) {
      // The host OS runs its own processes on this CPU until then.
      pcpu.dispatchPending = true;
      this.kernel.schedule(busyUntil, this.target, DISPATCH, pcpu.generation * PCPU_BITS + pcpu.index);
      return;
    }
    const pick = this.policy.pick(pcpu.index, now);
    if (pick === undefined) {
      if (!pcpu.idle) {
        pcpu.idle = true;
        this.bus.publish(`pcpu/${pcpu.index}`, 'pcpu.idle', { pcpu: pcpu.index });
      }
      return;
    }
    const vcpu = this.vcpusById.get(pick.entity.id) as Vcpu;
    if (!vcpu.dispatch(pcpu.index, now)) {
      this.dispatch(pcpu);
      return;
    }
    if (this.options.mutation === 'register-leak' && pcpu.last !== null && pcpu.last.vm !== vcpu.vm) {
      // The register-leak mutant: the world switch forgets to load the incoming vCPU's registers.
      vcpu.cpu.regs.set(pcpu.last.cpu.regs);
    }
    pcpu.idle = false;
    pcpu.current = vcpu;
    pcpu.interruptLine = -1;
    pcpu.generation++;
    // Untagged TLBs: a physical CPU that switches to another vCPU starts it with an empty one.
    // Tagged (VPID/ASID): its entries stay, unless it comes from another physical CPU.
    if (pcpu.last !== vcpu) vcpu.mmu?.switchedTo(pcpu.index);
    else if (vcpu.mmu !== undefined) vcpu.mmu.pcpu = pcpu.index;
    const switchNs = (pcpu.last !== vcpu ? this.costs.contextSwitchNs : 0) + this.costs.entryNs;
    vcpu.counters.overheadNs += switchNs;
    pcpu.last = vcpu;
    pcpu.sliceStart = now + switchNs;
    pcpu.sliceEnd = pcpu.sliceStart + pick.sliceNs;
    this.schedule(pcpu, ENTER, now + switchNs);
  }

  /** Enters the guest: injects a pending interrupt if it can be taken, then runs a batch. */
  private enter(pcpu: Pcpu): void {
    const vcpu = pcpu.current as Vcpu;
    const vm = this.vmsByName.get(vcpu.vm) as Vm;
    let start = this.kernel.now;
    if (vcpu.cpu.ie !== 0) {
      const line = this.deliverable(vm, vcpu);
      if (line >= 0) {
        const vector = Vector.IRQ_BASE + line;
        if (!enterHandler(vcpu.cpu, vector, vcpu.cpu.pc, line, (address) => this.readGuest(vm, address))) {
          this.crash(vm, vcpu, `interrupt on vector ${vector} with no handler installed`);
          return;
        }
        if ((vcpu.localPending & (1 << line)) !== 0) vcpu.localPending &= ~(1 << line);
        else vm.pic.acknowledge(line);
        vcpu.counters.interrupts++;
        // Posted interrupts: the CPU delivers it (virtual-interrupt delivery); otherwise the monitor injects it.
        const injectNs = vm.options.postedInterrupts === true ? this.costs.postedInterruptNs : this.costs.interruptInjectNs;
        vcpu.counters.overheadNs += injectNs;
        start += injectNs;
        this.bus.publish(vcpu.id, 'irq.inject', { vector, line });
      }
    }
    this.selectTranslation(vcpu, vm);
    let end = Math.min(this.kernel.queue.peekTime(), pcpu.sliceEnd, this.options.runEndNs, start + this.options.maxBatchNs);
    if (vm.vcpus.length > 1) end = Math.min(end, this.smpBound(vm, vcpu, start));
    const limit = this.options.instructionLimit;
    if (limit !== undefined) end = Math.min(end, start + Math.max(0, limit - this.retiredTotal) * this.costs.instructionNs);
    const budget = end > start ? end - start : 0;
    vcpu.cpu.checkpoint();
    this.runBatch(pcpu, vcpu, start, budget);
  }

  /**
   * SMP: vCPUs of one VM share memory, and a batch runs ahead of the clock, so a vCPU could see a
   * sibling's write up to a whole batch early. While a sibling runs on another physical CPU, each
   * batch is bounded by the SMP quantum (as Simics' cpu-switch-time bounds how long one processor
   * runs before the next), and a sibling's batch that runs further ahead is cut back to it.
   */
  private smpBound(vm: Vm, vcpu: Vcpu, start: number): number {
    const quantum = this.options.smpQuantumNs ?? 1_000;
    const bound = start + quantum;
    let concurrent = false;
    for (const sibling of vm.vcpus) {
      if (sibling === vcpu || sibling.state !== 'running' || sibling.pcpu < 0) continue;
      concurrent = true;
      const pcpu = this.pcpus[sibling.pcpu];
      if (pcpu.inBatch && pcpu.current === sibling && pcpu.stopTime > bound) this.truncate(pcpu, Math.max(bound, this.kernel.now));
    }
    return concurrent ? bound : Number.POSITIVE_INFINITY;
  }

  private runBatch(pcpu: Pcpu, vcpu: Vcpu, start: number, budget: number): void {
    const retiredBefore = vcpu.cpu.retired;
    const vm = this.vmOf(vcpu);
    const technique = vm.technique;
    vcpu.run(
      budget,
      this.costs.instructionNs,
      technique.trapMask,
      technique.translates ? this.costs.btCallNs : this.costs.instructionNs,
      vm.translated,
      this.costs.btTranslatePageNs,
    );
    this.retiredTotal += vcpu.cpu.retired - retiredBefore;
    pcpu.inBatch = true;
    pcpu.batchStart = start;
    // A rerun (truncate) of an SMP guest's batch can stop on an exit before now: it read a word
    // another vCPU wrote since the first run and took another path. That exit is handled now.
    pcpu.stopTime = Math.max(start + vcpu.cpu.elapsedNs, this.kernel.now);
    this.schedule(pcpu, STOP, pcpu.stopTime);
  }

  /**
   * Cuts the batch running on a physical CPU so that it stops at `time` instead of later: the
   * batch is taken back (memory from its undo log, registers from its checkpoint) and rerun with
   * the shorter budget, which retraces the same instructions exactly. This is what lets the
   * monitor act on a running vCPU at the right virtual time (a preemption, an interrupt) although
   * batches run ahead of the clock. (Exactly, unless another vCPU of the same VM wrote memory the
   * batch reads since it first ran: the rerun then sees the newer word, up to maxBatchNs early,
   * the temporal-decoupling quantum; see runBatch.)
   */
  private truncate(pcpu: Pcpu, time: number): void {
    const vcpu = pcpu.current;
    if (vcpu === null || !pcpu.inBatch || time >= pcpu.stopTime || time < pcpu.batchStart) return;
    const cpu = vcpu.cpu;
    const retiredAfter = cpu.retired;
    const vm = this.vmOf(vcpu);
    cpu.rollback(vm.memory.host.words, vm.translated);
    this.retiredTotal -= retiredAfter - cpu.retired;
    cpu.checkpoint();
    pcpu.generation++;
    this.runBatch(pcpu, vcpu, pcpu.batchStart, time - pcpu.batchStart);
  }

  /**
   * Ends the time slice of whatever runs on a physical CPU now (for policies that preempt on
   * wake-up): the scheduler is asked at once whether to switch, as at the end of a slice.
   */
  preemptNow(pcpuIndex: number): void {
    const pcpu = this.pcpus[pcpuIndex];
    if (pcpu === undefined || pcpu.current === null) return;
    const now = this.kernel.now;
    pcpu.sliceEnd = Math.min(pcpu.sliceEnd, now);
    this.truncate(pcpu, now);
  }

  /** The batch's end has come: account for it, then resume, preempt or hand the exit over. */
  private stop(pcpu: Pcpu): void {
    const vcpu = pcpu.current as Vcpu;
    const now = this.kernel.now;
    pcpu.inBatch = false;
    const ran = vcpu.cpu.elapsedNs;
    vcpu.counters.cpuNs += ran;
    pcpu.busyNs += ran;
    this.policy.charge(vcpu, ran, now);
    const limit = this.options.instructionLimit;
    if (limit !== undefined && this.retiredTotal >= limit) {
      this.endReason = 'instructions';
      this.kernel.requestStop();
      return;
    }
    // An interrupt cut this batch: an exit of its own unless the batch stops on another exit anyway.
    const interrupted = pcpu.interruptLine;
    pcpu.interruptLine = -1;
    const stopCode = vcpu.cpu.stop;
    if ((stopCode === Stop.PAGE_FAULT || stopCode === Stop.MMIO) && vcpu.cpu.csr[Csr.PTB] !== 0) {
      this.pagingFault(pcpu, vcpu);
      return;
    }
    if (stopCode === Stop.PAGE_FAULT && this.hostFault(vcpu, vcpu.cpu.stopA >>> PAGE_SHIFT, vcpu.cpu.stopA, vcpu.cpu.stopB)) return;
    if (vcpu.cpu.stop === Stop.EXCEPTION && this.vmOf(vcpu).technique.nativeExceptions) {
      this.deliverNatively(pcpu, vcpu);
      return;
    }
    if (vcpu.cpu.stop !== Stop.BUDGET) {
      if (stopCode === Stop.IO && vcpu.cpu.stopA === Port.PIC_EOI && vcpu.cpu.stopB === 1 && this.vmOf(vcpu).options.postedInterrupts === true) {
        // APIC virtualization (APICv) comes with posted interrupts: the guest's end of interrupt
        // is handled by the CPU on the virtual controller, without an exit.
        this.vmOf(vcpu).io.writePort(Port.PIC_EOI, vcpu.cpu.stopC);
        vcpu.cpu.pc += 4;
        vcpu.counters.cpuNs += this.costs.postedInterruptNs;
        this.schedule(pcpu, ENTER, now + this.costs.postedInterruptNs);
        return;
      }
      if (stopCode === Stop.IO && isDirectAccess(this.vmOf(vcpu), vcpu.cpu.stopA)) {
        // A passthrough device: no exit, the guest goes on after the access (see passthrough.ts).
        const accessNs = accessDirectly(this.vmOf(vcpu), vcpu, this.costs);
        if (interrupted >= 0) {
          // ... unless an interrupt arrived meanwhile: its exit comes right after the access.
          vcpu.publishInterruptExit(interrupted);
          const exitNs = this.costs.exitNs + this.costs.entryNs;
          vcpu.counters.overheadNs += exitNs;
          this.schedule(pcpu, ENTER, now + accessNs + exitNs);
          return;
        }
        this.schedule(pcpu, ENTER, now + accessNs);
        return;
      }
      vcpu.publishExit();
      return;
    }
    if (now >= this.options.runEndNs) return;
    if (now < pcpu.sliceEnd) {
      if (interrupted >= 0) {
        this.interruptExit(vcpu, interrupted);
        return;
      }
      // The batch was cut by another entry in the queue, not by the scheduler: carry on.
      this.schedule(pcpu, ENTER, now);
      return;
    }
    if (this.policy.shouldPreempt(pcpu.index, vcpu, now)) {
      vcpu.publishPreempt(pcpu.index, now - pcpu.sliceStart);
      this.release(pcpu, vcpu, this.costs.exitNs);
      if (vcpu.preempt(now)) this.policy.enqueue(vcpu, now, 'preempt');
      this.kick();
      return;
    }
    pcpu.sliceStart = now;
    pcpu.sliceEnd = now + this.policy.extend(pcpu.index, vcpu, now);
    if (interrupted >= 0) {
      this.interruptExit(vcpu, interrupted);
      return;
    }
    this.schedule(pcpu, ENTER, now);
  }

  /**
   * An external-interrupt exit: the interrupt for this VM arrived on the physical CPU while it ran
   * the guest, so the CPU left the guest; the monitor takes it and re-enters, injecting the line
   * at entry. (With posted interrupts the CPU delivers it to the guest and there is no exit.)
   */
  private interruptExit(vcpu: Vcpu, line: number): void {
    vcpu.publishInterruptExit(line);
    this.resumeAfterExit(vcpu, 0);
  }

  /** The vCPU carries on after its exit was handled in `handlingNs`. */
  /**
   * Hardware-assisted virtualization: the CPU delivers a guest exception through the guest's own
   * vector table, with no exit. A fault the guest cannot take (no handler, or a fault in kernel
   * mode other than a syscall) is a triple fault: the CPU shuts down, which exits (KVM's
   * KVM_EXIT_SHUTDOWN) and the monitor crashes the VM.
   */
  private deliverNatively(pcpu: Pcpu, vcpu: Vcpu): void {
    const vm = this.vmOf(vcpu);
    const cpu = vcpu.cpu;
    const vector = cpu.stopA;
    const inKernel = cpu.mode === Mode.KERNEL && vector !== Vector.SYSCALL;
    if (!inKernel && enterHandler(cpu, vector, cpu.stopC, cpu.stopB, (address) => this.readGuest(vm, address))) {
      vm.nativeExceptions++;
      this.schedule(pcpu, ENTER, this.kernel.now);
      return;
    }
    const name = VECTOR_NAMES[vector] ?? `vector ${vector}`;
    const reason = `triple fault: ${name} in ${inKernel ? 'kernel' : 'user'} mode${inKernel ? '' : ' with no handler installed'}`;
    vcpu.counters.exits.shutdown++;
    this.bus.publish(vcpu.id, 'exit.shutdown', { pc: cpu.pc, reason });
    this.crash(vm, vcpu, reason);
  }

  // ---------------------------------------------------------------- memory virtualization

  /** The next batch runs on the VM's guest-physical map, or, when the guest pages, on a TLB. */
  private selectTranslation(vcpu: Vcpu, vm: Vm): void {
    const cpu = vcpu.cpu;
    const ptb = cpu.csr[Csr.PTB];
    if (ptb === 0) {
      vcpu.translation = vm.memory.pageBase;
      vcpu.writeTranslation = vm.memory.writeBase;
      return;
    }
    let mmu = vcpu.mmu;
    if (mmu === undefined) {
      mmu = new Mmu(vm.options.tlbEntries ?? DEFAULT_TLB_ENTRIES, vm.options.tlbTagged === true);
      mmu.pcpu = vcpu.pcpu;
      vcpu.mmu = mmu;
    }
    if (mmu.ptb !== ptb || mmu.ptbWrites !== cpu.ptbWrites) {
      mmu.flush();
      mmu.ptb = ptb;
      mmu.ptbWrites = cpu.ptbWrites;
    }
    const tlb = cpu.mode === Mode.USER ? mmu.user : mmu.kernel;
    vcpu.translation = tlb.map;
    vcpu.writeTranslation = tlb.writeMap;
  }

  /**
   * A TLB miss of a paging guest (see paging.ts): walk the guest's table, then fill the TLB as
   * nested paging (a hardware walk, no exit) or shadow paging (a shadow-table walk, or a hidden
   * page fault that exits) does; emulate an access to a shadow-protected page table; or reflect a
   * page fault the guest's own table causes.
   */
  private pagingFault(pcpu: Pcpu, vcpu: Vcpu): void {
    const vm = this.vmOf(vcpu);
    const cpu = vcpu.cpu;
    const mmu = vcpu.mmu as Mmu;
    const address = cpu.stopA;
    const access = cpu.stopB;
    const user = cpu.mode === Mode.USER;
    const tlb = user ? mmu.user : mmu.kernel;
    const page = address >>> PAGE_SHIFT;
    // A store to a read-only entry is a protection fault, not a miss.
    if (!(tlb.map[page] >= 0)) tlb.misses++;
    const ptb = cpu.csr[Csr.PTB];
    if (address < 0 || page >= GUEST_VIRTUAL_PAGES) {
      this.guestPageFault(pcpu, vcpu, address, access);
      return;
    }
    if ((ptb & PAGE_MASK) !== 0) {
      this.crash(vm, vcpu, `page table base 0x${(ptb >>> 0).toString(16)} is not page-aligned`);
      return;
    }
    const entry = this.readGuest(vm, ptb + page);
    if (entry === undefined) {
      this.crash(vm, vcpu, `page table at guest-physical 0x${(ptb >>> 0).toString(16)} is outside the VM's memory (EPT violation)`);
      return;
    }
    // A write through an entry without the write bit is the guest's own fault too (the model's
    // CR0.WP is set: kernel mode is held to it as well).
    const write = access === Access.WRITE;
    if ((entry & PTE_PRESENT) === 0 || (user && (entry & PTE_USER) === 0) || (write && (entry & PTE_WRITE) === 0)) {
      this.guestPageFault(pcpu, vcpu, address, access);
      return;
    }
    const frame = entry >>> PAGE_SHIFT;
    const hostBase = frame < vm.memory.pageCount ? vm.memory.pageBase[frame] : -1;
    // The host's own faults (an unbacked, swapped or shared page): handled, and the access retried.
    if ((hostBase < 0 || (write && vm.memory.writeBase[frame] < 0)) && this.hostFault(vcpu, frame, address, access)) return;
    if (hostBase < 0) {
      this.crash(vm, vcpu, `the guest's page table maps 0x${(address >>> 0).toString(16)} to guest-physical page 0x${frame.toString(16)}, outside the VM's memory (EPT violation)`);
      return;
    }
    // The entry is writable when the guest's PTE and the VM's map (the EPT) both allow it.
    const writable = (entry & PTE_WRITE) !== 0 && vm.memory.writeBase[frame] >= 0;
    const now = this.kernel.now;
    if (vm.paging !== 'shadow') {
      // Nested paging: the hardware walks the guest's table and the EPT; on the bare machine
      // (native), only the guest's table. No exit either way.
      const walkNs = vm.paging === 'nested' ? this.costs.nestedWalkNs : this.costs.tlbWalkNs;
      tlb.fill(page, hostBase, writable);
      vcpu.counters.cpuNs += walkNs;
      this.schedule(pcpu, ENTER, now + walkNs);
      return;
    }
    // Shadow paging maps the guest's page table read-only: reads go through the TLB, writes
    // exit and are emulated.
    const table = frame === ptb >>> PAGE_SHIFT;
    if (table && write) {
      this.emulatePageTableAccess(pcpu, vcpu, frame, address, access);
      return;
    }
    const shadowWritable = writable && !table;
    const shadowEntry = hostBase | (shadowWritable ? SHADOW_WRITABLE : 0);
    const shadow = vm.shadow.table(ptb);
    tlb.fill(page, hostBase, shadowWritable);
    if (shadow[page] === shadowEntry) {
      vcpu.counters.cpuNs += this.costs.tlbWalkNs;
      this.schedule(pcpu, ENTER, now + this.costs.tlbWalkNs);
      return;
    }
    // A hidden page fault: the shadow table had no entry yet. An exit the guest never sees.
    shadow[page] = shadowEntry;
    vm.shadow.fills++;
    this.publishPageFault(vcpu, address, access, 'shadow-fill');
    this.resumeAfterExit(vcpu, this.costs.shadowFillNs);
  }

  /** Shadow paging: the guest wrote its own (write-protected) page table. */
  private emulatePageTableAccess(pcpu: Pcpu, vcpu: Vcpu, frame: number, address: number, access: number): void {
    const vm = this.vmOf(vcpu);
    const cpu = vcpu.cpu;
    const op = this.readVirtual(vcpu, cpu.pc);
    const at = (frame << PAGE_SHIFT) + (address & PAGE_MASK);
    const swap = access === Access.WRITE && (op === Op.XCHG || op === Op.XCHGA);
    if ((access === Access.WRITE && (op === Op.ST || op === Op.STA)) || swap) {
      if (swap) {
        // xchg: the register named in the instruction's first operand takes the old entry.
        const register = (this.readVirtual(vcpu, cpu.pc + 1) ?? 0) & 7;
        const old = vm.memory.read(at);
        vm.memory.write(at, cpu.regs[register]);
        cpu.regs[register] = old;
      } else {
        vm.memory.write(at, cpu.stopC);
      }
      // The entry for guest page (address & PAGE_MASK) changed: drop its shadow and TLB entries.
      const changed = address & PAGE_MASK;
      vm.shadow.drop(cpu.csr[Csr.PTB], changed);
      for (const other of vm.vcpus) if (other.mmu !== undefined && other.mmu.ptb === cpu.csr[Csr.PTB]) other.mmu.invalidate(changed);
    } else {
      this.crash(vm, vcpu, `cannot emulate this access to the page table at pc 0x${(cpu.pc >>> 0).toString(16)}`);
      return;
    }
    cpu.pc += 4;
    this.publishPageFault(vcpu, address, access, 'pt-write');
    this.resumeAfterExit(vcpu, this.costs.ptEmulateNs);
  }

  /** A page fault the guest's own page table causes: the guest's kernel handles it (vector PF). */
  private guestPageFault(pcpu: Pcpu, vcpu: Vcpu, address: number, access: number): void {
    const vm = this.vmOf(vcpu);
    const cpu = vcpu.cpu;
    const deliver = () => enterHandler(cpu, Vector.PF, cpu.pc, address, (at) => this.readGuest(vm, at));
    if (vm.technique.nativeExceptions) {
      if (deliver()) {
        vm.nativeExceptions++;
        this.schedule(pcpu, ENTER, this.kernel.now);
        return;
      }
      const reason = `triple fault: #PF at 0x${(address >>> 0).toString(16)} with no handler installed`;
      vcpu.counters.exits.shutdown++;
      this.bus.publish(vcpu.id, 'exit.shutdown', { pc: cpu.pc, reason });
      this.crash(vm, vcpu, reason);
      return;
    }
    this.publishPageFault(vcpu, address, access, 'guest-fault');
    if (!deliver()) {
      this.crash(vm, vcpu, `#PF (page fault) at 0x${(address >>> 0).toString(16)} with no handler installed`);
      return;
    }
    this.bus.publish(vcpu.id, 'exception.inject', { vector: Vector.PF, pc: cpu.pc });
    this.resumeAfterExit(vcpu, this.costs.exceptionReflectNs);
  }

  /**
   * A fault that may be the host's (hostMemory.ts): a write to a shared page, the first touch of
   * an unbacked page, a swapped-out page. Returns false when it is not (an EPT violation, or the
   * guest's). The instruction is retried after the handling; a host out of memory crashes this VM.
   */
  private hostFault(vcpu: Vcpu, guestPage: number, address: number, access: number): boolean {
    const memory = this.options.memory;
    if (memory === undefined) return false;
    const vm = this.vmOf(vcpu);
    const result = memory.handleFault(vm, guestPage, access === Access.WRITE);
    if (result.kind === 'none') return false;
    if (result.kind === 'out-of-memory') {
      this.crash(vm, vcpu, result.reason);
      return true;
    }
    this.publishPageFault(vcpu, address, access, result.cause);
    this.resumeAfterExit(vcpu, result.ns);
    return true;
  }

  private publishPageFault(vcpu: Vcpu, address: number, access: number, cause: PageFaultCause): void {
    vcpu.counters.exits['page-fault']++;
    this.bus.publish(vcpu.id, 'exit.page-fault', {
      pc: vcpu.cpu.pc,
      addr: address,
      access: access === 0 ? 'read' : access === 1 ? 'write' : 'fetch',
      cause,
    });
  }

  /** A word at a guest-virtual address (through the guest's page table when it pages). */
  private readVirtual(vcpu: Vcpu, address: number): number | undefined {
    const vm = this.vmOf(vcpu);
    const ptb = vcpu.cpu.csr[Csr.PTB];
    if (ptb === 0) return this.readGuest(vm, address);
    const page = address >>> PAGE_SHIFT;
    if (address < 0 || page >= GUEST_VIRTUAL_PAGES) return undefined;
    const entry = this.readGuest(vm, ptb + page);
    if (entry === undefined || (entry & PTE_PRESENT) === 0) return undefined;
    return this.readGuest(vm, ((entry >>> PAGE_SHIFT) << PAGE_SHIFT) + (address & PAGE_MASK));
  }

  /** Type 2: what a device access costs on top of its emulation (to the host OS and back, a system call). */
  private hostIoNs(): number {
    return this.options.hostType === 'type2' ? 2 * this.costs.hostSwitchNs + this.costs.hostSyscallNs : 0;
  }

  private resumeAfterExit(vcpu: Vcpu, handlingNs: number): void {
    const pcpu = this.pcpus[vcpu.pcpu];
    const cost = this.costs.exitNs + handlingNs + this.costs.entryNs;
    vcpu.counters.overheadNs += cost;
    this.schedule(pcpu, ENTER, this.kernel.now + cost);
  }

  /** Takes a vCPU off its physical CPU, which then picks other work after `delayNs`. */
  private release(pcpu: Pcpu, vcpu: Vcpu, delayNs: number): void {
    if (pcpu.current !== vcpu) return;
    this.endBatchNow(pcpu, vcpu);
    this.policy.leave?.(pcpu.index, vcpu, this.kernel.now);
    pcpu.current = null;
    pcpu.generation++;
    vcpu.counters.overheadNs += delayNs;
    pcpu.dispatchPending = true;
    this.schedule(pcpu, DISPATCH, this.kernel.now + delayNs + this.costs.scheduleNs);
  }

  /**
   * A vCPU taken off in the middle of a batch (paused, crashed, halted from outside) keeps only
   * what it ran up to now.
   */
  private endBatchNow(pcpu: Pcpu, vcpu: Vcpu): void {
    if (!pcpu.inBatch || pcpu.current !== vcpu) return;
    const now = this.kernel.now;
    this.truncate(pcpu, now);
    const ran = now - pcpu.batchStart;
    vcpu.counters.cpuNs += ran;
    pcpu.busyNs += ran;
    this.policy.charge(vcpu, ran, now);
    pcpu.inBatch = false;
    pcpu.generation++;
  }

  /** Moves a vCPU out of running or runnable through `transition` (pause, halt, crash). */
  private takeOff(vcpu: Vcpu, transition: () => boolean): void {
    const state = vcpu.state;
    const pcpuIndex = vcpu.pcpu;
    if (state === 'running' && pcpuIndex >= 0) this.endBatchNow(this.pcpus[pcpuIndex], vcpu);
    if (!transition()) return;
    if (state === 'runnable') this.policy.remove(vcpu);
    if (state === 'running' && pcpuIndex >= 0) this.release(this.pcpus[pcpuIndex], vcpu, this.costs.exitNs);
  }

  // ---------------------------------------------------------------- exit handlers

  private vcpuOf(src: string): Vcpu {
    const vcpu = this.vcpusById.get(src);
    if (vcpu === undefined) throw new Error(`exit from unknown vCPU ${src}`);
    return vcpu;
  }

  private vmOf(vcpu: Vcpu): Vm {
    return this.vmsByName.get(vcpu.vm) as Vm;
  }

  private onIo(event: EventOf<'exit.io'>): void {
    const vcpu = this.vcpuOf(event.src);
    const vm = this.vmOf(vcpu);
    const cpu = vcpu.cpu;
    cpu.pc += 4;
    if (event.data.dir === 'in') {
      cpu.regs[cpu.stopC] = vm.io.readPort(event.data.port);
    } else if (event.data.port === Port.IPI_SEND) {
      // The vCPU's local interrupt controller: the monitor emulates the send (an APIC ICR write).
      this.sendIpi(vm, vcpu, event.data.value as number);
    } else {
      vm.io.writePort(event.data.port, event.data.value as number);
      if (event.data.port === Port.POWER) return;
    }
    const balloonNs = event.data.port === Port.BALLOON_GIVE ? this.costs.balloonPageNs : 0;
    if (vcpu.state === 'running') this.resumeAfterExit(vcpu, this.costs.ioEmulateNs + this.hostIoNs() + balloonNs);
  }

  private onMmio(event: EventOf<'exit.mmio'>): void {
    const vcpu = this.vcpuOf(event.src);
    const vm = this.vmOf(vcpu);
    const cpu = vcpu.cpu;
    cpu.pc += 4;
    if (event.data.dir === 'read') cpu.regs[cpu.stopC] = vm.io.readMmio(event.data.addr);
    else vm.io.writeMmio(event.data.addr, event.data.value as number);
    if (vcpu.state === 'running') this.resumeAfterExit(vcpu, this.costs.mmioEmulateNs + this.hostIoNs());
  }

  private onHlt(event: EventOf<'exit.hlt'>): void {
    const vcpu = this.vcpuOf(event.src);
    const vm = this.vmOf(vcpu);
    const now = this.kernel.now;
    const pcpu = this.pcpus[vcpu.pcpu];
    vcpu.cpu.pc += 4;
    if (event.data.ie) {
      if (this.deliverable(vm, vcpu) >= 0) {
        // An interrupt is already waiting: hlt returns at once, and entry injects it.
        this.resumeAfterExit(vcpu, this.costs.privilegedEmulateNs);
        return;
      }
      this.release(pcpu, vcpu, this.costs.exitNs + this.costs.privilegedEmulateNs);
      vcpu.block();
      if (vm.state === 'running' && vm.allBlocked()) vm.command('BLOCK', () => this.bus.publish(vm.id, 'vm.blocked', {}));
      return;
    }
    // hlt with interrupts off: nothing can wake this vCPU again.
    this.release(pcpu, vcpu, this.costs.exitNs + this.costs.privilegedEmulateNs);
    vcpu.halt(now);
    if (vm.allHalted()) this.powerOff(vm, 'every vCPU halted with interrupts disabled');
  }

  private onHypercall(event: EventOf<'exit.hypercall'>): void {
    const vcpu = this.vcpuOf(event.src);
    const vm = this.vmOf(vcpu);
    const cpu = vcpu.cpu;
    cpu.pc += 4;
    let handlingNs = this.costs.hypercallNs;
    switch (event.data.nr) {
      case Hypercall.VERSION:
        cpu.regs[1] = HYPERCALL_VERSION;
        break;
      case Hypercall.CONSOLE_PUTC:
        vm.io.writePort(Port.CONSOLE_DATA, event.data.args[0]);
        handlingNs += this.hostIoNs();
        break;
      case Hypercall.CONSOLE_WRITE: {
        // A paravirtual console: the whole string in one exit, read from guest memory.
        const [address, length] = event.data.args;
        const count = Math.max(0, Math.min(length, CONSOLE_WRITE_LIMIT));
        let written = 0;
        for (; written < count; written++) {
          const value = this.readGuest(vm, address + written);
          if (value === undefined) break;
          vm.io.writePort(Port.CONSOLE_DATA, value);
        }
        cpu.regs[1] = written;
        handlingNs += this.hostIoNs() + written * this.costs.instructionNs;
        break;
      }
      case Hypercall.SET_TIMER:
        vm.io.writePort(Port.TIMER_PERIOD, event.data.args[0]);
        break;
      case Hypercall.POWER_OFF:
        this.powerOff(vm, 'the guest asked the monitor to power off');
        return;
      case Hypercall.YIELD: {
        const now = this.kernel.now;
        this.release(this.pcpus[vcpu.pcpu], vcpu, this.costs.exitNs + this.costs.hypercallNs);
        if (vcpu.preempt(now)) this.policy.enqueue(vcpu, now, 'yield');
        this.kick();
        return;
      }
      case Hypercall.TIME_US:
        cpu.regs[1] = Math.floor(this.kernel.now / NS_PER_US) & 0x7fff_ffff;
        break;
      default:
        cpu.regs[1] = HYPERCALL_UNKNOWN;
    }
    this.resumeAfterExit(vcpu, handlingNs);
  }

  private onPrivileged(event: EventOf<'exit.privileged'>): void {
    const vcpu = this.vcpuOf(event.src);
    const cpu = vcpu.cpu;
    const address = cpu.pc;
    const vm = this.vmOf(vcpu);
    const a = this.readVirtual(vcpu, address + 1) ?? 0;
    const b = this.readVirtual(vcpu, address + 2) ?? 0;
    if (!executePrivileged(cpu, cpu.stopA, a, b)) {
      this.crash(vm, vcpu, `cannot emulate privileged opcode ${cpu.stopA}`);
      return;
    }
    this.resumeAfterExit(vcpu, this.costs.privilegedEmulateNs);
  }

  private onPageFault(event: EventOf<'exit.page-fault'>): void {
    // The page faults of a paging guest are handled where they are published (pagingFault).
    if (event.data.cause !== undefined) return;
    const vcpu = this.vcpuOf(event.src);
    const { addr, access } = event.data;
    this.crash(
      this.vmOf(vcpu),
      vcpu,
      `${access} of guest-physical address 0x${(addr >>> 0).toString(16)} outside the VM's memory (EPT violation)`,
    );
  }

  private onException(event: EventOf<'exit.exception'>): void {
    const vcpu = this.vcpuOf(event.src);
    const vm = this.vmOf(vcpu);
    const cpu = vcpu.cpu;
    const vector = cpu.stopA;
    const name = VECTOR_NAMES[vector] ?? `vector ${vector}`;
    // A fault raised by the guest kernel itself (other than a syscall) is fatal, as a triple
    // fault is on hardware: the monitor does not second-guess a broken kernel.
    if (event.data.mode === 'kernel' && vector !== Vector.SYSCALL) {
      this.crash(vm, vcpu, `${name} in kernel mode at pc 0x${(event.data.pc >>> 0).toString(16)}`);
      return;
    }
    if (this.options.mutation === 'privileged' && vector === Vector.GP) {
      // The privileged mutant: a sensitive instruction from user mode is emulated as if the
      // guest kernel had run it, instead of being reflected to the guest as #GP.
      const a = this.readGuest(vm, cpu.pc + 1) ?? 0;
      const b = this.readGuest(vm, cpu.pc + 2) ?? 0;
      if (executePrivileged(cpu, cpu.stopB, a, b)) {
        this.resumeAfterExit(vcpu, this.costs.privilegedEmulateNs);
        return;
      }
    }
    if (!enterHandler(cpu, vector, cpu.stopC, cpu.stopB, (address) => this.readGuest(vm, address))) {
      this.crash(vm, vcpu, `${name} in ${event.data.mode} mode with no handler installed`);
      return;
    }
    vcpu.counters.exceptions++;
    this.bus.publish(vcpu.id, 'exception.inject', { vector, pc: cpu.pc });
    this.resumeAfterExit(vcpu, this.costs.exceptionReflectNs);
  }

  private onIrq(event: EventOf<'irq.raise'>): void {
    let vm = this.vmsByDevice.get(event.src);
    if (vm === undefined) return;
    if (this.options.mutation === 'irq-route' && this.vms.length > 1) {
      // The irq-route mutant: the line is taken off the raising VM and raised on the next one.
      const line = event.data.line;
      vm.pic.pending &= ~(1 << line);
      vm = neighbourOf(this.vms, vm);
      vm.pic.raise(line);
    }
    this.signal(vm, vm.bsp, event.data.line);
  }

  /** An inter-processor interrupt from one vCPU to another of the same VM (an index outside the VM is dropped). */
  private sendIpi(vm: Vm, from: Vcpu, index: number): void {
    const to = index >= 0 && index < vm.vcpus.length ? vm.vcpus[index] : undefined;
    if (to === undefined || to.state === 'created' || to.state === 'halted' || to.state === 'crashed') return;
    to.localPending |= 1 << Irq.IPI;
    this.bus.publish(from.id, 'irq.ipi', { to: index });
    this.signal(vm, to, Irq.IPI);
  }

  /** The line, among those pending for this vCPU (its own, and the VM's device lines for vCPU 0), to inject next, or -1. */
  private deliverable(vm: Vm, vcpu: Vcpu): number {
    const device = vcpu.index === 0 ? vm.pic.deliverable() : -1;
    const local = vcpu.localPending;
    if (local === 0) return device;
    const line = 31 - Math.clz32(local & -local);
    return device >= 0 && device < line ? device : line;
  }

  /** A line is pending for a vCPU: cut its batch if it runs guest code, or wake it if it waits in hlt. */
  private signal(vm: Vm, vcpu: Vcpu, line: number): void {
    if (vcpu.state === 'running' && vcpu.pcpu >= 0) {
      const pcpu = this.pcpus[vcpu.pcpu];
      // Raised while the monitor handles one of this vCPU's exits: injected when it re-enters.
      if (!pcpu.inBatch || pcpu.current !== vcpu) return;
      // It arrives while the vCPU runs guest code, in a batch that may run past now: cut the batch
      // here (or at its very start, if it starts later, after an injection) so it is taken now.
      // (The batch was checkpointed before any injection, so the rerun sees the same ie.)
      this.truncate(pcpu, Math.max(this.kernel.now, pcpu.batchStart));
      if (vm.options.postedInterrupts === true) this.bus.publish(vcpu.id, 'irq.posted', { line });
      else if (pcpu.interruptLine < 0) pcpu.interruptLine = line;
      return;
    }
    if (vcpu.state !== 'blocked' || vcpu.cpu.ie === 0 || this.deliverable(vm, vcpu) < 0) return;
    if (this.options.hostType === 'type2') {
      // The vCPU is a host thread asleep in the kernel: the host scheduler wakes it, later.
      this.kernel.schedule(this.kernel.now + this.costs.hostWakeNs, this.target, HOST_WAKE, vcpu.key);
      return;
    }
    this.wake(vcpu);
  }

  private wake(vcpu: Vcpu): void {
    const vm = this.vmOf(vcpu);
    if (vcpu.state !== 'blocked' || vcpu.cpu.ie === 0 || this.deliverable(vm, vcpu) < 0) return;
    const now = this.kernel.now;
    if (!vcpu.wake(now)) return;
    if (vm.state === 'blocked') vm.command('UNBLOCK', () => this.bus.publish(vm.id, 'vm.unblocked', {}));
    this.policy.enqueue(vcpu, now, 'wake');
    this.kick();
  }

  // ---------------------------------------------------------------- devices that reach guest memory, ballooning

  /**
   * Cuts every batch of this VM's vCPUs that runs past now, before a device writes or unmaps the
   * VM's memory at this instant (the batches run ahead of the clock; see truncate).
   */
  private quiesce(vm: Vm): void {
    for (const vcpu of vm.vcpus) if (vcpu.state === 'running' && vcpu.pcpu >= 0) this.truncate(this.pcpus[vcpu.pcpu], this.kernel.now);
  }

  /**
   * Asks a VM's balloon driver for `pages` pages back in all (an operator's command or an
   * `input.balloon` record): the balloon raises its interrupt and the guest gives pages back.
   */
  setBalloonTarget(vm: Vm, pages: number): void {
    vm.balloon.setTarget(pages);
  }

  /**
   * The guest gave back a guest-physical page: it leaves the VM's map (an access to it is now an
   * EPT violation), every TLB and shadow entry of the VM is dropped, and the host frame is
   * released (zeroed, free for another VM).
   */
  private balloonGive(vm: Vm, page: number): boolean {
    this.quiesce(vm);
    const frame = vm.memory.unmap(page);
    // A page with no frame (never touched, or swapped out under overcommit) is given back too.
    if (frame < 0 && this.options.memory?.discard(vm, page) !== true) {
      this.bus.publish(vm.balloon.id, 'balloon.refused', { page, reason: `guest page ${page} is not mapped in the VM's memory` });
      return false;
    }
    for (const vcpu of vm.vcpus) vcpu.mmu?.flush();
    vm.shadow.clear();
    // A shared frame stays with its other sharers.
    if (frame >= 0) vm.memory.host.drop(frame, vm.id);
    this.bus.publish(vm.balloon.id, 'balloon.released', { page, frame, size: vm.balloon.size + 1 });
    return true;
  }

  // ---------------------------------------------------------------- Type 2: the host OS

  /** Until when the host's own processes hold each physical CPU. */
  private readonly hostBusyUntil: number[] = [];

  /** Starts the host's processes' ticks (Type 2 with host.load > 0), staggered across CPUs. */
  startHostLoad(): void {
    const load = this.options.hostLoad ?? 0;
    if (this.options.hostType !== 'type2' || load <= 0) return;
    const tick = this.costs.hostTickNs;
    this.pcpus.forEach((pcpu) => {
      this.kernel.schedule(Math.floor((tick * (pcpu.index + 1)) / this.pcpus.length), this.target, HOST_TICK, pcpu.index);
    });
  }

  /** A host tick on one CPU: the host's processes run for their share, the vCPU there waits. */
  private hostTick(pcpu: Pcpu): void {
    const now = this.kernel.now;
    const tick = this.costs.hostTickNs;
    const burst = Math.floor((this.options.hostLoad ?? 0) * tick);
    this.kernel.schedule(now + tick, this.target, HOST_TICK, pcpu.index);
    if (burst <= 0) return;
    this.hostBusyUntil[pcpu.index] = now + burst;
    this.bus.publish(`pcpu/${pcpu.index}`, 'host.process', { pcpu: pcpu.index, ns: burst });
    const vcpu = pcpu.current;
    if (vcpu === null) return;
    this.endBatchNow(pcpu, vcpu);
    vcpu.publishPreempt(pcpu.index, now - pcpu.sliceStart);
    pcpu.current = null;
    pcpu.generation++;
    pcpu.dispatchPending = true;
    this.kernel.schedule(now + burst, this.target, DISPATCH, pcpu.generation * PCPU_BITS + pcpu.index);
    if (vcpu.preempt(now)) this.policy.enqueue(vcpu, now, 'preempt');
    this.kick();
  }

  // ---------------------------------------------------------------- VM endings

  /**
   * An injected stall: the vCPU cannot run for `durationNs` (a host hiccup, an SMI): it leaves
   * its physical CPU and the run queue (paused), and comes back runnable when the stall ends.
   */
  stall(vcpu: Vcpu, durationNs: number): boolean {
    const vm = this.vmOf(vcpu);
    if (vm.finished || vcpu.state === 'paused' || vcpu.state === 'halted' || vcpu.state === 'crashed' || vcpu.state === 'created') return false;
    const now = this.kernel.now;
    const wasBlocked = vcpu.state === 'blocked';
    this.takeOff(vcpu, () => vcpu.pause(now));
    this.stalls.set(vcpu.id, { until: now + durationNs, blocked: wasBlocked });
    this.kernel.schedule(now + durationNs, this.target, STALL_END, vcpu.key);
    return true;
  }

  private readonly stalls = new Map<string, { until: number; blocked: boolean }>();
  private readonly vcpusByKey: Vcpu[] = [];

  private endStall(key: number): void {
    const vcpu = this.vcpusByKey[key];
    const stall = vcpu === undefined ? undefined : this.stalls.get(vcpu.id);
    if (vcpu === undefined || stall === undefined || stall.until !== this.kernel.now) return;
    this.stalls.delete(vcpu.id);
    const vm = this.vmOf(vcpu);
    if (vcpu.state !== 'paused' || vm.state === 'paused' || vm.finished) return;
    const now = this.kernel.now;
    if (vcpu.resume(now)) this.policy.enqueue(vcpu, now);
    this.kick();
  }

  /** The operator ended the run here (an input record, so replay ends at the same point). */
  stopRun(): void {
    this.endReason = 'stopped';
    this.kernel.requestStop();
  }

  /** Crashes one VM (libvirt's `crashed`): its vCPUs stop; no other VM is touched. */
  crash(vm: Vm, culprit: Vcpu, reason: string): void {
    if (vm.finished) return;
    const now = this.kernel.now;
    const pc = culprit.cpu.pc;
    vm.command('CRASH', () => this.bus.publish(vm.id, 'vm.crashed', { reason, vcpu: culprit.index, pc }));
    vm.endReason = reason;
    for (const vcpu of vm.vcpus) this.takeOff(vcpu, () => vcpu.crash(reason, now));
    vm.stopDevices();
    this.checkAllFinished();
  }

  /** The guest powered off: shutdown, every vCPU halted, devices stopped, shutoff. */
  powerOff(vm: Vm, reason: string): void {
    if (vm.finished) return;
    const now = this.kernel.now;
    if (vm.state !== 'shutdown') vm.command('SHUTDOWN', () => this.bus.publish(vm.id, 'vm.shutdown', { reason }));
    for (const vcpu of vm.vcpus) this.takeOff(vcpu, () => vcpu.halt(now));
    vm.stopDevices();
    vm.endReason = reason;
    vm.command('POWEROFF', () => this.bus.publish(vm.id, 'vm.stopped', { reason }));
    this.checkAllFinished();
  }

  private checkAllFinished(): void {
    if (this.vms.every((vm) => vm.finished)) {
      this.endReason = 'idle';
      this.kernel.requestStop();
    }
  }

  private readGuest(vm: Vm, address: number): number | undefined {
    // Through translateRead: an overcommitted page the guest never touched is backed (zeroes).
    const index = vm.memory.translateRead(address);
    return index < 0 ? undefined : vm.memory.host.words[index];
  }

  /** Monitor state for checkpoints. */
  snapshot(): Record<string, unknown> {
    return {
      pcpus: this.pcpus.map((pcpu) => ({
        index: pcpu.index,
        current: pcpu.current?.id ?? null,
        last: pcpu.last?.id ?? null,
        sliceEnd: pcpu.sliceEnd,
        generation: pcpu.generation,
        idle: pcpu.idle,
        busyNs: pcpu.busyNs,
      })),
      scheduler: this.policy.snapshot(),
      retiredTotal: this.retiredTotal,
    };
  }
}

const VECTOR_NAMES: Readonly<Record<number, string>> = {
  [Vector.DE]: '#DE (divide error)',
  [Vector.GP]: '#GP (privileged instruction)',
  [Vector.PF]: '#PF (page fault)',
  [Vector.SYSCALL]: 'syscall',
  [Vector.UD]: '#UD (undefined opcode)',
  [Vector.AC]: '#AC (misaligned instruction address)',
};
