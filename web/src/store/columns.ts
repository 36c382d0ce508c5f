/**
 * Growable typed-array columns: a run of a million events is kept as a few typed arrays (one
 * number per event per column), not as a million objects, so the timeline and the event list can
 * walk it without allocating.
 */
type TypedArray = Float64Array | Uint32Array | Int32Array | Uint8Array | Uint16Array;

interface TypedArrayConstructor<T extends TypedArray> {
  new (length: number): T;
}

export class Column<T extends TypedArray> {
  private values: T;
  length = 0;

  constructor(
    private readonly make: TypedArrayConstructor<T>,
    capacity = 1024,
  ) {
    this.values = new make(capacity);
  }

  push(value: number): number {
    if (this.length === this.values.length) {
      const next = new this.make(this.values.length * 2);
      next.set(this.values as never);
      this.values = next;
    }
    this.values[this.length] = value;
    return this.length++;
  }

  get(index: number): number {
    return this.values[index];
  }

  set(index: number, value: number): void {
    this.values[index] = value;
  }

  /** The live array (valid up to `length`; replaced when the column grows). */
  get array(): T {
    return this.values;
  }
}

/** The first index in [0, length) whose value is greater than `value` (values ascending). */
export function upperBound(values: ArrayLike<number>, length: number, value: number): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (values[middle] <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The first index in [0, length) whose value is at least `value` (values ascending). */
export function lowerBound(values: ArrayLike<number>, length: number, value: number): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (values[middle] < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
