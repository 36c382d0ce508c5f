/**
 * Sweeps on a work queue (docs/sweeps.md): BullMQ on Redis, shared by `vmmsim sweep --queue` (which
 * enqueues a sweep's runs and gathers their results) and `vmmsim worker` (which runs them).
 *
 * - One BullMQ queue, `vmmsim-sweep`, for every sweep. A run's job id is its key followed by `@`
 *   and a hash of what decides its result (its scenario, seed and files), so enqueuing a sweep
 *   twice adds nothing, and two sweeps whose keys coincide but whose runs differ do not collide.
 * - What a run needs travels through Redis, content-addressed: the grid point's scenario (v8
 *   serialised) and every file it reads (programs, traces) are blobs under `vmmsim:blob:<sha256>`,
 *   and a job names them by hash. A worker needs no shared file system and fetches each blob once.
 * - A job's result is the run's result line (results.ts), BullMQ's return value. A run that
 *   fails (its error is deterministic) fails its job with BullMQ's UnrecoverableError: once, not
 *   retried. A worker that dies mid-run leaves its job stalled; BullMQ's stalled-job check hands
 *   it to another worker.
 * - Losing Redis for longer than VMMSIM_QUEUE_GRACE_MS (default 10 s) ends the command with exit
 *   code 1, after saying so.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { serialize } from 'node:v8';
import { Redis, type RedisOptions } from 'ioredis';
import type { Scenario } from '../../core/scenario/schema.js';
import { InputError } from '../errors.js';
import type { GridValue, SweepRun } from './spec.js';

export const QUEUE_NAME = 'vmmsim-sweep';
const BLOB_PREFIX = 'vmmsim:blob:';

/** A job's data: the run, and the hashes of its scenario and files. */
export interface QueueJobData {
  readonly key: string;
  readonly index: number;
  readonly seed: number;
  readonly replication: number;
  readonly point: Readonly<Record<string, GridValue>>;
  readonly scenarioFile: string;
  /** sha256 of the v8-serialised scenario. */
  readonly scenario: string;
  /** Each file the scenario reads (path as the scenario gives it) to its sha256. */
  readonly files: Readonly<Record<string, string>>;
  /** The run's policy module (path as the grid gives it; its bytes are the blob of that sha256). */
  readonly policy?: { readonly path: string; readonly sha256: string };
}

export function checkQueueUrl(url: string): string {
  if (!/^rediss?:\/\/[^/\s]+(\/\d+)?\/?$/.test(url)) throw new InputError(`--queue: expected redis://HOST:PORT[/DB], got '${url}'`);
  return url;
}

function envMs(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value)) throw new InputError(`${name}: expected a number of milliseconds, got '${value}'`);
  return Number(value);
}

/** How long a lost Redis is waited for before the command gives up. */
export const graceMs = (): number => envMs('VMMSIM_QUEUE_GRACE_MS', 10_000);
/** A worker's job lock (and the stalled-job check's period): a dead worker's run goes elsewhere after about this long. */
export const lockMs = (): number => envMs('VMMSIM_QUEUE_LOCK_MS', 30_000);

/**
 * BullMQ's connection options: reconnect for graceMs, then give up (the client ends) and call
 * `onLost`, once, whichever of the command's connections notices first.
 */
export function connection(url: string, onLost: (reason: string) => void): Record<string, unknown> {
  const grace = graceMs();
  let lostSince: number | undefined;
  return {
    url,
    maxRetriesPerRequest: null,
    retryStrategy: (times: number): number | null => {
      // ioredis counts attempts from 1 again after each successful connection: a new outage.
      if (times === 1 || lostSince === undefined) lostSince = Date.now();
      if (Date.now() - lostSince > grace) {
        onLost(`no answer from Redis for ${Math.round(grace / 1000)}s`);
        return null;
      }
      return Math.min(100 * times, 500);
    },
  };
}

/** A plain client (blobs, the watchdog) with the same give-up rule. */
export function client(url: string, onLost: (reason: string) => void): Redis {
  const redis = new Redis(url, connection(url, onLost) as RedisOptions);
  redis.on('error', () => undefined);
  return redis;
}

export const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** The files a scenario reads (programs, traces, a workload's CSVs), relative to its file. */
export function scenarioFiles(scenario: Scenario): string[] {
  const paths = new Set<string>();
  for (const vm of scenario.vms) {
    const guest = vm.guest as { readonly kind: string; readonly path?: string };
    if ((guest.kind === 'file' || guest.kind === 'trace') && guest.path !== undefined) paths.add(guest.path);
    const workload = vm.workload;
    if (workload === undefined) continue;
    if (workload.arrivals.process === 'trace') paths.add(workload.arrivals.file);
    for (const request of workload.requests) if (request.size.dist === 'empirical') paths.add(request.size.file);
  }
  return [...paths].sort();
}

export interface PreparedRun {
  readonly id: string;
  readonly data: QueueJobData;
}

/** Every run's job id and data, and the blobs they name (hash to bytes). */
export function prepareRuns(runs: readonly SweepRun[], scenarioFile: string): { runs: PreparedRun[]; blobs: Map<string, Uint8Array> } {
  const blobs = new Map<string, Uint8Array>();
  const byScenario = new Map<Scenario, { hash: string; files: Record<string, string> }>();
  const folder = dirname(scenarioFile);
  const fileHash = new Map<string, string | undefined>();
  const prepared = runs.map((run) => {
    let entry = byScenario.get(run.scenario);
    if (entry === undefined) {
      const bytes = serialize(run.scenario);
      const hash = sha256(bytes);
      blobs.set(hash, bytes);
      const files: Record<string, string> = {};
      for (const path of scenarioFiles(run.scenario)) {
        if (!fileHash.has(path)) {
          const full = resolve(folder, path);
          // A missing file is the run's error, as in a local sweep: the worker finds no such file.
          const content = existsSync(full) ? readFileSync(full) : undefined;
          const contentHash = content === undefined ? undefined : sha256(content);
          if (content !== undefined && contentHash !== undefined) blobs.set(contentHash, content);
          fileHash.set(path, contentHash);
        }
        const contentHash = fileHash.get(path);
        if (contentHash !== undefined) files[path] = contentHash;
      }
      entry = { hash, files };
      byScenario.set(run.scenario, entry);
    }
    let policy: { path: string; sha256: string } | undefined;
    if (run.policyModule !== undefined) {
      const bytes = readFileSync(run.policyModule.file);
      const hash = sha256(bytes);
      blobs.set(hash, bytes);
      policy = { path: run.policyModule.path, sha256: hash };
    }
    const identity = sha256(JSON.stringify(policy === undefined ? [entry.hash, run.seed, entry.files] : [entry.hash, run.seed, entry.files, policy.sha256]));
    return {
      id: `${run.key}@${identity.slice(0, 16)}`,
      data: {
        key: run.key,
        index: run.index,
        seed: run.seed,
        replication: run.replication,
        point: run.point,
        scenarioFile,
        scenario: entry.hash,
        files: entry.files,
        ...(policy === undefined ? {} : { policy }),
      },
    };
  });
  return { runs: prepared, blobs };
}

export async function storeBlobs(redis: Redis, blobs: ReadonlyMap<string, Uint8Array>): Promise<void> {
  const pipeline = redis.pipeline();
  for (const [hash, bytes] of blobs) pipeline.set(BLOB_PREFIX + hash, Buffer.from(bytes), 'NX');
  await pipeline.exec();
}

/** Fetches blobs by hash, each once per process, checking the content against its hash. */
export function blobFetcher(redis: Redis): (hash: string) => Promise<Buffer> {
  const cache = new Map<string, Promise<Buffer>>();
  return (hash) => {
    let pending = cache.get(hash);
    if (pending === undefined) {
      pending = redis.getBuffer(BLOB_PREFIX + hash).then((bytes) => {
        if (bytes === null) throw new Error(`blob ${hash} is not in Redis (was the sweep enqueued against another Redis?)`);
        if (sha256(bytes) !== hash) throw new Error(`blob ${hash}: content does not match its hash`);
        return bytes;
      });
      pending.catch(() => cache.delete(hash));
      cache.set(hash, pending);
    }
    return pending;
  };
}
