/**
 * `vmmsim ui`'s server and its input checks, without a browser: it serves a folder's files (and
 * nothing outside it), the file named on the command line at /files/NAME with the address
 * pointing the page at it, and refuses bad input with exit code 2.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { get } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { classifyFile, startUi, type UiServer } from '../../src/cli/ui.js';

function cli(args: readonly string[]): { code: number; stderr: string } {
  const stderr: string[] = [];
  const code = main(args, { stdout: { write: () => undefined }, stderr: { write: (text) => stderr.push(text) }, color: false });
  return { code, stderr: stderr.join('') };
}

function site(): string {
  const root = mkdtempSync(join(tmpdir(), 'vmmsim-ui-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>page</title>');
  writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)');
  return root;
}

describe('vmmsim ui: the server', () => {
  let ui: UiServer | undefined;
  afterEach(async () => {
    await ui?.close();
    ui = undefined;
  });

  it('serves the build with content types, and nothing outside it', async () => {
    ui = await startUi({ root: site(), port: 0 });
    expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const index = await fetch(ui.url);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(await index.text()).toContain('<title>page</title>');
    const script = await fetch(new URL('assets/app.js', ui.url));
    expect(script.headers.get('content-type')).toMatch(/text\/javascript/);
    expect((await fetch(new URL('missing.js', ui.url))).status).toBe(404);
    // A path that climbs out of the folder stays in it (and finds nothing there).
    for (const path of ['/../../etc/passwd', '/..%2f..%2fetc%2fpasswd', '/assets/..%2f..%2f..%2findex.html']) {
      const status = await new Promise<number>((done, fail) => {
        get({ host: '127.0.0.1', port: Number(new URL(ui!.url).port), path }, (response) => {
          response.resume();
          done(response.statusCode ?? 0);
        }).on('error', fail);
      });
      expect(status === 404 || status === 200, `${path}: ${status}`).toBe(true);
      if (status === 200) expect(path).toMatch(/index\.html$/);
    }
    expect((await fetch(ui.url, { method: 'POST' })).status).toBe(405);
  });

  it('serves the log named on the command line and points the page at it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmmsim-ui-'));
    const log = join(dir, 'my run.jsonl');
    expect(cli(['run', 'examples/smp.yaml', '--log', log, '--quiet']).code).toBe(0);
    ui = await startUi({ root: site(), port: 0, file: log });
    expect(ui.url).toMatch(/\?log=files\/my%20run\.jsonl$/);
    const served = await fetch(new URL('files/my%20run.jsonl', ui.url.replace(/\?.*$/, '')));
    expect(served.status).toBe(200);
    expect(await served.text()).toBe(readFileSync(log, 'utf8'));
  });

  it('points the page at a scenario named on the command line', async () => {
    ui = await startUi({ root: site(), port: 0, file: 'examples/demo.yaml' });
    expect(ui.url).toMatch(/\?scenario=files\/demo\.yaml$/);
    expect(classifyFile('examples/demo.yaml')).toBe('scenario');
  });
});

describe('vmmsim ui: bad input exits 2 before anything starts', () => {
  it('names a missing file, a .jsonl that is not a vmmsim log, a scenario that does not load, a bad port', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmmsim-ui-'));
    writeFileSync(join(dir, 'other.jsonl'), '{"a":1}\n');
    writeFileSync(join(dir, 'bad.yaml'), 'name: bad\nhost: { pcpus: zero }\n');
    expect(cli(['ui', join(dir, 'nothing.yaml')])).toMatchObject({ code: 2, stderr: expect.stringMatching(/no such file/) });
    expect(cli(['ui', join(dir, 'other.jsonl')])).toMatchObject({ code: 2, stderr: expect.stringMatching(/not a vmmsim event log/) });
    expect(cli(['ui', join(dir, 'bad.yaml')])).toMatchObject({ code: 2, stderr: expect.stringMatching(/bad\.yaml:2/) });
    expect(cli(['ui', '--port', '70000'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--port/) });
  });
});
