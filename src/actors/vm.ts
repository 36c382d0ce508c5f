/**
 * The VM actor: a lifecycle machine (libvirt's states), its guest-physical memory map, its vCPUs
 * and its devices on an I/O bus. The builder (simulation.ts) assembles it; the monitor drives it.
 */
import type { EventBus } from '../core/bus.js';
import type { VmState } from '../core/events.js';
import { hashWords } from '../core/hash.js';
import type { GuestPhysicalMap } from '../core/memory.js';
import type { RandomSource } from '../core/prng.js';
import type { Kernel } from '../core/kernel.js';
import type { CostModel } from '../core/costs.js';
import { Lifecycle } from '../machines/lifecycle.js';
import { VM_RUN_COMMANDS, vmMachine, type VmCommand, type VmLifecycleCommand, type VmLifecycleState } from '../machines/vmMachine.js';
import { Balloon } from './devices/balloon.js';
import { BlockDevice } from './devices/block.js';
import { Console } from './devices/console.js';
import { DmaEngine } from './devices/dma.js';
import { IoBus } from './devices/ioBus.js';
import { Nic } from './devices/nic.js';
import { InterruptController } from './devices/pic.js';
import { PowerControl } from './devices/power.js';
import { Timer } from './devices/timer.js';
import { Vcpu } from './vcpu/vcpu.js';
import { TECHNIQUES, type Technique } from './technique.js';
import { ShadowTables, type PagingMode } from './paging.js';
import type { DeviceAttachments, VirtTechnique } from '../core/scenario/schema.js';
import { Iommu } from './devices/iommu.js';
import { RequestQueue } from './devices/requests.js';

export interface VmOptions {
  readonly name: string;
  readonly virt?: VirtTechnique;
  /** Posted interrupts (hardware-assisted only): an interrupt reaches a running vCPU without an exit. */
  readonly postedInterrupts?: boolean;
  readonly paging?: PagingMode;
  readonly tlbEntries?: number;
  /** How the block device and the NIC are attached (default: both emulated). */
  readonly devices?: DeviceAttachments;
  /** The emulated block device's request queue depth (default BLOCK_QUEUE_DEPTH). */
  readonly blockQueue?: number;
  /** The depth of the request queue a workload fills (absent: the VM has no request queue). */
  readonly requestQueue?: number;
  /** Tagged TLBs (VPID/ASID): kept across switches of the physical CPU between vCPUs. */
  readonly tlbTagged?: boolean | undefined;
  readonly vcpus: number;
  readonly guest: string;
  readonly entry: number;
  readonly params: Readonly<Record<string, number>>;
  readonly firstKey: number;
}

export class Vm {
  readonly id: string;
  /** Its lifecycle (libvirt's states but `blocked`): an xstate machine. */
  readonly lifecycle = new Lifecycle<VmLifecycleState, VmLifecycleCommand>(vmMachine);
  /** While running: whether every vCPU waits for an interrupt (libvirt's `blocked`), plain data (vmMachine.ts). */
  blocked = false;
  readonly vcpus: Vcpu[] = [];
  readonly io = new IoBus();
  readonly pic: InterruptController;
  readonly timer: Timer;
  readonly console: Console;
  readonly power: PowerControl;
  readonly dma: DmaEngine;
  /** The block device (emulated and virtio interfaces over one in-memory disk); null: the scenario gives the VM none. */
  readonly block: BlockDevice | null;
  readonly balloon: Balloon;
  /** The NIC (connected to the simulation's virtual switch by the builder); null: the scenario gives the VM none. */
  readonly nic: Nic | null;
  /** The request queue a workload fills and the guest serves (only when the VM has a workload). */
  readonly requests: RequestQueue | null;
  /** The IOMMU that passthrough devices' DMA goes through (the VM's guest-physical map). */
  readonly iommu: Iommu;
  /** Why it stopped or crashed, once it has. */
  endReason = '';
  /** How it is virtualized (see technique.ts). */
  readonly technique: Technique;
  /** Binary translation: which guest code pages have been translated (null for other techniques). */
  readonly translated: Uint8Array | null;
  /** Guest exceptions the CPU delivered without an exit (hardware-assisted). */
  nativeExceptions = 0;
  /** How the guest's paging is virtualized, and the shadow tables when it is by shadow paging. */
  readonly paging: PagingMode;
  readonly shadow = new ShadowTables();

  constructor(
    readonly options: VmOptions,
    readonly memory: GuestPhysicalMap,
    private readonly bus: EventBus,
    kernel: Kernel,
    random: RandomSource,
    /** The cost model in force (a fork's `--set` can change it in the middle of a run). */
    costs: () => CostModel,
  ) {
    this.id = `vm/${options.name}`;
    this.technique = TECHNIQUES[options.virt ?? 'full'];
    this.paging = options.paging ?? (this.technique.name === 'hw' ? 'nested' : 'shadow');
    this.translated = this.technique.translates ? new Uint8Array(memory.pageCount) : null;
    this.pic = new InterruptController(`${this.id}/pic`, bus, options.vcpus);
    this.timer = new Timer(`${this.id}/timer`, bus, kernel, this.pic, random.stream(`${this.id}/timer`), () => costs().timerJitterNs);
    this.console = new Console(`${this.id}/console`, bus, this.pic);
    this.power = new PowerControl(`${this.id}/power`, bus);
    this.dma = new DmaEngine(`${this.id}/dma`, bus, memory);
    const attach = options.devices ?? { block: 'emulated', nic: 'emulated' };
    this.iommu = new Iommu(this.id, bus, memory);
    // Attach what the scenario declares: a VM without a disk (block: none) has no block device, its
    // ports read as the open bus (ioBus.ts), as an empty slot on real hardware; so for the NIC.
    const blockMode = attach.block;
    const nicMode = attach.nic;
    this.block = blockMode === 'none' ? null : new BlockDevice(`${this.id}/block`, bus, kernel, this.pic, memory, { get latencyNs() { return costs().diskLatencyNs; }, get sectorNs() { return costs().diskSectorNs; }, get seekNs() { return costs().diskSeekNs; } }, blockMode, this.iommu, options.blockQueue);
    this.balloon = new Balloon(`${this.id}/balloon`, bus, this.pic);
    this.nic = nicMode === 'none' ? null : new Nic(`${this.id}/nic`, bus, this.pic, memory, nicMode, this.iommu, kernel);
    // Attached in this order (it is the order devices are realized and appear in checkpoints).
    for (const device of [this.pic, this.timer, this.console, this.power, this.dma]) this.io.attach(device);
    if (this.block !== null) this.io.attach(this.block, blockMode === 'passthrough');
    this.io.attach(this.balloon);
    if (this.nic !== null) this.io.attach(this.nic, nicMode === 'passthrough');
    this.requests = options.requestQueue === undefined ? null : new RequestQueue(`${this.id}/requests`, bus, this.pic, options.requestQueue);
    if (this.requests !== null) this.io.attach(this.requests);
    for (let index = 0; index < options.vcpus; index++) {
      const vcpu = new Vcpu(options.name, index, options.firstKey + index, options.params, memory, bus);
      vcpu.reset(options.entry);
      this.vcpus.push(vcpu);
    }
  }

  get name(): string {
    return this.options.name;
  }

  get state(): VmState {
    const lifecycle = this.lifecycle.state;
    return lifecycle === 'running' && this.blocked ? 'blocked' : lifecycle;
  }

  /** Whether the VM has ended for good (shut off or crashed). */
  get finished(): boolean {
    return this.state === 'shutoff' || this.state === 'crashed';
  }

  /** The bootstrap processor: the vCPU that takes the VM's device interrupts unless the guest routes a line elsewhere. */
  get bsp(): Vcpu {
    return this.vcpus[0];
  }

  /**
   * Sends a lifecycle command. On success publishes the matching fact (built by `fact`);
   * otherwise publishes `vm.not-allowed` with the reason and returns false.
   */
  command(type: VmCommand['type'], fact: () => void): boolean {
    const state = this.state;
    if (type === 'BLOCK' || type === 'UNBLOCK') {
      const allowed = this.lifecycle.state === 'running' && this.blocked === VM_RUN_COMMANDS[type].blocked;
      if (allowed) this.blocked = !this.blocked;
      return this.answer(allowed, type, state, fact);
    }
    const allowed = this.lifecycle.send({ type }) !== undefined;
    // Leaving `running` (or coming back to it) ends a blocked stretch.
    if (allowed) this.blocked = false;
    return this.answer(allowed, type, state, fact);
  }

  private answer(allowed: boolean, type: VmCommand['type'], state: VmState, fact: () => void): boolean {
    if (!allowed) {
      const command = type.toLowerCase();
      this.bus.publish(this.id, 'vm.not-allowed', { command, state, reason: `a VM that is ${state} cannot ${command}` });
      return false;
    }
    fact();
    return true;
  }

  /** New scheduling parameters for every vCPU of the VM (a fork that changes them). */
  setSchedParams(params: Readonly<Record<string, number>>): void {
    for (const vcpu of this.vcpus) vcpu.params = params;
  }

  /** Every vCPU is blocked (or done) and at least one is blocked. */
  allBlocked(): boolean {
    let blocked = 0;
    for (const vcpu of this.vcpus) {
      if (vcpu.state === 'blocked') blocked++;
      else if (vcpu.state !== 'halted' && vcpu.state !== 'crashed') return false;
    }
    return blocked > 0;
  }

  allHalted(): boolean {
    return this.vcpus.every((vcpu) => vcpu.state === 'halted');
  }

  stopDevices(): void {
    for (const device of this.io.devices) device.stop();
  }

  memoryDigest(): string {
    return hashWords(this.memory.snapshotWords());
  }

  snapshot(): Record<string, unknown> {
    return {
      state: this.state,
      machine: this.lifecycle.persisted(),
      endReason: this.endReason,
      guest: this.options.guest,
      memory: { words: this.memory.sizeWords, digest: this.memoryDigest() },
      vcpus: this.vcpus.map((vcpu) => vcpu.snapshot()),
      devices: Object.fromEntries(this.io.devices.map((device) => [device.kind, device.snapshot()])),
    };
  }
}
