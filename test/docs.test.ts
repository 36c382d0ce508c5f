/**
 * The reference docs keep up with the code: every cost key, every event type and every bundled
 * guest is documented where users look them up.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_COSTS } from '../src/core/costs.js';
import { EVENT_TYPES } from '../src/core/events.js';
import { BUNDLED_GUEST_NAMES } from '../src/guests/index.js';

const doc = (name: string) => readFileSync(`docs/${name}`, 'utf8');

describe('the reference docs', () => {
  it('list every cost in cost-model.md, with its scenario key', () => {
    const text = doc('cost-model.md');
    const missing = Object.keys(DEFAULT_COSTS).filter((name) => !text.includes(`| \`${name.replace(/Ns$/, '')}\` | \`${name}\` |`));
    expect(missing).toEqual([]);
  });

  it('describe every event type in event-log.md', () => {
    const text = doc('event-log.md');
    expect(EVENT_TYPES.filter((type) => !text.includes(`\`${type}\``))).toEqual([]);
  });

  it('name every bundled guest somewhere in docs/', () => {
    const all = ['concepts.md', 'architectures.md', 'scheduling.md', 'isa.md', 'cli.md', 'testing.md', 'scenario.md', 'performance.md'].map(doc).join('\n');
    expect(BUNDLED_GUEST_NAMES.filter((name) => !all.includes(`\`${name}\``))).toEqual([]);
  });
});
