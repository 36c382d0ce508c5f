/**
 * Random variates for workloads, every one drawn from a seeded stream (src/core/prng.ts), so a
 * run's arrivals and sizes are a function of the scenario and the seed. Inverse-transform
 * sampling throughout (one uniform per draw, two for the lognormal's Box-Muller), so a draw
 * costs the same stream positions whatever the parameters.
 */
import type { RandomStream } from '../../core/prng.js';
import type { SizeDistribution } from '../../core/scenario/workload.js';

const TWO_26 = 2 ** 26;
const TWO_53 = 2 ** 53;

/** A uniform double in [0, 1) with 53 random bits (two draws from the stream). */
export function uniform01(stream: RandomStream): number {
  const high = stream.int(0, TWO_26 - 1);
  const low = stream.int(0, 2 ** 27 - 1);
  return (high * 2 ** 27 + low) / TWO_53;
}

/** An exponential variate of mean `mean` (-mean ln(1 - U)). */
export function exponential(stream: RandomStream, mean: number): number {
  return -mean * Math.log(1 - uniform01(stream));
}

/** A standard normal variate (Box-Muller, the cosine half). */
export function standardNormal(stream: RandomStream): number {
  const u1 = 1 - uniform01(stream);
  const u2 = uniform01(stream);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** A sampler of one size distribution; `values` are the empirical distribution's (from its CSV). */
export function sampler(distribution: SizeDistribution, values: readonly number[] = []): (stream: RandomStream) => number {
  switch (distribution.dist) {
    case 'deterministic': {
      const value = distribution.value;
      return () => value;
    }
    case 'exponential': {
      const mean = distribution.mean;
      return (stream) => exponential(stream, mean);
    }
    case 'uniform': {
      const { min, max } = distribution;
      return (stream) => min + (max - min) * uniform01(stream);
    }
    case 'lognormal': {
      // Parameterised by its mean and the standard deviation of its logarithm.
      const sigma = distribution.sigma;
      const mu = Math.log(distribution.mean) - (sigma * sigma) / 2;
      return (stream) => Math.exp(mu + sigma * standardNormal(stream));
    }
    case 'pareto': {
      // Type I: P(X > x) = (scale / x)^shape for x >= scale; mean shape scale / (shape - 1) when shape > 1.
      const { shape, scale } = distribution;
      return (stream) => scale / Math.pow(1 - uniform01(stream), 1 / shape);
    }
    case 'empirical': {
      if (values.length === 0) throw new RangeError('an empirical distribution needs at least one value');
      const table = [...values];
      return (stream) => table[stream.int(0, table.length - 1)];
    }
  }
}

/** The mean of a distribution (Infinity for a Pareto of shape <= 1), for docs and checks. */
export function meanOf(distribution: SizeDistribution, values: readonly number[] = []): number {
  switch (distribution.dist) {
    case 'deterministic':
      return distribution.value;
    case 'exponential':
    case 'lognormal':
      return distribution.mean;
    case 'uniform':
      return (distribution.min + distribution.max) / 2;
    case 'pareto':
      return distribution.shape > 1 ? (distribution.shape * distribution.scale) / (distribution.shape - 1) : Infinity;
    case 'empirical':
      return values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
  }
}
