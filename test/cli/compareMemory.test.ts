import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { compareMemory } from '../../src/cli/compareMemory.js';

function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(args, { stdout: { write: (text) => (stdout += text) }, stderr: { write: (text) => (stderr += text) }, color: false });
  return { code, stdout, stderr };
}

describe('vmmsim compare --memory', () => {
  const rows = compareMemory(undefined, 'swap,sharing,ballooning,all');
  const row = (config: string) => {
    const found = rows.find((candidate) => candidate.config === config);
    if (found === undefined) throw new Error(`no row ${config}`);
    return found;
  };

  it('runs the scenario with memory enough, then overcommitted with each way of reclaiming; every VM ends', () => {
    expect(rows.map((candidate) => candidate.config)).toEqual(['enough memory', 'swap', 'sharing', 'ballooning', 'all']);
    for (const candidate of rows) for (const [name, state] of Object.entries(candidate.states)) expect(state, `${candidate.config}: ${name}`).toBe('shutoff');
    expect(row('enough memory').frames).toBeGreaterThan(row('swap').frames);
    expect(row('enough memory').swapOuts).toBe(0);
  });

  it('follows ESX: swapping alone makes the hungry VM far slower; sharing or ballooning spare the swapping', () => {
    const hungry = (config: string) => row(config).ended.hungry as number;
    expect(row('swap').swapOuts).toBeGreaterThan(50);
    expect(hungry('swap')).toBeGreaterThan(2 * hungry('enough memory'));
    for (const config of ['sharing', 'ballooning', 'all']) {
      expect(row(config).swapOuts, config).toBeLessThan(row('swap').swapOuts / 10);
      expect(hungry(config), config).toBeLessThan(hungry('swap') / 2);
    }
    expect(row('sharing').merges).toBeGreaterThan(0);
    expect(row('ballooning').balloonedFrames).toBeGreaterThan(0);
  });

  it('prints both tables, and refuses an unknown mode with exit 2', () => {
    const printed = cli(['compare', '--memory', 'swap,ballooning']);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(/^config\s+frames\s+backed on first touch\s+swapped out/m);
    expect(printed.stdout).toMatch(/^swap\s+256\s+310\s+\d+/m);
    expect(printed.stdout).toMatch(/^config\s+b1 ended\s+b2 ended\s+b3 ended\s+hungry ended/m);
    const bad = cli(['compare', '--memory', 'bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--memory: unknown mode 'bogus' (expected a comma-separated list of: swap, sharing, ballooning, all)");
  });
});
