/**
 * `run --interactive`: typed lines become inputs. `!balloon VM PAGES` sets a VM's balloon target,
 * as a scenario's `{ at, vm, balloon: PAGES }` does, and is logged so replay reproduces it.
 */
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { InputError } from '../../src/cli/errors.js';
import { parseTypedLine, runInteractive } from '../../src/cli/interactive.js';
import { Simulation } from '../../src/actors/simulation.js';
import { LogWriter } from '../../src/core/log/writer.js';
import { openLog } from '../../src/index.js';
import { guestVm, testScenario } from '../../src/testing/index.js';

const VMS = ['small', 'web'];

function refusal(line: string): string {
  try {
    parseTypedLine(line, VMS);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error(`'${line}' was accepted`);
}

describe('!balloon VM PAGES', () => {
  it('parses into a balloon input (the target: pages to give back in all)', () => {
    expect(parseTypedLine('!balloon small 8', VMS)).toEqual({ kind: 'balloon', vm: 'small', pages: 8 });
    expect(parseTypedLine('!balloon web 0  ', VMS)).toEqual({ kind: 'balloon', vm: 'web', pages: 0 });
    expect(parseTypedLine('!balloon web 1048576', VMS)).toEqual({ kind: 'balloon', vm: 'web', pages: 1_048_576 });
  });

  it('refuses what it cannot use, saying what was expected', () => {
    const usage = '!balloon: expected VM PAGES, PAGES the balloon target (pages to give back in all) as an integer from 0 to 1048576, e.g. !balloon web 8';
    expect(refusal('!balloon')).toBe(usage);
    expect(refusal('!balloon small')).toBe(usage);
    expect(refusal('!balloon small 8 9')).toBe(usage);
    expect(refusal('!balloon small eight')).toBe(`${usage}; got 'eight'`);
    expect(refusal('!balloon small -1')).toBe(`${usage}; got '-1'`);
    expect(refusal('!balloon small 2.5')).toBe(`${usage}; got '2.5'`);
    expect(refusal('!balloon small 1048577')).toBe(`${usage}; got '1048577'`);
    expect(refusal('!balloon nobody 8')).toBe("unknown VM 'nobody' (VMs: small, web)");
    expect(refusal('!baloon small 8')).toContain("unknown command '!baloon': type 'VM: text' to send console input");
    expect(refusal('!baloon small 8')).toContain("'!balloon VM PAGES'");
  });

  it('typed into a live run, the balloon driver gives the pages back; the log records it and replays', async () => {
    const vm = { ...guestVm('small', ''), guest: { kind: 'bundled' as const, name: 'balloon-guest' } };
    const scenario = testScenario([vm], { run: { timeNs: 30_000_000, instructions: undefined, checkpointEvery: 10_000 } });
    let log = '';
    const simulation = new Simulation({ scenario, log: new LogWriter((chunk) => (log += chunk)) });
    const input = new PassThrough();
    input.end('!balloon small 6\n!balloon small lots\n');
    let out = '';
    let err = '';
    await runInteractive(simulation, 100_000_000, input, { write: (text) => (out += text) }, { write: (text) => (err += text) }, { color: false });
    simulation.finishRun();

    expect(out).toMatch(/>>> [\d.]+\w+ small: balloon target 6 pages/);
    expect(err).toContain("ignored: !balloon: expected VM PAGES, PAGES the balloon target (pages to give back in all) as an integer from 0 to 1048576, e.g. !balloon web 8; got 'lots'");
    expect(log).toContain('"src":"vm/small/balloon","type":"input.balloon","data":{"pages":6}');
    expect(log).toContain('"type":"balloon.target","data":{"target":6}');
    expect(log.match(/"type":"balloon\.released"/g)).toHaveLength(6);
    expect(simulation.vms[0].memory.mappedPages).toBe(16 - 6);

    const replayed = openLog(Buffer.from(log), 'typed.jsonl');
    try {
      expect(replayed.replay().identical).toBe(true);
    } finally {
      replayed.close();
    }
  });
});

describe('!pool VM POOL (xl cpupool-migrate)', () => {
  it('parses into a cpupool input, and refuses a line without a pool', () => {
    expect(parseTypedLine('!pool web rt', VMS)).toEqual({ kind: 'cpupool', vm: 'web', pool: 'rt' });
    expect(refusal('!pool web')).toBe('!pool: expected VM POOL, e.g. !pool web Pool-0');
    expect(refusal('!pool nobody rt')).toBe("unknown VM 'nobody' (VMs: small, web)");
  });

  it('typed into a live run, the VM moves (an unknown pool is refused as a fact); the log records both and replays', async () => {
    const text = [
      'name: typed-pool',
      'host: { pcpus: 2 }',
      'cpupools: [{ name: Pool-0, cpus: [0] }, { name: rt, cpus: [1] }]',
      'run: { time: 20ms }',
      'vms: [{ name: small, guest: cpu-bound }, { name: web, guest: cpu-bound }]',
    ].join('\n');
    const { loadScenario } = await import('../../src/core/scenario/load.js');
    const { BUNDLED_GUEST_NAMES } = await import('../../src/guests/index.js');
    const scenario = loadScenario(text, { file: 'typed-pool.yaml', guests: BUNDLED_GUEST_NAMES });
    let log = '';
    const simulation = new Simulation({ scenario, log: new LogWriter((chunk) => (log += chunk)) });
    const input = new PassThrough();
    input.end('!pool web rt\n!pool small nowhere\n');
    let out = '';
    await runInteractive(simulation, 100_000_000, input, { write: (chunk) => (out += chunk) }, { write: () => {} }, { color: false });
    simulation.finishRun();

    expect(out).toMatch(/>>> [\d.]+\w+ web: move to cpupool rt/);
    expect(log).toContain('"src":"vm/web","type":"vm.pool-moved","data":{"from":"Pool-0","to":"rt"}');
    expect(log).toMatch(/"src":"vm\/small","type":"vm.not-allowed","data":\{"command":"CPUPOOL-MIGRATE","state":"running","reason":"unknown cpupool 'nowhere' \(known: Pool-0, rt\)"\}/);
    const replayed = openLog(Buffer.from(log), 'typed-pool.jsonl');
    try {
      expect(replayed.replay().identical).toBe(true);
    } finally {
      replayed.close();
    }
  });
});
