/**
 * The results of a sweep: one JSON line per finished run in `runs*.jsonl` files of the output
 * folder (a shard writes `runs-shard-I-of-N.jsonl`). A run whose line is there is finished; a
 * line cut short by an interruption is dropped, and the run is done again.
 */
import { existsSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';

export interface ResultLine {
  readonly key: string;
  readonly index: number;
  readonly seed: number;
  readonly replication: number;
  readonly point: Readonly<Record<string, string | number | boolean>>;
  readonly worker: number;
  readonly metrics?: Readonly<Record<string, number>>;
  readonly error?: string;
}

/** Reads the finished runs of one results file, cutting off a trailing partial line. */
export function readResults(file: string, repair: boolean): ResultLine[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  if (repair && end < text.length) truncateSync(file, end);
  const lines: ResultLine[] = [];
  for (const line of text.slice(0, end).split('\n')) {
    if (line === '') continue;
    try {
      const parsed = JSON.parse(line) as ResultLine;
      if (typeof parsed.key === 'string') lines.push(parsed);
    } catch {
      // A damaged line is not a finished run.
    }
  }
  return lines;
}

export function resultFiles(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((name) => /^runs.*\.jsonl$/.test(name))
    .sort()
    .map((name) => join(folder, name));
}
