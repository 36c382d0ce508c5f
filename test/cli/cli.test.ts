import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../../src/cli/main.js';
import { readLog } from '../../src/core/log/reader.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'vmmsim.js');

function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(args, { stdout: { write: (text) => (stdout += text) }, stderr: { write: (text) => (stderr += text) }, color: false });
  return { code, stdout, stderr };
}

function temp(): string {
  return mkdtempSync(join(tmpdir(), 'vmmsim-'));
}

describe('vmmsim run', () => {
  it('runs the bundled demo: consoles of several VMs, one crash, and the summary table', () => {
    const { code, stdout } = cli(['run']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\[alpha\] tiny kernel: booting/m);
    expect(stdout).toMatch(/^\[beta {1}\] task A: round 1/m);
    expect(stdout).toMatch(/^\[pv {3}\] hello-pv/m);
    expect(stdout).toContain('*** rogue crashed: read of guest-physical address 0x3fff0000');
    expect(stdout).toMatch(/^VM\s+vCPU\s+state\s+instructions\s+exits\s+exits by reason\s+CPU time\s+wait time/m);
    expect(stdout).toMatch(/^rogue\s+0\s+crashed\/crashed/m);
    expect(stdout).toMatch(/^alpha\s+0\s+shutoff\/halted/m);
  });

  it('reports what the host memory manager did when the host shares pages or overcommits', () => {
    const dir = temp();
    const file = join(dir, 'mem.yaml');
    writeFileSync(
      file,
      ['name: mem', 'host: { pcpus: 2, memory: 1MiB, overcommit: true, pageSharing: { interval: 200us, pages: 64 } }', 'run: { time: 5ms }', 'vms:', '  - { name: a, guest: tlb-heavy, memory: 512KiB }', '  - { name: b, guest: tlb-heavy, memory: 512KiB }', '  - { name: c, guest: ticker, memory: 512KiB }', ''].join('\n'),
    );
    const { code, stdout } = cli(['run', file, '--quiet']);
    expect(code).toBe(0);
    const line = /^host memory: ([\d,]+) of 256 frames in use; ([\d,]+) guest pages on ([\d,]+) shared frames .* ([\d,]+) pages backed on first touch/m.exec(stdout);
    expect(line).not.toBeNull();
    const [used, sharedPages, sharedFrames, demand] = (line ?? []).slice(1).map((text) => Number(text.replaceAll(',', '')));
    expect(used).toBeLessThanOrEqual(256);
    expect(sharedPages).toBeGreaterThan(sharedFrames);
    expect(demand).toBeGreaterThan(0);
    // Without sharing or overcommit there is no such line.
    expect(cli(['run', '--quiet']).stdout).not.toContain('host memory:');
  });

  it('prints only the summary with --quiet, and one JSON document with --json', () => {
    const quiet = cli(['run', '--quiet']);
    expect(quiet.stdout).not.toContain('[alpha]');
    expect(quiet.stdout).toContain('shutoff/halted');
    const json = cli(['run', '--json', '--seed', '3']);
    const summary = JSON.parse(json.stdout);
    expect(summary.seed).toBe(3);
    expect(summary.vms.map((vm: { name: string }) => vm.name)).toEqual(['alpha', 'beta', 'pv', 'rogue']);
    expect(summary.vms[3].state).toBe('crashed');
    expect(summary.vms[0].vcpus[0].exits.privileged).toBeGreaterThan(0);
    expect(summary.console.alpha[0]).toContain('tiny kernel: booting');
  });

  it('writes the same log for the same seed and a different interleaving for another seed', () => {
    const dir = temp();
    for (const [name, seed] of [['a', '7'], ['b', '7'], ['c', '8']]) {
      expect(cli(['run', '--quiet', '--seed', seed, '--log', join(dir, `${name}.jsonl`)]).code).toBe(0);
    }
    const [a, b, c] = ['a', 'b', 'c'].map((name) => readFileSync(join(dir, `${name}.jsonl`), 'utf8'));
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    const log = readLog(a, 'a.jsonl');
    expect(log.header.seed).toBe(7);
    expect(log.end?.events).toBe(log.events.length);
    const order = (text: string) =>
      readLog(text).events.filter((event) => event.type === 'vcpu.running').map((event) => event.src);
    expect(order(c)).not.toEqual(order(a));
  });

  it('gives byte-identical logs from two separate processes', () => {
    const dir = temp();
    for (const name of ['p1', 'p2']) {
      execFileSync(process.execPath, [BIN, 'run', '--quiet', '--seed', '11', '--log', join(dir, `${name}.jsonl`)], { cwd: ROOT });
    }
    const first = readFileSync(join(dir, 'p1.jsonl'));
    const second = readFileSync(join(dir, 'p2.jsonl'));
    expect(first.length).toBeGreaterThan(10_000);
    expect(first.equals(second)).toBe(true);
  });
});

describe('bad input', () => {
  it('exits 2 with file:line:col for a bad scenario', () => {
    const dir = temp();
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'name: bad\nhost:\n  pcpus: 0\nvms:\n  - name: a\n    guest: kernel\n');
    const { code, stderr } = cli(['run', file]);
    expect(code).toBe(2);
    expect(stderr).toContain(`${file}:3:10:`);
    expect(stderr).toMatch(/host\.pcpus/);
  });

  it('exits 2 for a missing file, a bad seed, and an unknown option', () => {
    expect(cli(['run', '/nonexistent.yaml']).stderr).toContain('/nonexistent.yaml: cannot read the scenario: no such file');
    expect(cli(['run', '/nonexistent.yaml']).code).toBe(2);
    const seed = cli(['run', '--seed', 'x']);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toContain("--seed: expected an integer from 0 to 4294967295, got 'x'");
    expect(cli(['run', '--frobnicate']).code).toBe(2);
  });

  it('exits 2 with the scenario line for an inline guest that does not assemble', () => {
    const dir = temp();
    const file = join(dir, 'asm.yaml');
    writeFileSync(file, ['name: asm', 'vms:', '  - name: a', '    source: |', '      movi r1, 1', '      movi r9, 2', ''].join('\n'));
    const { code, stderr } = cli(['run', file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:6:\\d+: unknown register 'r9'`));
  });

  it('exits 2 from the real binary, without a stack trace', () => {
    const result = spawnSync(process.execPath, [BIN, 'run', '/nonexistent.yaml'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});

describe('other commands', () => {
  it('lists the commands in --help', () => {
    const { code, stdout } = cli(['--help']);
    expect(code).toBe(0);
    for (const command of ['run', 'validate', 'asm', 'guests', 'schema']) expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  });

  it('validates a scenario and lists guests', () => {
    const valid = cli(['validate', join(ROOT, 'examples', 'demo.yaml')]);
    expect(valid.code).toBe(0);
    expect(valid.stdout).toContain('"name": "demo"');
    const guests = cli(['guests']);
    expect(guests.stdout).toMatch(/^kernel\s+tiny kernel/m);
    expect(cli(['guests', '--source', 'kernel']).stdout).toContain('timer_handler:');
  });

  it('assembles a program and prints its listing, or the error with its position', () => {
    const dir = temp();
    const good = join(dir, 'good.asm');
    writeFileSync(good, 'start:\n  movi r1, 5\n  hlt\n');
    const listing = cli(['asm', good]);
    expect(listing.code).toBe(0);
    expect(listing.stdout).toContain('movi r1, 5');
    const bad = join(dir, 'bad.asm');
    writeFileSync(bad, '  nop\n  mvoi r1, 5\n');
    const error = cli(['asm', bad]);
    expect(error.code).toBe(2);
    expect(error.stderr).toContain(`${bad}:2:3: unknown instruction 'mvoi'`);
  });

  it('keeps the published JSON Schema in step with the code', () => {
    const { stdout } = cli(['schema']);
    expect(readFileSync(join(ROOT, 'schema', 'scenario.schema.json'), 'utf8')).toBe(stdout);
  });
});
