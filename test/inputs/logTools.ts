/**
 * Tools for damaging logs in tests: a real log written by the CLI, and a re-hash that recomputes
 * every line's checksum (and checkpoint and closing hashes) so that damage is semantic, not caught
 * by the checksums.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECK_SUFFIX_LENGTH } from '../../src/core/log/format.js';
import { chainFor, headerVersion } from '../../src/core/log/chain.js';

/**
 * Recomputes the `h` of every line, and the `hash` of checkpoints and the closing line, in the
 * checksum of the format the first line declares (format 2 when it declares none).
 */
export function rehash(text: string): string {
  const lines = text.split('\n');
  const chain = chainFor(headerVersion(lines[0]) ?? 2);
  const digest = chain.version === 1 ? /"hash":"[0-9a-f]{16}"/ : /"hash":"[0-9a-f]{8}"/;
  const out: string[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index];
    if (index === lines.length - 1 && line === '') {
      out.push('');
      continue;
    }
    const hasSuffix = line.length > CHECK_SUFFIX_LENGTH + 1 && line.startsWith(',"h":"', line.length - 1 - CHECK_SUFFIX_LENGTH);
    let base = hasSuffix ? line.slice(0, line.length - 1 - CHECK_SUFFIX_LENGTH) + '}' : line;
    if (base.startsWith('{"checkpoint":') || base.startsWith('{"end":')) {
      base = base.replace(digest, `"hash":"${chain.digest()}"`);
    }
    const check = chain.add(base);
    out.push(base.endsWith('}') ? `${base.slice(0, -1)},"h":"${check}"}` : base);
  }
  return out.join('\n');
}

/** The examples/inputs.yaml run with a checkpoint every 200 events: inputs, checkpoints, an end. */
export function inputsScenario(dir: string, root: string): string {
  const text = readFileSync(join(root, 'examples', 'inputs.yaml'), 'utf8').replace('run:\n  time: 15ms', 'run:\n  time: 15ms\n  checkpointEvery: 200');
  const path = join(dir, 'inputs.yaml');
  writeFileSync(path, text);
  return path;
}
