/**
 * A binary min-heap of scheduling entities ordered by a numeric rank, ties broken by the entity's
 * key (so the order never depends on insertion history), with O(log n) update and removal by key.
 * Used for earliest deadline (RTDS) and least virtual runtime (CFS).
 */
import type { SchedEntity } from './policy.js';

interface Item {
  readonly entity: SchedEntity;
  rank: number;
  /** Compared after rank, before the key (RTDS: rank = priority level, then = deadline). */
  then: number;
  index: number;
}

export class EntityHeap {
  private readonly items: Item[] = [];
  private readonly byKey = new Map<number, Item>();

  get size(): number {
    return this.items.length;
  }

  has(key: number): boolean {
    return this.byKey.has(key);
  }

  rankOf(key: number): number | undefined {
    return this.byKey.get(key)?.rank;
  }

  /** Inserts the entity, or moves it to its new rank if present. */
  set(entity: SchedEntity, rank: number, then = 0): void {
    const existing = this.byKey.get(entity.key);
    if (existing !== undefined) {
      existing.rank = rank;
      existing.then = then;
      this.up(existing.index);
      this.down(existing.index);
      return;
    }
    const item: Item = { entity, rank, then, index: this.items.length };
    this.items.push(item);
    this.byKey.set(entity.key, item);
    this.up(item.index);
  }

  peek(): SchedEntity | undefined {
    return this.items[0]?.entity;
  }

  peekRank(): number {
    return this.items.length === 0 ? Number.POSITIVE_INFINITY : this.items[0].rank;
  }

  /** The second rank of the first entity (Infinity when empty). */
  peekThen(): number {
    return this.items.length === 0 ? Number.POSITIVE_INFINITY : this.items[0].then;
  }

  pop(): SchedEntity | undefined {
    const top = this.items[0];
    if (top === undefined) return undefined;
    this.removeAt(0);
    return top.entity;
  }

  remove(key: number): boolean {
    const item = this.byKey.get(key);
    if (item === undefined) return false;
    this.removeAt(item.index);
    return true;
  }

  /** Entities in rank order (for snapshots; O(n log n)). */
  sorted(): { entity: SchedEntity; rank: number }[] {
    return this.items
      .map((item) => ({ entity: item.entity, rank: item.rank }))
      .sort((a, b) => a.rank - b.rank || a.entity.key - b.entity.key);
  }

  private removeAt(index: number): void {
    const items = this.items;
    const item = items[index];
    const last = items.pop() as Item;
    this.byKey.delete(item.entity.key);
    if (index < items.length) {
      items[index] = last;
      last.index = index;
      this.up(index);
      this.down(last.index);
    }
  }

  private less(a: Item, b: Item): boolean {
    return a.rank < b.rank || (a.rank === b.rank && (a.then < b.then || (a.then === b.then && a.entity.key < b.entity.key)));
  }

  private up(index: number): void {
    const items = this.items;
    const item = items[index];
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex];
      if (!this.less(item, parent)) break;
      items[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    items[index] = item;
    item.index = index;
  }

  private down(index: number): void {
    const items = this.items;
    const count = items.length;
    const item = items[index];
    for (;;) {
      const left = 2 * index + 1;
      if (left >= count) break;
      const right = left + 1;
      const child = right < count && this.less(items[right], items[left]) ? right : left;
      if (!this.less(items[child], item)) break;
      items[index] = items[child];
      items[index].index = index;
      index = child;
    }
    items[index] = item;
    item.index = index;
  }
}
