/**
 * `vmmsim replay LOG`: re-executes the run a log records and compares event by event.
 * Exit 0 identical, 1 different (the first divergent seq, the two events side by side, and the
 * events just before), 2 for a log that cannot be read (the line and why).
 */
import { performance } from 'node:perf_hooks';
import { LogError } from '../core/log/reader.js';
import { LogFile } from '../replay/logFile.js';
import { replay, type Divergence } from '../replay/replay.js';
import { fileSource } from '../replay/source.js';
import { PolicyModuleError } from '../replay/policyModule.js';
import { ScenarioError } from '../core/scenario/load.js';
import { EXIT_FAILURE, EXIT_OK, InputError, foldError } from './errors.js';
import { formatCount, formatNs, paint, type Style } from './format.js';
import type { Output } from './run.js';
import { dirname, resolve } from 'node:path';
import { readBytes, readText } from './scenarioFile.js';
import { moduleCopyOf } from './policyFile.js';

export function openLog(path: string): LogFile {
  let source;
  try {
    source = fileSource(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`${path}: cannot read the log: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  try {
    return new LogFile(source);
  } catch (error) {
    source.close();
    if (error instanceof LogError) throw new InputError(error.message);
    throw error;
  }
}

export interface ReplayCommandOptions {
  /** A moved copy of the policy module the log's run used (checked against the header's sha256). */
  readonly policy?: string;
}

export function replayCommand(path: string, out: Output, err: Output, style: Style, options: ReplayCommandOptions = {}): number {
  moduleCopyOf(options.policy, "a registry policy is in the log's scenario already");
  const file = openLog(path);
  try {
    const started = performance.now();
    let result;
    try {
      // Damage is named at its line before anything is re-executed (a damaged line is not a divergence).
      file.verify();
      result = replay(file, {
        readProgram: (program) => readText(resolve(dirname(path), program), 'the guest program'),
        readImage: (image) => readBytes(resolve(dirname(path), image), 'the VM image'),
        policy: options.policy,
      });
    } catch (error) {
      if (error instanceof LogError || error instanceof PolicyModuleError) throw new InputError(error.message);
      if (error instanceof ScenarioError) throw new InputError(`${path}: the header's scenario does not load: ${error.message}`);
      throw foldError(path, error);
    }
    const seconds = (performance.now() - started) / 1000;
    if (result.engineNote !== undefined) err.write(paint(style, 33, `note: ${result.engineNote}`) + '\n');
    for (const warning of result.warnings) err.write(paint(style, 33, `warning: ${warning}`) + '\n');
    if (result.identical) {
      const rate = seconds > 0 ? Math.round(result.events / seconds) : result.events;
      out.write(
        `${paint(style, 32, 'identical')}: ${formatCount(result.events)} events, ${formatNs(result.timeNs)} of virtual time, ` +
          `replayed at ${formatCount(rate)} events/s${result.truncated ? ' (up to where the log ends)' : ''}\n`,
      );
      return EXIT_OK;
    }
    out.write(describeDivergence(result.divergence as Divergence, path, style));
    return EXIT_FAILURE;
  } finally {
    file.close();
  }
}

/** The first divergence: context, then the two events side by side, field by field. */
export function describeDivergence(divergence: Divergence, path: string, style: Style): string {
  const lines: string[] = [];
  lines.push(paint(style, 31, `different: first divergence at seq ${divergence.seq} (${path}:${divergence.line})`));
  if (divergence.before.length > 0) {
    lines.push('events just before (identical in both):');
    for (const event of divergence.before) lines.push(`  ${event}`);
  }
  const expected = divergence.expected === undefined ? undefined : flatten(JSON.parse(divergence.expected));
  const actual = divergence.actual === undefined ? undefined : flatten(JSON.parse(divergence.actual));
  if (expected === undefined) lines.push('the log ends here, but the replay goes on:');
  if (actual === undefined) lines.push('the replay ends here, but the log goes on:');
  const keys = [...new Set([...Object.keys(expected ?? {}), ...Object.keys(actual ?? {})])];
  let rows = keys.map((key) => [key, expected?.[key] ?? '', actual?.[key] ?? '']);
  if (rows.length > 40) {
    // A checkpoint carries every actor's state: show the fields that differ.
    const differing = rows.filter((row) => row[1] !== row[2]);
    lines.push(`(${rows.length} fields; the ${differing.length} that differ:)`);
    rows = differing.slice(0, 40);
  }
  const widths = [5, 8, 6].map((minimum, column) => Math.max(minimum, ...rows.map((row) => row[column].length)));
  const row = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
  lines.push(paint(style, 1, row(['field', 'expected (log)', 'actual (replay)'])));
  for (const cells of rows) {
    const text = row(cells);
    lines.push(cells[1] === cells[2] ? text : paint(style, 31, text + '   <-'));
  }
  return lines.join('\n') + '\n';
}

function flatten(value: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix === '' ? key : `${prefix}.${key}`, out);
  } else {
    out[prefix] = JSON.stringify(value);
  }
  return out;
}
