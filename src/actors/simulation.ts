/**
 * The builder and the run: turns a resolved scenario into a running system (host, monitor, VMs
 * with their memory, vCPUs and devices), wires the log to the bus, runs the kernel loop to the
 * end and reports. Built from small named steps, as Firecracker's builder is.
 */
import { EventBus } from '../core/bus.js';
import type { SimEvent } from '../core/events.js';
import { resolveCosts, type CostModel } from '../core/costs.js';
import { Kernel } from '../core/kernel.js';
import type { LogWriter } from '../core/log/writer.js';
import type { LogFork, LogPolicyModule } from '../core/log/format.js';
import { RandomSource } from '../core/prng.js';
import { assemble, AssemblyError } from '../core/isa/assembler.js';
import { parseTrace, traceGuestSource, TraceError } from '../guests/workloads.js';
import { CHECKPOINT_AUTO, DRIVER_DOMAIN_NAME, SCENARIO_LIMITS, type Scenario, type VmSpec } from '../core/scenario/schema.js';
import { scenarioToSource } from '../core/scenario/load.js';
import { Irq, PAGE_BYTES } from '../core/platform.js';
import { ENGINE_VERSION } from '../core/version.js';
import { bundledGuest } from '../guests/index.js';
import { Host } from './host.js';
import { InputDriver } from './inputs.js';
import type { InputSpec, StopInput } from '../core/scenario/inputs.js';
import { Monitor, type EndReason } from './monitor/monitor.js';
import type { HostTypes, MonitorOptions } from './monitor/core.js';
import { REMOTE_SLOWDOWN_DEFAULT, nodeOfPcpu } from '../core/scenario/numa.js';
import { createPolicy } from './scheduler/index.js';
import type { PolicyFactory, SchedulingPolicy } from './scheduler/policy.js';
import { usesAffinity, withAffinity } from './scheduler/affinity.js';
import { granularityGroups, withGranularity } from './scheduler/granularity.js';
import { cpupoolPolicy, type CpupoolPolicy } from './scheduler/cpupool.js';
import { Vm } from './vm.js';
import { Backend } from './devices/backend.js';
import { VirtualSwitch } from './vswitch.js';
import { GuestPhysicalMap } from '../core/memory.js';
import type { SimulationParts } from './parts.js';
import { summarize, type RunSummary } from './summary.js';
import { bareMachine } from './technique.js';
import { MemoryManager } from './monitor/hostMemory.js';
import { startWorkloads, type WorkloadDriver } from './workload/index.js';
import { decodeImage, imageDigest, ImageError, type VmImage } from '../core/image/format.js';
import { VmSaver, type ImageWriter } from './saver.js';
import { imageMismatch, restoreDevices, restorePlacement, restoreVm } from './vmImage.js';
import { HostSet } from './migration/hostSet.js';
import { DirtyLog } from './migration/dirtyLog.js';
import { Migrator } from './migration/migrator.js';
import type { MigrateSpec } from '../core/scenario/inputs.js';

export interface GuestImage {
  readonly words: Int32Array;
  readonly entry: number;
}

export interface SimulationOptions {
  readonly scenario: Scenario;
  /** Overrides the scenario's seed. */
  readonly seed?: number;
  /** The scenario file's name, for error messages about inline programs. */
  readonly scenarioFile?: string;
  /** Reads a `program:` file named in the scenario (the CLI resolves it against the file's folder). */
  readonly readProgram?: (path: string) => string;
  /** Where the event log goes; no log when absent. */
  readonly log?: LogWriter;
  /** The quantum of temporal decoupling (see monitor.ts). */
  readonly maxBatchNs?: number;
  /** A scheduling policy from outside the registry (`--policy ./my-policy.js`); replaces the scenario's. */
  readonly policy?: PolicyFactory;
  /**
   * Where `policy` came from (the module's path as given and its sha256), recorded in the log's
   * header with the policy's name so that replay, inspect and fork load the same module again.
   * Give it whenever `policy` comes from a file and the run is logged.
   */
  readonly policyModule?: Omit<LogPolicyModule, 'label'>;
  /** Sees every event as it is published, from the very first (replay compares with it). */
  readonly sink?: (event: SimEvent) => void;
  /** Inputs from outside, replacing the scenario's `inputs:` (replay passes the log's input records). */
  readonly inputs?: readonly (InputSpec | StopInput)[];
  /** Reads an `image:` file named in the scenario (the CLI resolves it against the file's folder). */
  readonly readImage?: (path: string) => Uint8Array;
  /** Writes the image of a VM saved by a `save` input; without it a save is logged but written nowhere (replay). */
  readonly writeImage?: ImageWriter;
  /** Recorded in the log's header when this run is a fork of another. */
  readonly fork?: LogFork;
  /**
   * Parts to build the run with instead of the standard ones (parts.ts): the testing layer's
   * mutants come in this way. Their name is recorded in the log's header, so replay rebuilds them.
   */
  readonly parts?: SimulationParts;
}

const DEFAULT_MAX_BATCH_NS = 100_000;
const START = 0;

export class Simulation {
  readonly kernel = new Kernel();
  readonly bus = new EventBus(this.kernel);
  readonly seed: number;
  readonly random: RandomSource;
  costs: CostModel;
  readonly host: Host;
  readonly vms: Vm[];
  /** The network: every VM's NIC on one virtual switch, MAC = the VM's index + 1. */
  readonly vswitch: VirtualSwitch;
  readonly monitor: Monitor;
  /** The hosts of a several-host scenario (absent: one host). */
  readonly hostSet: HostSet | undefined;
  /** The host's memory manager, when the host shares pages or overcommits memory. */
  readonly memory: MemoryManager | undefined;
  readonly inputs: InputDriver;
  /** Saves VMs to images (`save` inputs). */
  readonly saver: VmSaver;
  /** The images the VMs restored from them were built from, by VM name. */
  private readonly images: ReadonlyMap<string, RestoredImage>;
  /** The arrival drivers of the VMs that have a workload (src/actors/workload/). */
  readonly workloads: readonly WorkloadDriver[];
  private readonly target: number;
  private lastCheckpointSeq = 0;
  private ended: EndReason | undefined;

  constructor(private readonly options: SimulationOptions) {
    // A bare host runs the same scenario with no monitor in the way (technique.ts, bareMachine).
    const scenario = options.scenario.host.type === 'bare' ? bareMachine(options.scenario) : options.scenario;
    // Images are read and checked whole before anything is built: a damaged one is refused, never half-loaded.
    this.images = readImages(scenario.vms, options.readImage);
    this.seed = options.seed ?? scenario.seed;
    this.random = new RandomSource(this.seed);
    this.costs = resolveCosts(scenario.costs);
    // The policy is made first so that the header can name a policy module's policy.
    this.policyFactory = options.policy;
    const policy = this.createPolicy(scenario);
    this.attachLog(policy);
    this.bus.publish('host', 'sim.started', {
      scenario: scenario.name,
      seed: this.seed,
      pcpus: scenario.host.pcpus,
      vms: scenario.vms.length,
    });
    const backed = scenario.vms.reduce((sum, vm) => sum + vm.memoryBytes, 0);
    const overcommit = scenario.host.overcommit === true;
    // Several hosts: each owns a range of the frames (migration/hostSet.ts), sized for migrations.
    this.hostSet = scenario.hosts === undefined ? undefined : new HostSet(scenario.hosts, scenario.links ?? [], backed / PAGE_BYTES);
    const frames = this.hostSet === undefined ? (overcommit ? Math.min(backed, scenario.host.memoryBytes) : backed) : this.hostSet.frameCount * PAGE_BYTES;
    this.host = new Host(scenario.host.pcpus, scenario.host.memoryBytes, frames);
    if (scenario.host.ballooning !== undefined && !overcommit) throw new RangeError('host.ballooning needs memory overcommit: set host.overcommit: true');
    if (overcommit || scenario.host.pageSharing !== undefined) {
      this.memory = new MemoryManager(this.host.memory, this.kernel, this.bus, () => this.costs, {
        sharing: scenario.host.pageSharing,
        overcommit,
        ballooning: scenario.host.ballooning,
        sharedWrite: options.parts?.sharedWrite,
      });
    }
    this.vms = this.buildVms(scenario.vms);
    const backend = scenario.host.driverDomain === undefined ? undefined : attachDriverDomain(this.vms, this.bus);
    const hostSet = this.hostSet;
    // Several hosts: a packet between VMs on different hosts crosses their link (MAC = the VM's index + 1).
    const network =
      hostSet === undefined
        ? undefined
        : {
            hostOfMac: (mac: number) => hostSet.hostOf(scenario.vms[mac - 1]?.name ?? ''),
            link: (a: string, b: string) => hostSet.link(a, b),
            reserveLink: (a: string, b: string, now: number, durationNs: number) => hostSet.reserveLink(a, b, now, durationNs),
          };
    this.vswitch = new VirtualSwitch(this.kernel, this.bus, () => ({ latencyNs: this.costs.netLatencyNs, wordNs: this.costs.netWordNs }), network);
    this.vms.forEach((vm, index) => {
      if (vm.nic !== null) this.vswitch.connect(vm.nic, index + 1);
    });
    options.parts?.wire?.(this.vms);
    const dirtyLog = this.hostSet === undefined ? undefined : new DirtyLog(() => this.costs.demandPageNs);
    const hostTypes = this.hostTypesOf(scenario);
    this.monitor = new Monitor(this.kernel, this.bus, policy, this.costs, this.vms, {
      pcpus: scenario.host.pcpus,
      runEndNs: scenario.run.timeNs,
      hostType: scenario.host.type === 'type2' ? 'type2' : 'type1',
      hostLoad: scenario.host.load ?? 0,
      instructionLimit: scenario.run.instructions,
      maxBatchNs: options.maxBatchNs ?? DEFAULT_MAX_BATCH_NS,
      smpQuantumNs: scenario.run.smpQuantumNs ?? SCENARIO_LIMITS.smpQuantumNs.default,
      parts: options.parts,
      memory: this.memory,
      ...(backend === undefined ? {} : { backend }),
      ...(dirtyLog === undefined ? {} : { dirtyLog }),
      ...(this.hostSet === undefined ? {} : { pcpuHosts: Array.from({ length: scenario.host.pcpus }, (_, pcpu) => (this.hostSet as HostSet).hostOfPcpu(pcpu)) }),
      numa: numaOf(scenario),
      ...(hostTypes === undefined ? {} : { hostTypes }),
    });
    this.target = this.kernel.register('simulation', (kind, arg) => {
      if (kind === START) this.startVm(this.vms[arg]);
    });
    this.scheduleStarts(scenario.vms);
    this.workloads = startWorkloads(this.kernel, this.bus, this.vms, scenario.vms, this.random, options.readProgram);
    this.monitor.startHostLoad();
    this.saver = new VmSaver(this.kernel, this.bus, this.monitor, this.random, options.writeImage);
    this.inputs = new InputDriver(
      this.kernel,
      this.bus,
      this.monitor,
      new Map(this.vms.map((vm) => [vm.name, vm])),
      options.inputs ?? scenario.inputs,
      this.saver,
      (vm, pool) => this.moveToPool(vm, pool),
      (vm, spec) => this.migrate(vm, spec),
    );
    // Live migration between hosts (migration/migrator.ts); registered last, so single-host runs are as before.
    this.migrator =
      this.hostSet === undefined || dirtyLog === undefined
        ? undefined
        : new Migrator(this.kernel, this.bus, this.monitor, this.host.memory, this.hostSet, dirtyLog, () => this.costs, (vm, host) => this.cpupools?.move(vm.name, host));
  }

  /**
   * Each host's type and load where hosts differ (hosts[].type, hosts[].load): each pCPU's, and the
   * type of the host a VM is on now. Absent when every host is host.type with host.load.
   */
  private hostTypesOf(scenario: Scenario): HostTypes | undefined {
    const hosts = scenario.hosts;
    const hostSet = this.hostSet;
    if (hosts === undefined || hostSet === undefined || hosts.every((host) => host.type === undefined && host.load === undefined)) return undefined;
    const fallback = scenario.host.type === 'type2' ? 'type2' : 'type1';
    const typeOf = new Map(hosts.map((host) => [host.name, host.type ?? fallback]));
    const loadOf = new Map(hosts.map((host) => [host.name, host.load ?? scenario.host.load ?? 0]));
    const pcpuHost = Array.from({ length: scenario.host.pcpus }, (_, pcpu) => hostSet.hostOfPcpu(pcpu));
    return {
      typeOfPcpu: pcpuHost.map((host) => typeOf.get(host) ?? fallback),
      loadOfPcpu: pcpuHost.map((host) => loadOf.get(host) ?? 0),
      typeOfVm: (vm) => typeOf.get(hostSet.hostOf(vm.name)) ?? fallback,
    };
  }

  /** Migrates live between hosts (several hosts only). */
  readonly migrator: Migrator | undefined;

  private migrate(vm: Vm, spec: MigrateSpec): void {
    if (this.migrator !== undefined) {
      this.migrator.migrate(vm, spec);
      return;
    }
    const reason = 'the scenario has one host: declare several under hosts:';
    this.bus.publish(vm.id, 'vm.not-allowed', { command: 'MIGRATE', state: vm.state, reason });
    this.bus.publish(vm.id, 'migration.refused', { to: spec.to, reason });
  }

  /**
   * `xl cpupool-migrate`: moves a VM to another cpupool (monitor.moveToPool). Without cpupools, or
   * to a pool the scenario does not declare, the command is refused with a `vm.not-allowed` fact;
   * to the pool it is already in, nothing happens (as in Xen).
   */
  private moveToPool(vm: Vm, pool: string): void {
    const pools = this.cpupools;
    const known = this.scenario.cpupools?.map((spec) => spec.name) ?? [];
    if (pools === undefined || !known.includes(pool) || this.hostSet !== undefined) {
      const reason =
        this.hostSet !== undefined ? 'with several hosts a VM changes host only by migration' : pools === undefined ? 'the scenario has no cpupools' : `unknown cpupool '${pool}' (known: ${known.join(', ')})`;
      this.bus.publish(vm.id, 'vm.not-allowed', { command: 'CPUPOOL-MIGRATE', state: vm.state, reason });
      return;
    }
    const from = pools.poolOfVm(vm.name);
    if (from === pool) return;
    this.monitor.moveToPool(vm, from, pool, () => pools.move(vm.name, pool));
  }

  /** The cpupool policy in force (scenarios with cpupools). */
  private cpupools: CpupoolPolicy | undefined;

  /**
   * Starts a VM: a fresh one boots; one from an image goes on from its saved state, its guest
   * clock and pending timer placed so that it meets them where it would have (vmImage.ts).
   */
  private startVm(vm: Vm): void {
    const restored = this.images.get(vm.name);
    if (restored === undefined) {
      this.monitor.start(vm);
      return;
    }
    const { image } = restored;
    const now = this.kernel.now;
    restoreDevices(vm, image);
    const costs = this.costs;
    const placement = restorePlacement(image, now, (warm) => costs.scheduleNs + (warm ? 0 : costs.contextSwitchNs) + costs.entryNs);
    if (!this.monitor.startRestored(vm, image.vcpus.map((vcpu) => vcpu.runState), placement.delaysNs)) return;
    for (const device of vm.io.devices) if (image.devices[device.kind]?.state === 'failed') device.fail();
    vm.timer.resumeAt(placement.baseNs);
    // The state the image brought that events folded from the log would not otherwise know.
    this.bus.publish(vm.id, 'vm.restored', {
      file: restored.file,
      sha256: restored.sha256,
      savedAtNs: image.vm.savedAtNs,
      timer: { mode: vm.timer.armedMode, ns: vm.timer.armedNs },
      pending: linesOf(vm.pic.pending),
      inService: linesOf(vm.pic.inService),
    });
  }

  get scenario(): Scenario {
    return this.changedScenario ?? this.options.scenario;
  }

  private changedScenario: Scenario | undefined;
  /** The policy factory from outside the registry while it is in force (until a fork names another policy). */
  private policyFactory: PolicyFactory | undefined;

  /**
   * Goes on under changed rules (a fork): another scheduling policy or its parameters (per VM
   * too), cost model, run length, instruction budget or seed. The host and the VMs themselves
   * cannot change in the middle of a run: that throws, saying which key.
   */
  reconfigure(next: Scenario): void {
    const current = this.scenario;
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    if (!same(current.host, next.host)) throw new RangeError('cannot change host settings in the middle of a run');
    // Each host's CPUs, memory, type, load and topology, and the links, are the machine's (only a host's scheduler can change).
    if (!same(current.hosts, next.hosts) || !same(current.links, next.links)) throw new RangeError('cannot change the hosts or their links in the middle of a run (only their schedulers)');
    if (current.vms.length !== next.vms.length) throw new RangeError('cannot add or remove VMs in the middle of a run');
    current.vms.forEach((vm, index) => {
      const other = next.vms[index];
      if (!same({ ...vm, sched: undefined }, { ...other, sched: undefined })) {
        throw new RangeError(`cannot change VM ${vm.name} in the middle of a run (only its sched parameters)`);
      }
    });
    const poolLayout = (scenario: Scenario) => scenario.cpupools?.map((pool) => ({ name: pool.name, pcpus: pool.pcpus }));
    if (!same(poolLayout(current), poolLayout(next))) throw new RangeError('cannot change the cpupools or their CPUs in the middle of a run (only their schedulers)');
    if (!same(current.inputs, next.inputs)) throw new RangeError('cannot change the inputs in the middle of a run (they come from the log)');
    const costs = resolveCosts(next.costs);
    const schedulerChanged =
      !same(current.scheduler, next.scheduler) || !same(current.cpupools, next.cpupools) || !same(current.vms.map((vm) => vm.sched), next.vms.map((vm) => vm.sched));
    if (schedulerChanged) {
      this.vms.forEach((vm, index) => applySched(vm, next.vms[index].sched));
      // A policy from a module stays in force under new parameters; naming another policy leaves it.
      if (next.scheduler.policy !== current.scheduler.policy) this.policyFactory = undefined;
    }
    this.monitor.reconfigure({
      costs,
      runEndNs: next.run.timeNs,
      instructionLimit: next.run.instructions,
      ...(schedulerChanged ? { policy: this.createPolicy(next) } : {}),
    });
    if (next.seed !== current.seed) this.random.reseed(next.seed);
    this.costs = costs;
    this.changedScenario = next;
  }

  /** The scenario's policy, or the one from outside the registry while it is in force. */
  private createPolicy(scenario: Scenario): SchedulingPolicy {
    if (scenario.cpupools !== undefined) return this.createPoolPolicy(scenario, scenario.cpupools);
    const options = this.policyOptions(scenario);
    const chosen = this.policyFactory !== undefined ? this.policyFactory(options) : createPolicy(scenario.scheduler.policy, options);
    // Hard affinity is enforced around whatever policy runs; scenarios without it keep the policy bare.
    const pinned = usesAffinity(scenario.vms) ? withAffinity(chosen, scenario.host.pcpus) : chosen;
    // Core scheduling (sched-gran core or socket): the threads of a group run one VM at a time.
    const granularity = scenario.scheduler.granularity;
    const topology = scenario.host.topology;
    const policy = granularity !== undefined && granularity !== 'cpu' && topology !== undefined ? withGranularity(pinned, granularityGroups(granularity, topology)) : pinned;
    return this.options.parts?.policy?.(policy) ?? policy;
  }

  /**
   * One policy per cpupool, each built for its pool's CPUs alone (numbered from 0, no topology),
   * with affinity enforced inside each pool; a policy module replaces every
   * pool's policy. The VMs stay in the pools they are in when a fork builds the policies again.
   */
  private createPoolPolicy(scenario: Scenario, pools: NonNullable<Scenario['cpupools']>): SchedulingPolicy {
    const assignment = this.cpupools?.assignment() ?? new Map(scenario.vms.map((vm) => [vm.name, vm.pool ?? pools[0].name] as const));
    const affinity = usesAffinity(scenario.vms);
    const parts = pools.map((pool) => {
      // A host's pool sees its host's topology over its own CPUs (numbered from 0), as a single host does.
      const topology = scenario.hosts?.find((host) => host.name === pool.name)?.topology;
      const options = {
        pcpus: pool.pcpus.length,
        quantumNs: pool.scheduler.quantumNs,
        scheduler: pool.scheduler,
        // Every VM, in scenario order: a VM moved in later is known to a policy that plans per VM (gang).
        vms: scenario.vms.map((vm) => ({ name: vm.name, vcpus: vm.vcpus })),
        ...(topology === undefined ? {} : { topology }),
      };
      const chosen = this.policyFactory !== undefined ? this.policyFactory(options) : createPolicy(pool.scheduler.policy, options);
      const pinned = affinity ? withAffinity(chosen, pool.pcpus.length) : chosen;
      const granularity = pool.scheduler.granularity;
      const policy = granularity !== undefined && granularity !== 'cpu' && topology !== undefined ? withGranularity(pinned, granularityGroups(granularity, topology)) : pinned;
      return { name: pool.name, pcpus: pool.pcpus, policy };
    });
    const policy = cpupoolPolicy(parts, assignment);
    this.cpupools = policy;
    return this.options.parts?.policy?.(policy) ?? policy;
  }

  private policyOptions(scenario: Scenario) {
    return {
      pcpus: scenario.host.pcpus,
      quantumNs: scenario.scheduler.quantumNs,
      scheduler: scenario.scheduler,
      vms: scenario.vms.map((vm) => ({ name: vm.name, vcpus: vm.vcpus })),
      ...(scenario.host.topology === undefined ? {} : { topology: scenario.host.topology }),
    };
  }

  private attachLog(policy: SchedulingPolicy): void {
    if (this.options.sink !== undefined) this.bus.addSink(this.options.sink);
    const log = this.options.log;
    if (log === undefined) return;
    // The header carries the scenario with every default written out, costs included, so a log
    // replays the same even if a later engine changes a default.
    const resolved = { ...this.options.scenario, seed: this.seed, costs: { ...this.costs } };
    const module = this.options.policy === undefined ? undefined : this.options.policyModule;
    log.writeHeader({
      engine: ENGINE_VERSION,
      seed: this.seed,
      scenario: scenarioToSource(resolved),
      fork: this.options.fork,
      mutation: this.options.parts?.name,
      policy: module === undefined ? undefined : { module: module.module, sha256: module.sha256, label: policy.name },
    });
    this.bus.addSink(log.append);
  }

  private buildVms(specs: readonly VmSpec[]): Vm[] {
    let key = 0;
    return specs.map((spec) => {
      const saved = this.images.get(spec.name)?.image;
      const image = saved === undefined ? this.assembleGuest(spec) : { words: new Int32Array(0), entry: 0 };
      const pages = spec.memoryBytes / PAGE_BYTES;
      // Under overcommit a VM's pages are backed on first touch (loading the image touches its own).
      const frames = this.allocateFrames(spec, pages);
      const memory = this.options.parts?.guestMap?.(this.host.memory, frames) ?? new GuestPhysicalMap(this.host.memory, frames);
      this.memory?.register(`vm/${spec.name}`, memory);
      memory.load(image.words);
      const vm = new Vm(
        { name: spec.name, virt: spec.virt, postedInterrupts: spec.postedInterrupts ?? false, paging: spec.paging, tlbEntries: spec.tlbEntries, tlbTagged: spec.tlbTagged, devices: spec.devices, blockQueue: spec.devices?.blockQueue, requestQueue: spec.workload?.queue, vcpus: spec.vcpus, guest: guestLabel(spec), entry: image.entry, params: schedParams(spec.sched), firstKey: key },
        memory,
        this.bus,
        this.kernel,
        this.random,
        () => this.costs,
      );
      if (saved !== undefined) restoreVm(vm, saved, this.random);
      if (spec.sched.affinity !== undefined) applySched(vm, spec.sched);
      key += spec.vcpus;
      this.bus.publish(vm.id, 'vm.defined', { vcpus: spec.vcpus, memoryBytes: spec.memoryBytes, guest: guestLabel(spec) });
      return vm;
    });
  }

  /** A VM's frames: none yet under overcommit (first touch backs them), else from its host's. */
  private allocateFrames(spec: VmSpec, pages: number): number[] {
    if (this.memory?.options.overcommit === true) return new Array<number>(pages).fill(-1);
    if (this.hostSet === undefined || spec.host === undefined) return this.host.memory.allocate(pages, `vm/${spec.name}`);
    this.hostSet.place(spec.name, spec.host);
    return this.hostSet.allocate(this.host.memory, spec.host, pages, `vm/${spec.name}`);
  }

  private assembleGuest(spec: VmSpec): GuestImage {
    const guest = spec.guest;
    let source: string;
    let file: string;
    let symbols: Readonly<Record<string, number>> = spec.params;
    if (guest.kind === 'bundled') {
      const bundled = bundledGuest(guest.name);
      source = bundled.source;
      file = `guest:${guest.name}`;
      symbols = { ...bundled.defaults, ...spec.params };
    } else if (guest.kind === 'file') {
      if (this.options.readProgram === undefined) throw new Error(`VM ${spec.name}: no way to read program file ${guest.path}`);
      source = this.options.readProgram(guest.path);
      file = guest.path;
    } else if (guest.kind === 'trace') {
      if (this.options.readProgram === undefined) throw new Error(`VM ${spec.name}: no way to read trace file ${guest.path}`);
      const csv = this.options.readProgram(guest.path);
      try {
        source = traceGuestSource(parseTrace(csv));
      } catch (error) {
        if (error instanceof TraceError) {
          throw new AssemblyError([{ file: guest.path, line: error.line, column: error.column, message: error.message }]);
        }
        throw error;
      }
      file = `trace:${guest.path}`;
    } else if (guest.kind === 'image') {
      throw new Error(`VM ${spec.name}: an image is restored, not assembled`);
    } else {
      // Pad with empty lines so the assembler's line numbers are the scenario file's.
      source = '\n'.repeat(Math.max(0, guest.line - 1)) + guest.source;
      file = this.options.scenarioFile ?? '<scenario>';
    }
    // VMs that run the same guest with the same parameters (a thousand in the scale bench) share
    // one assembly: the image is only read (memory.load copies its words).
    const key = `${file}\u0000${JSON.stringify(symbols)}\u0000${source}`;
    let image = this.assembled.get(key);
    if (image === undefined) {
      image = assemble(source, { file, symbols });
      this.assembled.set(key, image);
    }
    return image;
  }

  /** Guests assembled so far in this run, by file, symbols and source. */
  private readonly assembled = new Map<string, GuestImage>();

  /** Each autostarted VM starts at its `start` time plus a random boot delay from its own stream. */
  private scheduleStarts(specs: readonly VmSpec[]): void {
    specs.forEach((spec, index) => {
      if (!spec.autostart) return;
      const jitter = this.random.stream(`vm/${spec.name}/boot`).int(0, this.costs.startJitterNs);
      this.kernel.schedule(spec.startNs + jitter, this.target, START, index);
    });
  }

  /** Runs to the end of the scenario (virtual time, instruction budget, or every VM finished). */
  run(): RunSummary {
    this.advance(undefined);
    return this.finishRun();
  }

  /**
   * Runs until the kernel step that publishes event `seq` has completed, or the run ends. Returns
   * whether the run can go on (then `run()` or `runUntilEvent` continue it). Used to fork a run
   * and to look at every actor at a point.
   */
  runUntilEvent(seq: number): boolean {
    return this.advance(seq) === 'paused';
  }

  /** Runs up to virtual time `time` (entries due then included). Returns whether the run can go on. */
  runUntilTime(time: number): boolean {
    return this.advance(undefined, time) === 'paused';
  }

  /** Whether the run has ended. */
  get finished(): boolean {
    return this.ended !== undefined;
  }

  private advance(pauseAfterSeq: number | undefined, pauseAtTime = Infinity): 'paused' | 'ended' {
    if (this.ended !== undefined) throw new Error('this simulation has already run');
    // A fixed interval, or the default rule (CHECKPOINT_AUTO): at least minEvents, and event lines
    // worth linesPerCheckpointByte times the last checkpoint.
    const fixed = this.scenario.run.checkpointEvery;
    const every = fixed ?? CHECKPOINT_AUTO.minEvents;
    const factor = fixed === undefined ? CHECKPOINT_AUTO.linesPerCheckpointByte : 0;
    const log = this.options.log;
    const afterEach = () => {
      if (log !== undefined && this.bus.count - this.lastCheckpointSeq >= every && log.charsSinceCheckpoint >= factor * log.lastCheckpointChars) this.writeCheckpoint(log);
      if (pauseAfterSeq !== undefined && this.bus.count > pauseAfterSeq) {
        this.pausedHere = true;
        this.kernel.requestStop();
      }
      for (const hook of this.stepHooks) hook();
    };
    this.pausedHere = false;
    const endTime = this.scenario.run.timeNs;
    // No checkpoints, no pause point and no hooks: no call between steps at all (issue 13's profile).
    const listened = log !== undefined || pauseAfterSeq !== undefined || this.stepHooks.length > 0;
    const result = this.kernel.run(Math.min(endTime, pauseAtTime), listened ? afterEach : undefined);
    if (this.pausedHere && this.monitor.endReason === undefined) return 'paused';
    if (pauseAtTime < endTime && this.monitor.endReason === undefined && (result === 'time' || result === 'empty')) {
      // Nothing else is due before the pause point: time still passes up to it (inputs may come).
      if (result === 'empty') this.kernel.advanceTo(pauseAtTime);
      return 'paused';
    }
    if (result === 'empty' && this.monitor.endReason === undefined) {
      // Nothing left to happen (every vCPU blocked for good, say): the run lasts its full time.
      this.kernel.advanceTo(this.scenario.run.timeNs);
    }
    this.ended = this.monitor.endReason ?? 'time';
    return 'ended';
  }

  private pausedHere = false;
  private readonly stepHooks: (() => void)[] = [];

  /** Calls `hook` after every kernel step (state at step boundaries is consistent). */
  onStep(hook: () => void): void {
    this.stepHooks.push(hook);
  }

  /** Ends the run where it stands (after a pause, or once it has ended) and reports. */
  finishRun(): RunSummary {
    if (this.ended === undefined) this.ended = this.monitor.endReason ?? 'time';
    if (!this.closed) this.finish();
    return this.summary();
  }

  private closed = false;

  private finish(): void {
    this.closed = true;
    const now = this.kernel.now;
    for (const vm of this.vms) {
      vm.console.flush();
      for (const vcpu of vm.vcpus) if (vcpu.state === 'runnable') vcpu.counters.waitNs += now - vcpu.runnableSince;
    }
    this.bus.publish('host', 'sim.ended', { reason: this.ended as EndReason, instructions: this.monitor.retiredTotal });
    this.options.log?.close(now);
    this.bus.complete();
  }

  private writeCheckpoint(log: LogWriter): void {
    this.lastCheckpointSeq = this.bus.count;
    log.checkpoint(this.bus.count, this.kernel.now, this.state());
  }

  /** Every actor's state: what a checkpoint line carries. */
  state(): Record<string, unknown> {
    return {
      t: this.kernel.now,
      monitor: this.monitor.snapshot(),
      vms: Object.fromEntries(this.vms.map((vm) => [vm.name, vm.snapshot()])),
      network: this.vswitch.snapshot(),
      ...(this.workloads.length === 0 ? {} : { workloads: Object.fromEntries(this.workloads.map((driver) => [driver.id, driver.snapshot()])) }),
      ...(this.migrator === undefined ? {} : { migrations: this.migrator.snapshot() }),
      random: this.random.states(),
      queue: this.kernel.pending(),
    };
  }

  summary(): RunSummary {
    return summarize(this, this.ended ?? 'time');
  }
}

function guestLabel(spec: VmSpec): string {
  const guest = spec.guest;
  if (guest.kind === 'image') return `image:${guest.path}`;
  return guest.kind === 'bundled' ? guest.name : guest.kind === 'file' || guest.kind === 'trace' ? guest.path : 'inline';
}

/**
 * Reads and checks the image of every VM that starts from one, before anything is built; an
 * image whose VM does not fit the scenario's entry (vCPUs, memory, device attachments) is refused.
 */
/** The interrupt lines set in a mask, lowest first. */
function linesOf(mask: number): number[] {
  const lines: number[] = [];
  for (let line = 0; line < 32; line++) if ((mask & (1 << line)) !== 0) lines.push(line);
  return lines;
}

interface RestoredImage {
  readonly image: VmImage;
  readonly file: string;
  readonly sha256: string;
}

function readImages(specs: readonly VmSpec[], readImage: ((path: string) => Uint8Array) | undefined): Map<string, RestoredImage> {
  const images = new Map<string, RestoredImage>();
  for (const spec of specs) {
    const guest = spec.guest;
    if (guest.kind !== 'image') continue;
    if (readImage === undefined) throw new Error(`VM ${spec.name}: no way to read image file ${guest.path}`);
    const bytes = readImage(guest.path);
    const image = decodeImage(bytes, guest.path);
    const mismatch = imageMismatch(spec, image);
    if (mismatch !== undefined) throw new ImageError(guest.path, -1, `VM ${spec.name}: ${mismatch}`);
    images.set(spec.name, { image, file: guest.path, sha256: imageDigest(bytes) });
  }
  return images;
}


/** Sets a VM's scheduling parameters and its vCPUs' affinity (when built, and when a fork changes them). */
/** NUMA nodes (host.topology.nodes >= 2): each pCPU's node and each vCPU's memory node, by key (scenario/numa.ts). */
function numaOf(scenario: Scenario): MonitorOptions['numa'] {
  const topology = scenario.host.topology;
  if (topology === undefined || (topology.nodes ?? 1) < 2) return undefined;
  return {
    nodeOfPcpu: Array.from({ length: scenario.host.pcpus }, (_, pcpu) => nodeOfPcpu(topology, pcpu)),
    // vCPU keys are handed out in scenario order (buildVms); dom0 has no node (-1).
    memoryNodeOfVcpu: scenario.vms.flatMap((vm) => new Array<number>(vm.vcpus).fill(vm.numa?.node ?? -1)),
    remoteSlowdown: topology.remoteSlowdown ?? REMOTE_SLOWDOWN_DEFAULT,
  };
}

function applySched(vm: Vm, sched: VmSpec['sched']): void {
  vm.setSchedParams(schedParams(sched));
  for (const vcpu of vm.vcpus) vcpu.affinity = sched.affinity;
}

/** A VM's numeric scheduling parameters, as policies read them (affinity travels apart). */
function schedParams(sched: VmSpec['sched']): Readonly<Record<string, number>> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { affinity, ...numbers } = sched;
  return numbers;
}

/**
 * The driver domain (host.driverDomain): the backend device on dom0's I/O bus, and on every other
 * VM the lines of its paravirtual block device and NIC diverted to it (emulated and passthrough
 * devices interrupt their VM directly, as before).
 */
function attachDriverDomain(vms: readonly Vm[], bus: EventBus): Backend {
  const dom0 = vms.find((vm) => vm.name === DRIVER_DOMAIN_NAME);
  if (dom0 === undefined) throw new Error(`host.driverDomain: no VM named ${DRIVER_DOMAIN_NAME}`);
  const backend = new Backend(`${dom0.id}/backend`, bus, dom0.pic, 2 * 2 * vms.length);
  dom0.io.attach(backend);
  for (const vm of vms) {
    if (vm === dom0) continue;
    if (vm.block?.mode === 'paravirtual') vm.pic.diverted |= 1 << Irq.BLOCK;
    if (vm.nic?.mode === 'paravirtual') vm.pic.diverted |= 1 << Irq.NET;
  }
  return backend;
}
