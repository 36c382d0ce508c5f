/**
 * Memory virtualization: guest paging, a TLB, and the two ways a monitor virtualizes the MMU.
 *
 * A guest turns paging on by writing the guest-physical address of its page table to the PTB
 * control register. The table has GUEST_VIRTUAL_PAGES entries, one per guest-virtual page:
 * `(guest-physical page number << PAGE_SHIFT) | flags` with PTE_PRESENT, PTE_WRITE and PTE_USER.
 * A guest-virtual address is translated by the table to a guest-physical one, which the VM's
 * guest-physical map translates to host memory. A store through an entry without PTE_WRITE is
 * the guest's own page fault (#PF), in kernel mode too (as x86 with CR0.WP set).
 *
 * The vCPU runs on a TLB: two arrays from guest-virtual page to host word index (the interpreter's
 * `pageBase` for fetches and loads, `writeBase` for stores, -1 in the latter where the entry is
 * read-only), one TLB for virtual kernel mode and one for virtual user mode, holding at most
 * `entries` pages. A miss, or a store to a read-only entry, stops the batch, and the monitor
 * walks the tables and fills the entry (writable when the guest's PTE and the VM's map both
 * allow it):
 *
 *   nested paging (EPT/NPT)  the hardware walks both tables: `nestedWalkNs`, no exit. The guest
 *                            writes its page table freely.
 *   shadow paging            the monitor keeps a shadow table (guest-virtual page to host page)
 *                            per guest page table; the hardware walks it on a miss (`tlbWalkNs`,
 *                            no exit) once the monitor has filled the entry; filling it is a
 *                            hidden page fault (an exit: `shadowFillNs`). The guest's page table is
 *                            write-protected: the shadow maps it read-only, so reads of it run
 *                            through the TLB and every write exits and is emulated
 *                            (`ptEmulateNs`), dropping the shadow and TLB entries it changes.
 */
import { PAGE_SHIFT } from '../core/platform.js';

export const GUEST_VIRTUAL_PAGES = 1 << PAGE_SHIFT;
export const PTE_PRESENT = 1;
export const PTE_WRITE = 2;
export const PTE_USER = 4;
export const DEFAULT_TLB_ENTRIES = 64;
/**
 * A shadow-table entry is the host word index of the page (a multiple of PAGE_WORDS) with this
 * bit set when the shadow mapping is writable.
 */
export const SHADOW_WRITABLE = 1;

export type { PagingMode } from '../core/scenario/schema.js';

/** A TLB: guest-virtual page to host word index, bounded, first-in first-out. */
export class Tlb {
  /** -1 where there is no entry: what the interpreter's fetches and loads read. */
  readonly map = new Int32Array(GUEST_VIRTUAL_PAGES).fill(-1);
  /** The same for stores: -1 also where the entry is read-only (the page is not writable). */
  readonly writeMap = new Int32Array(GUEST_VIRTUAL_PAGES).fill(-1);
  private readonly order: Int32Array;
  private head = 0;
  private count = 0;
  misses = 0;
  flushes = 0;

  constructor(readonly entries: number) {
    this.order = new Int32Array(entries);
  }

  /** Fills the entry for `page`: readable, and writable too unless `writable` is false. */
  fill(page: number, hostBase: number, writable = true): void {
    this.writeMap[page] = writable ? hostBase : -1;
    if (this.map[page] >= 0) {
      this.map[page] = hostBase;
      return;
    }
    if (this.count === this.entries) {
      this.map[this.order[this.head]] = -1;
      this.writeMap[this.order[this.head]] = -1;
      this.head = (this.head + 1) % this.entries;
      this.count--;
    }
    this.order[(this.head + this.count) % this.entries] = page;
    this.count++;
    this.map[page] = hostBase;
  }

  /** Drops the entry for `page`, and its place in the replacement order (so a refill counts once). */
  invalidate(page: number): void {
    if (this.map[page] < 0) return;
    this.map[page] = -1;
    this.writeMap[page] = -1;
    const entries = this.entries;
    let at = 0;
    while (at < this.count && this.order[(this.head + at) % entries] !== page) at++;
    if (at === this.count) return;
    for (; at < this.count - 1; at++) this.order[(this.head + at) % entries] = this.order[(this.head + at + 1) % entries];
    this.count--;
  }

  /** Drops every entry that maps the host page at `hostBase` (the page moved, or lost its frame). */
  invalidateHost(hostBase: number): void {
    const matching: number[] = [];
    for (let index = 0; index < this.count; index++) {
      const page = this.order[(this.head + index) % this.entries];
      if (this.map[page] === hostBase) matching.push(page);
    }
    for (const page of matching) this.invalidate(page);
  }

  flush(): void {
    if (this.count === 0) return;
    for (let index = 0; index < this.count; index++) {
      const page = this.order[(this.head + index) % this.entries];
      this.map[page] = -1;
      this.writeMap[page] = -1;
    }
    this.head = 0;
    this.count = 0;
    this.flushes++;
  }
}

/** A vCPU's MMU state: its TLBs (kernel and user) and the page table they were filled from. */
export class Mmu {
  readonly kernel: Tlb;
  readonly user: Tlb;
  /** The PTB the TLBs hold translations of (0: paging off), and the PTB writes seen. */
  ptb = 0;
  ptbWrites = 0;
  /** The physical CPU whose TLB holds these entries (-1: none yet), for tagged TLBs. */
  pcpu = -1;

  constructor(
    entries: number,
    /** Entries tagged with the vCPU (VPID/ASID): they survive a switch to another vCPU. */
    readonly tagged = false,
  ) {
    this.kernel = new Tlb(entries);
    this.user = new Tlb(entries);
  }

  /**
   * The vCPU is dispatched on physical CPU `pcpu` after another vCPU ran there (or it ran
   * elsewhere). Untagged: the TLB was flushed by the switch. Tagged: its entries are still in
   * that CPU's TLB, unless it comes from another CPU (it starts cold there).
   */
  switchedTo(pcpu: number): void {
    if (!this.tagged || this.pcpu !== pcpu) this.flush();
    this.pcpu = pcpu;
  }

  flush(): void {
    this.kernel.flush();
    this.user.flush();
  }

  invalidate(page: number): void {
    this.kernel.invalidate(page);
    this.user.invalidate(page);
  }

  invalidateHost(hostBase: number): void {
    this.kernel.invalidateHost(hostBase);
    this.user.invalidateHost(hostBase);
  }

  get misses(): number {
    return this.kernel.misses + this.user.misses;
  }
}

/** A VM's shadow page tables, one per guest page table it has used (shadow paging only). */
export class ShadowTables {
  private readonly tables = new Map<number, Int32Array>();
  fills = 0;

  table(ptb: number): Int32Array {
    let table = this.tables.get(ptb);
    if (table === undefined) {
      table = new Int32Array(GUEST_VIRTUAL_PAGES).fill(-1);
      this.tables.set(ptb, table);
    }
    return table;
  }

  /** Forgets every shadow entry (the VM's guest-physical map changed: a page was ballooned out). */
  clear(): void {
    for (const table of this.tables.values()) table.fill(-1);
  }

  /** Forgets every shadow entry that maps the host page at `hostBase` (writable or not). */
  dropHost(hostBase: number): void {
    for (const table of this.tables.values()) {
      for (let page = 0; page < table.length; page++) if (table[page] >= 0 && (table[page] & ~SHADOW_WRITABLE) === hostBase) table[page] = -1;
    }
  }

  /** A guest page-table write changed the entry for `page` of table `ptb`. */
  drop(ptb: number, page: number): void {
    const table = this.tables.get(ptb);
    if (table !== undefined) table[page] = -1;
  }
}
