/**
 * Virtual time. The simulation's clock is an integer count of nanoseconds held in a plain number
 * (exact up to 2^53 ns, about 104 days). Nothing in the simulation reads the host's clock.
 */
export type Nanoseconds = number;

export const NS_PER_US = 1_000;
export const NS_PER_MS = 1_000_000;
export const NS_PER_S = 1_000_000_000;

/** The largest virtual time the simulation accepts (about 104 days). */
export const MAX_TIME_NS: Nanoseconds = Number.MAX_SAFE_INTEGER;

/** Asserts that a value is a valid point or span of virtual time. */
export function assertTime(value: number, what = 'time'): Nanoseconds {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative integer number of nanoseconds, got ${value}`);
  }
  return value;
}
