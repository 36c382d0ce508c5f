/** `!migrate VM HOST [auto-converge]` typed during `run --interactive`: the same input as a scenario's `migrate:`, logged and replayed. */
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { InputError } from '../../src/cli/errors.js';
import { parseTypedLine, runInteractive } from '../../src/cli/interactive.js';
import { Simulation } from '../../src/actors/simulation.js';
import { LogWriter } from '../../src/core/log/writer.js';
import { loadScenario } from '../../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { openLog } from '../../src/index.js';
import { hostsYaml } from './helpers.js';

describe('!migrate VM HOST', () => {
  it("parses into a migrate input with QEMU's defaults, and refuses a malformed line", () => {
    expect(parseTypedLine('!migrate g dst', ['g'])).toEqual({ kind: 'migrate', vm: 'g', to: 'dst', mode: 'precopy', downtimeLimitNs: 300_000_000, maxRounds: 30, bandwidth: null, autoConverge: false });
    expect(parseTypedLine('!migrate g dst auto-converge', ['g'])).toMatchObject({ autoConverge: true });
    expect(() => parseTypedLine('!migrate g', ['g'])).toThrow(InputError);
    expect(parseTypedLine('!migrate g dst postcopy', ['g'])).toMatchObject({ mode: 'postcopy', autoConverge: false });
    expect(() => parseTypedLine('!migrate g dst fast', ['g'])).toThrow('!migrate: expected VM HOST [auto-converge|postcopy], e.g. !migrate web dst');
  });

  it('typed into a live run, the VM migrates (an unknown host is refused as a fact); the log records both and replays', async () => {
    const scenario = loadScenario(hostsYaml({ guest: 'dirty-pages', params: { WRITES: 20_000 }, time: '50ms' }), { file: 'typed.yaml', guests: BUNDLED_GUEST_NAMES });
    let log = '';
    const simulation = new Simulation({ scenario, log: new LogWriter((chunk) => (log += chunk)) });
    const input = new PassThrough();
    input.end('!migrate g nowhere\n!migrate g dst\n');
    let out = '';
    await runInteractive(simulation, 100_000_000, input, { write: (chunk) => (out += chunk) }, { write: () => {} }, { color: false });
    simulation.finishRun();
    expect(out).toMatch(/>>> [\d.]+\w+ g: migrate \(precopy\) to host dst/);
    expect(log).toContain('"type":"migration.completed"');
    expect(log).toContain(`"type":"migration.refused","data":{"to":"nowhere","reason":"unknown host 'nowhere' (known: src, dst)"}`);
    const replayed = openLog(Buffer.from(log), 'typed.jsonl');
    try {
      expect(replayed.replay().identical).toBe(true);
    } finally {
      replayed.close();
    }
  });
});
