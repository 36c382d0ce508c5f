/**
 * Seeds of repeated runs, derived from a base seed and the run's key (never from the order in
 * which runs are done or the worker that does them): the same key always gets the same seed.
 */
import { hashString } from '../core/hash.js';

export function deriveSeed(base: number, key: string): number {
  return Number.parseInt(hashString(`${base >>> 0}/${key}`).slice(0, 8), 16) >>> 0;
}
