/**
 * An in-process checkpoint of a running simulation: every object reachable from the root, with
 * the values of its fields, kept so that `restore` can write them back into the same objects.
 *
 * The simulation's state is spread over many components (kernel queues, monitor, schedulers,
 * devices, xstate actors, metrics). Rather than ask each of them for a save and a load of its own,
 * which a new component could forget, the checkpoint walks the object graph once: plain objects
 * and class instances (their own data properties), arrays, Maps, Sets and typed arrays. Restoring
 * puts every field back, in place, so every reference between components (and every closure that
 * holds one) sees the restored state; objects made after the checkpoint become unreachable.
 *
 * What a walk cannot see is state held only in a closure's variables. The simulation keeps its
 * mutable state in fields (tests compare a restored run's events with the log, byte for byte,
 * which such state would break), and `TimeTravelMachine` checks each restored position against
 * the events of its first pass.
 *
 * Large typed arrays (guest and host memory) are kept in 4 KiB chunks shared with the previous
 * checkpoint when equal, and an all-zero chunk is shared by all: a checkpoint costs what changed.
 */

const CHUNK_BYTES = 4096;
const LARGE_BYTES = 64 * 1024;
const ZERO_CHUNK = new Uint8Array(CHUNK_BYTES);

type Entry =
  | { readonly kind: 'object'; readonly target: Record<PropertyKey, unknown>; readonly keys: PropertyKey[]; readonly values: unknown[] }
  | { readonly kind: 'array'; readonly target: unknown[]; readonly values: unknown[] }
  | { readonly kind: 'map'; readonly target: Map<unknown, unknown>; readonly entries: [unknown, unknown][] }
  | { readonly kind: 'set'; readonly target: Set<unknown>; readonly values: unknown[] }
  | { readonly kind: 'bytes'; readonly target: Uint8Array; readonly copy: Uint8Array }
  | { readonly kind: 'chunks'; readonly source: ArrayBufferView; readonly target: Uint8Array; readonly chunks: Uint8Array[] };

function isZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let index = from; index < to; index++) if (bytes[index] !== 0) return false;
  return true;
}

function equalChunk(bytes: Uint8Array, from: number, to: number, chunk: Uint8Array): boolean {
  if (chunk.length !== to - from) return false;
  for (let index = from; index < to; index++) if (bytes[index] !== chunk[index - from]) return false;
  return true;
}

export interface SnapshotOptions {
  /** Objects not to walk (held by the simulation but outside its state: a log file, a sink). */
  readonly skip?: (value: object) => boolean;
  /** The previous checkpoint of the same graph, whose equal memory chunks this one shares. */
  readonly previous?: GraphSnapshot;
}

export class GraphSnapshot {
  private readonly entries: Entry[] = [];
  /** Bytes this checkpoint holds beyond what it shares (chunks copied, small arrays). */
  bytes = 0;
  /** Objects walked. */
  objects = 0;

  private constructor() {}

  static take(root: object, options: SnapshotOptions = {}): GraphSnapshot {
    const snapshot = new GraphSnapshot();
    const previousChunks = new Map<ArrayBufferView, Uint8Array[]>();
    for (const entry of options.previous?.entries ?? []) if (entry.kind === 'chunks') previousChunks.set(entry.source, entry.chunks);
    const seen = new Set<object>();
    const stack: unknown[] = [root];
    const skip = options.skip;
    const visit = (value: unknown): void => {
      if (value !== null && (typeof value === 'object') && !seen.has(value)) stack.push(value);
    };
    while (stack.length > 0) {
      const value = stack.pop() as object;
      if (seen.has(value)) continue;
      seen.add(value);
      if (skip?.(value) === true) continue;
      snapshot.objects++;
      if (ArrayBuffer.isView(value)) {
        const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
        if (bytes.length < LARGE_BYTES) {
          snapshot.entries.push({ kind: 'bytes', target: bytes, copy: bytes.slice() });
          snapshot.bytes += bytes.length;
          continue;
        }
        const before = previousChunks.get(value);
        const chunks: Uint8Array[] = [];
        for (let from = 0, c = 0; from < bytes.length; from += CHUNK_BYTES, c++) {
          const to = Math.min(from + CHUNK_BYTES, bytes.length);
          const old = before?.[c];
          if (old !== undefined && equalChunk(bytes, from, to, old)) chunks.push(old);
          else if (to - from === CHUNK_BYTES && isZero(bytes, from, to)) chunks.push(ZERO_CHUNK);
          else {
            chunks.push(bytes.slice(from, to));
            snapshot.bytes += to - from;
          }
        }
        snapshot.entries.push({ kind: 'chunks', source: value, target: bytes, chunks });
        continue;
      }
      if (value instanceof ArrayBuffer || value instanceof WeakMap || value instanceof WeakSet || value instanceof Promise || value instanceof RegExp || value instanceof Date) continue;
      if (Array.isArray(value)) {
        const values = value.slice();
        if (!Object.isFrozen(value)) snapshot.entries.push({ kind: 'array', target: value, values });
        for (const element of values) visit(element);
        continue;
      }
      if (value instanceof Map) {
        const entries = [...value.entries()];
        snapshot.entries.push({ kind: 'map', target: value, entries });
        for (const [key, element] of entries) {
          visit(key);
          visit(element);
        }
        continue;
      }
      if (value instanceof Set) {
        const values = [...value.values()];
        snapshot.entries.push({ kind: 'set', target: value, values });
        for (const element of values) visit(element);
        continue;
      }
      const record = value as Record<PropertyKey, unknown>;
      const frozen = Object.isFrozen(value);
      const keys: PropertyKey[] = [];
      const values: unknown[] = [];
      for (const key of Reflect.ownKeys(value)) {
        const descriptor = Object.getOwnPropertyDescriptor(value, key);
        if (descriptor === undefined || !('value' in descriptor)) continue;
        keys.push(key);
        values.push(descriptor.value);
        visit(descriptor.value);
      }
      if (!frozen) snapshot.entries.push({ kind: 'object', target: record, keys, values });
    }
    return snapshot;
  }

  /** Writes every saved field back into its object. */
  restore(): void {
    for (const entry of this.entries) {
      switch (entry.kind) {
        case 'object': {
          const target = entry.target;
          const current = Reflect.ownKeys(target).filter((key) => {
            const descriptor = Object.getOwnPropertyDescriptor(target, key);
            return descriptor !== undefined && 'value' in descriptor;
          });
          let same = current.length === entry.keys.length;
          for (let index = 0; same && index < current.length; index++) same = current[index] === entry.keys[index];
          if (!same) {
            // Keys came or went: rebuild in the saved order, so iteration order is as it was.
            for (const key of current) if (Object.getOwnPropertyDescriptor(target, key)?.configurable === true) delete target[key];
          }
          for (let index = 0; index < entry.keys.length; index++) {
            const key = entry.keys[index];
            if (same && target[key] === entry.values[index]) continue;
            const descriptor = Object.getOwnPropertyDescriptor(target, key);
            if (descriptor === undefined) Object.defineProperty(target, key, { value: entry.values[index], writable: true, enumerable: true, configurable: true });
            else if (descriptor.writable === true) target[key] = entry.values[index];
          }
          break;
        }
        case 'array':
          entry.target.length = entry.values.length;
          for (let index = 0; index < entry.values.length; index++) entry.target[index] = entry.values[index];
          break;
        case 'map':
          entry.target.clear();
          for (const [key, value] of entry.entries) entry.target.set(key, value);
          break;
        case 'set':
          entry.target.clear();
          for (const value of entry.values) entry.target.add(value);
          break;
        case 'bytes':
          entry.target.set(entry.copy);
          break;
        case 'chunks': {
          let from = 0;
          for (const chunk of entry.chunks) {
            if (!equalChunk(entry.target, from, from + chunk.length, chunk)) entry.target.set(chunk, from);
            from += chunk.length;
          }
          break;
        }
      }
    }
  }
}
