/**
 * `vmmsim sweep SWEEP.yaml --queue URL` (docs/sweeps.md): enqueues the runs not yet done (job id
 * from the run's key, queue.ts), follows them on the queue's events with the progress bar, appends
 * each finished run's result line to OUT/runs-queue.jsonl as it sees it (so nothing finished is
 * lost if Redis goes), and when all are done writes results.csv and summary.csv/json with the local
 * sweep's merge: the same files as a local sweep. `--status` counts the runs by state; `--collect`
 * writes the results from what is done now.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { merge, progressBar, type SweepIo, type SweepOutcome } from '../sweep.js';
import { checkQueueUrl, client, connection, prepareRuns, QUEUE_NAME, storeBlobs, type PreparedRun, type QueueJobData } from './queue.js';
import { readResults, resultFiles, type ResultLine } from './results.js';
import type { Sweep } from './spec.js';

export interface QueueSweepOptions {
  readonly queue: string;
  readonly status?: boolean;
  readonly collect?: boolean;
}

const POLL_MS = 2000;

class RedisLost extends Error {}

export async function queueSweep(sweep: Sweep, out: string, options: QueueSweepOptions, io: SweepIo): Promise<SweepOutcome> {
  const url = checkQueueUrl(options.queue);
  let lostReason: string | undefined;
  let wake: () => void = () => undefined;
  let rejectLost: (error: Error) => void = () => undefined;
  const lost = new Promise<never>((_, reject) => (rejectLost = reject));
  lost.catch(() => undefined);
  const onLost = (reason: string): void => {
    if (lostReason !== undefined) return;
    lostReason = reason;
    rejectLost(new RedisLost(reason));
  };
  const redis = client(url, onLost);
  const queue = new Queue<QueueJobData, ResultLine>(QUEUE_NAME, { connection: connection(url, onLost) });
  queue.on('error', () => undefined);
  const resultsFile = join(out, 'runs-queue.jsonl');
  const { runs, blobs } = prepareRuns(sweep.runs, sweep.scenarioFile);
  let events: QueueEvents | undefined;
  const check = <T>(promise: Promise<T>): Promise<T> => Promise.race([promise, lost]);
  try {
    const finishedHere = new Set<string>();
    for (const file of resultFiles(out)) for (const line of readResults(file, file === resultsFile)) if (line.error === undefined) finishedHere.add(line.key);
    const states = await check(statesOf(queue, runs));
    if (options.status === true) {
      const count = (wanted: readonly string[]): number => states.filter((state) => wanted.includes(state)).length;
      io.stdout.write(
        `${sweep.name}: ${runs.length} runs on ${url}: ${count(['waiting', 'delayed', 'prioritized', 'waiting-children'])} waiting, ${count(['active'])} active, ${count(['completed'])} done, ${count(['failed'])} failed, ${count(['unknown'])} not enqueued\n`,
      );
      return { total: runs.length, ranNow: 0, skipped: 0, failed: count(['failed']), missing: runs.length - count(['completed']) };
    }
    if (options.collect === true) {
      await check(gather(queue, runs, states, finishedHere, resultsFile));
      return merge(sweep, out, io);
    }
    // Listen before enqueuing, so that no run's end goes unseen.
    events = new QueueEvents(QUEUE_NAME, { connection: connection(url, onLost) });
    events.on('error', () => undefined);
    const pending = new Set<number>();
    let enqueued = 0;
    let retried = 0;
    await check(storeBlobs(redis, blobs));
    const toAdd: PreparedRun[] = [];
    for (const [index, run] of runs.entries()) {
      if (finishedHere.has(run.data.key)) continue;
      pending.add(index);
      if (states[index] === 'unknown') toAdd.push(run);
      else if (states[index] === 'failed') {
        // As in a local sweep, a failed run runs again on the next start.
        const job = await check(queue.getJob(run.id));
        if (job !== undefined) await check(job.retry('failed'));
        retried++;
      }
    }
    for (let start = 0; start < toAdd.length; start += 1000) {
      await check(queue.addBulk(toAdd.slice(start, start + 1000).map((run) => ({ name: 'run', data: run.data, opts: { jobId: run.id, attempts: 1 } }))));
    }
    enqueued = toAdd.length;
    const total = pending.size;
    io.stdout.write(`${sweep.name}: ${runs.length} runs; ${runs.length - total} already done, ${enqueued} enqueued${retried > 0 ? `, ${retried} failed ones again` : ''}, ${total - enqueued - retried} already in the queue, on ${url}\n`);
    const bar = progressBar(io, 'queue');
    let failed = 0;
    const byId = new Map(runs.map((run, index) => [run.id, index]));
    const flagged = new Set<number>();
    const onEvent = ({ jobId }: { jobId: string }): void => {
      const index = byId.get(jobId);
      if (index !== undefined && pending.has(index)) {
        flagged.add(index);
        wake();
      }
    };
    events.on('completed', onEvent);
    events.on('failed', onEvent);
    let lastPoll = 0;
    bar({ done: 0, total, failed: 0 });
    while (pending.size > 0) {
      const poll = Date.now() - lastPoll >= POLL_MS;
      const candidates = poll ? [...pending] : [...flagged].filter((index) => pending.has(index));
      flagged.clear();
      if (poll) lastPoll = Date.now();
      const now = await check(Promise.all(candidates.map((index) => queue.getJobState(runs[index].id))));
      for (const [position, index] of candidates.entries()) {
        if (now[position] !== 'completed' && now[position] !== 'failed') continue;
        const line = await check(resultOf(queue, runs[index]));
        if (line === undefined) continue;
        appendFileSync(resultsFile, JSON.stringify(line) + '\n');
        pending.delete(index);
        if (line.error !== undefined) failed++;
      }
      bar({ done: total - pending.size, total, failed });
      if (pending.size === 0) break;
      await check(
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, POLL_MS);
          wake = () => {
            clearTimeout(timer);
            wake = () => undefined;
            resolve();
          };
        }),
      );
    }
    if (io.tty) io.stderr.write('\n');
    if (failed > 0) io.stderr.write(`vmmsim: ${failed} runs failed (their lines in ${resultsFile} carry the error); they run again on the next start\n`);
    const merged = merge(sweep, out, io);
    return { ...merged, ranNow: total, skipped: runs.length - total, failed };
  } catch (error) {
    if (!(error instanceof RedisLost)) throw error;
    if (io.tty) io.stderr.write('\n');
    io.stderr.write(`vmmsim: lost Redis at ${url}: ${error.message}; the runs finished so far are in ${resultsFile}; run the sweep again when Redis is back\n`);
    const merged = merge(sweep, out, io);
    return { ...merged, failed: 0, missing: Math.max(1, merged.missing) };
  } finally {
    const closing = Promise.all([events?.close(), queue.close()]).catch(() => undefined);
    if (lostReason === undefined) await closing;
    redis.disconnect();
  }
}

async function statesOf(queue: Queue<QueueJobData, ResultLine>, runs: readonly PreparedRun[]): Promise<string[]> {
  const states: string[] = [];
  for (let start = 0; start < runs.length; start += 500) states.push(...(await Promise.all(runs.slice(start, start + 500).map((run) => queue.getJobState(run.id)))));
  return states;
}

/** The result line of a finished job: its return value, or its failure as an error line. */
async function resultOf(queue: Queue<QueueJobData, ResultLine>, run: PreparedRun): Promise<ResultLine | undefined> {
  const job = await queue.getJob(run.id);
  if (job === undefined) return undefined;
  if (job.finishedOn === undefined) return undefined;
  const data = run.data;
  if (job.failedReason !== undefined && job.failedReason !== '' && (job.returnvalue === null || job.returnvalue === undefined)) {
    return { key: data.key, index: data.index, seed: data.seed, point: data.point, replication: data.replication, worker: 0, error: job.failedReason };
  }
  return job.returnvalue;
}

/** `--collect`: appends the finished runs not yet in the results file. */
async function gather(queue: Queue<QueueJobData, ResultLine>, runs: readonly PreparedRun[], states: readonly string[], finishedHere: ReadonlySet<string>, resultsFile: string): Promise<void> {
  for (const [index, run] of runs.entries()) {
    if (finishedHere.has(run.data.key) || (states[index] !== 'completed' && states[index] !== 'failed')) continue;
    const line = await resultOf(queue, run);
    if (line !== undefined) appendFileSync(resultsFile, JSON.stringify(line) + '\n');
  }
}
