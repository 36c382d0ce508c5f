/**
 * The time-travel machine behind `vmmsim debug`: a run rebuilt from its log's header (scenario,
 * seed, input records: the public `restore`), advanced one kernel step at a time with every batch
 * cut after one guest instruction (Monitor.batchCapNs; where batches are cut changes no event), so
 * it can stop at any instruction of any vCPU of a one-vCPU VM. The vCPUs of a VM with several step a
 * batch at a time, as the run cut them (see rebuild: cutting them would change what they read).
 *
 * A position is the number of kernel steps run since the start. Going backwards re-executes from
 * the nearest checkpoint before the target: on its first pass the machine takes an in-process
 * checkpoint every `checkpointEvery` steps (GraphSnapshot: every field of the simulation's
 * objects, memory in shared 4 KiB chunks), and going back restores the latest one at or before the
 * target and runs forward from there, which determinism makes exactly the same state. With no
 * checkpoint before the target it starts again from the log's header. Checkpoints are bounded
 * (`maxCheckpoints`; when full, every other one goes and the spacing doubles, as rr thins its
 * own). Reverse-continue searches backwards one checkpoint interval at a time: it restores the
 * interval's checkpoint, runs forward to the interval's end noting the last rule hit, and goes to
 * the latest hit found. Every position re-run is checked against the first pass (the events
 * published so far): a restored state that had drifted stops with an error, never a wrong answer.
 * Nothing the debugger does changes the run: it never writes guest memory or registers, and the
 * events it sees equal the log's.
 */
import { createHash } from 'node:crypto';
import type { Simulation } from '../actors/simulation.js';
import type { Vcpu } from '../actors/vcpu/vcpu.js';
import type { Vm } from '../actors/vm.js';
import type { SimEvent } from '../core/events.js';
import { Op } from '../core/isa/opcodes.js';
import { restore } from '../replay/index.js';
import type { LogFile } from '../replay/logFile.js';
import { GraphSnapshot } from './graphSnapshot.js';

/** Why the machine stopped. */
export interface Hit {
  readonly reason: 'breakpoint' | 'data breakpoint' | 'instruction breakpoint' | 'exception' | 'function breakpoint' | 'step' | 'pause' | 'entry' | 'end';
  /** The vCPU the stop concerns (an index into `vcpus`), when one does. */
  readonly vcpu?: number;
  readonly text: string;
}

export interface DataWatch {
  readonly vm: number;
  /** Guest-physical word address. */
  readonly address: number;
  readonly access: 'write' | 'readWrite';
}

export interface StopRules {
  /** Per VM index: guest-physical instruction addresses. */
  readonly addresses: ReadonlyMap<number, ReadonlySet<number>>;
  readonly instructionAddresses: ReadonlyMap<number, ReadonlySet<number>>;
  readonly data: readonly DataWatch[];
  /** Event type patterns (`exit.io`, `exit.*`) that stop, as exception filters or function breakpoints. */
  readonly eventTypes: readonly { readonly pattern: string; readonly kind: 'exception' | 'function breakpoint' }[];
}

export const NO_RULES: StopRules = { addresses: new Map(), instructionAddresses: new Map(), data: [], eventTypes: [] };

/** The last store to a watched word, as found when a data breakpoint stops. */
export interface StoreInfo {
  readonly vcpu: number;
  /** Address of the instruction that wrote (or read) it. */
  readonly pc: number;
  readonly address: number;
  readonly value: number;
  readonly access: 'write' | 'read';
}

function matches(pattern: string, type: string): boolean {
  if (pattern.endsWith('*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

/** A checkpoint: the simulation's objects and the machine's own view of them at `position`. */
interface Checkpoint {
  readonly position: number;
  readonly graph: GraphSnapshot;
  readonly ended: boolean;
  readonly lastPc: Int32Array;
  readonly lastRetired: Float64Array;
  readonly lastRegs: Int32Array[];
  readonly moved: Uint8Array;
}

export interface CheckpointOptions {
  /** Steps between two checkpoints on the first pass (doubles when `maxCheckpoints` is reached). */
  readonly checkpointEvery?: number;
  readonly maxCheckpoints?: number;
}

/** Local checkpoints left on one long re-run (see goto). */
const LOCAL_CHECKPOINTS = 8;

const READS = new Set<number>([Op.LD, Op.LDA, Op.POP, Op.RET, Op.XCHG, Op.XCHGA]);

export class TimeTravelMachine {
  private simulation!: Simulation;
  /** Kernel steps run since the start. */
  position = 0;
  /** Whether the run has ended (no step left). */
  ended = false;
  /** Per vCPU, the positions at which its pc or retired count changed (its own steps), ascending. */
  private readonly history: number[][] = [];
  private recordedUpTo = 0;
  private stepEvents: SimEvent[] = [];
  private lastPc: Int32Array = new Int32Array(0);
  private lastRetired: Float64Array = new Float64Array(0);
  private lastRegs: Int32Array[] = [];
  /** Per vCPU, whether it moved in the last step. */
  private moved: Uint8Array = new Uint8Array(0);
  private watchValues: number[] = [];
  /** The last event published (seq), and the store a data breakpoint found. */
  lastStore: StoreInfo | undefined;
  rules: StopRules = NO_RULES;
  /**
   * Checkpoints taken while re-running a long way back to a target (eight per re-run, the last
   * two re-runs' kept), so that the next steps back near there re-run little.
   */
  private recent: Checkpoint[] = [];
  /** Checkpoints by ascending position, the first at position 0. */
  private checkpoints: Checkpoint[] = [];
  checkpointEvery: number;
  readonly maxCheckpoints: number;
  /** Per position of the first pass, the events published up to it (bus.count): the drift check. */
  private countAt = new Float64Array(1024);
  /** How many times a checkpoint was restored, and the steps re-run since the start (for tests and docs). */
  readonly stats = { restores: 0, stepsRerun: 0 };

  constructor(
    readonly file: LogFile,
    private readonly readProgram?: (path: string) => string,
    options: CheckpointOptions = {},
  ) {
    if (file.header.fork !== undefined) throw new RangeError(`${file.name} records a forked run (run --from): the debugger does not rebuild forks yet`);
    this.checkpointEvery = options.checkpointEvery ?? 2000;
    this.maxCheckpoints = options.maxCheckpoints ?? 32;
    if (!Number.isSafeInteger(this.checkpointEvery) || this.checkpointEvery < 1) throw new RangeError(`checkpointEvery must be a positive integer, got ${this.checkpointEvery}`);
    if (!Number.isSafeInteger(this.maxCheckpoints) || this.maxCheckpoints < 2) throw new RangeError(`maxCheckpoints must be an integer of at least 2, got ${this.maxCheckpoints}`);
    this.rebuild();
    this.takeCheckpoint();
  }

  /** Bytes the checkpoints held now copy (memory chunks they share counted once). */
  get checkpointBytes(): number {
    return this.checkpoints.reduce((sum, checkpoint) => sum + checkpoint.graph.bytes, 0);
  }

  /** The positions of the checkpoints held now. */
  get checkpointPositions(): readonly number[] {
    return this.checkpoints.map((checkpoint) => checkpoint.position);
  }

  get sim(): Simulation {
    return this.simulation;
  }

  /** Every vCPU, in VM order then index order (thread i+1 is vcpus[i]). */
  get vcpus(): readonly Vcpu[] {
    return this.vcpuList;
  }

  private vcpuList: Vcpu[] = [];
  private vmIndexList: number[] = [];

  vmOf(vcpuIndex: number): Vm {
    return this.simulation.vms[this.vmIndexList[vcpuIndex]];
  }

  vmIndexOf(vcpuIndex: number): number {
    return this.vmIndexList[vcpuIndex];
  }

  /** The last event's seq, and the virtual time now. */
  get seq(): number {
    return this.simulation.bus.count - 1;
  }

  get t(): number {
    return this.simulation.kernel.now;
  }

  private rebuild(): void {
    this.simulation = restore(this.file, 0, { ...(this.readProgram === undefined ? {} : { readProgram: this.readProgram }), sink: (event) => this.stepEvents.push(event) });
    const instructionNs = this.simulation.costs.instructionNs;
    const vmOfVcpu = new Map<Vcpu, Vm>();
    for (const vm of this.simulation.vms) for (const vcpu of vm.vcpus) vmOfVcpu.set(vcpu, vm);
    const smp = new Set(this.simulation.vms.filter((vm) => vm.vcpus.length > 1).flatMap((vm) => vm.vcpus));
    this.simulation.monitor.batchCapNs = (vcpu) => {
      // A VM with several vCPUs runs its batches as the run did: its vCPUs share memory, and
      // where a batch ends decides which of a sibling's writes it sees (temporal decoupling, the
      // SMP quantum: Monitor.smpBound), so cutting them would change the run. Its vCPUs step a
      // batch at a time.
      if (smp.has(vcpu)) return Number.POSITIVE_INFINITY;
      const cpu = vcpu.cpu;
      if (cpu.workLeftNs > 0) return Math.max(cpu.workLeftNs, instructionNs);
      const memory = (vmOfVcpu.get(vcpu) as Vm).memory;
      const index = memory.translate(cpu.pc);
      if (index < 0) return instructionNs;
      const words = memory.host.words;
      const op = words[index];
      if (op === Op.WORK) return Math.max(words[index + 1], instructionNs);
      if (op === Op.WORKR) return Math.max(cpu.regs[words[index + 1] & 7], instructionNs);
      return instructionNs;
    };
    this.position = 0;
    this.ended = false;
    this.stepEvents = [];
    this.vcpuList = this.simulation.vms.flatMap((vm) => vm.vcpus);
    this.vmIndexList = this.simulation.vms.flatMap((vm, index) => vm.vcpus.map(() => index));
    const vcpus = this.vcpus;
    while (this.history.length < vcpus.length) this.history.push([]);
    this.lastPc = Int32Array.from(vcpus, (vcpu) => vcpu.cpu.pc);
    this.lastRetired = Float64Array.from(vcpus, (vcpu) => vcpu.cpu.retired);
    this.lastRegs = vcpus.map((vcpu) => Int32Array.from(vcpu.cpu.regs));
    this.moved = new Uint8Array(vcpus.length);
    this.refreshWatches();
  }

  /** Re-reads the watched words (after a jump, or a change of rules). */
  refreshWatches(): void {
    this.watchValues = this.rules.data.map((watch) => this.readWord(watch.vm, watch.address) ?? 0);
  }

  /** A guest-physical word of a VM, or undefined where its map has nothing (never backs a page). */
  readWord(vmIndex: number, address: number): number | undefined {
    const memory = this.simulation.vms[vmIndex].memory;
    const index = memory.translate(address);
    return index < 0 ? undefined : memory.host.words[index];
  }

  /**
   * One kernel step; returns the hit it makes under `rules` (when `check`), else undefined.
   * At the end of the run it finishes the run (its sim.ended event) and says so.
   */
  private stepOnce(check: boolean): Hit | undefined {
    if (this.ended) return { reason: 'end', text: 'the run has ended' };
    this.stepEvents.length = 0;
    const going = this.simulation.runUntilEvent(-1);
    if (!going) {
      this.simulation.finishRun();
      this.ended = true;
    }
    this.position++;
    this.checkFirstPass();
    const hit = this.observe(check);
    if (hit !== undefined) return hit;
    return this.ended ? { reason: 'end', text: 'end of the run' } : undefined;
  }

  /**
   * On the first pass, notes the events published up to this position (and takes a checkpoint
   * when one is due); on a later pass, checks the count is the same.
   */
  private checkFirstPass(): void {
    const count = this.simulation.bus.count;
    if (this.position > this.recordedUpTo) {
      if (this.position >= this.countAt.length) {
        const grown = new Float64Array(this.countAt.length * 2);
        grown.set(this.countAt);
        this.countAt = grown;
      }
      this.countAt[this.position] = count;
      return;
    }
    this.stats.stepsRerun++;
    if (this.countAt[this.position] !== count) {
      throw new Error(`time travel diverged at step ${this.position}: ${count} events published, ${this.countAt[this.position]} on the first pass (a checkpoint did not restore some state)`);
    }
  }

  /** Takes a checkpoint here when one is due (after a step of the first pass, see observe). */
  private maybeCheckpoint(): void {
    if (this.ended || this.position % this.checkpointEvery !== 0) return;
    const last = this.checkpoints.at(-1);
    if (last !== undefined && last.position >= this.position) return;
    this.takeCheckpoint();
    if (this.checkpoints.length > this.maxCheckpoints) {
      // Thin out: keep the checkpoints at multiples of twice the spacing (position 0 among them).
      this.checkpointEvery *= 2;
      this.checkpoints = this.checkpoints.filter((checkpoint) => checkpoint.position % this.checkpointEvery === 0);
    }
  }

  private takeCheckpoint(into: Checkpoint[] = this.checkpoints): void {
    const last = into.at(-1) ?? this.checkpoints.at(-1);
    into.push({
      position: this.position,
      graph: GraphSnapshot.take(this.simulation, { ...(last === undefined ? {} : { previous: last.graph }) }),
      ended: this.ended,
      lastPc: this.lastPc.slice(),
      lastRetired: this.lastRetired.slice(),
      lastRegs: this.lastRegs.map((regs) => regs.slice()),
      moved: this.moved.slice(),
    });
  }

  /** Back to the latest checkpoint at or before `target`, or to the start. */
  private restoreBefore(target: number): void {
    let found = this.checkpoints[0];
    for (const checkpoint of this.checkpoints) if (checkpoint.position <= target) found = checkpoint;
    for (const checkpoint of this.recent) if (checkpoint.position <= target && checkpoint.position > found.position) found = checkpoint;
    this.stats.restores++;
    found.graph.restore();
    this.position = found.position;
    this.ended = found.ended;
    this.lastPc.set(found.lastPc);
    this.lastRetired.set(found.lastRetired);
    found.lastRegs.forEach((regs, index) => this.lastRegs[index].set(regs));
    this.moved.set(found.moved);
    this.stepEvents.length = 0;
    this.refreshWatches();
  }

  /** Notes which vCPUs moved in the last step and checks the stop rules. */
  private observe(check: boolean): Hit | undefined {
    const vcpus = this.vcpus;
    const record = this.position > this.recordedUpTo;
    if (record) this.recordedUpTo = this.position;
    let hit: Hit | undefined;
    for (let index = 0; index < vcpus.length; index++) {
      const cpu = vcpus[index].cpu;
      const previousPc = this.lastPc[index];
      const moved = cpu.pc !== previousPc || cpu.retired !== this.lastRetired[index];
      this.moved[index] = moved ? 1 : 0;
      if (!moved) continue;
      if (record) this.history[index].push(this.position);
      if (check && hit === undefined) hit = this.checkVcpu(index, previousPc);
      this.lastPc[index] = cpu.pc;
      this.lastRetired[index] = cpu.retired;
      if (this.rules.data.length > 0) this.lastRegs[index].set(cpu.regs);
    }
    if (check && hit === undefined) hit = this.checkWatchedValues();
    else if (this.rules.data.length > 0) this.refreshWatches();
    if (check && hit === undefined) hit = this.checkEvents();
    if (record) this.maybeCheckpoint();
    return hit;
  }

  private where(index: number): string {
    return `${this.vcpus[index].id.slice(3)} at pc 0x${this.vcpus[index].cpu.pc.toString(16)}`;
  }

  private checkVcpu(index: number, previousPc: number): Hit | undefined {
    const vcpu = this.vcpus[index];
    const vmIndex = this.vmIndexOf(index);
    const pc = vcpu.cpu.pc;
    if (this.rules.addresses.get(vmIndex)?.has(pc) === true) return { reason: 'breakpoint', vcpu: index, text: `breakpoint: ${this.where(index)}` };
    if (this.rules.instructionAddresses.get(vmIndex)?.has(pc) === true) return { reason: 'instruction breakpoint', vcpu: index, text: `instruction breakpoint: ${this.where(index)}` };
    for (let w = 0; w < this.rules.data.length; w++) {
      const watch = this.rules.data[w];
      if (watch.vm !== vmIndex) continue;
      const memory = this.simulation.vms[vmIndex].memory;
      const hostIndex = memory.translate(watch.address);
      // Stores of this step's batch: the vCPU's undo log (host word index, old value).
      const undo = vcpu.cpu.undo;
      for (let u = 0; u < vcpu.cpu.undoLength; u += 2) {
        if (undo[u] === hostIndex) {
          const value = memory.host.words[hostIndex];
          this.watchValues[w] = value;
          this.lastStore = { vcpu: index, pc: previousPc, address: watch.address, value, access: 'write' };
          return { reason: 'data breakpoint', vcpu: index, text: `data breakpoint: ${vcpu.id.slice(3)} wrote ${value} to 0x${watch.address.toString(16)} (the instruction at pc 0x${previousPc.toString(16)})` };
        }
      }
      if (watch.access === 'readWrite' && this.readAddress(index, previousPc) === watch.address) {
        const value = memory.host.words[hostIndex];
        this.lastStore = { vcpu: index, pc: previousPc, address: watch.address, value, access: 'read' };
        return { reason: 'data breakpoint', vcpu: index, text: `data breakpoint: ${vcpu.id.slice(3)} read 0x${watch.address.toString(16)} (the instruction at pc 0x${previousPc.toString(16)})` };
      }
    }
    return undefined;
  }

  /** The guest-physical word a load-type instruction at `pc` read, from the registers before it ran. */
  private readAddress(index: number, pc: number): number | undefined {
    const memory = this.vmOf(index).memory;
    const at = memory.translate(pc);
    if (at < 0) return undefined;
    const words = memory.host.words;
    const op = words[at];
    if (!READS.has(op)) return undefined;
    const regs = this.lastRegs[index];
    const b = words[at + 2];
    const c = words[at + 3];
    if (op === Op.LD || op === Op.XCHG) return (regs[b & 7] + c) | 0;
    if (op === Op.LDA || op === Op.XCHGA) return b;
    return regs[7];
  }

  /** A watched word changed without a guest store (a device's DMA, the monitor's emulation). */
  private checkWatchedValues(): Hit | undefined {
    for (let w = 0; w < this.rules.data.length; w++) {
      const watch = this.rules.data[w];
      const value = this.readWord(watch.vm, watch.address) ?? 0;
      if (value === this.watchValues[w]) continue;
      this.watchValues[w] = value;
      this.lastStore = { vcpu: -1, pc: -1, address: watch.address, value, access: 'write' };
      return { reason: 'data breakpoint', text: `data breakpoint: 0x${watch.address.toString(16)} of ${this.simulation.vms[watch.vm].name} became ${value} (written by the monitor or a device)` };
    }
    return undefined;
  }

  private checkEvents(): Hit | undefined {
    if (this.rules.eventTypes.length === 0) return undefined;
    for (const event of this.stepEvents) {
      for (const rule of this.rules.eventTypes) {
        if (!matches(rule.pattern, event.type)) continue;
        const vcpu = this.vcpus.findIndex((candidate) => event.src === candidate.id || (event.src.startsWith('vm/') && candidate.id.startsWith(`vm/${event.src.split('/')[1]}/`)));
        return { reason: rule.kind, ...(vcpu >= 0 ? { vcpu } : {}), text: `${event.type} (seq ${event.seq}, ${event.src}): ${JSON.stringify(event.data)}` };
      }
    }
    return undefined;
  }

  /** Goes to a position: forward by stepping, backward by re-executing from the nearest checkpoint. */
  goto(target: number): void {
    if (target < this.position) {
      this.restoreBefore(target);
      const distance = target - this.position;
      if (distance > 2 * LOCAL_CHECKPOINTS) {
        // A long re-run: leave local checkpoints on the way for the steps back that follow.
        const spacing = Math.ceil(distance / LOCAL_CHECKPOINTS);
        const local: Checkpoint[] = [];
        const from = this.position;
        while (this.position < target && !this.ended) {
          this.stepOnce(false);
          if ((this.position - from) % spacing === 0 && this.position < target && !this.ended) this.takeCheckpoint(local);
        }
        this.recent = [...this.recent.slice(-LOCAL_CHECKPOINTS), ...local];
      }
    }
    while (this.position < target && !this.ended) this.stepOnce(false);
    this.refreshWatches();
  }

  /**
   * Runs forward until a rule hits, `until` says stop, `limit` steps have run, or the run ends.
   * Returns the hit, or undefined when the limit came first (call again to go on).
   */
  forward(limit: number, until?: () => Hit | undefined): Hit | undefined {
    for (let count = 0; count < limit; count++) {
      const hit = this.stepOnce(true);
      if (hit !== undefined) return hit;
      const stop = until?.();
      if (stop !== undefined) return stop;
    }
    return undefined;
  }

  /** Runs until vCPU `index` executes one instruction (or its pc changes: an emulated one). */
  stepThread(index: number): Hit {
    for (;;) {
      const hit = this.stepOnce(false);
      if (this.moved[index] === 1) return { reason: 'step', vcpu: index, text: `step: ${this.where(index)}` };
      if (hit !== undefined) return hit;
    }
  }

  /** Back to the position after the vCPU's previous own step (the start when there is none). */
  stepBackThread(index: number): Hit {
    const history = this.history[index];
    let target = 0;
    for (let h = history.length - 1; h >= 0; h--) {
      if (history[h] < this.position) {
        target = history[h];
        break;
      }
    }
    this.goto(target);
    return target === 0 ? { reason: 'entry', vcpu: index, text: 'the start of the run' } : { reason: 'step', vcpu: index, text: `step back: ${this.where(index)}` };
  }

  /**
   * The last position before this one where a rule hits; goes there (the start when none). Searches
   * one checkpoint interval at a time, latest first.
   */
  reverseContinue(): Hit {
    const here = this.position;
    let end = here - 1;
    while (end > 0) {
      this.restoreBefore(end - 1);
      const from = this.position;
      let last: { position: number; hit: Hit; store: StoreInfo | undefined } | undefined;
      while (this.position < end && !this.ended) {
        this.lastStore = undefined;
        const hit = this.stepOnce(true);
        if (hit !== undefined && hit.reason !== 'end') last = { position: this.position, hit, store: this.lastStore };
      }
      if (last !== undefined) {
        this.goto(last.position);
        this.lastStore = last.store;
        return last.hit;
      }
      end = from;
    }
    this.goto(0);
    return { reason: 'entry', text: 'reverse-continue reached the start of the run: no breakpoint hit before' };
  }

  /** The events the last step published. */
  get lastEvents(): readonly SimEvent[] {
    return this.stepEvents;
  }

  /** A digest of every vCPU's registers and every VM's memory (to compare two positions). */
  digest(): string {
    const hash = createHash('sha256');
    for (const vcpu of this.vcpus) {
      const cpu = vcpu.cpu;
      hash.update(`${vcpu.id} ${cpu.pc} ${cpu.mode} ${cpu.ie} ${cpu.retired} ${cpu.workLeftNs} ${Array.from(cpu.regs).join(',')} ${Array.from(cpu.csr).join(',')}\n`);
    }
    for (const vm of this.simulation.vms) hash.update(new Uint8Array(vm.memory.snapshotWords().buffer));
    return hash.digest('hex').slice(0, 16);
  }
}
