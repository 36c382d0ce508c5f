/**
 * Seeded randomness. The root is pure-rand's xoroshiro128+ (the generator fast-check uses).
 * Every component draws from its own stream, keyed by the component's id: the stream's seed is
 * a hash of the run's seed and the id, so adding a device or a VM never changes the numbers any
 * other component draws (index-based jump() streams would shift when components are added).
 * Stream states are plain numbers and go into checkpoints.
 */
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { hashString } from './hash.js';

type Generator = ReturnType<typeof xoroshiro128plus>;

export class RandomStream {
  private constructor(
    readonly id: string,
    private generator: Generator,
  ) {}

  static create(seed: number, id: string): RandomStream {
    const mixed = Number.parseInt(hashString(`${seed >>> 0}/${id}`).slice(8), 16) | 0;
    const generator = xoroshiro128plus(mixed);
    // Discard a few outputs: xoroshiro's first outputs from similar seeds are correlated.
    for (let index = 0; index < 4; index++) generator.next();
    return new RandomStream(id, generator);
  }

  static fromState(id: string, state: readonly number[]): RandomStream {
    return new RandomStream(id, xoroshiro128plusFromState(state));
  }

  /** Starts this stream over from another run seed (a fork that changes the seed). */
  reseed(seed: number): void {
    this.generator = RandomStream.create(seed, this.id).generator;
  }

  /** A uniform integer in [from, to], both included. */
  int(from: number, to: number): number {
    if (to <= from) return from;
    return uniformInt(this.generator, from, to);
  }

  state(): number[] {
    return [...this.generator.getState()];
  }

  /** Goes on from a saved state (a VM restored from an image under the name it was saved with). */
  setState(state: readonly number[]): void {
    this.generator = xoroshiro128plusFromState(state);
  }
}

/** Hands out one stream per component id and remembers them for checkpoints. */
export class RandomSource {
  private readonly streams = new Map<string, RandomStream>();

  constructor(private currentSeed: number) {
    if (!Number.isInteger(currentSeed)) throw new RangeError(`seed must be an integer, got ${currentSeed}`);
  }

  get seed(): number {
    return this.currentSeed;
  }

  /** Every stream, present and future, draws from `seed` from now on. */
  reseed(seed: number): void {
    this.currentSeed = seed;
    for (const stream of this.streams.values()) stream.reseed(seed);
  }

  stream(id: string): RandomStream {
    let stream = this.streams.get(id);
    if (stream === undefined) {
      stream = RandomStream.create(this.seed, id);
      this.streams.set(id, stream);
    }
    return stream;
  }

  /** Every stream's state, sorted by id. */
  states(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const id of [...this.streams.keys()].sort()) out[id] = (this.streams.get(id) as RandomStream).state();
    return out;
  }
}
