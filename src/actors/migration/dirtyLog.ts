/**
 * Dirty-page tracking for live migration, as KVM's dirty log does it with write protection
 * (KVM_MEM_LOG_DIRTY_PAGES without PML): each tracked guest page is mapped read-only in the
 * monitor's map (GuestPhysicalMap.writeBase -1, the same read-only bit page sharing uses), so the
 * first store to it in a round faults; the fault marks the page dirty, maps it writable again and
 * the store is retried. The next round write-protects the pages again (KVM's
 * KVM_CLEAR_DIRTY_LOG). A device's or the monitor's write to guest memory (DMA, emulation) goes
 * through GuestPhysicalMap.translateWrite and marks the page the same way, without a fault.
 *
 * The fault costs the guest `demandPageNs` of handling (a host minor fault that sets a bit and a
 * PTE, as a first-touch fault without the zeroing), on top of the exit and entry every exit pays.
 */
import type { GuestPhysicalMap } from '../../core/memory.js';
import type { Vm } from '../vm.js';

interface Tracking {
  readonly map: GuestPhysicalMap;
  /** 1 where the page is write-protected for tracking. */
  readonly protectedPages: Uint8Array;
  /** 1 where the page was written since its protection. */
  readonly dirty: Uint8Array;
  dirtyCount: number;
  faults: number;
  readonly previousOnWriteFault: GuestPhysicalMap['onWriteFault'];
  /** Drops the VM's TLB and shadow entries of a host page (a writable entry must not outlive its protection). */
  readonly invalidate: (hostBase: number) => void;
}

export class DirtyLog {
  private readonly tracked = new Map<string, Tracking>();

  /** Handling ns of a dirty-log fault (the cost model's demandPageNs). */
  constructor(private readonly faultNs: () => number) {}

  /** Starts tracking a VM's writes (nothing is protected yet: see protect). */
  start(vm: Vm, invalidate: (hostBase: number) => void): void {
    const map = vm.memory;
    const tracking: Tracking = {
      map,
      protectedPages: new Uint8Array(map.pageCount),
      dirty: new Uint8Array(map.pageCount),
      dirtyCount: 0,
      faults: 0,
      previousOnWriteFault: map.onWriteFault,
      invalidate,
    };
    this.tracked.set(vm.id, tracking);
    // Writes from outside the guest (devices, the monitor) reach a protected page through here.
    map.onWriteFault = (page) => this.unprotect(tracking, page) || (tracking.previousOnWriteFault?.(page) ?? false);
  }

  /** Write-protects `pages` (the caller has cut the VM's batches at this instant and flushes its TLBs). */
  protect(vm: Vm, pages: Iterable<number>): void {
    const tracking = this.get(vm);
    for (const page of pages) {
      if (tracking.map.pageBase[page] < 0) continue;
      tracking.protectedPages[page] = 1;
      tracking.map.writeBase[page] = -1;
    }
  }

  /** The pages dirtied since the last call, ascending, and clears them. */
  takeDirty(vm: Vm): number[] {
    const tracking = this.get(vm);
    const pages: number[] = [];
    for (let page = 0; page < tracking.dirty.length; page++) {
      if (tracking.dirty[page] === 0) continue;
      pages.push(page);
      tracking.dirty[page] = 0;
    }
    tracking.dirtyCount = 0;
    return pages;
  }

  dirtyCount(vm: Vm): number {
    return this.get(vm).dirtyCount;
  }

  faults(vm: Vm): number {
    return this.get(vm).faults;
  }

  /** Stops tracking: every page writable again, the map's write-fault handler as it was. */
  stop(vm: Vm): void {
    const tracking = this.get(vm);
    for (let page = 0; page < tracking.protectedPages.length; page++) if (tracking.protectedPages[page] === 1) this.unprotect(tracking, page);
    tracking.map.onWriteFault = tracking.previousOnWriteFault;
    this.tracked.delete(vm.id);
  }

  tracking(vm: Vm): boolean {
    return this.tracked.has(vm.id);
  }

  /**
   * A guest store faulted on `page`: when the page is protected for tracking, it is marked dirty
   * and writable again and the handling time is returned (the store is retried); otherwise
   * undefined (not the dirty log's fault).
   */
  fault(vm: Vm, page: number, write: boolean): { readonly ns: number; readonly cause: 'dirty-log' | 'postcopy' } | undefined {
    const remote = this.remote.get(vm.id);
    if (remote !== undefined) {
      if (!(page >= 0 && page < vm.memory.pageCount)) return undefined;
      // Brought meanwhile (pre-paging) after the access stopped the batch: the access is retried.
      return { ns: remote(page), cause: 'postcopy' };
    }
    const tracking = this.tracked.get(vm.id);
    if (!write || tracking === undefined || !this.unprotect(tracking, page)) return undefined;
    tracking.faults++;
    return { ns: this.faultNs(), cause: 'dirty-log' };
  }

  /** Post-copy: the VM's pages not on its host yet; `pull` brings one and returns what the faulting access waits (0 when it is already there). */
  private readonly remote = new Map<string, (page: number) => number>();

  startRemote(vm: Vm, pull: (page: number) => number): void {
    this.remote.set(vm.id, pull);
  }

  stopRemote(vm: Vm): void {
    this.remote.delete(vm.id);
  }

  private unprotect(tracking: Tracking, page: number): boolean {
    if (!(page >= 0 && page < tracking.protectedPages.length) || tracking.protectedPages[page] === 0) return false;
    tracking.protectedPages[page] = 0;
    const base = tracking.map.pageBase[page];
    tracking.map.writeBase[page] = base;
    tracking.invalidate(base);
    if (tracking.dirty[page] === 0) {
      tracking.dirty[page] = 1;
      tracking.dirtyCount++;
    }
    return true;
  }

  private get(vm: Vm): Tracking {
    const tracking = this.tracked.get(vm.id);
    if (tracking === undefined) throw new Error(`${vm.id}: no dirty log`);
    return tracking;
  }
}
