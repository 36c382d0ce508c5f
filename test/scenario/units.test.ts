import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnitError, describeValue, formatBytes, formatDuration, parseBytes, parseDuration } from '../../src/core/scenario/units.js';

describe('parseDuration', () => {
  it.each([
    [0, 0],
    [1, 1],
    [750, 750],
    ['500ns', 500],
    ['20us', 20_000],
    ['20µs', 20_000],
    ['20μs', 20_000],
    ['1.5ms', 1_500_000],
    ['1.1ms', 1_100_000],
    ['0.001ms', 1_000],
    ['.5us', 500],
    ['2s', 2_000_000_000],
    ['250 us', 250_000],
    [' 3ms ', 3_000_000],
    ['4096', 4096],
    ['0s', 0],
    ['2592000s', 2_592_000_000_000_000],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    ['9007199254740991ns', Number.MAX_SAFE_INTEGER],
  ] as const)('%j → %d ns', (input, ns) => {
    expect(parseDuration(input)).toBe(ns);
  });

  it.each([
    ['fast', "expected a duration such as 500us, 20ms or 1s, got 'fast'", 'format'],
    ['', 'expected a duration such as 500us, 20ms or 1s, got an empty string', 'format'],
    ['5 m', "expected a duration such as 500us, 20ms or 1s, got '5 m'", 'format'],
    ['1e3', "expected a duration such as 500us, 20ms or 1s, got '1e3'", 'format'],
    ['1.5', "expected a whole number of nanoseconds, got '1.5'", 'fraction'],
    ['0.5ns', "expected a whole number of nanoseconds, got '0.5ns'", 'fraction'],
    ['1.0000001ms', "expected a whole number of nanoseconds, got '1.0000001ms'", 'fraction'],
    [1.5, 'expected a whole number of nanoseconds, got 1.5', 'fraction'],
    [-5, 'expected a non-negative duration, got -5', 'negative'],
    ['-5ms', "expected a non-negative duration, got '-5ms'", 'negative'],
    [Number.NaN, 'expected a duration such as 500us, 20ms or 1s, got NaN', 'format'],
    [Number.POSITIVE_INFINITY, 'expected a duration such as 500us, 20ms or 1s, got Infinity', 'format'],
    [2 ** 53, 'expected a duration of at most 2^53 - 1 nanoseconds, got 9007199254740992', 'too-large'],
    ['9007199254740992ns', "expected a duration of at most 2^53 - 1 nanoseconds, got '9007199254740992ns'", 'too-large'],
    ['10000000s', "expected a duration of at most 2^53 - 1 nanoseconds, got '10000000s'", 'too-large'],
  ] as const)('%j is refused', (input, message, reason) => {
    let error: unknown;
    try {
      parseDuration(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RangeError);
    expect(error).toBeInstanceOf(UnitError);
    expect((error as UnitError).message).toBe(message);
    expect((error as UnitError).reason).toBe(reason);
  });

  it('refuses values that are not strings or numbers with a RangeError', () => {
    for (const value of [null, undefined, true, [], {}]) {
      expect(() => parseDuration(value as unknown as string)).toThrow(RangeError);
    }
    expect(() => parseDuration(null as unknown as string)).toThrow('expected a duration such as 500us, 20ms or 1s, got an empty value');
  });

  it('refuses very long texts without doing arithmetic on them', () => {
    expect(() => parseDuration(`${'1'.repeat(10_000)}s`)).toThrow(/^expected a duration such as/);
  });
});

describe('parseBytes', () => {
  it.each([
    [0, 0],
    [4096, 4096],
    ['4096', 4096],
    ['512B', 512],
    ['64KiB', 65_536],
    ['64 KiB', 65_536],
    ['4MiB', 4 * 1024 * 1024],
    ['1GiB', 1024 ** 3],
    ['1.5MiB', 1_572_864],
    ['0.5KiB', 512],
    ['1024GiB', 1024 ** 4],
  ] as const)('%j → %d bytes', (input, bytes) => {
    expect(parseBytes(input)).toBe(bytes);
  });

  const expected = 'expected a size such as 64KiB, 4MiB or 1GiB (units B, KiB, MiB, GiB; a plain integer is bytes)';
  it.each([
    ['64KB', `${expected}, got '64KB'`],
    ['4MB', `${expected}, got '4MB'`],
    ['1GB', `${expected}, got '1GB'`],
    ['64kib', `${expected}, got '64kib'`],
    ['lots', `${expected}, got 'lots'`],
    ['1TiB', `${expected}, got '1TiB'`],
    ['0.3KiB', "expected a whole number of bytes, got '0.3KiB'"],
    [-1, 'expected a non-negative size, got -1'],
    [10.5, 'expected a whole number of bytes, got 10.5'],
    ['9000000000GiB', "expected a size of at most 2^53 - 1 bytes, got '9000000000GiB'"],
  ] as const)('%j is refused', (input, message) => {
    expect(() => parseBytes(input)).toThrow(RangeError);
    expect(() => parseBytes(input)).toThrow(message);
  });
});

describe('formatDuration', () => {
  it.each([
    [1_500_000, '1.5ms'],
    [20_000, '20us'],
    [750, '750ns'],
    [2_000_000_000, '2s'],
    [0, '0s'],
    [1, '1ns'],
    [1_000, '1us'],
    [1_234_567, '1234.567us'],
    [1_250_000_000, '1.25s'],
    [10_000_100_000, '10000.1ms'],
    [2_592_000_000_000_000, '2592000s'],
  ] as const)('%d → %s', (ns, text) => {
    expect(formatDuration(ns)).toBe(text);
  });

  it('refuses negative, fractional and unsafe numbers', () => {
    expect(() => formatDuration(-1)).toThrow(RangeError);
    expect(() => formatDuration(0.5)).toThrow(RangeError);
    expect(() => formatDuration(2 ** 53)).toThrow(RangeError);
  });

  it('parses back to the same number of nanoseconds', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (ns) => {
        const text = formatDuration(ns);
        expect(parseDuration(text)).toBe(ns);
        expect(text).toMatch(/^\d+(\.\d{1,3})?(s|ms|us|ns)$/);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9_000_000 }), fc.constantFrom(1, 1_000, 1_000_000), (n, unit) => {
        expect(parseDuration(formatDuration(n * unit))).toBe(n * unit);
      }),
    );
  });
});

describe('formatBytes', () => {
  it.each([
    [65_536, '64KiB'],
    [1_572_864, '1.5MiB'],
    [4096, '4KiB'],
    [1000, '1000B'],
    [1536, '1.5KiB'],
    [1024 ** 3, '1GiB'],
    [1024 ** 4, '1024GiB'],
    [0, '0B'],
  ] as const)('%d → %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('parses back to the same number of bytes', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (bytes) => {
        const text = formatBytes(bytes);
        expect(parseBytes(text)).toBe(bytes);
        expect(text).toMatch(/^\d+(\.\d{1,3})?(GiB|MiB|KiB|B)$/);
      }),
    );
  });
});

describe('describeValue', () => {
  it.each([
    ['soon', "'soon'"],
    ["it's", "'it\\'s'"],
    ['a\nb', "'a\\nb'"],
    ['', 'an empty string'],
    [0, '0'],
    [true, 'true'],
    [null, 'an empty value'],
    [[], 'an empty list'],
    [[1], 'a list of 1 item'],
    [[1, 2], 'a list of 2 items'],
    [{ a: 1 }, 'a map'],
  ] as const)('%j → %s', (value, text) => {
    expect(describeValue(value)).toBe(text);
  });

  it('shortens long strings', () => {
    expect(describeValue('x'.repeat(100))).toBe(`'${'x'.repeat(57)}...'`);
  });
});
