/**
 * Issue 12: every example of bad input it lists, refused with exit 2, a location, one short
 * message and no stack trace, in well under a second.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { CHECK_SUFFIX_LENGTH } from '../../src/core/log/format.js';
import { XxhChain } from '../../src/core/log/chain.js';
import { inputsScenario, rehash } from './logTools.js';
import { LogError, readLog } from '../../src/core/log/reader.js';
import { LogFile } from '../../src/replay/logFile.js';
import { memorySource } from '../../src/replay/source.js';
import { loadScenario, ScenarioError } from '../../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';

function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const started = performance.now();
  const code = main(args, { stdout: { write: (text) => (stdout += text) }, stderr: { write: (text) => (stderr += text) }, color: false });
  return { code, stdout, stderr, ms: performance.now() - started };
}

const dir = mkdtempSync(join(tmpdir(), 'vmmsim-inputs-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const BASE = 'name: t\nvms:\n  - name: a\n    memory: 16KiB\n';
const LOG = join(dir, 'demo.jsonl');
expect(cli(['run', '--quiet', '--log', LOG]).code).toBe(0);
const TEXT = readFileSync(LOG, 'utf8');

/** The contract: exit 2, the location first, no stack, a short message. */
function refused(args: string[], location: RegExp, what: RegExp) {
  const { code, stderr, ms } = cli(args);
  expect(code, stderr).toBe(2);
  expect(stderr).toMatch(location);
  expect(stderr).toMatch(what);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr.length).toBeLessThan(1000);
  return ms;
}

describe('issue 12: crashes become located refusals', () => {
  it('a guest larger than its VM: validate and run refuse it at the VM', () => {
    const path = file('big.yaml', `${BASE}    source: |\n      .space 5000\n`);
    for (const command of ['validate', 'run']) refused([command, path], /big\.yaml:4:13: vms\[0\]\.memory/, /larger than the VM's memory/);
  });
  it('the assembler at its image limit', () => {
    refused(['asm', file('lim.s', '.string "hi"\n.space 4194304\n')], /lim\.s:2:1:/, /exceed 4194304 words/);
  });
  it('a directory as the log', () => {
    refused(['inspect', dir], /not a log file: a directory/, /./);
  });
});

describe('issue 12: slow inputs refused before the work', () => {
  it('a million-factor expression, a 5,000,000-digit operand, 400,000 VMs, 300,000-deep nesting', () => {
    const times = [
      refused(['asm', file('expr.s', `movi r1, ${Array(1_000_000).fill('1').join('*')}\n`)], /expr\.s:1:4097:/, /line too long/),
      refused(['asm', file('digits.s', `movi r1, ${'9'.repeat(5_000_000)}\n`)], /digits\.s:1:1:/, /source is too large/),
      refused(['asm', file('digits2.s', `movi r1, ${'9'.repeat(100)}\n`)], /digits2\.s:1:10:/, /number too long/),
      refused(['validate', file('many.yaml', 'name: t\nvms:\n' + '  - { name: v, guest: compute }\n'.repeat(400_000))], /many\.yaml:1:1:/, /too large/),
      refused(['validate', file('many2.yaml', 'name: t\nvms:\n' + '  - {name: v}\n'.repeat(4100))], /many2\.yaml:3:3: vms:/, /1 to 4096 VMs, got a list of 4100/),
      // 360 KB of short lines, under the size limit: 1.4 s in the YAML parser before this limit.
      refused(['validate', file('lines.yaml', 'name: t\n' + 'seed: 11\n'.repeat(40_000))], /lines\.yaml:16001:5:/, /too many entries: more than 32000 lines, keys and list items/),
      refused(['validate', file('deep.yaml', `name: t\nvms: ${'['.repeat(300_000)}${']'.repeat(300_000)}\n`)], /deep\.yaml:2:70:/, /nested too deep/),
      // Found by the input campaign (seed 29): a block list 59,087 deep on one line, no colon or
      // comma for the item count to see, took 1.7 s of CPU in the YAML parser.
      refused(['validate', file('dashes.yaml', `name: t\nvms:\n${'- '.repeat(59_087)}x\n`)], /dashes\.yaml:3:129:/, /nested too deep: more than 64 levels of block list items/),
      // The same behind an alias indicator (seed 29 again): 64,782 misplaced '- ', one YAML error each.
      refused(['validate', file('dashes2.yaml', `*${'- '.repeat(64_782)}\n`)], /dashes2\.yaml:1:64002:/, /too many entries/),
      refused(['validate', file('anchors.yaml', `name: t\nx: ${'&a '.repeat(40_000)}\n`)], /anchors\.yaml:2:\d+:/, /too many entries/),
    ];
    // Measured on a loaded 2-core machine: each about 1 to 300 ms (before: 1.6 s to 72 s). Times are
    // reported, not asserted (a timed test fails on a slow machine, not on a bug); the limits above
    // are checked by their messages, which only the checks made before the work print.
    console.log(`refusal times (ms): ${times.map((ms) => Math.round(ms)).join(", ")}`);
  });
});

describe('issue 12: floods of problems', () => {
  it('5,000 duplicate keys: the first 20 located, the rest counted in one line', () => {
    const path = file('dups.yaml', 'name: t\n' + 'name: u\n'.repeat(5000) + 'vms: []\n');
    refused(['validate', path], /dups\.yaml:2:1: duplicate key 'name'/, /… and 4993 more problems/);
  });
  it('4,000 invalid VMs: the first 20 located, the rest counted', () => {
    const path = file('badvms.yaml', 'name: t\nvms:\n' + '  - { name: v, memory: -1 }\n'.repeat(4000));
    const { code, stderr } = cli(['validate', path]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/badvms\.yaml:3:/);
    // Several distinct problems per VM (memory, the missing guest, ...), each counted once.
    expect(Number(/… and (\d+) more problems/.exec(stderr)?.[1])).toBeGreaterThan(8000);
    expect(stderr.split('\n').length).toBeLessThan(30);
  });
});

describe('issue 12: silently accepted, now refused at the right place', () => {
  it.each([
    ['proto.yaml', `${BASE}    guest: compute\n    params: { __proto__: 1 }\n`, /proto\.yaml:6:15:/, /'__proto__' is not allowed/],
    ['set.yaml', 'name: t\nscheduler: !!set { weight, cap }\nvms:\n  - name: a\n    guest: compute\n', /set\.yaml:2:18:/, /unsupported tag '!!set'/],
    ['tag.yaml', 'name: !foo bar\nvms:\n  - name: a\n    guest: compute\n', /tag\.yaml:1:7:/, /Unresolved tag: !foo/],
    ['r1.yaml', `${BASE}    guest: compute\n    params: { R1: 5 }\n`, /r1\.yaml:6:15: vms\[0\]\.params\.R1/, /not a register name/],
    ['merge.yaml', 'name: t\nvms:\n  - name: a\n    guest: compute\n    <<: 5\n', /merge\.yaml:5:9:/, /merge key '<<' takes a map/],
    ['miss.yaml', `${BASE}    program: nowhere.s\n`, /miss\.yaml:5:14: vms\[0\]\.program/, /no such file/],
  ])('%s', (name, text, location, what) => {
    refused(['validate', file(name, text)], location, what);
  });
  it('a bad trace or workload CSV: validate refuses it at its line, naming the scenario line too (run did, validate said ok)', () => {
    file('empty.csv', 'burst_ns,sleep_ns\n');
    const trace = file('trace.yaml', 'name: t\nvms:\n  - name: a\n    trace: empty.csv\n');
    for (const command of ['validate', 'run']) refused([command, trace], /empty\.csv:1:1: the trace has no bursts/, /trace\.yaml:4:12: vms\[0\]\.trace/);
    file('arrivals.csv', '1ms\nsoon\n');
    const workload = file('wl.yaml', 'name: t\nvms:\n  - name: a\n    guest: server\n    workload:\n      arrivals: { process: trace, file: arrivals.csv }\n      requests: [{ kind: cpu, size: { dist: deterministic, value: 1ms } }]\n');
    for (const command of ['validate', 'run']) refused([command, workload], /arrivals\.csv:2:1: expected a number or a value with a unit, got 'soon'/, /wl\.yaml:6:7: vms\[0\]\.workload/);
  });
  it('-D X=1 -D X=2', () => {
    refused(['asm', file('ok.s', 'hlt\n'), '-D', 'X=1', '-D', 'X=2'], /--define: X is defined twice/, /./);
  });
});

describe('issue 12: damaged logs named where they are damaged', () => {
  it('a byte order mark, bytes after the closing line', () => {
    refused(['inspect', file('bom.jsonl', `\ufeff${TEXT}`)], /bom\.jsonl:1:/, /byte order mark/);
    const lines = TEXT.split('\n').length;
    refused(['inspect', file('after.jsonl', `${TEXT}garbage`)], new RegExp(`after\\.jsonl:${lines}:`), /content after the closing line/);
  });
  it('inspect --at checks the whole log, not only the interval it folds', () => {
    const lines = TEXT.split('\n');
    lines[2000] = lines[2000].replace('"t":', '"t": ');
    refused(['inspect', file('late.jsonl', lines.join('\n')), '--at', '5'], /late\.jsonl:2001:/, /checksum mismatch/);
    refused(['inspect', file('late.jsonl', lines.join('\n')), '--stats'], /late\.jsonl:2001:/, /checksum mismatch/);
  });
  it('the library names the damaged line by number and by byte offset, reading from a string or from a file', () => {
    const lines = TEXT.split('\n');
    lines[1500] = lines[1500].replace('"t":', '"t": ');
    const text = lines.join('\n');
    const offset = Buffer.byteLength(lines.slice(0, 1500).join('\n')) + 1;
    const errors: LogError[] = [];
    for (const read of [() => readLog(text, 'late.jsonl'), () => new LogFile(memorySource(text, 'late.jsonl')).verify()]) {
      try {
        read();
      } catch (error) {
        errors.push(error as LogError);
      }
    }
    expect(errors.map((error) => [error.name, error.file, error.line, error.offset])).toEqual([
      ['LogError', 'late.jsonl', 1501, offset],
      ['LogError', 'late.jsonl', 1501, offset],
    ]);
    expect(text.slice(offset, offset + 8)).toBe(lines[1500].slice(0, 8));
  });
  it('a ScenarioError says file, line and column of its first problem as fields', () => {
    try {
      loadScenario('name: t\nvms:\n  - name: a\n    guest: compute\n    memory: -1\n', { file: 'f.yaml', guests: BUNDLED_GUEST_NAMES });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ScenarioError);
      const { file: name, line, column } = error as ScenarioError;
      expect([name, line, column]).toEqual(['f.yaml', 5, 13]);
    }
  });
  it('internal errors are one line without --debug, with the stack with it', () => {
    // A bug cannot be produced from outside on purpose; the contract is checked on the formatter in errors.test.
    const { code, stderr } = cli(['inspect', dir, '--debug']);
    expect(code).toBe(2);
    expect(stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });
});

describe('issue 12: semantic damage (checksums recomputed)', () => {
  const source = inputsScenario(dir, join(import.meta.dirname, '..', '..'));
  const INPUTS_LOG = join(dir, 'inputs.jsonl');
  expect(cli(['run', source, '--quiet', '--log', INPUTS_LOG]).code).toBe(0);
  const INPUTS = readFileSync(INPUTS_LOG, 'utf8');
  const lines = INPUTS.split('\n');
  const indexOf = (prefix: string, from = 0) => lines.findIndex((line, index) => index >= from && line.includes(prefix));
  const damaged = (name: string, change: (copy: string[]) => void, cutAfter?: number): string => {
    const copy = [...lines];
    change(copy);
    const text = rehash(copy.join('\n'));
    return file(name, cutAfter === undefined ? text : text.split('\n').slice(0, cutAfter).join('\n') + '\n');
  };

  it('the log is real: it has checkpoints and input records, and rehash leaves it unchanged', () => {
    expect(indexOf('{"checkpoint":')).toBeGreaterThan(0);
    expect(indexOf('"type":"input.console"')).toBeGreaterThan(0);
    expect(rehash(INPUTS)).toBe(INPUTS);
  });

  it('a checkpoint whose hash is not 8 hex digits', () => {
    const at = indexOf('{"checkpoint":');
    const path = damaged('cphash.jsonl', (copy) => (copy[at] = copy[at].replace(/"hash":"[0-9a-f]{8}"/, '"hash":"xyz"')));
    // rehash rewrites checkpoint hashes: put the bad one back after it.
    const text = readFileSync(path, 'utf8').split('\n');
    text[at] = text[at].replace(/"hash":"[0-9a-f]{8}"/, '"hash":"xyz"');
    const bad = file('cphash2.jsonl', rehashLinesOnly(text.join('\n')));
    for (const args of [['inspect', bad], ['inspect', bad, '--at', '5'], ['inspect', bad, '--stats'], ['replay', bad]]) {
      refused(args, new RegExp(`cphash2\\.jsonl:${at + 1}:`), /checkpoint|hash/);
    }
  });

  it("a checkpoint's line field changed: named at its real line", () => {
    const at = indexOf('{"checkpoint":');
    const path = damaged('cpline.jsonl', (copy) => (copy[at] = copy[at].replace(/"line":\d+/, '"line":3')));
    refused(['inspect', path, '--at', '5'], new RegExp(`cpline\\.jsonl:${at + 1}:`), /checkpoint says it is on line 3/);
  });

  it('a damaged input record (a key renamed): replay and inspect --at refuse it', () => {
    const at = indexOf('"type":"input.console"');
    const path = damaged('inputkey.jsonl', (copy) => (copy[at] = copy[at].replace('"text":', '"txet":')));
    for (const args of [['replay', path], ['inspect', path, '--at', String(at + 5)]]) {
      const { code, stderr } = cli(args);
      expect(code, stderr).toBe(2);
      expect(stderr).toMatch(/inputkey\.jsonl/);
      expect(stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('a log cut short after a damaged input record', () => {
    const at = indexOf('"type":"input.console"');
    const path = damaged('inputcut.jsonl', (copy) => (copy[at] = copy[at].replace('"text":', '"txet":')), at + 3);
    const { code, stderr } = cli(['replay', path]);
    expect(code, stderr).toBe(2);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('an input record made earlier than the event before it: a damaged record (exit 2), not a divergence', () => {
    const at = indexOf('"type":"input.console"');
    const path = damaged('inputearly.jsonl', (copy) => (copy[at] = copy[at].replace(/"t":\d+/, (match) => `"t":${Number(match.slice(4)) - 1000}`)));
    for (const args of [['replay', path], ['inspect', path], ['inspect', path, '--at', '3'], ['inspect', path, '--stats']]) {
      refused(args, new RegExp(`inputearly\\.jsonl:${at + 1}:`), /time goes back/);
    }
  });

  it('an event from an unknown VM, or with a changed type', () => {
    const at = indexOf('"src":"vm/echo/');
    for (const [name, change] of [
      ['unknownvm.jsonl', (line: string) => line.replace('"src":"vm/echo/', '"src":"vm/nobody/')],
      ['changedtype.jsonl', (line: string) => line.replace(/"type":"[a-z.]+"/, '"type":"vcpu.halted"')],
    ] as const) {
      const path = damaged(name, (copy) => (copy[at] = change(copy[at])));
      for (const args of [['inspect', path], ['inspect', path, '--stats']]) {
        if (name === 'unknownvm.jsonl') {
          // Named at its line: the header's scenario lists the VMs.
          refused(args, new RegExp(`unknownvm\\.jsonl:${at + 1}:`), /an event of VM "nobody", which the header's scenario does not define/);
          continue;
        }
        // A type changed to another valid type is consistent line by line: replay finds it (below).
        const { code, stderr } = cli(args);
        expect([0, 2], stderr).toContain(code);
        expect(stderr).not.toMatch(/internal error/);
      }
    }
    const changed = damaged('changedtype2.jsonl', (copy) => (copy[at] = copy[at].replace(/"type":"[a-z.]+"/, '"type":"vcpu.halted"')));
    const replayed = cli(['replay', changed]);
    expect(replayed.code, replayed.stderr).not.toBe(0);
    expect(replayed.stdout + replayed.stderr).toMatch(new RegExp(`line ${at + 1}|seq`));
  });
});

/** Recomputes line checksums only, keeping checkpoint and closing hashes as they are. */
function rehashLinesOnly(text: string): string {
  const chain = new XxhChain();
  return text
    .split('\n')
    .map((line) => {
      if (line === '') return line;
      const base = line.slice(0, line.length - 1 - CHECK_SUFFIX_LENGTH) + '}';
      return `${base.slice(0, -1)},"h":"${chain.add(base)}"}`;
    })
    .join('\n');
}
