import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';

function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(args, { stdout: { write: (text) => (stdout += text) }, stderr: { write: (text) => (stderr += text) }, color: false });
  return { code, stdout, stderr };
}

describe('trace-driven workloads in scenario files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmmsim-trace-'));
  writeFileSync(join(dir, 'bursts.csv'), 'burst_ns,sleep_ns\n# a busy start\n200000,0\n50000,300000\n100000,100000\n');
  writeFileSync(
    join(dir, 'trace.yaml'),
    ['name: trace', 'host: { pcpus: 1 }', 'run: { time: 5ms }', 'vms:', '  - name: replayed', '    trace: bursts.csv', '  - name: other', '    guest: compute', ''].join('\n'),
  );

  it('runs a VM from a CSV of bursts, resolved against the scenario folder', () => {
    const { code, stdout } = cli(['run', join(dir, 'trace.yaml'), '--json']);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout);
    const replayed = summary.vms.find((vm: { name: string }) => vm.name === 'replayed');
    expect(replayed.vcpus[0].exits.hlt).toBeGreaterThan(3);
    expect(replayed.vcpus[0].cpuNs).toBeGreaterThan(500_000);
  });

  it('reports a bad trace line with the file, line and column, exit 2', () => {
    writeFileSync(join(dir, 'bad.csv'), '100,200\n300,soon\n');
    writeFileSync(join(dir, 'bad.yaml'), ['name: bad', 'vms:', '  - name: a', '    trace: bad.csv', ''].join('\n'));
    const { code, stderr } = cli(['run', join(dir, 'bad.yaml')]);
    expect(code).toBe(2);
    expect(stderr).toContain("bad.csv:2:5: expected sleep_ns as an integer from 0 to 2147483647, got 'soon'");
  });

  it('refuses a VM with both a trace and a guest', () => {
    writeFileSync(join(dir, 'both.yaml'), ['name: both', 'vms:', '  - name: a', '    trace: bursts.csv', '    guest: compute', ''].join('\n'));
    const { code, stderr } = cli(['run', join(dir, 'both.yaml')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/expected exactly one of 'guest', 'program', 'source', 'trace' or 'image'/);
  });
});
