/**
 * `vmmsim run --save VM@TIME:FILE` and `image:` from the command line: the image is written where
 * asked, a scenario restores it, and a damaged image exits 2 with the file, the byte and the reason.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { parseTypedLine } from '../../src/cli/interactive.js';

function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(args, { stdout: { write: (text) => (stdout += text) }, stderr: { write: (text) => (stderr += text) }, color: false });
  return { code, stdout, stderr };
}

describe('vmmsim run --save', () => {
  it('saves a VM to an image file, and a scenario with image: goes on from it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmmsim-save-'));
    const saving = join(dir, 'save.yaml');
    writeFileSync(saving, ['name: save', 'run: { time: 30ms }', 'vms:', '  - { name: web, guest: kernel }', ''].join('\n'));
    const image = join(dir, 'web.img');
    const saved = cli(['run', saving, '--save', `web@2ms:${image}`]);
    expect(saved.code).toBe(0);
    expect(saved.stdout).toContain(`*** web saved to web.img (`);
    expect(readFileSync(image).subarray(0, 13).toString()).toBe('vmmsim-image\n');
    const restoring = join(dir, 'restore.yaml');
    writeFileSync(restoring, ['name: restore', 'run: { time: 30ms }', 'vms:', '  - { name: web, image: web.img }', ''].join('\n'));
    const restored = cli(['run', restoring, '--log', join(dir, 'restored.jsonl')]);
    expect(restored.code).toBe(0);
    expect(cli(['replay', join(dir, 'restored.jsonl')]).code).toBe(0);
    // Replay reads the image again: damaged since, it is refused with exit 2.
    const bytes = readFileSync(image);
    bytes[bytes.length - 3] ^= 1;
    writeFileSync(image, bytes);
    const replayed = cli(['replay', join(dir, 'restored.jsonl')]);
    expect(replayed.code).toBe(2);
    expect(replayed.stderr).toMatch(/web\.img: byte \d+: damaged/);
    const plain = cli(['run', saving]);
    const lines = (text: string) => text.split('\n').filter((line) => line.startsWith('[web]'));
    expect([...lines(saved.stdout), ...lines(restored.stdout)]).toEqual(lines(plain.stdout));
  });

  it('exits 2 naming the file, the byte and the reason for a cut, a flipped or an unknown --save', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmmsim-save-'));
    const saving = join(dir, 'save.yaml');
    writeFileSync(saving, ['name: save', 'run: { time: 30ms }', 'vms:', '  - { name: web, guest: ticker }', ''].join('\n'));
    expect(cli(['run', saving, '--quiet', '--save', `web@1ms:${join(dir, 'web.img')}`]).code).toBe(0);
    const bytes = readFileSync(join(dir, 'web.img'));
    writeFileSync(join(dir, 'cut.img'), bytes.subarray(0, 1000));
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 5] ^= 0x10;
    writeFileSync(join(dir, 'flip.img'), flipped);
    for (const [name, reason] of [
      ['cut.img', /cut\.img: byte 1000: cut short: the file ends at byte 1000/],
      ['flip.img', /flip\.img: byte \d+: damaged: bytes \d+ to \d+ do not match their checksum/],
    ] as const) {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, ['name: r', 'vms:', `  - { name: web, image: ${name} }`, ''].join('\n'));
      const result = cli(['run', file]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(reason);
      // Checked when the scenario is loaded: the message points at the scenario's line.
      expect(result.stderr).toContain(`${name}.yaml:3:`);
    }
    const unknown = cli(['run', saving, '--save', 'db@1ms:x.img']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--save: unknown VM 'db' (expected one of: web)");
    expect(cli(['run', saving, '--save', 'web-1ms-x.img']).code).toBe(2);
  });
});

describe('!save in run --interactive', () => {
  it('is the same input as a save in the scenario, and says what it expects otherwise', () => {
    expect(parseTypedLine('!save web web.img', ['web'])).toEqual({ kind: 'save', vm: 'web', file: 'web.img' });
    expect(() => parseTypedLine('!save web', ['web'])).toThrow('!save: expected VM FILE, e.g. !save web web.img');
    expect(() => parseTypedLine('!save db x.img', ['web'])).toThrow("unknown VM 'db' (VMs: web)");
  });
});
