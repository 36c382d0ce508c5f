/**
 * Units of the scenario file format: durations (stored as integer nanoseconds) and sizes (stored
 * as integer bytes). Parsing is exact: "1.1ms" is 1_100_000 ns, computed on the decimal digits,
 * never through a binary floating-point product.
 */

/** Nanoseconds per unit of duration. `µs` (micro sign) and `μs` (Greek mu) are spellings of `us`. */
export const DURATION_UNITS: Readonly<Record<string, number>> = Object.freeze({
  ns: 1,
  us: 1_000,
  'µs': 1_000,
  'μs': 1_000,
  ms: 1_000_000,
  s: 1_000_000_000,
});

/** Bytes per unit of size. Only binary units: sizes are powers of 1024. */
export const BYTE_UNITS: Readonly<Record<string, number>> = Object.freeze({
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
});

export const KiB = 1024;
export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;
export const US = 1_000;
export const MS = 1_000_000;
export const SECOND = 1_000_000_000;
export const DAY = 86_400 * SECOND;

/** The text form of a duration (what {@link parseDuration} accepts), as a JSON Schema pattern. */
export const DURATION_PATTERN = '^\\s*(\\d+(\\.\\d+)?|\\.\\d+)\\s*(ns|us|µs|μs|ms|s)?\\s*$';
/** The text form of a size (what {@link parseBytes} accepts), as a JSON Schema pattern. */
export const BYTES_PATTERN = '^\\s*(\\d+(\\.\\d+)?|\\.\\d+)\\s*(B|KiB|MiB|GiB)?\\s*$';

const DURATION_RE = new RegExp(DURATION_PATTERN);
const BYTES_RE = new RegExp(BYTES_PATTERN);
/** Longer texts are refused before any arithmetic (no valid value needs that many digits). */
const MAX_TEXT = 64;

const DURATION_EXPECTED = 'a duration such as 500us, 20ms or 1s';
const BYTES_EXPECTED = 'a size such as 64KiB, 4MiB or 1GiB (units B, KiB, MiB, GiB; a plain integer is bytes)';

/** Why a text or number is not a valid duration or size. */
export type UnitErrorReason = 'format' | 'negative' | 'fraction' | 'too-large';

/** The error {@link parseDuration} and {@link parseBytes} throw; `reason` says what was wrong. */
export class UnitError extends RangeError {
  override readonly name = 'UnitError';
  constructor(
    message: string,
    readonly reason: UnitErrorReason,
  ) {
    super(message);
  }
}

interface QuantityKind {
  readonly pattern: RegExp;
  readonly units: Readonly<Record<string, number>>;
  readonly baseUnit: string;
  readonly noun: string;
  readonly expected: string;
  readonly whole: string;
}

const DURATION: QuantityKind = {
  pattern: DURATION_RE,
  units: DURATION_UNITS,
  baseUnit: 'ns',
  noun: 'duration',
  expected: DURATION_EXPECTED,
  whole: 'nanoseconds',
};

const SIZE: QuantityKind = {
  pattern: BYTES_RE,
  units: BYTE_UNITS,
  baseUnit: 'B',
  noun: 'size',
  expected: BYTES_EXPECTED,
  whole: 'bytes',
};

/**
 * Parses a duration into an integer number of nanoseconds. A number is taken as nanoseconds and
 * must be a non-negative safe integer; a string is a decimal number followed by an optional unit
 * (ns, us, µs, ms, s; none means ns), spaces allowed around the unit: "500ns", "20us", "1.5ms",
 * "2s", "250 us". The result must be a whole number of nanoseconds and a safe integer.
 * @throws UnitError (a RangeError) whose message says what was expected and what was found, e.g.
 *   `expected a duration such as 500us, 20ms or 1s, got 'fast'`.
 */
export function parseDuration(value: string | number): number {
  return parseQuantity(value, DURATION);
}

/**
 * Parses a size into an integer number of bytes: a non-negative safe integer, or a string such as
 * "4096", "64KiB", "4MiB", "1.5GiB" (units B, KiB, MiB, GiB only; decimal units such as KB or MB
 * are refused). The result must be a whole number of bytes and a safe integer.
 * @throws UnitError (a RangeError) whose message says what was expected and what was found.
 */
export function parseBytes(value: string | number): number {
  return parseQuantity(value, SIZE);
}

function parseQuantity(value: unknown, kind: QuantityKind): number {
  const got = describeValue(value);
  const fail = (reason: UnitErrorReason): UnitError => {
    switch (reason) {
      case 'format':
        return new UnitError(`expected ${kind.expected}, got ${got}`, reason);
      case 'negative':
        return new UnitError(`expected a non-negative ${kind.noun}, got ${got}`, reason);
      case 'fraction':
        return new UnitError(`expected a whole number of ${kind.whole}, got ${got}`, reason);
      case 'too-large':
        return new UnitError(`expected a ${kind.noun} of at most 2^53 - 1 ${kind.whole}, got ${got}`, reason);
    }
  };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw fail('format');
    if (value < 0) throw fail('negative');
    if (!Number.isInteger(value)) throw fail('fraction');
    if (!Number.isSafeInteger(value)) throw fail('too-large');
    return value;
  }
  if (typeof value !== 'string' || value.length > MAX_TEXT) throw fail('format');
  const match = kind.pattern.exec(value);
  if (match === null) throw fail(/^\s*-\s*(\d|\.\d)/.test(value) ? 'negative' : 'format');
  const unit = match[3] ?? kind.baseUnit;
  const [whole = '', fraction = ''] = match[1].split('.');
  const scale = 10n ** BigInt(fraction.length);
  const numerator = BigInt(`${whole || '0'}${fraction}`) * BigInt(kind.units[unit]);
  if (numerator % scale !== 0n) throw fail('fraction');
  const result = numerator / scale;
  if (result > BigInt(Number.MAX_SAFE_INTEGER)) throw fail('too-large');
  return Number(result);
}

/**
 * Formats nanoseconds in the largest unit (s, ms, us, ns) that shows the value exactly with at most
 * three decimals: 1_500_000 → "1.5ms", 20_000 → "20us", 750 → "750ns", 2e9 → "2s", 0 → "0s".
 * The result parses back to the same number with {@link parseDuration}.
 */
export function formatDuration(ns: number): string {
  if (!Number.isSafeInteger(ns) || ns < 0) throw new RangeError(`formatDuration: expected a non-negative safe integer, got ${ns}`);
  if (ns === 0) return '0s';
  return formatExact(ns, [
    [SECOND, 's'],
    [MS, 'ms'],
    [US, 'us'],
    [1, 'ns'],
  ]);
}

/**
 * Formats bytes in the largest binary unit (GiB, MiB, KiB, B) that shows the value exactly with at
 * most three decimals: 65536 → "64KiB", 1572864 → "1.5MiB", 1000 → "1000B", 0 → "0B".
 * The result parses back to the same number with {@link parseBytes}.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`formatBytes: expected a non-negative safe integer, got ${bytes}`);
  if (bytes === 0) return '0B';
  return formatExact(bytes, [
    [GiB, 'GiB'],
    [MiB, 'MiB'],
    [KiB, 'KiB'],
    [1, 'B'],
  ]);
}

function formatExact(value: number, units: readonly (readonly [number, string])[]): string {
  for (const [size, name] of units) {
    if (value < size) continue;
    const whole = Math.floor(value / size);
    const rest = value - whole * size;
    // rest * 1000 < size * 1000 stays far below 2^53 for every unit used here.
    if ((rest * 1000) % size !== 0) continue;
    const thousandths = (rest * 1000) / size;
    const decimals = thousandths === 0 ? '' : `.${String(thousandths).padStart(3, '0').replace(/0+$/, '')}`;
    return `${whole}${decimals}${name}`;
  }
  return `${value}${units[units.length - 1][1]}`;
}

/**
 * Describes a value found in a scenario file for an error message, in plain words: strings in
 * single quotes (escaped, shortened past 60 characters), numbers and booleans as written, null as
 * "an empty value", lists and maps by their kind.
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value === '' ? 'an empty string' : quote(value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'undefined':
      return 'nothing';
    case 'object':
      if (value === null) return 'an empty value';
      if (Array.isArray(value)) {
        return value.length === 0 ? 'an empty list' : `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
      }
      if (value instanceof Date) return 'a date';
      if (value instanceof Map) return 'a map';
      if (value instanceof Set) return 'a set';
      if (ArrayBuffer.isView(value)) return 'binary data';
      return 'a map';
    default:
      return `a value of type ${typeof value}`;
  }
}

/** Quotes text for a message: single quotes, control characters and quotes escaped, long text cut. */
export function quote(text: string): string {
  const chars = Array.from(text);
  const shown = chars.length > 60 ? `${chars.slice(0, 57).join('')}...` : text;
  const escaped = JSON.stringify(shown).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'");
  return `'${escaped}'`;
}
