import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { readLog } from '../../src/core/log/reader.js';

function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(args, { stdout: { write: (text) => (stdout += text) }, stderr: { write: (text) => (stderr += text) }, color: false });
  return { code, stdout, stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'vmmsim-inspect-'));
const LOG = join(dir, 'demo.jsonl');
expect(cli(['run', '--quiet', '--log', LOG]).code).toBe(0);
const TEXT = readFileSync(LOG, 'utf8');
const EVENTS = readLog(TEXT).events;

describe('vmmsim inspect', () => {
  it('reports the state at a seq, with registers from a re-execution checked against the log', () => {
    const { code, stdout, stderr } = cli(['inspect', LOG, '--at', '1500']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toContain(`at seq 1500, t = `);
    expect(stdout).toContain('registers: re-executed from the log');
    expect(stdout).toContain('the re-executed state matches the log');
    expect(stdout).toMatch(/^VM alpha \(guest kernel, 64 KiB\): running/m);
    expect(stdout).toMatch(/^ {4}pc 0x[0-9a-f]+ {2}mode (kernel|user) {2}ie [01]/m);
    expect(stdout).toMatch(/^ {4}r0=0x[0-9a-f]+ r1=/m);
    expect(stdout).toMatch(/^run queue \(in the order they became runnable\): /m);
  });

  it('--json gives the folded state, the event and the registers; --no-registers skips the re-execution', () => {
    const json = JSON.parse(cli(['inspect', LOG, '--at', '800', '--json']).stdout);
    expect(json.at.seq).toBe(800);
    expect(json.state.seq).toBe(800);
    expect(Object.keys(json.state.vms)).toEqual(['alpha', 'beta', 'pv', 'rogue']);
    expect(json.registers.vcpus[0].regs).toHaveLength(8);
    expect(json.registers.matchesLog).toBe(true);
    const without = JSON.parse(cli(['inspect', LOG, '--at', '800', '--json', '--no-registers']).stdout);
    expect(without.registers).toBeNull();
    expect(without.state).toEqual(json.state);
    const text = cli(['inspect', LOG, '--at', '800', '--no-registers']).stdout;
    expect(text).toContain('registers: not shown');
  });

  it('--time takes ns or a duration and gives the state after the last event at or before it', () => {
    const ns = 3_000_000;
    const expected = EVENTS.filter((event) => event.t <= ns).at(-1)?.seq;
    const a = JSON.parse(cli(['inspect', LOG, '--time', '3ms', '--json', '--no-registers']).stdout);
    const b = JSON.parse(cli(['inspect', LOG, '--time', String(ns), '--json', '--no-registers']).stdout);
    expect(a.state.seq).toBe(expected);
    expect(b).toEqual(a);
  });

  it('without a point, reports the end of the run', () => {
    const { stdout } = cli(['inspect', LOG, '--no-registers']);
    expect(stdout).toContain(`at seq ${EVENTS.length - 1}`);
    expect(stdout).toMatch(/^run: ended \(/m);
    expect(stdout).toMatch(/^VM rogue .*: crashed/m);
  });

  it('lists events filtered by VM, type glob and range, as an aligned table or JSON lines', () => {
    const { code, stdout } = cli(['inspect', LOG, '--vm', 'alpha', '--type', 'exit.*', '--from', '1ms', '--to', '2ms']);
    expect(code).toBe(0);
    const rows = stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^\s*seq\s+t \(ns\)\s+src\s+type\s+data$/);
    const expected = EVENTS.filter((event) => event.src.startsWith('vm/alpha/') && event.type.startsWith('exit.') && event.t >= 1e6 && event.t <= 2e6);
    expect(rows).toHaveLength(expected.length + 1);
    const column = rows[1].indexOf('vm/alpha');
    for (const row of rows.slice(1)) expect(row.indexOf('vm/alpha')).toBe(column);
    const json = cli(['inspect', LOG, '--type', 'irq.inject,console.*', '--from', '100', '--to', '900', '--json']).stdout;
    const listed = json.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(listed).toEqual(EVENTS.filter((event) => event.seq >= 100 && event.seq <= 900 && (event.type === 'irq.inject' || event.type.startsWith('console.'))));
    expect(cli(['inspect', LOG, '--type', 'exit.io', '--limit', '3']).stdout.trimEnd().split('\n')).toHaveLength(4);
  });

  it('--stats counts by type, by VM and by exit reason', () => {
    const stats = JSON.parse(cli(['inspect', LOG, '--stats', '--json']).stdout);
    expect(stats.events).toBe(EVENTS.length);
    expect(stats.byType['exit.io']).toBe(EVENTS.filter((event) => event.type === 'exit.io').length);
    expect(stats.byVm.alpha).toBe(EVENTS.filter((event) => event.src.startsWith('vm/alpha')).length);
    expect(stats.byExitReason.privileged).toBe(stats.byType['exit.privileged']);
    const text = cli(['inspect', LOG, '--stats', '--vm', 'pv']).stdout;
    expect(text).toContain('by type');
    expect(text).toContain('exits by reason');
    expect(text).toMatch(/^ {2}hypercall\s+\d+/m);
  });

  it('inspects a log cut in half up to its last whole line, with a warning', () => {
    const half = join(dir, 'half.jsonl');
    writeFileSync(half, TEXT.slice(0, TEXT.length / 2));
    const { code, stdout, stderr } = cli(['inspect', half]);
    expect(code).toBe(0);
    expect(stderr).toMatch(/warning: .*half\.jsonl:\d+: the log ends inside line \d+ \(truncated\)/);
    const last = readLog(TEXT.slice(0, TEXT.length / 2)).events.at(-1)?.seq;
    expect(stdout).toContain(`at seq ${last},`);
    // Checked when the cut falls at the end of a kernel step; when the step that published the
    // last whole line went on past the cut, there is nothing to check it against. Never a mismatch.
    expect(stdout).toMatch(/the re-executed state matches the log|the log ends before that point: not checked/);
    expect(stdout).not.toContain('differs from the log');
    const past = cli(['inspect', half, '--at', String(EVENTS.length - 1), '--no-registers']);
    expect(past.code).toBe(2);
    expect(past.stderr).toContain(`is past the end of the log (its last event is seq ${last})`);
  });

  it('exits 2 naming the line of a damaged log, and on bad options', () => {
    const bad = join(dir, 'bad.jsonl');
    const lines = TEXT.split('\n');
    lines[499] = lines[499].replace('"t":', '"t":1');
    writeFileSync(bad, lines.join('\n'));
    const damaged = cli(['inspect', bad, '--at', '1000', '--no-registers']);
    expect(damaged.code).toBe(2);
    expect(damaged.stderr).toContain('bad.jsonl:500: checksum mismatch');
    for (const args of [
      ['--at', 'x'],
      ['--at', '1', '--time', '1ms'],
      ['--time', 'soon'],
      ['--type', 'nothing.*'],
      ['--vm', 'nobody'],
      ['--at', '5', '--type', 'exit.*'],
      ['--stats', '--at', '5'],
    ]) {
      const result = cli(['inspect', LOG, ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^vmmsim: /);
    }
    expect(cli(['inspect', join(dir, 'missing.jsonl')]).stderr).toContain('no such file');
  });

  it("shows the host memory manager at the point, from the re-execution (overcommitted host)", () => {
    const log = join(dir, 'memory.jsonl');
    expect(cli(['run', 'examples/memory.yaml', '--quiet', '--log', log]).code).toBe(0);
    const text = cli(['inspect', log, '--time', '6ms']);
    expect(text.code).toBe(0);
    const line = /^host memory \(re-executed\): ([\d,]+) of 256 frames in use; .* ([\d,]+) swapped out now/m.exec(text.stdout);
    expect(line).not.toBeNull();
    expect(Number(line?.[1])).toBe(256);
    expect(Number(line?.[2])).toBeGreaterThan(0);
    const json = JSON.parse(cli(['inspect', log, '--time', '6ms', '--json']).stdout) as { registers: { memory: { frames: number; swappedPages: number } } };
    expect(json.registers.memory.frames).toBe(256);
    expect(json.registers.memory.swappedPages).toBe(Number(line?.[2]));
    // A host without sharing or overcommit has no such line.
    expect(cli(['inspect', LOG, '--at', '100']).stdout).not.toContain('host memory');
  });
});
