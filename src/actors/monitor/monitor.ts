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
 * virtual-time order. Soft entries (Kernel.scheduleSoft: timer expiries, dispatches) do not bound
 * it: what they do to a running guest goes through truncate, which cuts its batch back to now.
 * Where a batch ends changes no event (test/engine/batchCuts.test.ts). maxBatchNs is the quantum of temporal decoupling (as in SystemC TLM or
 * QEMU's icount): it bounds how late a vCPU notices something another vCPU did meanwhile; the
 * SMP quantum bounds it more tightly between the vCPUs of one VM (smpBound).
 *
 * This file keeps the physical CPUs' time line; the exit handlers, interrupt delivery, memory
 * virtualization and the Type 2 host are its parts, in the files next to it (see core.ts).
 */
import type { EventBus, EventHandler } from '../../core/bus.js';
import { EXIT_REASONS, type ExitType } from '../../core/events.js';
import type { CostModel } from '../../core/costs.js';
import type { Kernel } from '../../core/kernel.js';
import { Csr } from '../../core/isa/opcodes.js';
import { PAGE_SHIFT } from '../../core/platform.js';
import { PolicyContractError, type Pick, type PolicyHost, type SchedulingPolicy } from '../scheduler/policy.js';
import { withAdoption } from '../scheduler/adopt.js';
import { Stop } from '../vcpu/cpuState.js';
import type { Vcpu } from '../vcpu/vcpu.js';
import type { Vm } from '../vm.js';
import { Entry, PCPU_BITS, type EndReason, type MonitorCore, type MonitorOptions, type Pcpu } from './core.js';
import { ExitHandlers } from './exits.js';
import { HostOs } from './hostOs.js';
import { Interrupts } from './interrupts.js';
import { MemoryVirtualization } from './memoryVirtualization.js';

export type { EndReason, MonitorOptions } from './core.js';

const { DISPATCH, ENTER, STOP, STALL_END, HOST_WAKE, HOST_TICK, TICK, RESTORED_START } = Entry;

/**
 * How many times maxBatchNs the batch of a VM with one vCPU may last (1 ms by default). It bounds
 * the guest code run ahead and then thrown away when something unforeseen cuts the batch (a
 * preemption on another VM's wake-up); a run's events do not depend on it.
 */
const UNIPROCESSOR_BATCH_FACTOR = 10;

export class Monitor implements MonitorCore {
  readonly id = 'monitor';
  readonly pcpus: Pcpu[] = [];
  readonly target: number;
  private readonly vcpusById = new Map<string, Vcpu>();
  private readonly vmsByDevice = new Map<string, Vm>();
  private readonly vmsByName = new Map<string, Vm>();
  /** Which privileged instructions exit in virtual kernel mode: all of them (trap-and-emulate). */
  retiredTotal = 0;
  /**
   * A debugger's cap on a batch's length (virtual ns from its start), asked once per batch; unset,
   * it costs one check per batch. Where batches are cut changes no event (see truncate, and the
   * property test that long and 7 ns batches give the same log), so `vmmsim debug` cuts them after
   * every instruction to stop anywhere.
   */
  batchCapNs: ((vcpu: Vcpu) => number) | undefined = undefined;
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
      // The new policy never saw the vCPUs running now: they give their CPUs up at once and join
      // it when they leave (adopt.ts, as Xen's sched_move_domain).
      const running = [...this.vcpusById.values()].filter((vcpu) => vcpu.state === 'running' && vcpu.pcpu >= 0);
      const policy = running.length > 0 ? withAdoption(changes.policy, running) : changes.policy;
      this.currentPolicy = policy;
      this.tickAt = Number.POSITIVE_INFINITY;
      this.tickGeneration++;
      policy.attach?.(this.policyHost());
      const runnable = [...this.vcpusById.values()]
        .filter((vcpu) => vcpu.state === 'runnable')
        .sort((x, y) => x.runnableSince - y.runnableSince || x.key - y.key);
      for (const vcpu of runnable) policy.enqueue(vcpu, now, 'resume');
      for (const vcpu of running) this.preemptNow(vcpu.pcpu);
      this.kick();
    }
  }
  endReason: EndReason | undefined;
  /** When the policy's next tick is due (Infinity: none), and its generation. */
  private tickAt = Number.POSITIVE_INFINITY;
  private tickGeneration = 0;

  constructor(
    readonly kernel: Kernel,
    readonly bus: EventBus,
    policy: SchedulingPolicy,
    /** The cost model in force (reconfigure changes it). */
    public costs: CostModel,
    readonly vms: readonly Vm[],
    public options: MonitorOptions,
  ) {
    this.currentPolicy = policy;
    if (options.pcpus >= PCPU_BITS) throw new RangeError(`at most ${PCPU_BITS - 1} physical CPUs`);
    for (let index = 0; index < options.pcpus; index++) {
      this.pcpus.push({ index, current: null, last: null, sliceEnd: 0, generation: 0, dispatchPending: false, idle: true, sliceStart: 0, busyNs: 0, inBatch: false, batchStart: 0, stopTime: 0, heldNs: 0, chargedNs: 0, interruptLine: -1, exitAtEntry: -1, exitAtEntryGeneration: 0, enterAt: -1, dispatchAt: -1 });
    }
    for (const vm of vms) {
      this.vmsByName.set(vm.name, vm);
      for (const vcpu of vm.vcpus) {
        this.vcpusById.set(vcpu.id, vcpu);
        this.vcpusByKey[vcpu.key] = vcpu;
        this.vmsByKey[vcpu.key] = vm;
      }
      for (const device of vm.io.devices) this.vmsByDevice.set(device.id, vm);
      vm.power.onPowerOff = () => this.powerOff(vm, 'the guest powered off');
      if (vm.block !== null) vm.block.quiesce = () => this.quiesce(vm);
      if (vm.nic !== null) vm.nic.quiesce = () => this.quiesce(vm);
      vm.balloon.onGive = (page) => this.balloonGive(vm, page);
    }
    this.host = new HostOs(this);
    this.interrupts = new Interrupts(this);
    this.memoryVirtualization = new MemoryVirtualization(this);
    this.exits = new ExitHandlers(this, this.interrupts, this.memoryVirtualization, this.host);
    this.target = kernel.register(this.id, (kind, arg) => this.step(kind, arg));
    policy.attach?.(this.policyHost());
    options.memory?.attach(vms, { quiesce: (vm) => this.quiesce(vm), setBalloonTarget: (vm, pages) => this.setBalloonTarget(vm, pages) });

    const exits = this.exits;
    // Every exit, all ten reasons, reaches the monitor over the bus, through one table.
    for (const reason of EXIT_REASONS) bus.on(`exit.${reason}` as ExitType, exits.table[reason] as EventHandler<ExitType>);
    bus.on('irq.raise', (event) => this.interrupts.onIrq(event));
    if (options.backend !== undefined) bus.on('backend.done', (event) => this.interrupts.onBackendDone(event));
  }

  /** The monitor's parts (see core.ts). */
  private readonly host: HostOs;
  private readonly interrupts: Interrupts;
  private readonly memoryVirtualization: MemoryVirtualization;
  private readonly exits: ExitHandlers;

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
    for (const vcpu of vm.vcpus) if (vcpu.start(now)) this.enqueue(vcpu, now, 'start');
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
    for (const vcpu of vm.vcpus) if (vcpu.state === 'paused' && vcpu.resume(now)) this.enqueue(vcpu, now, 'resume');
    this.kick();
    return true;
  }

  /**
   * Starts a VM restored from an image: devices up, and each vCPU back in the run state it was
   * saved in (a vCPU that waited in `hlt` waits again, rather than waking for nothing), then a
   * blocked one is woken if an interrupt is already pending for it.
   */
  startRestored(vm: Vm, runStates: readonly string[], delaysNs: readonly number[] = []): boolean {
    const now = this.kernel.now;
    if (!vm.command('START', () => this.bus.publish(vm.id, 'vm.started', {}))) return false;
    for (const device of vm.io.devices) device.realize();
    vm.vcpus.forEach((vcpu, index) => {
      const state = runStates[index];
      const delayNs = delaysNs[index] ?? 0;
      if (state === 'blocked') vcpu.startBlocked();
      else if (state === 'halted') {
        if (vcpu.start(now)) vcpu.halt(now);
      } else if (delayNs > 0) this.kernel.schedule(now + delayNs, this.target, RESTORED_START, vcpu.key);
      else if (vcpu.start(now)) this.enqueue(vcpu, now, 'start');
    });
    if (vm.allBlocked()) vm.command('BLOCK', () => this.bus.publish(vm.id, 'vm.blocked', {}));
    for (const vcpu of vm.vcpus) this.interrupts.wake(vcpu);
    this.kick();
    return true;
  }

  /**
   * How long after now a vCPU would next run guest instructions: 0 inside a batch, the rest of
   * the exit handling when running between batches, the wait for its dispatch and entry when it
   * is runnable with a dispatch due; -1 when blocked or not on its way to a CPU.
   */
  enterInNs(vcpu: Vcpu): number {
    const now = this.kernel.now;
    if (vcpu.state === 'running' && vcpu.pcpu >= 0) {
      const pcpu = this.pcpus[vcpu.pcpu];
      return pcpu.inBatch ? 0 : Math.max(0, pcpu.enterAt - now);
    }
    if (vcpu.state !== 'runnable') return -1;
    let next: Pcpu | undefined;
    for (const pcpu of this.pcpus) if (pcpu.dispatchPending && pcpu.dispatchAt >= now && (next === undefined || pcpu.dispatchAt < next.dispatchAt)) next = pcpu;
    if (next === undefined) return -1;
    return next.dispatchAt - now + (next.last !== vcpu ? this.costs.contextSwitchNs : 0) + this.costs.entryNs;
  }

  /** Whether a vCPU was the last to run on some physical CPU (its next dispatch there costs no context switch). */
  isWarm(vcpu: Vcpu): boolean {
    return this.pcpus.some((pcpu) => pcpu.last === vcpu);
  }

  /** Pulls the plug (libvirt's destroy); `reason` says why (`saved`: the VM was saved to an image). */
  destroy(vm: Vm, reason = 'destroyed'): boolean {
    const now = this.kernel.now;
    if (!vm.command('DESTROY', () => this.bus.publish(vm.id, 'vm.stopped', { reason }))) return false;
    vm.endReason = reason;
    for (const vcpu of vm.vcpus) this.takeOff(vcpu, () => vcpu.halt(now));
    vm.stopDevices();
    this.options.memory?.vmEnded(vm);
    this.checkAllFinished();
    return true;
  }

  // ---------------------------------------------------------------- physical CPU time line

  private step(kind: number, arg: number): void {
    if (kind === STALL_END) {
      this.endStall(arg);
      return;
    }
    if (kind === RESTORED_START) {
      const vcpu = this.vcpusByKey[arg];
      const now = this.kernel.now;
      if (!this.vmOf(vcpu).finished && vcpu.start(now)) this.enqueue(vcpu, now, 'start');
      this.kick();
      return;
    }
    if (kind === HOST_WAKE) {
      this.interrupts.wake(this.vcpusByKey[arg]);
      return;
    }
    if (kind === HOST_TICK) {
      this.host.tick(this.pcpus[arg]);
      return;
    }
    if (kind === TICK) {
      if (arg !== this.tickGeneration) return;
      this.tickAt = Number.POSITIVE_INFINITY;
      this.settle();
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

  schedule(pcpu: Pcpu, kind: number, time: number): void {
    const arg = pcpu.generation * PCPU_BITS + pcpu.index;
    if (kind === ENTER) pcpu.enterAt = time;
    if (kind === DISPATCH) pcpu.dispatchAt = time;
    if (kind === DISPATCH) this.kernel.scheduleSoft(time, this.target, kind, arg);
    else this.kernel.scheduleCpu(time, this.target, kind, arg, pcpu.index);
  }

  /**
   * Charges the policy, up to now, for the guest time of every batch in flight, before the policy
   * decides anything (a wake-up, a pick, a tick): a batch runs ahead of the clock and is charged at
   * its stop, so without this a policy would compare against the running vCPUs' time as of their
   * batches' starts, and its decisions would depend on where batches end (Linux's update_curr at
   * check_preempt_wakeup, Xen's burn_credits before runq_tickle do the same).
   */
  settle(): void {
    const now = this.kernel.now;
    for (const pcpu of this.pcpus) {
      const vcpu = pcpu.current;
      if (vcpu === null || !pcpu.inBatch) continue;
      const upTo = Math.min(now - pcpu.batchStart, pcpu.heldNs);
      if (upTo <= pcpu.chargedNs) continue;
      this.policy.charge(vcpu, upTo - pcpu.chargedNs, now);
      pcpu.chargedNs = upTo;
    }
  }

  /** Hands a vCPU to the policy, the running ones' time settled first (see settle). */
  enqueue(vcpu: Vcpu, now: number, reason?: Parameters<SchedulingPolicy['enqueue']>[2]): void {
    this.settle();
    this.policy.enqueue(vcpu, now, reason);
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
  kick(): void {
    let waiting = this.policy.waiting;
    if (waiting === 0) return;
    const pools = this.policy.pools;
    if (pools !== undefined) {
      this.kickPools(pools);
      return;
    }
    for (const pcpu of this.pcpus) {
      if (waiting === 0) break;
      if (pcpu.current !== null || pcpu.dispatchPending) continue;
      pcpu.dispatchPending = true;
      waiting--;
      this.schedule(pcpu, DISPATCH, this.kernel.now + this.costs.scheduleNs);
    }
  }

  /** kick under cpupools: each pool's idle CPUs, lowest index first, as many as its policy has waiting. */
  private kickPools(pools: NonNullable<SchedulingPolicy['pools']>): void {
    const left: number[] = [];
    for (const pcpu of this.pcpus) {
      if (pcpu.current !== null || pcpu.dispatchPending) continue;
      const pool = pools.poolOf(pcpu.index);
      left[pool] ??= pools.waitingIn(pool);
      if (left[pool] === 0) continue;
      left[pool]--;
      pcpu.dispatchPending = true;
      this.schedule(pcpu, DISPATCH, this.kernel.now + this.costs.scheduleNs);
    }
  }

  /**
   * Moves a VM to another cpupool (`xl cpupool-migrate`, Xen's sched_move_domain) through
   * `route`, which switches the routing of its vCPUs: its runnable vCPUs leave the old pool's
   * policy before and join the new one's after; a running one is cut at once and gives its CPU
   * up (the pool policy preempts a vCPU that runs outside its pool), rejoining in the new pool.
   */
  moveToPool(vm: Vm, from: string, to: string, route: () => void): void {
    const now = this.kernel.now;
    this.bus.publish(vm.id, 'vm.pool-moved', { from, to });
    const runnable = vm.vcpus.filter((vcpu) => vcpu.state === 'runnable');
    for (const vcpu of runnable) this.policy.remove(vcpu);
    route();
    for (const vcpu of runnable) this.enqueue(vcpu, now, 'resume');
    for (const vcpu of vm.vcpus) if (vcpu.state === 'running' && vcpu.pcpu >= 0) this.preemptNow(vcpu.pcpu);
    this.kick();
  }

  private dispatch(pcpu: Pcpu): void {
    if (pcpu.current !== null) return;
    const now = this.kernel.now;
    const busyUntil = this.host.busyUntil(pcpu.index);
    if (now < busyUntil) {
      // The host OS runs its own processes on this CPU until then.
      pcpu.dispatchPending = true;
      this.kernel.scheduleSoft(busyUntil, this.target, DISPATCH, pcpu.generation * PCPU_BITS + pcpu.index);
      return;
    }
    // A pick the vCPU refuses (it is no longer runnable: paused, crashed) is skipped and the policy
    // asked again; a policy that keeps offering vCPUs that cannot run breaks its contract.
    this.settle();
    let pick: Pick | undefined;
    let vcpu: Vcpu | undefined;
    for (let refused = 0; ; refused++) {
      pick = this.policy.pick(pcpu.index, now);
      if (pick === undefined) {
        if (!pcpu.idle) {
          pcpu.idle = true;
          const host = this.options.pcpuHosts?.[pcpu.index];
          this.bus.publish(`pcpu/${pcpu.index}`, 'pcpu.idle', host === undefined ? { pcpu: pcpu.index } : { pcpu: pcpu.index, host });
        }
        return;
      }
      // By key (an array), checked against the id; a policy from outside may hand back entities it built itself.
      const byKey: Vcpu | undefined = this.vcpusByKey[pick.entity.key];
      vcpu = byKey !== undefined && byKey.id === pick.entity.id ? byKey : this.vcpusById.get(pick.entity.id);
      if (vcpu === undefined) throw new PolicyContractError(`policy ${this.policy.name} picked ${JSON.stringify(pick.entity.id)} for pCPU ${pcpu.index}, which is no vCPU of this run`);
      if (vcpu.dispatch(pcpu.index, now)) break;
      if (refused > this.vcpusById.size) {
        throw new PolicyContractError(`policy ${this.policy.name} picked ${vcpu.id} for pCPU ${pcpu.index} at ${now} ns, which is ${vcpu.state}, not runnable, ${refused + 1} times in a row: a policy must pick a runnable vCPU it was given by enqueue and not taken back by remove`);
      }
    }
    this.options.parts?.worldSwitch?.(vcpu, pcpu.last);
    pcpu.idle = false;
    pcpu.current = vcpu;
    pcpu.interruptLine = -1;
    pcpu.generation++;
    // Untagged TLBs: a physical CPU that switches to another vCPU starts it with an empty one.
    // Tagged (VPID/ASID): its entries stay, unless it comes from another physical CPU.
    if (pcpu.last !== vcpu) vcpu.mmu?.switchedTo(pcpu.index);
    else if (vcpu.mmu !== undefined) vcpu.mmu.pcpu = pcpu.index;
    const switchNs = (pcpu.last !== vcpu && !vcpu.warmStart ? this.costs.contextSwitchNs : 0) + this.costs.entryNs;
    vcpu.warmStart = false;
    vcpu.counters.overheadNs += switchNs;
    pcpu.last = vcpu;
    pcpu.sliceStart = now + switchNs;
    pcpu.sliceEnd = pcpu.sliceStart + pick.sliceNs;
    this.schedule(pcpu, ENTER, now + switchNs);
  }

  /** Enters the guest: injects a pending interrupt if it can be taken, then runs a batch. */
  private enter(pcpu: Pcpu): void {
    const vcpu = pcpu.current as Vcpu;
    if (pcpu.exitAtEntry >= 0) {
      const line = pcpu.exitAtEntry;
      pcpu.exitAtEntry = -1;
      if (pcpu.exitAtEntryGeneration === pcpu.generation) {
        vcpu.publishInterruptExit(line);
        return;
      }
    }
    const vm = this.vmOf(vcpu);
    const injectNs = this.interrupts.injectAtEntry(vm, vcpu);
    if (injectNs < 0) return;
    const start = this.kernel.now + injectNs;
    this.memoryVirtualization.selectTranslation(vcpu, vm);
    let end = Math.min(this.kernel.queue.peekTime(), pcpu.sliceEnd, this.options.runEndNs);
    if (vm.vcpus.length > 1) {
      // A vCPU with siblings stops at soft entries too, and after maxBatchNs: where its batches end
      // decides which of a sibling's writes it sees (see smpBound), so they end where they always did.
      end = Math.min(end, start + this.options.maxBatchNs, this.kernel.softQueue.peekTime(), this.smpBound(vm, vcpu, start));
    } else {
      // A lone vCPU's batch ends where it does not matter (nothing sees its writes before): it may
      // run UNIPROCESSOR_BATCH_FACTOR times longer, but not past its own timer's next expiry, whose
      // interrupt would cut it there and waste the guest code it ran beyond.
      end = Math.min(end, start + this.options.maxBatchNs * UNIPROCESSOR_BATCH_FACTOR);
      const due = vm.timer.dueNs;
      if (due > start && due < end) end = due;
    }
    if (this.batchCapNs !== undefined) end = Math.min(end, start + this.batchCapNs(vcpu));
    const limit = this.options.instructionLimit;
    if (limit !== undefined) end = Math.min(end, start + Math.max(0, limit - this.retiredTotal) * this.costs.instructionNs);
    const budget = end > start ? end - start : 0;
    vcpu.cpu.checkpoint();
    pcpu.chargedNs = 0;
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
    // NUMA: on a pCPU of another node than its memory, guest code runs `remoteSlowdown` times slower.
    const slowdown = this.slowdownOf(pcpu, vcpu);
    vcpu.run(
      slowdown === 1 ? budget : Math.floor(budget / slowdown),
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
    // Slowed down, a batch that ran out of budget held all of it (a budget too short for one guest ns included).
    const held = slowdown === 1 ? vcpu.cpu.elapsedNs : vcpu.cpu.stop === Stop.BUDGET ? budget : Math.min(budget, Math.ceil(vcpu.cpu.elapsedNs * slowdown));
    pcpu.heldNs = held;
    pcpu.stopTime = Math.max(start + held, this.kernel.now);
    this.schedule(pcpu, STOP, pcpu.stopTime);
  }

  /** How many times slower guest code runs on this pCPU: remoteSlowdown away from the VM's memory node, else 1. */
  private slowdownOf(pcpu: Pcpu, vcpu: Vcpu): number {
    const numa = this.options.numa;
    if (numa === undefined) return 1;
    const memoryNode = numa.memoryNodeOfVcpu[vcpu.key] ?? -1;
    return memoryNode < 0 || memoryNode === numa.nodeOfPcpu[pcpu.index] ? 1 : numa.remoteSlowdown;
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
  truncate(pcpu: Pcpu, time: number): void {
    const vcpu = pcpu.current;
    if (vcpu === null || !pcpu.inBatch || time > pcpu.stopTime || (time === pcpu.stopTime && vcpu.cpu.stop === Stop.BUDGET) || time < pcpu.batchStart) return;
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
    const ran = pcpu.heldNs;
    vcpu.counters.cpuNs += ran;
    pcpu.busyNs += ran;
    this.policy.charge(vcpu, ran - pcpu.chargedNs, now);
    pcpu.chargedNs = 0;
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
      this.memoryVirtualization.pagingFault(pcpu, vcpu);
      return;
    }
    if (stopCode === Stop.PAGE_FAULT && this.memoryVirtualization.hostFault(vcpu, vcpu.cpu.stopA >>> PAGE_SHIFT, vcpu.cpu.stopA, vcpu.cpu.stopB)) return;
    if (stopCode === Stop.EXCEPTION && this.vmOf(vcpu).technique.nativeExceptions) {
      this.exits.deliverNatively(pcpu, vcpu);
      return;
    }
    if (stopCode !== Stop.BUDGET) {
      if (this.exits.withoutExit(pcpu, vcpu, interrupted)) return;
      vcpu.publishExit();
      return;
    }
    if (now >= this.options.runEndNs) return;
    if (now < pcpu.sliceEnd) {
      if (interrupted >= 0) {
        this.interrupts.interruptExit(vcpu, interrupted);
        return;
      }
      // The batch was cut by another entry in the queue, not by the scheduler: carry on.
      this.schedule(pcpu, ENTER, now);
      return;
    }
    if (this.policy.shouldPreempt(pcpu.index, vcpu, now)) {
      vcpu.publishPreempt(pcpu.index, now - pcpu.sliceStart);
      return;
    }
    pcpu.sliceStart = now;
    pcpu.sliceEnd = now + this.policy.extend(pcpu.index, vcpu, now);
    if (interrupted >= 0) {
      this.interrupts.interruptExit(vcpu, interrupted);
      return;
    }
    this.schedule(pcpu, ENTER, now);
  }

  resumeAfterExit(vcpu: Vcpu, handlingNs: number): void {
    const pcpu = this.pcpus[vcpu.pcpu];
    const cost = this.costs.exitNs + handlingNs + this.costs.entryNs;
    vcpu.counters.overheadNs += cost;
    this.schedule(pcpu, ENTER, this.kernel.now + cost);
  }

  /** Takes a vCPU off its physical CPU, which then picks other work after `delayNs`. */
  release(pcpu: Pcpu, vcpu: Vcpu, delayNs: number): void {
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
  endBatchNow(pcpu: Pcpu, vcpu: Vcpu): void {
    if (!pcpu.inBatch || pcpu.current !== vcpu) return;
    const now = this.kernel.now;
    this.truncate(pcpu, now);
    const ran = now - pcpu.batchStart;
    vcpu.counters.cpuNs += ran;
    pcpu.busyNs += ran;
    this.policy.charge(vcpu, ran - pcpu.chargedNs, now);
    pcpu.chargedNs = 0;
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

  // ---------------------------------------------------------------- for the monitor's parts

  vcpuOf(src: string): Vcpu {
    // The events of one vCPU come in runs (an exit, its handling, the entry): the last one found
    // is checked first, before the map, whose lookups missed the cache with a thousand vCPUs.
    const last = this.lastVcpu;
    if (last !== undefined && last.id === src) return last;
    const vcpu = this.vcpusById.get(src);
    if (vcpu === undefined) throw new Error(`exit from unknown vCPU ${src}`);
    this.lastVcpu = vcpu;
    return vcpu;
  }

  private lastVcpu: Vcpu | undefined = undefined;

  vmOf(vcpu: Vcpu): Vm {
    return this.vmsByKey[vcpu.key];
  }

  vmOfDevice(src: string): Vm | undefined {
    return this.vmsByDevice.get(src);
  }

  vcpuByKey(key: number): Vcpu | undefined {
    return this.vcpusByKey[key];
  }

  // ---------------------------------------------------------------- devices that reach guest memory, ballooning

  /**
   * Cuts every batch of this VM's vCPUs that runs past now, before a device writes or unmaps the
   * VM's memory at this instant (the batches run ahead of the clock; see truncate).
   */
  quiesce(vm: Vm): void {
    for (const vcpu of vm.vcpus) if (vcpu.state === 'running' && vcpu.pcpu >= 0) this.truncate(this.pcpus[vcpu.pcpu], this.kernel.now);
  }

  /**
   * Asks a VM's balloon driver for `pages` pages back in all (an operator's command, an
   * `input.balloon` record, or the host's memory manager under pressure, hostBalloons.ts): the
   * balloon raises its interrupt and the guest gives pages back.
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

  /** Starts the host's processes' ticks (Type 2 with host.load > 0; hostOs.ts). */
  startHostLoad(): void {
    this.host.start();
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
  /** The VM of each vCPU, by the vCPU's key (the exit path's lookup). */
  private readonly vmsByKey: Vm[] = [];

  private endStall(key: number): void {
    const vcpu = this.vcpusByKey[key];
    const stall = vcpu === undefined ? undefined : this.stalls.get(vcpu.id);
    if (vcpu === undefined || stall === undefined || stall.until !== this.kernel.now) return;
    this.stalls.delete(vcpu.id);
    const vm = this.vmOf(vcpu);
    if (vcpu.state !== 'paused' || vm.state === 'paused' || vm.finished) return;
    const now = this.kernel.now;
    if (vcpu.resume(now)) this.enqueue(vcpu, now);
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
    this.options.memory?.vmEnded(vm);
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
    this.options.memory?.vmEnded(vm);
    this.checkAllFinished();
  }

  private checkAllFinished(): void {
    if (this.vms.every((vm) => vm.finished)) {
      this.endReason = 'idle';
      this.kernel.requestStop();
    }
  }

  readGuest(vm: Vm, address: number): number | undefined {
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
