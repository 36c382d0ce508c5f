/**
 * A FIFO of scheduling entities with O(1) push, pop, and removal by key: a doubly linked list
 * whose nodes are found through a Map keyed by the entity's key. Iteration is in queue order.
 */
import type { SchedEntity } from './policy.js';

interface Node {
  readonly entity: SchedEntity;
  prev: Node | null;
  next: Node | null;
}

export class EntityFifo {
  private head: Node | null = null;
  private tail: Node | null = null;
  private readonly nodes = new Map<number, Node>();

  get size(): number {
    return this.nodes.size;
  }

  has(key: number): boolean {
    return this.nodes.has(key);
  }

  push(entity: SchedEntity): void {
    if (this.nodes.has(entity.key)) return;
    const node: Node = { entity, prev: this.tail, next: null };
    if (this.tail === null) this.head = node;
    else this.tail.next = node;
    this.tail = node;
    this.nodes.set(entity.key, node);
  }

  /** Puts the entity at the head (it runs next among its peers). */
  unshift(entity: SchedEntity): void {
    if (this.nodes.has(entity.key)) return;
    const node: Node = { entity, prev: null, next: this.head };
    if (this.head === null) this.tail = node;
    else this.head.prev = node;
    this.head = node;
    this.nodes.set(entity.key, node);
  }

  peek(): SchedEntity | undefined {
    return this.head?.entity;
  }

  shift(): SchedEntity | undefined {
    const node = this.head;
    if (node === null) return undefined;
    this.unlink(node);
    return node.entity;
  }

  remove(key: number): boolean {
    const node = this.nodes.get(key);
    if (node === undefined) return false;
    this.unlink(node);
    return true;
  }

  *[Symbol.iterator](): IterableIterator<SchedEntity> {
    for (let node = this.head; node !== null; node = node.next) yield node.entity;
  }

  ids(): string[] {
    return [...this].map((entity) => entity.id);
  }

  private unlink(node: Node): void {
    if (node.prev === null) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next === null) this.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = null;
    node.next = null;
    this.nodes.delete(node.entity.key);
  }
}
