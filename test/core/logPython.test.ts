import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../../src/actors/simulation.js';
import { LogWriter } from '../../src/core/log/writer.js';
import { loadScenario } from '../../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';

/**
 * Log format 2 checked from outside: docs/event-log.md's Python snippet, run by Debian's python3
 * with python3-xxhash (the xxHash C library; .ci/run installs it), on a log this engine wrote.
 */
const root = join(import.meta.dirname, '..', '..');
const snippet = /```python\n([\s\S]*?)```/.exec(readFileSync(join(root, 'docs', 'event-log.md'), 'utf8'))?.[1];

function python(dir: string): { code: number; output: string } {
  writeFileSync(join(dir, 'check.py'), `${snippet}\nprint('checked', number, 'lines')\n`);
  try {
    return { code: 0, output: execFileSync('/usr/bin/python3', ['check.py'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string };
    return { code: failed.status, output: failed.stdout + failed.stderr };
  }
}

describe("docs/event-log.md's Python check of a log (format 2)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmmsim-logpy-'));
  const chunks: string[] = [];
  const log = new LogWriter((chunk) => chunks.push(chunk));
  const scenario = loadScenario(readFileSync(join(root, 'examples', 'inputs.yaml'), 'utf8'), { file: 'inputs.yaml', guests: BUNDLED_GUEST_NAMES });
  new Simulation({ scenario: { ...scenario, run: { ...scenario.run, checkpointEvery: 200 } }, log }).run();
  const text = chunks.join('');

  it('passes every line of a real log, checkpoints and closing line included', () => {
    expect(snippet).toBeDefined();
    writeFileSync(join(dir, 'run.jsonl'), text);
    const result = python(dir);
    const lines = text.split('\n').length - 1;
    expect(text).toContain('{"checkpoint":');
    expect(result.output.trim()).toBe(`checked ${lines} lines`);
    expect(result.code).toBe(0);
  });

  it('names the first line changed', () => {
    const lines = text.split('\n');
    lines[40] = lines[40].replace(/"t":(\d)/, (_, digit: string) => `"t":${(Number(digit) + 1) % 10}`);
    writeFileSync(join(dir, 'run.jsonl'), lines.join('\n'));
    const result = python(dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('line 41 was changed');
  });
});
