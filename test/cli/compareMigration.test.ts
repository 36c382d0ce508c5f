import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { compareMigration } from '../../src/cli/compareMigration.js';

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
});
