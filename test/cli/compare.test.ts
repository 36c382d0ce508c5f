import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { estimate } from '../../src/cli/stats.js';

function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(args, { stdout: { write: (text) => (stdout += text) }, stderr: { write: (text) => (stderr += text) }, color: false });
  return { code, stdout, stderr };
}

const SCENARIO = `name: pair
host: { pcpus: 1 }
run: { time: 60ms }
vms:
  - { name: heavy, guest: cpu-bound, sched: { weight: 512 } }
  - { name: light, guest: cpu-bound }
  - { name: io, guest: io-bound }
`;

describe('stats', () => {
  it('gives the mean and the t-based 95% confidence half-width', () => {
    const e = estimate([1, 2, 3, 4, 5]);
    expect(e.mean).toBe(3);
    expect(e.sd).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(e.ci95).toBeCloseTo((2.776 * Math.sqrt(2.5)) / Math.sqrt(5), 12);
    expect(estimate([7]).ci95).toBe(0);
  });
});

describe('vmmsim compare', () => {
  it('runs every policy with the same seeds and writes the table, CSV, JSON and SVG plots', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmmsim-compare-'));
    writeFileSync(join(dir, 'pair.yaml'), SCENARIO);
    const out = join(dir, 'out');
    const { code, stdout, stderr } = cli(['compare', join(dir, 'pair.yaml'), '--policies', 'round-robin,credit,cfs', '--seeds', '4', '--out', out]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^jain\s+\S+ ± \S+\s+\S+ ± \S+\s+\S+ ± \S+$/m);
    expect(stdout).toMatch(/^heavy\.share /m);
    const files = readdirSync(out);
    expect(files).toEqual(expect.arrayContaining(['runs.csv', 'summary.csv', 'summary.json', 'summary.md', 'jain.svg', 'wake_p99_us.svg', 'timeline-credit.svg']));
    const runs = readFileSync(join(out, 'runs.csv'), 'utf8').trim().split('\n');
    expect(runs).toHaveLength(1 + 3 * 4);
    const json = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { seeds: number[]; summary: Record<string, Record<string, { n: number; mean: number }>> };
    expect(json.seeds).toHaveLength(4);
    expect(json.summary['heavy.share'].credit.n).toBe(4);
    // Weighted policies give heavy about twice light's share; round-robin splits evenly.
    expect(json.summary['heavy.share'].cfs.mean / json.summary['light.share'].cfs.mean).toBeGreaterThan(1.6);
    expect(json.summary['heavy.share']['round-robin'].mean / json.summary['light.share']['round-robin'].mean).toBeLessThan(1.2);
    const svg = readFileSync(join(out, 'jain.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    // Same inputs, same outputs.
    const again = join(dir, 'again');
    cli(['compare', join(dir, 'pair.yaml'), '--policies', 'round-robin,credit,cfs', '--seeds', '4', '--out', again]);
    expect(readFileSync(join(again, 'summary.json'), 'utf8')).toBe(readFileSync(join(out, 'summary.json'), 'utf8'));
  });

  it("takes the scenario's own seed as its first run: that run's numbers are vmmsim run's", () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmmsim-compare-seed-'));
    writeFileSync(join(dir, 'pair.yaml'), SCENARIO.replace('run: { time: 60ms }', 'seed: 77\nscheduler: { policy: credit }\nrun: { time: 60ms }'));
    const out = join(dir, 'out');
    expect(cli(['compare', join(dir, 'pair.yaml'), '--policies', 'credit', '--seeds', '3', '--out', out]).code).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { seeds: number[] };
    expect(json.seeds[0]).toBe(77);
    expect(new Set(json.seeds).size).toBe(3);
    const [header, first] = readFileSync(join(out, 'runs.csv'), 'utf8').trim().split('\n');
    const columns = header.split(',');
    const row = first.split(',');
    const run = cli(['run', join(dir, 'pair.yaml'), '--json']);
    expect(run.code).toBe(0);
    const measured = JSON.parse(run.stdout) as { metrics: { scheduling: { vms: { name: string; share: number; workUnits: number }[] } } };
    const io = measured.metrics.scheduling.vms.find((vm) => vm.name === 'io');
    const heavy = measured.metrics.scheduling.vms.find((vm) => vm.name === 'heavy');
    expect(Number(row[columns.indexOf('seed')])).toBe(77);
    expect(Number(row[columns.indexOf('heavy.share')])).toBeCloseTo(heavy?.share ?? NaN, 9);
    expect(Number(row[columns.indexOf('io.work_units')])).toBe(io?.workUnits);
  });

  it('loads a user policy from a .js file, and rejects bad input with exit code 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmmsim-compare-'));
    writeFileSync(join(dir, 'pair.yaml'), SCENARIO);
    writeFileSync(
      join(dir, 'fifo.mjs'),
      `export default function (options) {
  const queue = [];
  return {
    name: 'fifo-to-completion',
    get waiting() { return queue.length; },
    enqueue(entity) { if (!queue.includes(entity)) queue.push(entity); },
    remove(entity) { const i = queue.indexOf(entity); if (i >= 0) queue.splice(i, 1); },
    pick() { const entity = queue.shift(); return entity === undefined ? undefined : { entity, sliceNs: 1e9 }; },
    shouldPreempt() { return false; },
    extend() { return 1e9; },
    charge() {},
    snapshot() { return { queue: queue.map((e) => e.id) }; },
  };
}
`,
    );
    const out = join(dir, 'out');
    const result = cli(['compare', join(dir, 'pair.yaml'), '--policies', `credit,${join(dir, 'fifo.mjs')}`, '--seeds', '2', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // Run to completion: in each run, the CPU-bound VM that starts first never gives the CPU up
    // (which one that is depends on the seed).
    const fifo = join(dir, 'fifo.mjs');
    const [header, ...rows] = readFileSync(join(out, 'runs.csv'), 'utf8').trim().split('\n').map((line) => line.split(','));
    const fifoRows = rows.filter((row) => row[0] === fifo);
    expect(fifoRows).toHaveLength(2);
    for (const row of fifoRows) {
      const shares = ['heavy.share', 'light.share', 'io.share'].map((name) => Number(row[header.indexOf(name)]));
      expect(Math.max(...shares)).toBeGreaterThan(0.99);
      expect(shares.reduce((sum, share) => sum + share, 0)).toBeLessThan(1.001);
    }
    expect(cli(['compare', join(dir, 'pair.yaml'), '--policies', 'credit,bogus', '--out', out])).toMatchObject({ code: 2 });
    expect(cli(['compare', join(dir, 'pair.yaml'), '--policies', 'credit', '--seeds', '0', '--out', out]).stderr).toContain("--seeds: expected an integer from 1 to 10000, got '0'");
    writeFileSync(join(dir, 'bad.mjs'), 'export default 42;\n');
    expect(cli(['compare', join(dir, 'pair.yaml'), '--policies', join(dir, 'bad.mjs'), '--out', out]).stderr).toContain('expected a default export');
  });
});
