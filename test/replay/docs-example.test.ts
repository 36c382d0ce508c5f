/**
 * Runs the library example of docs/replay.md exactly as written (only `from 'vmmsim'` points at
 * the sources), and checks what it prints.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..', '..');
const GENERATED = join(import.meta.dirname, 'docs-example.generated.ts');

afterEach(() => rmSync(GENERATED, { force: true }));

it('the library example in docs/replay.md runs and says what it should', async () => {
  const docs = readFileSync(join(ROOT, 'docs', 'replay.md'), 'utf8');
  const match = /<!-- example: library -->\n```ts\n([\s\S]*?)\n```/.exec(docs);
  expect(match).not.toBeNull();
  const code = (match as RegExpExecArray)[1];
  expect(code).toContain("from 'vmmsim'");
  writeFileSync(GENERATED, code.replace("from 'vmmsim'", `from ${JSON.stringify(pathToFileURL(join(ROOT, 'src', 'index.ts')).href)}`));
  const printed: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')));
  try {
    await import(pathToFileURL(GENERATED).href);
    if (process.env.SHOW_EXAMPLE) process.stdout.write(printed.join("\n") + "\n");
  } finally {
    spy.mockRestore();
  }
  const text = printed.join('\n');
  expect(text).toMatch(/^seed 7: events 0\.\.\d+$/m);
  expect(text).toMatch(/^alpha: (running|blocked|shutoff), \d+ exits, console: /m);
  expect(text).toMatch(/^at seq \d+: \S+ \S+$/m);
  expect(text).toMatch(/^ticker took [1-9]\d* interrupts in its first 10 ms$/m);
  expect(text).toMatch(/^exits by reason: \{"/m);
  expect(text).toContain('as the log: true');
});
