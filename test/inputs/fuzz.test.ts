/**
 * Input fuzzing (issue 12): random mutations of the bundled examples, the bundled guests' assembly
 * and a real log, fed to the library and the CLI. Every case must keep the contract of
 * docs/cli.md: accepted, or refused with a typed error that names a location, in a short message
 * without a stack trace, in well under a second.
 *
 * Seeded and bounded: FUZZ_INPUTS_CASES cases in all (default 40, about 1 s here);
 * `npm run fuzz:inputs` runs 10,000. A failure prints fast-check's seed and path.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { loadScenario, ScenarioError } from '../../src/core/scenario/load.js';
import { assemble, AssemblyError } from '../../src/core/isa/assembler.js';
import { LogError, readLog } from '../../src/core/log/reader.js';
import { BUNDLED_GUESTS, BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { inputsScenario, rehash } from './logTools.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CASES = Number(process.env.FUZZ_INPUTS_CASES ?? 40);
const SEED = Number(process.env.FUZZ_INPUTS_SEED ?? 12);
/**
 * In the campaign (`npm run fuzz:inputs`), a refusal must come this fast: a hang detector, since
 * the contract says a second. In `npm test` the slowest refusal is printed, not asserted: a timed
 * check fails on a slow CI machine, not on a bug.
 */
const CAMPAIGN = process.env.FUZZ_INPUTS_CASES !== undefined;
const REFUSAL_MS_MAX = 1000;
/**
 * The campaign bounds a refusal's CPU time (this process's user + system time), not its wall time:
 * on a loaded machine (the first 10,000-case campaigns ran beside other work) a 0.5 s refusal took
 * over a second of wall time, a failure of the machine, not of the parser. Both are printed.
 */
let slowest = 0;
let slowestCpu = 0;
afterAll(() => console.log(`input fuzzing: ${CASES} cases per kind, seed ${SEED}, slowest refusal ${Math.round(slowest)} ms wall, ${Math.round(slowestCpu)} ms CPU`));
/** A test's time limit: vitest's default in npm test, none for the campaign's thousands of cases. */
const LIMIT = CAMPAIGN ? 3_600_000 : undefined;
const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};
const MESSAGE_CHARS_MAX = 2000;

const dir = mkdtempSync(join(tmpdir(), 'vmmsim-fuzz-inputs-'));
const EXAMPLES = readdirSync(join(ROOT, 'examples'))
  .filter((name) => name.endsWith('.yaml'))
  .map((name) => readFileSync(join(ROOT, 'examples', name), 'utf8'));
const PROGRAMS = [...BUNDLED_GUESTS.values()].map((guest) => guest.source);

// A real log, short enough to read hundreds of times: inputs, checkpoints, a closing line.
const LOG_PATH = join(dir, 'real.jsonl');
const scenarioPath = inputsScenario(dir, ROOT);
writeFileSync(scenarioPath, readFileSync(scenarioPath, 'utf8').replace('time: 15ms', 'time: 4ms'));
expect(cli(['run', scenarioPath, '--quiet', '--log', LOG_PATH]).code).toBe(0);
const LOG = readFileSync(LOG_PATH, 'utf8');
// A log of format 1 (FNV-1a checksums, written by vmmsim 0.5.1): still read, so fuzzed too.
const LOG_V1 = readFileSync(join(ROOT, 'test', 'fixtures', 'log-v1-inputs.jsonl'), 'utf8');

function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(args, { stdout: { write: (text) => (stdout += text) }, stderr: { write: (text) => (stderr += text) }, color: false });
  return { code, stdout, stderr };
}

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'cut'; at: number }
  | { kind: 'delete-line'; at: number }
  | { kind: 'duplicate-line'; at: number }
  | { kind: 'swap-lines'; at: number; other: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'huge'; at: number; times: number }
  | { kind: 'deep'; at: number; depth: number; open: string };

const position = fc.nat({ max: 1_000_000 });
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: position }),
  fc.record({ kind: fc.constant('delete-line' as const), at: position }),
  fc.record({ kind: fc.constant('duplicate-line' as const), at: position }),
  fc.record({ kind: fc.constant('swap-lines' as const), at: position, other: position }),
  fc.record({ kind: fc.constant('insert' as const), at: position, text: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('*', '&a ', '<<: ', '!!set ', '__proto__: 1', '\ufeff', '"', '{', '[', '9'.repeat(40), ': ', '- ', '\t')) }),
  fc.record({ kind: fc.constant('huge' as const), at: position, times: fc.integer({ min: 1000, max: 50_000 }) }),
  fc.record({ kind: fc.constant('deep' as const), at: position, depth: fc.integer({ min: 50, max: 100_000 }), open: fc.constantFrom('[', '{', '(', '- ') }),
);

function mutate(text: string, mutation: Mutation): string {
  const lines = text.split('\n');
  const line = mutation.at % Math.max(1, lines.length);
  const at = mutation.at % Math.max(1, text.length);
  switch (mutation.kind) {
    case 'flip': {
      const bytes = Buffer.from(text, 'utf8');
      const index = mutation.at % Math.max(1, bytes.length);
      bytes[index] ^= 1 << mutation.bit;
      return bytes.toString('utf8');
    }
    case 'cut':
      return text.slice(0, at);
    case 'delete-line':
      lines.splice(line, 1);
      return lines.join('\n');
    case 'duplicate-line':
      lines.splice(line, 0, lines[line]);
      return lines.join('\n');
    case 'swap-lines': {
      const other = mutation.other % lines.length;
      [lines[line], lines[other]] = [lines[other], lines[line]];
      return lines.join('\n');
    }
    case 'insert':
      return text.slice(0, at) + mutation.text + text.slice(at);
    case 'huge': {
      // Built by concatenation: a spread of 100,000 arguments overflows the stack. At most about
      // 64 MB in all: a long line (after a 'deep' mutation) copied 40,000 times passed V8's
      // string limit, and the campaign failed in its own harness.
      const times = Math.min(mutation.times, Math.max(1, Math.floor((64 << 20) / (lines[line].length + 1))));
      const copies = Array<string>(times).fill(lines[line]);
      return lines.slice(0, line).concat(copies, lines.slice(line)).join('\n');
    }
    case 'deep':
      return text.slice(0, at) + mutation.open.repeat(mutation.depth) + text.slice(at);
  }
}

const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 3 });
const apply = (text: string, mutations: readonly Mutation[]) => mutations.reduce(mutate, text);

/** Runs `work`, expects success or an error of `type` with a location; checks the time. */
function contract(work: () => unknown, type: new (...args: never[]) => Error, location: (error: Error) => boolean): void {
  const started = performance.now();
  const cpu = process.cpuUsage();
  try {
    work();
  } catch (error) {
    const ms = performance.now() - started;
    const used = cpuMs(cpu);
    if (!(error instanceof type)) throw new Error(`expected a ${type.name}, got ${(error as Error).name}: ${String((error as Error).message).slice(0, 200)}`, { cause: error });
    expect(location(error), error.message.slice(0, 200)).toBe(true);
    slowest = Math.max(slowest, ms);
    slowestCpu = Math.max(slowestCpu, used);
    if (CAMPAIGN) expect(used, error.message.slice(0, 200)).toBeLessThan(REFUSAL_MS_MAX);
  }
}

const share = (weight: number) => Math.max(1, Math.round(CASES * weight));

describe('input fuzzing: the library', () => {
  it('mutated examples load or raise a ScenarioError with file:line:col', () => {
    fc.assert(
      fc.property(fc.nat({ max: EXAMPLES.length - 1 }), mutationsArb, (which, mutations) => {
        const text = apply(EXAMPLES[which], mutations);
        contract(
          () => loadScenario(text, { file: 'fuzz.yaml', guests: BUNDLED_GUEST_NAMES }),
          ScenarioError,
          (error) => (error as ScenarioError).diagnostics.length > 0 && (error as ScenarioError).diagnostics.every((d) => d.line >= 1 && d.column >= 1),
        );
      }),
      { seed: SEED, numRuns: share(0.3) },
    );
  }, LIMIT);

  it('mutated guest programs assemble or raise an AssemblyError with file:line:col', () => {
    fc.assert(
      fc.property(fc.nat({ max: PROGRAMS.length - 1 }), mutationsArb, (which, mutations) => {
        const text = apply(PROGRAMS[which], mutations);
        contract(
          () => assemble(text, { file: 'fuzz.s' }),
          AssemblyError,
          (error) => (error as AssemblyError).diagnostics.length > 0 && (error as AssemblyError).diagnostics.every((d) => d.line >= 1 && d.column >= 1),
        );
      }),
      { seed: SEED + 1, numRuns: share(0.3) },
    );
  }, LIMIT);

  it('mutated logs, raw or re-hashed, read or raise a LogError with file:line', () => {
    fc.assert(
      fc.property(mutationsArb, fc.boolean(), fc.boolean(), (mutations, rehashed, formatOne) => {
        const damaged = apply(formatOne ? LOG_V1 : LOG, mutations);
        const text = rehashed ? rehash(damaged) : damaged;
        contract(
          () => readLog(text, 'fuzz.jsonl'),
          LogError,
          (error) => (error as LogError).line >= 1 && error.message.startsWith('fuzz.jsonl:'),
        );
      }),
      { seed: SEED + 2, numRuns: share(0.25) },
    );
  }, LIMIT);
});

describe('input fuzzing: the command line', () => {
  /** Exit 0, or exit 2 with `file:line` and a short message, never a stack or an internal error. */
  function cliContract(args: string[], file: string): void {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const { code, stderr } = cli(args);
    const ms = performance.now() - started;
    const used = cpuMs(cpu);
    expect(stderr, stderr.slice(0, 300)).not.toMatch(/internal error|\n\s+at /);
    expect(stderr.length, stderr.slice(0, 300)).toBeLessThan(MESSAGE_CHARS_MAX);
    if (code !== 0) {
      expect(code, stderr.slice(0, 300)).toBe(2);
      expect(stderr, stderr.slice(0, 300)).toContain(`${file}:`);
      slowest = Math.max(slowest, ms);
      slowestCpu = Math.max(slowestCpu, used);
      if (CAMPAIGN) expect(used, stderr.slice(0, 300)).toBeLessThan(REFUSAL_MS_MAX);
    }
  }

  it('validate and inspect on mutated files: exit 0, or 2 with the location', () => {
    let index = 0;
    fc.assert(
      fc.property(fc.nat({ max: EXAMPLES.length - 1 }), mutationsArb, mutationsArb, fc.boolean(), fc.boolean(), (which, scenarioMutations, logMutations, rehashed, formatOne) => {
        index++;
        const scenario = join(dir, `case-${index}.yaml`);
        writeFileSync(scenario, apply(EXAMPLES[which], scenarioMutations));
        cliContract(['validate', scenario], scenario);
        const log = join(dir, `case-${index}.jsonl`);
        const damaged = apply(formatOne ? LOG_V1 : LOG, logMutations);
        writeFileSync(log, rehashed ? rehash(damaged) : damaged);
        cliContract(['inspect', log, '--stats'], log);
        cliContract(['inspect', log, '--at', '40', '--no-registers'], log);
      }),
      { seed: SEED + 3, numRuns: share(0.15) },
    );
  }, LIMIT);
});
