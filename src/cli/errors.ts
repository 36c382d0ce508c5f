import { AssemblyError } from '../core/isa/assembler.js';
import { LogError } from '../core/log/reader.js';
import { ScenarioError } from '../core/scenario/load.js';
import { ImageError } from '../core/image/format.js';
import { PolicyContractError } from '../actors/scheduler/policy.js';

/**
 * Errors the CLI reports as bad input (exit code 2), with a message that says where and what.
 */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;

/** At most this many lines of a bad-input message are printed (the rest are counted). */
export const MAX_MESSAGE_LINES = 8;
/** Longest line of a message; longer ones are cut with an ellipsis. */
export const MAX_LINE_CHARS = 200;

/** A value quoted in a message, cut with an ellipsis when long. */
export function cutValue(text: string, length = 60): string {
  return text.length <= length ? text : `${text.slice(0, length)}…`;
}

/** One line of at most MAX_LINE_CHARS characters. */
export function oneLine(text: string): string {
  return cutValue(text.replace(/\s*\n\s*/g, ' | '), MAX_LINE_CHARS);
}

/** A message of a few lines: each cut to MAX_LINE_CHARS, at most MAX_MESSAGE_LINES of them. */
export function fewLines(text: string): string {
  const lines = text.split('\n').map((line) => cutValue(line, MAX_LINE_CHARS));
  // A ScenarioError's last line counts the problems it did not locate (`(N more problems not
  // shown)`), and may have travelled inside another error's message: fold it into our count.
  const omitted = /^\((\d+) more problems? not shown\)$/.exec(lines[lines.length - 1] ?? '');
  if (omitted !== null) lines.pop();
  const notInText = omitted === null ? 0 : Number(omitted[1]);
  if (lines.length <= MAX_MESSAGE_LINES && notInText === 0) return lines.join('\n');
  const shown = Math.min(lines.length, MAX_MESSAGE_LINES - 1);
  return [...lines.slice(0, shown), `… and ${lines.length - shown + notInText} more problems`].join('\n');
}

/** The message to print when `error` is bad input (exit 2), undefined when it is a bug. */
export function badInputOf(error: unknown): string | undefined {
  if (error instanceof InputError || error instanceof ScenarioError || error instanceof AssemblyError || error instanceof LogError || error instanceof ImageError || error instanceof PolicyContractError) {
    return fewLines(error.message);
  }
  return undefined;
}

/**
 * A log whose every line checks (verified first) can still hold events rewritten with their
 * checksums recomputed: an event of a VM that was never defined, a renamed key. Folding such
 * events fails with a TypeError or RangeError from inside; that is bad input, not a bug.
 */
export function foldError(path: string, error: unknown): unknown {
  if (error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError) {
    return new InputError(`${path}: the log's events are inconsistent (rewritten with their checksums recomputed): ${cutValue(error.message, 120)}`);
  }
  return error;
}
