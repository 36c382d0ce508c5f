/**
 * `vmmsim worker --queue redis://HOST:PORT[/DB]`: takes sweep runs from the queue (docs/sweeps.md),
 * `--concurrency N` at a time (default one per core), each on a worker thread, and stores each
 * result in Redis. Runs until SIGINT/SIGTERM (it finishes its runs first) or until Redis is gone
 * for longer than VMMSIM_QUEUE_GRACE_MS (exit code 1; its unfinished runs go to other workers).
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { InputError } from './errors.js';
import { blobFetcher, checkQueueUrl, client, connection, lockMs, QUEUE_NAME, type QueueJobData } from './sweep/queue.js';
import type { ThreadRequest } from './sweep/queueThread.js';
import type { ResultLine } from './sweep/results.js';

export interface WorkerOptions {
  readonly queue?: string;
  readonly concurrency?: string;
}

export interface WorkerIo {
  readonly stdout: { write(text: string): void };
  readonly stderr: { write(text: string): void };
}

function threadPath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return here.replace(/worker\.js$/, 'sweep/queueThread.js');
  return here.replace(/([\\/])src([\\/])cli([\\/])worker\.ts$/, '$1dist$2cli$3sweep$3queueThread.js');
}

/** Threads that each run one request at a time. */
class ThreadPool {
  private readonly idle: Thread[] = [];
  private readonly waiting: ((thread: Thread) => void)[] = [];
  private readonly all = new Set<Thread>();

  constructor(size: number) {
    for (let index = 0; index < size; index++) this.idle.push(this.spawn());
  }

  private spawn(): Thread {
    const thread = new Thread(threadPath());
    thread.unref();
    this.all.add(thread);
    return thread;
  }

  async run(request: ThreadRequest): Promise<ResultLine> {
    const thread = this.idle.pop() ?? (await new Promise<Thread>((resolve) => this.waiting.push(resolve)));
    try {
      return await new Promise<ResultLine>((resolve, reject) => {
        const onError = (error: Error): void => reject(error);
        const onExit = (code: number): void => reject(new Error(`the run's thread exited (code ${code})`));
        thread.once('error', onError);
        thread.once('exit', onExit);
        thread.once('message', (line: ResultLine) => {
          thread.off('error', onError);
          thread.off('exit', onExit);
          resolve(line);
        });
        thread.postMessage(request);
      });
    } catch (error) {
      this.all.delete(thread);
      void thread.terminate();
      this.release(this.spawn());
      throw error;
    }
    finally {
      if (this.all.has(thread)) this.release(thread);
    }
  }

  private release(thread: Thread): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(thread);
    else this.idle.push(thread);
  }

  async close(): Promise<void> {
    await Promise.all([...this.all].map((thread) => thread.terminate()));
  }
}

function parseConcurrency(value: string | undefined): number {
  if (value === undefined) return availableParallelism();
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1024) throw new InputError(`--concurrency: expected an integer from 1 to 1024, got '${value}'`);
  return Number(value);
}

/** Runs the worker until a signal (exit code 0) or a lost Redis (1). */
export async function workerCommand(options: WorkerOptions, io: WorkerIo): Promise<number> {
  if (options.queue === undefined) throw new InputError('worker: --queue redis://HOST:PORT[/DB] is required');
  const url = checkQueueUrl(options.queue);
  const concurrency = parseConcurrency(options.concurrency);
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let lost = false;
  const onLost = (reason: string): void => {
    if (lost) return;
    lost = true;
    io.stderr.write(`vmmsim worker: lost Redis at ${url}: ${reason}; stopping (unfinished runs go to other workers)\n`);
    finish(1);
  };
  const redis = client(url, onLost);
  const fetchBlob = blobFetcher(redis);
  const pool = new ThreadPool(concurrency);
  let ran = 0;
  let failed = 0;
  const processor = async (job: Job<QueueJobData, ResultLine>): Promise<ResultLine> => {
    const data = job.data;
    let scenario: Buffer;
    const files: Record<string, string> = {};
    let policy: Buffer | undefined;
    try {
      scenario = await fetchBlob(data.scenario);
      for (const [path, hash] of Object.entries(data.files)) files[path] = (await fetchBlob(hash)).toString('utf8');
      if (data.policy !== undefined) policy = await fetchBlob(data.policy.sha256);
    } catch (error) {
      // A missing or damaged blob fails the same way on every worker: once, counted, no retry.
      if (lost) throw error;
      ran++;
      failed++;
      throw new UnrecoverableError(`${data.key}: ${(error as Error).message}`);
    }
    const line = await pool.run({ data, scenario, files, ...(policy === undefined ? {} : { policy }) });
    ran++;
    if (line.error !== undefined) {
      failed++;
      // The run's error is deterministic: fail the job once, with the error, and no retry.
      throw new UnrecoverableError(line.error);
    }
    return line;
  };
  const lock = lockMs();
  const worker = new Worker<QueueJobData, ResultLine>(QUEUE_NAME, processor, {
    connection: connection(url, onLost),
    concurrency,
    lockDuration: lock,
    stalledInterval: lock,
    // A run whose worker died twice is failed (with BullMQ's "stalled more than allowable limit").
    maxStalledCount: 2,
    autorun: true,
  });
  worker.on('error', () => undefined);
  const stop = (): void => finish(0);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  io.stdout.write(`vmmsim worker: ${concurrency} runs at a time from ${url} (queue ${QUEUE_NAME})\n`);
  const code = await finished;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  if (code === 0) {
    await worker.close();
    redis.disconnect();
  } else {
    void worker.close(true).catch(() => undefined);
    redis.disconnect();
  }
  await pool.close();
  io.stdout.write(`vmmsim worker: ${ran} runs done${failed > 0 ? `, ${failed} failed` : ''}\n`);
  return code;
}
