/**
 * The reason texts the simulation writes (crash, power-off, refusal and not-allowed reasons), read
 * from the source of src/: every string or template literal in a reason position (`reason: ...`,
 * `const reason = ...`, the reason argument of crash, powerOff, refuse, refuseSend, dropReceived),
 * and sentences returned by the functions that build them (`return `...``), as a skeleton whose `${...}` holes are `{}`. Literals that are one lower-case word and name an
 * enumerated value (vcpu.runnable's start/preempt/wake/resume, attach modes) are not reasons.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const REASON_POSITION = /(\breason\s*[:=]|\.(crash|powerOff|refuse|refuseSend|dropReceived)\(|\bendReason\s*=|\breturn\s+[`'])/;
const ENUMERATED = new Set(['start', 'preempt', 'wake', 'resume', 'virtio', 'emulated', 'passthrough', 'time', 'idle', 'instructions', 'stopped', 'paused', 'empty', 'kernel', 'user', '']);

function files(folder: string): string[] {
  return readdirSync(folder).flatMap((entry) => {
    const path = join(folder, entry);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The string and template literals of a line of code, as skeletons (holes `{}`), from `from` on. */
export function literalsOf(line: string, from = 0): string[] {
  const found: string[] = [];
  let index = from;
  while (index < line.length) {
    const quote = line[index];
    if (quote === '/' && line[index + 1] === '/') break;
    if (quote !== "'" && quote !== '`' && quote !== '"') {
      index++;
      continue;
    }
    let text = '';
    index++;
    while (index < line.length && line[index] !== quote) {
      if (line[index] === '\\') {
        text += line[index + 1];
        index += 2;
      } else if (quote === '`' && line[index] === '$' && line[index + 1] === '{') {
        let depth = 1;
        index += 2;
        while (index < line.length && depth > 0) {
          if (line[index] === '{') depth++;
          else if (line[index] === '}') depth--;
          index++;
        }
        text += '{}';
      } else text += line[index++];
    }
    index++;
    found.push(text);
  }
  return found;
}

export interface ReasonSource {
  readonly skeleton: string;
  readonly where: string;
}

export function reasonSkeletons(root: string): ReasonSource[] {
  const out: ReasonSource[] = [];
  for (const file of [...files(join(root, 'src/actors')), ...files(join(root, 'src/machines'))]) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, number) => {
      const match = REASON_POSITION.exec(line);
      if (match === null || /^\s*(\*|\/\/)|throw new/.test(line)) return;
      for (const skeleton of literalsOf(line, match.index)) {
        if (ENUMERATED.has(skeleton) || /^(read|write|in|out)$/.test(skeleton)) continue;
        // A returned literal is a reason when it is a sentence (a function that builds one).
        if (match[0].startsWith('return') && !skeleton.includes(' ')) continue;
        out.push({ skeleton, where: `${file.slice(root.length + 1)}:${number + 1}` });
      }
    });
  }
  return out;
}
