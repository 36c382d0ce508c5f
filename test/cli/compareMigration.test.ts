import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { compareMigration, compareMigrationSeeds, SEEDED_MEASURES, type SeededMigrationComparison } from '../../src/cli/compareMigration.js';
import { deriveSeed } from '../../src/cli/seeds.js';

function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(args, { stdout: { write: (text) => (stdout += text) }, stderr: { write: (text) => (stderr += text) }, color: false });
  return { code, stdout, stderr };
}

describe('vmmsim compare --migration', () => {
  const rows = compareMigration(undefined, 'precopy,postcopy');
  const row = (rate: string, mode: string) => {
    const found = rows.find((candidate) => candidate.rate === rate && candidate.mode === mode);
    if (found === undefined) throw new Error(`no row ${rate} ${mode}`);
    return found;
  };

  it('runs both modes at the three stated rates of the example, and every migration completes', () => {
    expect(rows.map((candidate) => `${candidate.rate}/${candidate.mode}`)).toEqual(['idle/precopy', 'idle/postcopy', 'moderate/precopy', 'moderate/postcopy', 'heavy/precopy', 'heavy/postcopy']);
    expect(rows.map((candidate) => candidate.pagesPerSecond)).toEqual([500, 500, 25_000, 25_000, 100_000, 100_000]);
    for (const candidate of rows) expect(candidate.outcome, `${candidate.rate} ${candidate.mode}`).toBe('completed');
  });

  it('has pre-copy\'s shape (Clark et al.): rounds shrink and converge at a moderate rate; not at a rate over the link\'s, which ends by max-rounds', () => {
    const moderate = row('moderate', 'precopy');
    expect(moderate.trigger).toBe('converged');
    for (let round = 1; round < moderate.roundPages.length; round++) expect(moderate.roundPages[round]).toBeLessThan(moderate.roundPages[round - 1]);
    const heavy = row('heavy', 'precopy');
    expect(heavy.trigger).toBe('max-rounds');
    expect(heavy.roundPages.length).toBe(30);
    // Every round re-sends about what the first sent: the writable working set.
    expect(Math.min(...heavy.roundPages.slice(1))).toBeGreaterThan(0.8 * heavy.roundPages[0]);
    // Downtime and total time grow with the dirtying rate; pages re-sent only when pages are dirtied during rounds.
    expect(row('idle', 'precopy').downtimeNs).toBeLessThan(moderate.downtimeNs);
    expect(moderate.downtimeNs).toBeLessThan(heavy.downtimeNs);
    expect(row('idle', 'precopy').totalNs).toBeLessThan(moderate.totalNs);
    expect(moderate.totalNs).toBeLessThan(heavy.totalNs);
    expect(moderate.pagesResent).toBeGreaterThan(0);
    expect(heavy.pagesResent).toBeGreaterThan(10 * moderate.pagesResent);
  });

  it("has post-copy's shape (Hines and Gopalan): one round, no page sent twice, a downtime of the state alone, below pre-copy's", () => {
    for (const rate of ['idle', 'moderate', 'heavy']) {
      const post = row(rate, 'postcopy');
      expect(post.pagesResent).toBe(0);
      expect(post.rounds).toBe(1);
      expect(post.downtimeNs).toBeLessThanOrEqual(row(rate, 'precopy').downtimeNs);
      expect(post.faults).toBeGreaterThan(0);
    }
    // Its downtime does not depend on the dirtying rate.
    expect(row('heavy', 'postcopy').downtimeNs).toBe(row('idle', 'postcopy').downtimeNs);
  });

  it('prints the table with the rounds, and refuses what it cannot compare with exit 2', () => {
    const printed = cli(['compare', '--migration', 'precopy', '--dirty', 'moderate']);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(/^rate +pages\/s written +mode +rounds/);
    expect(printed.stdout).toContain('moderate precopy, pages per round: ');
    expect(printed.stdout.split('\n').filter((line) => /^moderate +25,000 +precopy/.test(line))).toHaveLength(1);
    const badMode = cli(['compare', '--migration', 'precopy,live']);
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toContain("--migration: unknown mode 'live' (expected a comma-separated list of: precopy, postcopy)");
    const noMigration = cli(['compare', 'examples/demo.yaml', '--migration', 'precopy']);
    expect(noMigration.code).toBe(2);
    expect(noMigration.stderr).toContain('has no migrate input');
  });

  describe('--seeds N', () => {
    const seeded = compareMigrationSeeds(undefined, 'precopy,postcopy', 'idle,moderate', 5);

    it("runs each cell at the scenario's seed, then at seeds derived from it, the first seed's runs being the one-seed table's", () => {
      expect(seeded.seeds).toEqual([16, ...[1, 2, 3, 4].map((index) => deriveSeed(16, `seed/${index}`))]);
      expect(seeded.cells.map((cell) => `${cell.rate}/${cell.mode}`)).toEqual(['idle/precopy', 'idle/postcopy', 'moderate/precopy', 'moderate/postcopy']);
      for (const cell of seeded.cells) {
        expect(cell.perSeed.map((run) => run.seed)).toEqual(seeded.seeds);
        const { seed, ...first } = cell.perSeed[0];
        expect(seed).toBe(16);
        expect(first).toEqual(row(cell.rate, cell.mode));
        expect([cell.runs, cell.completed]).toEqual([5, 5]);
      }
      // The seeds change the run (the guest's pages and the simulation's streams), so the figures vary.
      const moderate = seeded.cells[2];
      expect(new Set(moderate.perSeed.map((run) => run.totalNs)).size).toBeGreaterThan(1);
      expect(moderate.triggers).toEqual({ converged: 5 });
    });

    it("gives each measure's mean and 95% confidence interval (Student's t, 4 degrees of freedom)", () => {
      for (const cell of seeded.cells) {
        for (const measure of SEEDED_MEASURES) {
          const values = cell.perSeed.map((run) => run[measure]);
          const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
          const sd = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1));
          const e = cell.estimates[measure];
          expect(e.n, `${cell.rate} ${cell.mode} ${measure}`).toBe(5);
          expect(e.mean).toBeCloseTo(mean, 9);
          expect(e.ci95).toBeCloseTo((2.776 * sd) / Math.sqrt(5), 9);
        }
      }
      expect(seeded.cells[2].estimates.totalNs.ci95).toBeGreaterThan(0);
    });

    it('prints the table of means ± confidence intervals and the seeds, or JSON; a bad count is exit 2', () => {
      const printed = cli(['compare', '--migration', 'precopy,postcopy', '--dirty', 'moderate', '--seeds', '3']);
      expect(printed.code).toBe(0);
      const lines = printed.stdout.split('\n');
      expect(lines[0]).toBe(`hosts: 3 seeds per cell (16, the scenario's, then seeds derived from it; each also seeds the dirty-pages guest's page choice); mean ± 95% confidence interval`);
      expect(lines[2]).toMatch(/^rate +pages\/s written +mode +completed +stop-and-copy +rounds +total +downtime +pages sent +re-sent +faults +guest progress$/);
      expect(lines.filter((line) => /^moderate +25,000 +precopy +3\/3 +converged +[\d.]+ ± [\d.]+ +[\d.]+ ± [\d.]+ ms/.test(line))).toHaveLength(1);
      expect(lines.filter((line) => /^moderate +25,000 +postcopy +3\/3 +- +1 ± 0 /.test(line))).toHaveLength(1);
      const json = cli(['compare', '--migration', 'postcopy', '--dirty', 'idle', '--seeds', '2', '--json']);
      expect(json.code).toBe(0);
      const parsed = JSON.parse(json.stdout) as SeededMigrationComparison;
      expect(parsed.seeds).toEqual([16, deriveSeed(16, 'seed/1')]);
      expect(parsed.cells).toHaveLength(1);
      expect(Object.keys(parsed.cells[0].estimates)).toEqual([...SEEDED_MEASURES]);
      expect(parsed.cells[0].estimates.downtimeNs).toMatchObject({ n: 2, ci95: 0 });
      for (const bad of ['0', 'x', '10001']) {
        const refused = cli(['compare', '--migration', 'precopy', '--seeds', bad]);
        expect(refused.code).toBe(2);
        expect(refused.stderr).toContain(`--seeds: expected an integer from 1 to 10000, got '${bad}'`);
      }
    });
  });
});
