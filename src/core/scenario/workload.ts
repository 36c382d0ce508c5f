/**
 * A VM's open workload (scenario `vms[].workload`, docs/workloads.md): an arrival process and the
 * requests that arrive. The schema is built from the scenario module's helpers (passed in, as
 * inputs.ts does, to avoid an import cycle); its parsed form is the resolved form.
 */
import { z } from 'zod';
import { parseBytes, parseDuration } from './units.js';

export const REQUEST_KINDS = ['cpu', 'disk-read', 'disk-write'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];
export const ARRIVAL_PROCESSES = ['poisson', 'deterministic', 'mmpp', 'trace'] as const;
export const SIZE_DISTRIBUTIONS = ['deterministic', 'exponential', 'uniform', 'lognormal', 'pareto', 'empirical'] as const;

/** Sizes: ns of work for cpu, bytes for disk requests. */
export type SizeDistribution =
  | { readonly dist: 'deterministic'; readonly value: number }
  | { readonly dist: 'exponential'; readonly mean: number }
  | { readonly dist: 'uniform'; readonly min: number; readonly max: number }
  | { readonly dist: 'lognormal'; readonly mean: number; readonly sigma: number }
  | { readonly dist: 'pareto'; readonly shape: number; readonly scale: number }
  | { readonly dist: 'empirical'; readonly file: string };

export type ArrivalSpec =
  | { readonly process: 'poisson'; readonly rate: number }
  | { readonly process: 'deterministic'; readonly rate: number }
  /** Markov-modulated Poisson with two states (on/off when one rate is 0): a rate and a mean holding time per state. */
  | { readonly process: 'mmpp'; readonly rates: readonly [number, number]; readonly holds: readonly [number, number] }
  /** Arrival times read from a CSV file (one per line, ns or a duration, ascending). */
  | { readonly process: 'trace'; readonly file: string };

export interface RequestSpec {
  readonly kind: RequestKind;
  readonly size: SizeDistribution;
  /** The weight of this kind in the mix (default 1). */
  readonly share: number;
}

export interface WorkloadSpec {
  readonly arrivals: ArrivalSpec;
  readonly requests: readonly RequestSpec[];
  /** Depth of the request queue the guest serves (default 1024). */
  readonly queue: number;
  /** Stop after this many arrivals (absent: for the whole run). */
  readonly limit?: number;
  /** First arrivals from this virtual time (default 0). */
  readonly start: number;
}

export const WORKLOAD_QUEUE_DEFAULT = 1024;
/** The largest size a request may have: ns of work must fit a guest register. */
export const REQUEST_SIZE_MAX = 2 ** 31 - 1;

/** A size: a positive number, or a duration (cpu) or byte size (disk) with its unit. */
function sizeValue() {
  return z.union([z.number().positive(), z.string()]).transform((value, ctx) => {
    if (typeof value === 'number') return value;
    try {
      return /b$/i.test(value.trim()) ? parseBytes(value) : parseDuration(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `expected a size (a number, a duration such as 1ms, or bytes such as 4KiB), got '${value}': ${(error as Error).message}`, input: value });
      return z.NEVER;
    }
  });
}

const positive = () => z.number({ error: 'expected a positive number' }).positive({ error: 'expected a positive number' });

export function workloadSchema(helpers: {
  readonly duration: (min: number, max: number) => z.ZodType<number>;
  readonly maxTimeNs: number;
}) {
  const size = z.discriminatedUnion(
    'dist',
    [
      z.strictObject({ dist: z.literal('deterministic'), value: sizeValue() }),
      z.strictObject({ dist: z.literal('exponential'), mean: sizeValue() }),
      z.strictObject({ dist: z.literal('uniform'), min: sizeValue(), max: sizeValue() }),
      z.strictObject({ dist: z.literal('lognormal'), mean: sizeValue(), sigma: positive() }),
      z.strictObject({ dist: z.literal('pareto'), shape: positive(), scale: sizeValue() }),
      z.strictObject({ dist: z.literal('empirical'), file: z.string().min(1) }),
    ],
    { error: `expected a size distribution: dist one of ${SIZE_DISTRIBUTIONS.join(', ')}` },
  );
  const arrivals = z.discriminatedUnion(
    'process',
    [
      z.strictObject({ process: z.literal('poisson'), rate: positive().meta({ description: 'arrivals per second' }) }),
      z.strictObject({ process: z.literal('deterministic'), rate: positive().meta({ description: 'arrivals per second' }) }),
      z.strictObject({
        process: z.literal('mmpp'),
        rates: z.tuple([z.number().min(0), z.number().min(0)]).meta({ description: 'arrivals per second in state 0 and in state 1 (0: off)' }),
        holds: z.tuple([helpers.duration(1, helpers.maxTimeNs), helpers.duration(1, helpers.maxTimeNs)]).meta({ description: 'mean time spent in state 0 and in state 1 (exponential)' }),
      }),
      z.strictObject({ process: z.literal('trace'), file: z.string().min(1).meta({ description: 'CSV of arrival times (ns or durations), ascending' }) }),
    ],
    { error: `expected an arrival process: process one of ${ARRIVAL_PROCESSES.join(', ')}` },
  );
  const request = z.strictObject({
    kind: z.enum(REQUEST_KINDS, { error: `expected a request kind: one of ${REQUEST_KINDS.join(', ')}` }).meta({ title: 'Request kind', description: 'cpu (a job of work served by the guest), disk-read or disk-write (at the block device).' }),
    size: size.meta({ title: 'Size distribution', description: 'dist: deterministic (value), exponential (mean), uniform (min, max), lognormal (mean, sigma), pareto (shape, scale) or empirical (file); ns of work for cpu, bytes for disk.' }),
    share: positive().default(1).meta({ title: 'Share', description: 'Weight of this kind in the mix (default 1).' }),
  }).meta({ title: 'Request', description: 'One kind of request with its size distribution.' });
  return z
    .strictObject({
      arrivals: arrivals.meta({ title: 'Arrival process', description: 'process: poisson (rate per second), deterministic (rate), mmpp (rates, holds) or trace (file of arrival times).' }),
      requests: z.array(request).min(1).max(16).meta({ title: 'Requests', description: 'The kinds of request that arrive (1 to 16).' }),
      queue: z.int().min(1).max(1 << 20).default(WORKLOAD_QUEUE_DEFAULT).meta({ title: 'Request queue depth', description: 'Requests the request queue holds before refusing (default 1024).' }),
      limit: z.int().min(1).max(1e9).optional().meta({ title: 'Limit', description: 'Stop after this many arrivals (default: the whole run).' }),
      start: helpers.duration(0, helpers.maxTimeNs).default(0).meta({ title: 'Start', description: 'Virtual time of the first arrivals (default 0).' }),
    })
    .superRefine((workload, ctx) => {
      workload.requests.forEach((request, index) => {
        const distribution = request.size;
        if (distribution.dist === 'uniform' && distribution.max < distribution.min) {
          ctx.addIssue({ code: 'custom', path: ['requests', index, 'size', 'max'], message: 'max must be at least min', input: distribution.max });
        }
      });
      if (workload.arrivals.process === 'mmpp' && workload.arrivals.rates[0] + workload.arrivals.rates[1] === 0) {
        ctx.addIssue({ code: 'custom', path: ['arrivals', 'rates'], message: 'at least one state needs a rate above 0', input: workload.arrivals.rates });
      }
    })
    .meta({
      title: 'Workload',
      description:
        'Open arrivals of requests to this VM (docs/workloads.md): an arrival process (poisson, deterministic, mmpp, trace), the requests (cpu jobs served by the guest through its request queue, disk reads and writes at its block device) with their size distributions, the request queue depth and an optional limit.',
    });
}

/** The source form of a resolved workload (the same shape, numbers for durations and sizes). */
export function workloadToSource(workload: WorkloadSpec): Record<string, unknown> {
  return JSON.parse(JSON.stringify(workload)) as Record<string, unknown>;
}
