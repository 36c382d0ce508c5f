/**
 * The host's memory manager: page sharing (KSM, VMware's transparent page sharing) and memory
 * overcommit (frames on first touch, reclaim, host swapping). The monitor calls it on the exits
 * that are the host's business rather than the guest's: a write to a shared page (copy on write),
 * a first touch of a page that was never backed (demand allocation), a touch of a page the host
 * swapped out (swap-in). Everything runs on the kernel's queue in a fixed order, so a run stays
 * deterministic.
 *
 *   sharing   every `intervalNs` a scan hashes the next `pagesPerScan` guest pages (VMs in
 *             scenario order, pages in guest-physical order, a cursor that wraps), looks the hash
 *             up among the shared frames (KSM's stable tree) and the pages seen since the pass
 *             began (its unstable tree), compares the words, and merges a match onto one host
 *             frame mapped read-only in every sharer (writeBase -1); the duplicate is released.
 *             A store to a shared page exits; the monitor gives the VM its own copy (or, for the
 *             last sharer, the frame itself) writable and the store is retried.
 *   overcommit  a VM's pages start unbacked; the first touch (a guest access, a device's DMA,
 *             the monitor reading guest memory) backs the page with a zeroed frame. When the host
 *             has no free frame it reclaims: first a full sharing pass (when sharing is on), then
 *             it swaps out one of the faulting VM's own pages (a clock hand over its pages,
 *             sparing the two it touched last) to a swap store per VM. Only when neither frees a
 *             frame is the faulting VM crashed ("host out of memory"); no other VM is touched.
 *
 *   ballooning  with `ballooning`, a periodic check (this manager's kernel entry, in the
 *             kernel's (time, seq) order like the scans) inflates the balloons of the VMs that run a balloon driver
 *             while free frames are below a threshold (hostBalloons.ts: ESX's reclamation order,
 *             sharing always, ballooning under pressure, swapping when nothing else frees a frame).
 *
 * Frames freed by a balloon (host-driven, an operator's or an input's target) go back to the free
 * pool and serve the next first touch; `balloonedFrames` counts them. Under overcommit, a VM that
 * ends gives all its frames back (vmEnded, `memory.freed`).
 */
import type { EventBus } from '../../core/bus.js';
import type { CostModel } from '../../core/costs.js';
import type { Kernel } from '../../core/kernel.js';
import type { GuestPhysicalMap, HostMemory } from '../../core/memory.js';
import { PAGE_WORDS } from '../../core/platform.js';
import type { BallooningSpec, PageSharingSpec } from '../../core/scenario/schema.js';
import type { Vm } from '../vm.js';
import { HostBalloons, type BalloonStats } from './hostBalloons.js';

/** The state of a guest page the map does not back, as the memory manager sees it. */
const BACKED = 0;
const UNTOUCHED = 1;
const SWAPPED = 2;

/** Guest pages of each VM the swap victim chooser spares: the last ones faulted in. */
const SPARED_PAGES = 2;

export type HostFaultCause = 'cow' | 'demand' | 'swap-in';

export type HostFault =
  /** Not the host's business: an EPT violation (outside the map, or a ballooned page). */
  | { readonly kind: 'none' }
  | { readonly kind: 'handled'; readonly cause: HostFaultCause; readonly ns: number }
  | { readonly kind: 'out-of-memory'; readonly reason: string };

const NONE: HostFault = { kind: 'none' };

export interface MemoryStats extends BalloonStats {
  /** Host frames in all, in use, and free. */
  readonly frames: number;
  readonly framesUsed: number;
  /** Frames shared by several guest pages, the guest pages mapping them, and frames saved. */
  readonly sharedFrames: number;
  readonly sharedPages: number;
  readonly savedFrames: number;
  /** Guest pages in the host's swap stores now. */
  readonly swappedPages: number;
  readonly scans: number;
  readonly pagesScanned: number;
  readonly merges: number;
  readonly cowBreaks: number;
  readonly demandPages: number;
  readonly swapOuts: number;
  readonly swapIns: number;
  /** Host CPU time the scans took (shareScanPageNs per page). */
  readonly scanNs: number;
  /** Host frames balloons released back to the free pool (a shared frame stays with its sharers and is not counted). */
  readonly balloonedFrames: number;
}

export interface MemoryManagerOptions {
  readonly sharing?: PageSharingSpec | undefined;
  readonly overcommit: boolean;
  /** Host-driven ballooning (overcommit only): absent, off. */
  readonly ballooning?: BallooningSpec | undefined;
  /**
   * A part (src/actors/parts.ts) called when a VM writes a shared frame, before copy on write:
   * returns true when it handled the write itself. Absent in every normal run.
   */
  readonly sharedWrite?: ((map: GuestPhysicalMap, page: number, frame: number) => boolean) | undefined;
}

/** What the manager needs from the monitor once it exists. */
export interface MemoryHooks {
  /** Cuts the VM's batches that run past now, before its memory changes at this instant. */
  quiesce(vm: Vm): void;
  /** Sets a VM's balloon target (host-driven ballooning). */
  setBalloonTarget(vm: Vm, pages: number): void;
}

interface Space {
  readonly owner: string;
  readonly map: GuestPhysicalMap;
  /** BACKED, UNTOUCHED or SWAPPED per guest page. */
  readonly state: Uint8Array;
  /** Swapped-out pages' words. */
  readonly swap: Map<number, Int32Array>;
  /** The clock hand of the swap victim chooser. */
  hand: number;
  /** The last pages faulted in, spared by the swap victim chooser. */
  readonly recent: number[];
  vm: Vm | undefined;
}

interface Candidate {
  readonly space: Space;
  readonly page: number;
  readonly frame: number;
}

/** The kinds of this manager's kernel entries. */
const SCAN = 0;
const BALLOON_CHECK = 1;

export class MemoryManager {
  readonly id = 'host/memory';
  private readonly spaces: Space[] = [];
  private readonly byOwner = new Map<string, Space>();
  /** Shared frames by content hash (KSM's stable tree). */
  private readonly stable = new Map<number, number[]>();
  /** Pages seen in the current pass by content hash (KSM's unstable tree, rebuilt every pass). */
  private unstable = new Map<number, Candidate[]>();
  private cursorSpace = 0;
  private cursorPage = 0;
  private hooks: MemoryHooks | undefined;
  private target = -1;
  private scans = 0;
  private pagesScanned = 0;
  private merges = 0;
  private cowBreaks = 0;
  private demandPages = 0;
  private swapOuts = 0;
  private swapIns = 0;
  private scanNs = 0;
  private lastReclaimScan = Number.NEGATIVE_INFINITY;
  private balloonedFrames = 0;
  private readonly balloons: HostBalloons | undefined;
  private vms: readonly Vm[] = [];

  constructor(
    readonly host: HostMemory,
    private readonly kernel: Kernel,
    private readonly bus: EventBus,
    private readonly costs: () => CostModel,
    readonly options: MemoryManagerOptions,
  ) {
    if (options.ballooning !== undefined && !options.overcommit) throw new RangeError('host-driven ballooning needs memory overcommit (host.overcommit: true)');
    this.balloons = options.ballooning === undefined ? undefined : new HostBalloons(options.ballooning, host, bus, this.id);
  }

  /**
   * A VM's guest-physical map, before its image is loaded. Under overcommit its pages start
   * unbacked (the map holds -1); loading the image backs the pages it writes.
   */
  register(owner: string, map: GuestPhysicalMap): void {
    const state = new Uint8Array(map.pageCount);
    if (this.options.overcommit) for (let page = 0; page < state.length; page++) if (map.pageBase[page] < 0) state[page] = UNTOUCHED;
    const space: Space = { owner, map, state, swap: new Map(), hand: 0, recent: [], vm: undefined };
    this.spaces.push(space);
    this.byOwner.set(owner, space);
    map.onWriteFault = (page) => this.fault(space, page, true).kind === 'handled';
    map.onReadFault = (page) => this.fault(space, page, false).kind === 'handled';
    map.swappedWords = (page) => space.swap.get(page);
  }

  /** Links the VMs (for their TLBs and batches) and starts the scans once the monitor exists. */
  attach(vms: readonly Vm[], hooks: MemoryHooks): void {
    this.hooks = hooks;
    this.vms = vms;
    for (const vm of vms) {
      const space = this.byOwner.get(vm.id);
      if (space !== undefined) space.vm = vm;
    }
    // Frames a balloon gave back to the pool (the monitor has dropped the VM's mapping by now).
    this.bus.on('balloon.released', (event) => {
      if (event.data.frame >= 0 && this.host.ownerOf(event.data.frame) === '') this.balloonedFrames++;
    });
    const sharing = this.options.sharing;
    const ballooning = this.options.ballooning;
    if (sharing === undefined && ballooning === undefined) return;
    this.target = this.kernel.register(this.id, (kind) => (kind === SCAN ? this.periodicScan() : this.periodicBalloonCheck()));
    if (sharing !== undefined) this.kernel.schedule(this.kernel.now + sharing.intervalNs, this.target, SCAN);
    if (ballooning !== undefined) this.kernel.schedule(this.kernel.now + ballooning.intervalNs, this.target, BALLOON_CHECK);
  }

  /**
   * An exit the host may own: `write` access to guest-physical `page` of `vm` stopped. Backs,
   * swaps in or copies the page and says what it cost, or says it is not the host's business.
   */
  handleFault(vm: Vm, page: number, write: boolean): HostFault {
    const space = this.byOwner.get(vm.id);
    return space === undefined ? NONE : this.fault(space, page, write);
  }

  /**
   * A VM has ended (shut off, crashed, destroyed): under overcommit the host takes its memory back,
   * every frame it maps (a shared frame stays with its other sharers) and its swap store, as a
   * hypervisor frees a powered-off VM's memory. Publishes `memory.freed`.
   */
  vmEnded(vm: Vm): void {
    const space = this.byOwner.get(vm.id);
    if (space === undefined || !this.options.overcommit) return;
    const map = space.map;
    let frames = 0;
    for (let page = 0; page < space.state.length; page++) {
      const base = map.pageBase[page];
      if (base >= 0) {
        this.host.drop(base / PAGE_WORDS, space.owner);
        frames++;
      }
      map.pageBase[page] = -1;
      map.writeBase[page] = -1;
      space.state[page] = UNTOUCHED;
    }
    const swapped = space.swap.size;
    space.swap.clear();
    space.recent.length = 0;
    this.bus.publish(vm.id, 'memory.freed', { frames, swapped });
  }

  /**
   * The balloon took a guest page that has no frame (never touched, or swapped out): it leaves
   * the VM for good, like a backed one. Returns whether the page was such a page.
   */
  discard(vm: Vm, page: number): boolean {
    const space = this.byOwner.get(vm.id);
    if (space === undefined || !(page >= 0 && page < space.state.length) || space.state[page] === BACKED) return false;
    space.state[page] = BACKED;
    space.swap.delete(page);
    return true;
  }

  stats(): MemoryStats {
    const sharedFrames = this.host.sharedFrameCount;
    const sharedPages = this.host.sharedMappingCount;
    let swappedPages = 0;
    for (const space of this.spaces) swappedPages += space.swap.size;
    return {
      frames: this.host.frameCount,
      framesUsed: this.host.frameCount - this.host.freeFrameCount,
      sharedFrames,
      sharedPages,
      savedFrames: sharedPages - sharedFrames,
      swappedPages,
      scans: this.scans,
      pagesScanned: this.pagesScanned,
      merges: this.merges,
      cowBreaks: this.cowBreaks,
      demandPages: this.demandPages,
      swapOuts: this.swapOuts,
      swapIns: this.swapIns,
      scanNs: this.scanNs,
      balloonedFrames: this.balloonedFrames,
      ...(this.balloons?.stats() ?? { balloonChecks: 0, balloonPressured: 0, balloonRequested: 0 }),
    };
  }

  // ------------------------------------------------------------------------------ faults

  private fault(space: Space, page: number, write: boolean): HostFault {
    if (!(page >= 0 && page < space.state.length)) return NONE;
    const map = space.map;
    const costs = this.costs();
    if (map.pageBase[page] >= 0) {
      if (!write || map.writeBase[page] >= 0) return NONE;
      const frame = map.pageBase[page] / PAGE_WORDS;
      if (!this.host.isShared(frame)) return NONE;
      return this.breakSharing(space, page, frame, costs);
    }
    const state = space.state[page];
    if (state === BACKED) return NONE;
    const taken = this.takeFrame(space, page);
    if (typeof taken === 'string') return { kind: 'out-of-memory', reason: taken };
    const [frame, reclaimNs] = taken;
    if (state === SWAPPED) {
      const words = space.swap.get(page) as Int32Array;
      this.host.words.set(words, frame * PAGE_WORDS);
      space.swap.delete(page);
      this.swapIns++;
    } else {
      this.demandPages++;
    }
    this.mapFrame(space, page, frame);
    this.remember(space, page);
    return state === SWAPPED ? { kind: 'handled', cause: 'swap-in', ns: costs.swapInNs + reclaimNs } : { kind: 'handled', cause: 'demand', ns: costs.demandPageNs + reclaimNs };
  }

  /** Copy on write: the VM gets its own writable copy of a shared page (or the frame itself when it is the last sharer). */
  private breakSharing(space: Space, page: number, frame: number, costs: CostModel): HostFault {
    this.quiesce(space);
    if (this.options.sharedWrite?.(space.map, page, frame) === true) {
      this.invalidate(space, frame * PAGE_WORDS);
      return { kind: 'handled', cause: 'cow', ns: costs.cowBreakNs };
    }
    const oldBase = frame * PAGE_WORDS;
    // The copy's frame may have cost a swap-out, charged as a demand fault's is.
    let ns = costs.cowBreakNs;
    if (this.host.readersOf(frame).length === 1) {
      this.host.unshare(frame);
      space.map.writeBase[page] = oldBase;
    } else {
      const taken = this.takeFrame(space, page);
      if (typeof taken === 'string') return { kind: 'out-of-memory', reason: taken };
      const [copy, reclaimNs] = taken;
      this.host.words.copyWithin(copy * PAGE_WORDS, oldBase, oldBase + PAGE_WORDS);
      this.host.drop(frame, space.owner);
      space.map.pageBase[page] = copy * PAGE_WORDS;
      space.map.writeBase[page] = copy * PAGE_WORDS;
      ns += reclaimNs;
    }
    this.invalidate(space, oldBase);
    this.cowBreaks++;
    return { kind: 'handled', cause: 'cow', ns };
  }

  /** A free frame for `space` (its page `page` is about to use it), reclaiming if need be; or why there is none. */
  private takeFrame(space: Space, page: number): [number, number] | string {
    if (this.host.freeFrameCount > 0) return [this.host.allocate(1, space.owner)[0], 0];
    const sharing = this.options.sharing;
    if (sharing !== undefined && this.kernel.now >= this.lastReclaimScan + sharing.intervalNs) {
      // Reclaim by sharing: a whole pass over every VM's pages at once, at most once a scan
      // interval (the scanner's host CPU time, like the periodic scans'; not the vCPU's).
      this.lastReclaimScan = this.kernel.now;
      const before = this.host.freeFrameCount;
      this.scan(this.totalPages(), false);
      if (this.host.freeFrameCount > before) return [this.host.allocate(1, space.owner)[0], 0];
    }
    const victim = this.swapVictim(space, page);
    if (victim < 0) {
      return `host out of memory: no free frame for guest page ${page}, and nothing of ${space.owner}'s left to swap out`;
    }
    this.swapOut(space, victim);
    return [this.host.allocate(1, space.owner)[0], this.costs().swapOutNs];
  }

  /** The next page of the VM's own to swap out: backed, not shared, not one it touched last. */
  private swapVictim(space: Space, sparing: number): number {
    const pages = space.state.length;
    for (let step = 0; step < pages; step++) {
      const page = (space.hand + step) % pages;
      const base = space.map.pageBase[page];
      if (base < 0 || page === sparing || space.recent.includes(page) || this.host.isShared(base / PAGE_WORDS)) continue;
      space.hand = (page + 1) % pages;
      return page;
    }
    return -1;
  }

  private swapOut(space: Space, page: number): void {
    this.quiesce(space);
    const base = space.map.pageBase[page];
    space.swap.set(page, this.host.words.slice(base, base + PAGE_WORDS));
    space.map.pageBase[page] = -1;
    space.map.writeBase[page] = -1;
    space.state[page] = SWAPPED;
    this.invalidate(space, base);
    this.host.drop(base / PAGE_WORDS, space.owner);
    this.swapOuts++;
    this.bus.publish(space.vm?.id ?? space.owner, 'memory.swap-out', { page });
  }

  private mapFrame(space: Space, page: number, frame: number): void {
    space.map.pageBase[page] = frame * PAGE_WORDS;
    space.map.writeBase[page] = frame * PAGE_WORDS;
    space.state[page] = BACKED;
  }

  private remember(space: Space, page: number): void {
    space.recent.push(page);
    if (space.recent.length > SPARED_PAGES) space.recent.shift();
  }

  // ------------------------------------------------------------------------------ sharing

  private periodicScan(): void {
    const sharing = this.options.sharing as PageSharingSpec;
    if (this.spaces.every((space) => space.vm === undefined || space.vm.finished)) return;
    this.scan(sharing.pagesPerScan, true);
    this.kernel.schedule(this.kernel.now + sharing.intervalNs, this.target, SCAN);
  }

  // ------------------------------------------------------------------------------ ballooning

  private periodicBalloonCheck(): void {
    const balloons = this.balloons as HostBalloons;
    if (this.vms.every((vm) => vm.finished)) return;
    balloons.check(this.vms, {
      quiesceAll: () => {
        for (const space of this.spaces) this.quiesce(space);
      },
      setBalloonTarget: (vm, pages) => this.hooks?.setBalloonTarget(vm, pages),
    });
    this.kernel.schedule(this.kernel.now + balloons.spec.intervalNs, this.target, BALLOON_CHECK);
  }

  private totalPages(): number {
    let pages = 0;
    for (const space of this.spaces) pages += space.state.length;
    return pages;
  }

  /** Scans `count` pages from the cursor; returns the host CPU time it took. */
  private scan(count: number, publish: boolean): number {
    // The batches run ahead of the clock: bring every VM's memory to now before reading it.
    for (const space of this.spaces) this.quiesce(space);
    let scanned = 0;
    let merged = 0;
    const total = this.totalPages();
    const limit = Math.min(count, total);
    for (let step = 0; step < limit && this.spaces.length > 0; step++) {
      const space = this.spaces[this.cursorSpace];
      const page = this.cursorPage;
      scanned++;
      // The page is compared with its own pass's candidates before a pass that ends with it is over.
      if ((space.vm === undefined || !space.vm.finished) && this.scanPage(space, page)) merged++;
      this.cursorPage++;
      if (this.cursorPage >= space.state.length) {
        this.cursorPage = 0;
        this.cursorSpace++;
        if (this.cursorSpace >= this.spaces.length) {
          // A pass is over: forget the candidates (their content may have changed since).
          this.cursorSpace = 0;
          this.unstable = new Map();
        }
      }
    }
    const ns = scanned * this.costs().shareScanPageNs;
    this.scans++;
    this.pagesScanned += scanned;
    this.merges += merged;
    this.scanNs += ns;
    if (publish) {
      const sharedFrames = this.host.sharedFrameCount;
      this.bus.publish(this.id, 'memory.scan', { scanned, merged, sharedFrames, savedFrames: this.host.sharedMappingCount - sharedFrames, ns });
    }
    return ns;
  }

  /** Hashes one page and merges it with an identical one; true when it merged. */
  private scanPage(space: Space, page: number): boolean {
    const map = space.map;
    const base = map.pageBase[page];
    if (base < 0 || map.writeBase[page] < 0) return false;
    const words = this.host.words;
    const hash = hashPage(words, base);
    const stable = this.stable.get(hash);
    if (stable !== undefined) {
      for (let index = 0; index < stable.length; index++) {
        const frame = stable[index];
        if (!this.host.isShared(frame)) {
          stable.splice(index--, 1);
          continue;
        }
        if (frame * PAGE_WORDS !== base && samePage(words, frame * PAGE_WORDS, base)) {
          this.mergeInto(space, page, frame);
          return true;
        }
      }
    }
    const candidates = this.unstable.get(hash);
    if (candidates !== undefined) {
      for (const candidate of candidates) {
        const other = candidate.space.map;
        const otherBase = candidate.frame * PAGE_WORDS;
        // The candidate may have changed, been written, swapped or ballooned since it was seen.
        if (other.pageBase[candidate.page] !== otherBase || other.writeBase[candidate.page] !== otherBase) continue;
        if (candidate.space.vm?.finished === true || !samePage(words, otherBase, base)) continue;
        this.quiesce(candidate.space);
        other.writeBase[candidate.page] = -1;
        this.host.share(candidate.frame, candidate.space.owner);
        this.host.drop(candidate.frame, candidate.space.owner);
        this.invalidate(candidate.space, otherBase);
        const list = this.stable.get(hash);
        if (list === undefined) this.stable.set(hash, [candidate.frame]);
        else list.push(candidate.frame);
        this.mergeInto(space, page, candidate.frame);
        return true;
      }
    }
    const entry: Candidate = { space, page, frame: base / PAGE_WORDS };
    if (candidates === undefined) this.unstable.set(hash, [entry]);
    else candidates.push(entry);
    return false;
  }

  /** Maps `page` of `space` read-only onto shared `frame` and frees the frame that backed it. */
  private mergeInto(space: Space, page: number, frame: number): void {
    this.quiesce(space);
    const oldBase = space.map.pageBase[page];
    this.host.share(frame, space.owner);
    space.map.pageBase[page] = frame * PAGE_WORDS;
    space.map.writeBase[page] = -1;
    this.invalidate(space, oldBase);
    this.host.drop(oldBase / PAGE_WORDS, space.owner);
  }

  // ------------------------------------------------------------------------------ helpers

  private quiesce(space: Space): void {
    if (space.vm !== undefined) this.hooks?.quiesce(space.vm);
  }

  /** Drops every TLB and shadow entry of the VM that maps the host page at `hostBase`. */
  private invalidate(space: Space, hostBase: number): void {
    const vm = space.vm;
    if (vm === undefined) return;
    for (const vcpu of vm.vcpus) vcpu.mmu?.invalidateHost(hostBase);
    vm.shadow.dropHost(hostBase);
  }
}

/** FNV-1a over a page's words (the scan's first filter; a match is then compared word by word). */
function hashPage(words: Int32Array, base: number): number {
  let hash = 0x811c9dc5 | 0;
  for (let offset = 0; offset < PAGE_WORDS; offset++) hash = Math.imul(hash ^ words[base + offset], 0x01000193);
  return hash;
}

function samePage(words: Int32Array, a: number, b: number): boolean {
  for (let offset = 0; offset < PAGE_WORDS; offset++) if (words[a + offset] !== words[b + offset]) return false;
  return true;
}
