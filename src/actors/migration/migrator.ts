/**
 * Live migration between the hosts of a scenario: pre-copy below, and post-copy (Hines and
 * Gopalan, VEE 2009; see startPostcopy). Pre-copy after Clark et al., "Live Migration
 * of Virtual Machines" (NSDI 2005), with QEMU's parameters (downtime-limit, max-bandwidth,
 * auto-converge). docs/migration.md says what is modelled and why.
 *
 *   running | blocked ---migrate---> round 0 (every touched page) ---> round k (the pages dirtied
 *   during round k-1) ... ---> stop-and-copy (paused: the last dirty pages, vCPU and device state)
 *   ---> on the destination, resumed
 *   anything else, or what cannot migrate ---migrate---> migration.refused + vm.not-allowed
 *
 * Each round write-protects the pages it sends (dirtyLog.ts) and copies them into the frames
 * reserved on the destination at the start; a page written after its copy faults once, is marked
 * dirty and is sent again in the next round. A round lasts latency + pages x pageNs (a page's
 * bytes over the bandwidth). Stop-and-copy comes when the pages left could be sent within the
 * downtime limit, or after maxRounds rounds; the VM is paused, the pages dirtied since are
 * copied, and when they and the state (one page's worth per vCPU) have crossed the link the VM's
 * map points at the destination's frames, its vCPUs go to the destination's scheduler (its
 * cpupool), the source frames are released and the VM is resumed.
 *
 * Auto-converge (QEMU's cpu-throttle): when a round dirtied more than half the pages it sent, the
 * VM's vCPUs are throttled, 20% first and 10% more each such round (at most 99%): every 10 ms
 * each vCPU is stalled for that share of the 10 ms (QEMU's CPU_THROTTLE_TIMESLICE).
 *
 * Determinism: virtual time from the kernel's queue only; pages in ascending order.
 */
import type { EventBus } from '../../core/bus.js';
import type { EventDataMap } from '../../core/events.js';
import type { CostModel } from '../../core/costs.js';
import type { Kernel } from '../../core/kernel.js';
import type { HostMemory } from '../../core/memory.js';
import { PAGE_BYTES, PAGE_WORDS } from '../../core/platform.js';
import type { MigrateSpec } from '../../core/scenario/inputs.js';
import type { Monitor } from '../monitor/monitor.js';
import type { Vm } from '../vm.js';
import type { DirtyLog } from './dirtyLog.js';
import type { HostSet } from './hostSet.js';

type MigrationEventType = 'migration.started' | 'migration.round' | 'migration.stopped-copy' | 'migration.completed' | 'migration.refused' | 'migration.cancelled';

const ROUND_END = 0;
const SWITCH = 1;
const THROTTLE_TICK = 2;
const POSTCOPY_SWITCH = 3;
const PREPAGE = 4;
/** QEMU's CPU_THROTTLE_TIMESLICE_NS. */
export const THROTTLE_PERIOD_NS = 10_000_000;
/** QEMU's cpu-throttle-initial and cpu-throttle-increment defaults (%). */
export const THROTTLE_INITIAL = 20;
export const THROTTLE_INCREMENT = 10;
export const THROTTLE_MAX = 99;

interface Migration {
  readonly vm: Vm;
  readonly from: string;
  readonly to: string;
  readonly spec: MigrateSpec;
  readonly pageNs: number;
  readonly latencyNs: number;
  /** The destination's frame for each guest page (reserved at the start). */
  readonly destination: readonly number[];
  readonly startedAt: number;
  round: number;
  roundStartedAt: number;
  roundPages: number;
  pausedAt: number;
  pagesSent: number;
  pagesResent: number;
  /** 1 where the page crossed the link at least once. */
  readonly sent: Uint8Array;
  throttle: number;
  index: number;
  /** Post-copy: 1 where the page is still on the source host; the pages left, the last faulted page (pre-paging's pivot), faults taken. */
  pending: Uint8Array;
  pendingCount: number;
  pivot: number;
  remoteFaults: number;
  receive?: (page: number) => void;
  sourceFrames?: number[];
  downtimeNs: number;
}

export class Migrator {
  private readonly target: number;
  private readonly migrations: Migration[] = [];
  private readonly active = new Map<string, Migration>();

  constructor(
    private readonly kernel: Kernel,
    private readonly bus: EventBus,
    private readonly monitor: Monitor,
    private readonly memory: HostMemory,
    private readonly hosts: HostSet | undefined,
    private readonly dirtyLog: DirtyLog,
    private readonly costs: () => CostModel,
    /** Routes a VM's vCPUs to a host's scheduler (its cpupool). */
    private readonly route: (vm: Vm, host: string) => void,
  ) {
    this.target = kernel.register('migrator', (kind, index) => {
      const migration = this.migrations[index];
      if (kind === ROUND_END) this.endRound(migration);
      else if (kind === SWITCH) this.switchOver(migration);
      else if (kind === THROTTLE_TICK) this.throttleTick(migration);
      else if (kind === POSTCOPY_SWITCH) this.postcopySwitch(migration);
      else this.prepage(migration);
    });
  }

  /**
   * The events of each VM's last migration, for checkpoints (a fold that starts at a checkpoint
   * shows the migration's rounds; src/replay/fold/checkpoint.ts). Bounded: maxRounds + 3 a VM.
   */
  private readonly records = new Map<string, { type: MigrationEventType; data: unknown }[]>();

  private emit<T extends MigrationEventType>(vm: Vm, type: T, data: EventDataMap[T]): void {
    if (type === 'migration.started' || type === 'migration.refused') this.records.set(vm.name, []);
    this.records.get(vm.name)?.push({ type, data });
    this.bus.publish(vm.id, type, data);
  }

  /** What a checkpoint keeps: each VM's last migration's events, by VM name. */
  snapshot(): Record<string, unknown> {
    return Object.fromEntries([...this.records].map(([name, events]) => [name, events.map((event) => ({ ...event }))]));
  }

  /** A migration in progress for this VM, if any. */
  migrating(vm: Vm): boolean {
    return this.active.has(vm.name);
  }

  /** Starts migrating `vm` live as `spec` says, or refuses with the reason (nothing changes). */
  migrate(vm: Vm, spec: MigrateSpec): void {
    const refusal = this.refusal(vm, spec);
    if (refusal !== undefined) {
      this.bus.publish(vm.id, 'vm.not-allowed', { command: 'MIGRATE', state: vm.state, reason: refusal });
      this.emit(vm, 'migration.refused', { to: spec.to, reason: refusal });
      return;
    }
    const hosts = this.hosts as HostSet;
    const from = hosts.hostOf(vm.name);
    const link = hosts.link(from, spec.to);
    const linkBandwidth = link?.bandwidthBytesPerSecond ?? 1;
    const bandwidth = spec.bandwidth === null ? linkBandwidth : Math.min(spec.bandwidth, linkBandwidth);
    const pageNs = Math.ceil((PAGE_BYTES * 1e9) / bandwidth);
    const map = vm.memory;
    const destination = hosts.allocate(this.memory, spec.to, map.pageCount, vm.id);
    const now = this.kernel.now;
    const migration: Migration = {
      vm,
      from,
      to: spec.to,
      spec,
      pageNs,
      latencyNs: link?.latencyNs ?? 0,
      destination,
      startedAt: now,
      round: 0,
      roundStartedAt: now,
      roundPages: 0,
      pausedAt: -1,
      pagesSent: 0,
      pagesResent: 0,
      sent: new Uint8Array(map.pageCount),
      throttle: 0,
      index: this.migrations.length,
      pending: new Uint8Array(0),
      pendingCount: 0,
      pivot: 0,
      remoteFaults: 0,
      downtimeNs: 0,
    };
    this.migrations.push(migration);
    this.active.set(vm.name, migration);
    // Round 0 sends every page the VM has touched (an untouched page is zero on both sides).
    const touched: number[] = [];
    for (let page = 0; page < map.pageCount; page++) if (!pageIsZero(this.memory.words, map.pageBase[page])) touched.push(page);
    this.emit(vm, 'migration.started', {
      from,
      to: spec.to,
      mode: spec.mode,
      pages: touched.length,
      bandwidth,
      latencyNs: migration.latencyNs,
      pageNs,
      downtimeLimitNs: spec.downtimeLimitNs,
      maxRounds: spec.maxRounds,
    });
    if (spec.mode === 'postcopy') {
      this.startPostcopy(migration, touched);
      return;
    }
    this.dirtyLog.start(vm, (hostBase) => invalidateHost(vm, hostBase));
    // Every page is tracked from now on, sent or not: a page written after this instant is dirty.
    this.sendRound(migration, touched, allPages(map.pageCount));
  }

  private refusal(vm: Vm, spec: MigrateSpec): string | undefined {
    const hosts = this.hosts;
    if (hosts === undefined) return 'the scenario has one host: declare several under hosts:';
    if (!hosts.has(spec.to)) return `unknown host '${spec.to}' (known: ${hosts.names().join(', ')})`;
    if (vm.state !== 'running' && vm.state !== 'blocked') return `a VM that is ${vm.state} cannot migrate`;
    if (this.active.has(vm.name)) return `VM ${vm.name} is already migrating`;
    const from = hosts.hostOf(vm.name);
    if (from === spec.to) return `VM ${vm.name} is already on host ${spec.to}`;
    const attach = vm.options.devices;
    if (attach?.block === 'passthrough' || attach?.nic === 'passthrough') return 'it has a passthrough device (a host device cannot follow the VM, as with VFIO)';
    if (vm.balloon.size > 0) return 'its balloon holds pages (ballooned-out pages are not carried yet)';
    if (hosts.link(from, spec.to) === undefined) return `no link between hosts ${from} and ${spec.to} (declare one under links:)`;
    const needed = vm.memory.pageCount * PAGE_BYTES;
    const free = hosts.freeBytes(this.memory, spec.to);
    if (needed > free) return `host ${spec.to} has ${free} bytes of memory free, the VM needs ${needed}`;
    return undefined;
  }

  /**
   * Sends `pages` in this round: they are write-protected and copied to the destination now (a
   * write after this instant faults and marks the page for the next round), and the round ends
   * when they have crossed the link.
   */
  private sendRound(migration: Migration, pages: readonly number[], protect: readonly number[] = pages): void {
    const { vm } = migration;
    const now = this.kernel.now;
    this.monitor.quiesce(vm);
    // Invariant: every page is write-protected or dirty (a fault's unprotect marks it dirty).
    this.dirtyLog.protect(vm, protect);
    flushTranslations(vm);
    this.copy(migration, pages);
    migration.roundStartedAt = now;
    migration.roundPages = pages.length;
    this.kernel.schedule(this.transfer(migration, pages.length * migration.pageNs), this.target, ROUND_END, migration.index);
  }

  /**
   * When `sendNs` of transfer on the migration's link, started now, has arrived: the link carries
   * one transfer at a time (two migrations over one link take turns), then the latency.
   */
  private transfer(migration: Migration, sendNs: number): number {
    const start = (this.hosts as HostSet).reserveLink(migration.from, migration.to, this.kernel.now, sendNs);
    return start + sendNs + migration.latencyNs;
  }

  private copy(migration: Migration, pages: readonly number[]): void {
    const words = this.memory.words;
    const map = migration.vm.memory;
    for (const page of pages) {
      const source = map.pageBase[page];
      const target = migration.destination[page] * PAGE_WORDS;
      words.copyWithin(target, source, source + PAGE_WORDS);
      if (migration.sent[page] === 1) migration.pagesResent++;
      migration.sent[page] = 1;
      migration.pagesSent++;
    }
  }

  private endRound(migration: Migration): void {
    const { vm, spec } = migration;
    const now = this.kernel.now;
    if (vm.finished || (vm.state !== 'running' && vm.state !== 'blocked' && vm.state !== 'paused')) {
      this.cancel(migration, `the VM is ${vm.state}`);
      return;
    }
    this.monitor.quiesce(vm);
    const dirty = this.dirtyLog.takeDirty(vm);
    this.emit(vm, 'migration.round', {
      round: migration.round,
      pagesSent: migration.roundPages,
      pagesDirtied: dirty.length,
      durationNs: now - migration.roundStartedAt,
      dirtyFaults: this.dirtyLog.faults(vm),
      throttle: migration.throttle,
    });
    const converged = dirty.length * migration.pageNs + migration.latencyNs <= spec.downtimeLimitNs;
    const lastRound = migration.round + 1 >= spec.maxRounds;
    if (converged || lastRound) {
      this.stopAndCopy(migration, dirty, converged ? 'converged' : 'max-rounds');
      return;
    }
    if (spec.autoConverge && dirty.length * 2 > migration.roundPages) this.throttleUp(migration);
    migration.round++;
    this.sendRound(migration, dirty);
  }

  /** The VM pauses; its last dirty pages and its state cross the link; then it runs on the destination. */
  private stopAndCopy(migration: Migration, dirty: readonly number[], trigger: 'converged' | 'max-rounds'): void {
    const { vm } = migration;
    const now = this.kernel.now;
    migration.round++;
    this.emit(vm, 'migration.stopped-copy', { round: migration.round, pages: dirty.length, trigger });
    if (vm.state !== 'paused') this.monitor.suspend(vm);
    // The guest's clock stops with the VM (QEMU stops kvmclock): the downtime is not guest time.
    vm.timer.freeze();
    migration.pausedAt = now;
    // Still tracked: a device's DMA into the paused VM (a disk read completing) marks its page again.
    this.dirtyLog.protect(vm, dirty);
    this.copy(migration, dirty);
    // The vCPUs' registers and the devices' state: one page's worth per vCPU (a few hundred bytes each in QEMU's stream, rounded up).
    const stateNs = vm.vcpus.length * migration.pageNs;
    this.kernel.schedule(this.transfer(migration, dirty.length * migration.pageNs + stateNs), this.target, SWITCH, migration.index);
  }

  private switchOver(migration: Migration): void {
    const { vm } = migration;
    const now = this.kernel.now;
    // What devices wrote while the VM was paused (their DMA marks pages dirty) crosses with the state.
    this.copy(migration, this.dirtyLog.takeDirty(vm));
    const dirtyFaults = this.dirtyLog.faults(vm);
    this.dirtyLog.stop(vm);
    const map = vm.memory;
    const released: number[] = [];
    for (let page = 0; page < map.pageCount; page++) {
      const old = map.pageBase[page];
      if (old >= 0) released.push(old / PAGE_WORDS);
      const base = migration.destination[page] * PAGE_WORDS;
      map.pageBase[page] = base;
      map.writeBase[page] = base;
    }
    flushTranslations(vm);
    this.memory.release(released);
    (this.hosts as HostSet).place(vm.name, migration.to);
    this.route(vm, migration.to);
    this.active.delete(vm.name);
    const downtimeNs = now - migration.pausedAt;
    this.emit(vm, 'migration.completed', {
      from: migration.from,
      to: migration.to,
      rounds: migration.round + 1,
      totalNs: now - migration.startedAt,
      downtimeNs,
      pagesSent: migration.pagesSent,
      pagesResent: migration.pagesResent,
      dirtyFaults,
    });
    migration.throttle = 0;
    vm.timer.resumeAt(now);
    this.monitor.resume(vm);
  }

  // ------------------------------------------------------------------ post-copy

  /**
   * Post-copy (Hines and Gopalan, VEE 2009): the VM pauses only while its vCPU and device state
   * cross the link; then it runs on the destination at once, and its touched pages follow: each
   * access to one not there yet faults and pulls it over the link (a round trip and the page), and
   * meanwhile pre-paging pushes the others one page time apart, nearest the last fault first
   * (their "bubbling").
   */
  private startPostcopy(migration: Migration, touched: readonly number[]): void {
    const { vm } = migration;
    const now = this.kernel.now;
    this.monitor.suspend(vm);
    vm.timer.freeze();
    migration.pausedAt = now;
    migration.pivot = touched[0] ?? 0;
    const stateNs = vm.vcpus.length * migration.pageNs;
    this.kernel.schedule(this.transfer(migration, stateNs), this.target, POSTCOPY_SWITCH, migration.index);
  }

  private postcopySwitch(migration: Migration): void {
    const { vm } = migration;
    const now = this.kernel.now;
    const map = vm.memory;
    const source = Array.from(map.pageBase);
    // The pages touched now: a disk read that completed into the paused VM touched its page too.
    migration.pending = new Uint8Array(map.pageCount);
    migration.pendingCount = 0;
    for (let page = 0; page < map.pageCount; page++) {
      if (pageIsZero(this.memory.words, source[page])) continue;
      migration.pending[page] = 1;
      migration.pendingCount++;
    }
    for (let page = 0; page < map.pageCount; page++) {
      // An untouched page is zero on both sides: the destination's frame is mapped at once.
      const base = migration.pending[page] === 1 ? -1 : migration.destination[page] * PAGE_WORDS;
      map.pageBase[page] = base;
      map.writeBase[page] = base;
    }
    flushTranslations(vm);
    const words = this.memory.words;
    const receive = (page: number): void => {
      if (migration.pending[page] === 0) return;
      migration.pending[page] = 0;
      migration.pendingCount--;
      const target = migration.destination[page] * PAGE_WORDS;
      words.copyWithin(target, source[page], source[page] + PAGE_WORDS);
      map.pageBase[page] = target;
      map.writeBase[page] = target;
      migration.pagesSent++;
    };
    migration.receive = receive;
    // A device's DMA or the monitor's access to a page not there yet brings it first.
    map.onReadFault = (page) => {
      receive(page);
      return map.pageBase[page] >= 0;
    };
    map.onWriteFault = map.onReadFault;
    map.swappedWords = (page) => (migration.pending[page] === 1 ? words.slice(source[page], source[page] + PAGE_WORDS) : undefined);
    this.dirtyLog.startRemote(vm, (page) => {
      if (migration.pending[page] === 0) return 0;
      receive(page);
      migration.pivot = page;
      migration.remoteFaults++;
      // The page takes its turn on the link (behind the transfer in flight: a pre-paged page, a
      // packet), once the request has crossed the other way, then crosses. Its turn is taken
      // now, not when the request lands: a later turn would leave the link idle until then.
      const now = this.kernel.now;
      const turn = (this.hosts as HostSet).reserveLink(migration.from, migration.to, now, migration.pageNs);
      return Math.max(turn, now + migration.latencyNs) + migration.pageNs + migration.latencyNs - now;
    });
    migration.sourceFrames = source.filter((base) => base >= 0).map((base) => base / PAGE_WORDS);
    (this.hosts as HostSet).place(vm.name, migration.to);
    this.route(vm, migration.to);
    vm.timer.resumeAt(now);
    migration.downtimeNs = now - migration.pausedAt;
    this.monitor.resume(vm);
    if (migration.pendingCount === 0) this.postcopyDone(migration);
    else this.kernel.schedule(this.transfer(migration, migration.pageNs) - migration.latencyNs, this.target, PREPAGE, migration.index);
  }

  /** Pre-paging: the pending page nearest the last fault (above it first) crosses the link. */
  private prepage(migration: Migration): void {
    if (migration.receive === undefined) return;
    if (migration.pendingCount === 0) {
      // The last pages came on demand (a fault pulled them) since the last slot: every page is there.
      this.postcopyDone(migration);
      return;
    }
    const pending = migration.pending;
    let page = -1;
    for (let distance = 0; page < 0 && distance < pending.length; distance++) {
      if (pending[migration.pivot + distance] === 1) page = migration.pivot + distance;
      else if (migration.pivot - distance >= 0 && pending[migration.pivot - distance] === 1) page = migration.pivot - distance;
    }
    if (page >= 0) {
      migration.receive(page);
      migration.pivot = page;
    }
    if (migration.pendingCount === 0) this.postcopyDone(migration);
    else this.kernel.schedule(this.transfer(migration, migration.pageNs) - migration.latencyNs, this.target, PREPAGE, migration.index);
  }

  private postcopyDone(migration: Migration): void {
    const { vm } = migration;
    const map = vm.memory;
    map.onReadFault = undefined;
    map.onWriteFault = undefined;
    map.swappedWords = undefined;
    this.dirtyLog.stopRemote(vm);
    this.memory.release(migration.sourceFrames ?? []);
    this.active.delete(vm.name);
    this.emit(vm, 'migration.completed', {
      from: migration.from,
      to: migration.to,
      rounds: 1,
      totalNs: this.kernel.now - migration.startedAt,
      downtimeNs: migration.downtimeNs,
      pagesSent: migration.pagesSent,
      pagesResent: 0,
      dirtyFaults: migration.remoteFaults,
    });
  }

  private cancel(migration: Migration, reason: string): void {
    const { vm } = migration;
    if (this.dirtyLog.tracking(vm)) this.dirtyLog.stop(vm);
    this.memory.release(migration.destination);
    this.active.delete(vm.name);
    migration.throttle = 0;
    this.emit(vm, 'migration.cancelled', { to: migration.to, reason });
  }

  private throttleUp(migration: Migration): void {
    const first = migration.throttle === 0;
    migration.throttle = Math.min(THROTTLE_MAX, first ? THROTTLE_INITIAL : migration.throttle + THROTTLE_INCREMENT);
    if (first) this.kernel.schedule(this.kernel.now, this.target, THROTTLE_TICK, migration.index);
  }

  /** Every 10 ms while throttled, each vCPU of the VM sleeps for the throttle's share of it (QEMU's cpu_throttle_thread). */
  private throttleTick(migration: Migration): void {
    if (migration.throttle === 0 || !this.active.has(migration.vm.name)) return;
    const now = this.kernel.now;
    if (migration.vm.state === 'running' || migration.vm.state === 'blocked') {
      const sleepNs = Math.round((THROTTLE_PERIOD_NS * migration.throttle) / 100);
      for (const vcpu of migration.vm.vcpus) this.monitor.stall(vcpu, sleepNs);
    }
    this.kernel.schedule(now + THROTTLE_PERIOD_NS, this.target, THROTTLE_TICK, migration.index);
  }
}

function allPages(count: number): number[] {
  return Array.from({ length: count }, (_, page) => page);
}

function pageIsZero(words: Int32Array, base: number): boolean {
  if (base < 0) return true;
  for (let offset = 0; offset < PAGE_WORDS; offset++) if (words[base + offset] !== 0) return false;
  return true;
}

/** Drops every TLB and shadow entry of the VM (its pages' protection or frames changed). */
function flushTranslations(vm: Vm): void {
  for (const vcpu of vm.vcpus) vcpu.mmu?.flush();
  vm.shadow.clear();
}

function invalidateHost(vm: Vm, hostBase: number): void {
  for (const vcpu of vm.vcpus) vcpu.mmu?.invalidateHost(hostBase);
  vm.shadow.dropHost(hostBase);
}
