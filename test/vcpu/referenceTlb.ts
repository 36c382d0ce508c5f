/**
 * The reference the TLB properties check paging.ts's Tlb against: a first-in first-out list of
 * live pages with their host bases and write permission, written as plainly as possible (arrays
 * and a map, no window arithmetic). `apply` runs one operation on both.
 */
import type { Tlb } from '../../src/actors/paging.js';

export type TlbStep =
  | { readonly op: 'fill'; readonly page: number; readonly base: number; readonly writable?: boolean }
  | { readonly op: 'invalidate'; readonly page: number }
  | { readonly op: 'invalidateHost'; readonly base: number }
  | { readonly op: 'flush' };

export class ReferenceTlb {
  private order: number[] = [];
  private readonly live = new Map<number, { readonly base: number; readonly writable: boolean }>();
  /** Flushes of a TLB that held something (as Tlb.flushes counts them). */
  flushes = 0;

  constructor(readonly entries: number) {}

  fill(page: number, base: number, writable = true): void {
    if (!this.live.has(page)) {
      if (this.order.length === this.entries) this.live.delete(this.order.shift() as number);
      this.order.push(page);
    }
    this.live.set(page, { base, writable });
  }

  invalidate(page: number): void {
    if (this.live.delete(page)) this.order = this.order.filter((other) => other !== page);
  }

  invalidateHost(base: number): void {
    for (const [page, entry] of [...this.live]) if (entry.base === base) this.invalidate(page);
  }

  flush(): void {
    if (this.live.size > 0) this.flushes++;
    this.live.clear();
    this.order = [];
  }

  /** The host base of a page, or -1 when it has no entry. */
  base(page: number): number {
    return this.live.get(page)?.base ?? -1;
  }

  /** The host base a store may use, or -1 (no entry, or filled read-only). */
  writeBase(page: number): number {
    const entry = this.live.get(page);
    return entry?.writable === true ? entry.base : -1;
  }

  /** Runs one operation on the TLB and on this reference. */
  apply(tlb: Tlb, step: TlbStep): void {
    if (step.op === 'fill') {
      tlb.fill(step.page, step.base, step.writable);
      this.fill(step.page, step.base, step.writable);
    } else if (step.op === 'invalidate') {
      tlb.invalidate(step.page);
      this.invalidate(step.page);
    } else if (step.op === 'invalidateHost') {
      tlb.invalidateHost(step.base);
      this.invalidateHost(step.base);
    } else {
      tlb.flush();
      this.flush();
    }
  }
}
