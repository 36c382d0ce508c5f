import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../../src/cli/main.js';
import { XxhChain } from '../../src/core/log/chain.js';
import { ENGINE_VERSION } from '../../src/core/version.js';

const EXAMPLES = resolve(import.meta.dirname, '..', '..', 'examples');

function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(args, { stdout: { write: (text) => (stdout += text) }, stderr: { write: (text) => (stderr += text) }, color: false });
  return { code, stdout, stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'vmmsim-replay-'));
const demoLog = join(dir, 'demo.jsonl');
expect(cli(['run', '--quiet', '--log', demoLog]).code).toBe(0);
const demoText = readFileSync(demoLog, 'utf8');
const lines = demoText.split('\n');

/** Rewrites the checksums of every line (as a careful forger would), from base texts. */
function reseal(bases: string[]): string {
  const chain = new XxhChain();
  return bases.map((base) => `${base.slice(0, -1)},"h":"${chain.add(base)}"}`).join('\n') + '\n';
}
const base = (line: string) => line.slice(0, -16) + '}';

describe('vmmsim replay', () => {
  it("replays the demo's log: identical, exit 0, with a one-line summary", () => {
    const { code, stdout } = cli(['replay', demoLog]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^identical: [\d,]+ events, [\d.]+ ms of virtual time, replayed at [\d,]+ events\/s\n$/);
  });

  it('names the line when one byte of an event in the middle is changed', () => {
    const middle = Math.floor(lines.length / 2);
    const index = lines.findIndex((line, at) => at >= middle && line.includes('"type":"exit.io"'));
    const changed = [...lines];
    changed[index] = changed[index].replace(/"port":(\d+)/, (_match, port) => `"port":${Number(port) + 1}`);
    const file = join(dir, 'changed.jsonl');
    writeFileSync(file, changed.join('\n'));
    const { code, stderr } = cli(['replay', file]);
    expect(code).toBe(2);
    expect(stderr).toContain(`${file}:${index + 1}: checksum mismatch: this line was changed`);
  });

  it('reports the first divergent seq with both events side by side when the log was rewritten consistently', () => {
    const bases = lines.filter((line) => line.length > 0).map(base);
    const index = bases.findIndex((line, at) => at > bases.length / 2 && line.includes('"type":"exit.io"'));
    const seq = JSON.parse(bases[index]).seq as number;
    bases[index] = bases[index].replace(/"port":(\d+)/, (_match, port) => `"port":${Number(port) + 1}`);
    const file = join(dir, 'forged.jsonl');
    writeFileSync(file, reseal(bases.filter((line) => !line.startsWith('{"end"'))));
    const { code, stdout } = cli(['replay', file]);
    expect(code).toBe(1);
    expect(stdout).toContain(`different: first divergence at seq ${seq} (${file}:${index + 1})`);
    expect(stdout).toMatch(/events just before \(identical in both\):\n( {2}\{"seq":\d+.*\n){4}/);
    expect(stdout).toMatch(/^field\s+expected \(log\)\s+actual \(replay\)$/m);
    expect(stdout).toMatch(/^data\.port\s+\d+\s+\d+\s+<-$/m);
  });

  it('replays a log cut in half up to its last whole line, with a warning', () => {
    const file = join(dir, 'half.jsonl');
    writeFileSync(file, demoText.slice(0, Math.floor(demoText.length / 2)));
    const { code, stdout, stderr } = cli(['replay', file]);
    expect(code).toBe(0);
    expect(stdout).toContain('(up to where the log ends)');
    expect(stderr).toMatch(/warning: .*half\.jsonl:\d+: the log ends inside line \d+ \(truncated\)/);
  });

  it('says plainly when the log was written by another engine version', () => {
    const bases = lines.filter((line) => line.length > 0).map(base);
    bases[0] = bases[0].replace(`"engine":"${ENGINE_VERSION}"`, '"engine":"0.0.9"');
    const file = join(dir, 'old.jsonl');
    writeFileSync(file, reseal(bases.filter((line) => !line.startsWith('{"end"'))));
    const { code, stderr } = cli(['replay', file]);
    expect(stderr).toContain(`note: this log was written by vmmsim 0.0.9; this is vmmsim ${ENGINE_VERSION}`);
    expect(code).toBe(0);
  });

  it('exits 2 for a missing file, a file that is not a log, and a header from the future', () => {
    expect(cli(['replay', join(dir, 'nope.jsonl')]).code).toBe(2);
    const notLog = join(dir, 'not.jsonl');
    writeFileSync(notLog, 'hello\n');
    expect(cli(['replay', notLog]).stderr).toContain(`${notLog}:1: not a JSON line`);
    const future = join(dir, 'future.jsonl');
    writeFileSync(future, reseal([base(lines[0]).replace('"version":2', '"version":7')]));
    const result = cli(['replay', future]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${future}:1: log format version 7 is newer than this engine reads`);
  });
});

describe('vmmsim run --from LOG --at SEQ (fork)', () => {
  const eventBases = (text: string) => text.split('\n').filter((line) => line.startsWith('{"seq":')).map(base);

  it('without changes, goes on exactly as the original did', () => {
    const original = eventBases(demoText);
    const at = Math.floor(original.length / 2);
    const forkLog = join(dir, 'fork.jsonl');
    const { code, stdout } = cli(['run', '--from', demoLog, '--at', String(at), '--quiet', '--log', forkLog]);
    expect(code).toBe(0);
    expect(stdout).toContain(`forked ${demoLog} after event ${at.toLocaleString('en-US')}`);
    expect(eventBases(readFileSync(forkLog, 'utf8'))).toEqual(original);
    expect(cli(['replay', forkLog]).code).toBe(0);
  });

  it('with changes, goes on differently from that point, and its own log replays', () => {
    const original = eventBases(demoText);
    const at = Math.floor(original.length / 3);
    const forkLog = join(dir, 'fork-changed.jsonl');
    const { code } = cli(['run', '--from', demoLog, '--at', String(at), '--set', 'scheduler.quantum=100us', '--set', 'costs.exit=2us', '--quiet', '--log', forkLog]);
    expect(code).toBe(0);
    const forked = eventBases(readFileSync(forkLog, 'utf8'));
    expect(forked.slice(0, at + 1)).toEqual(original.slice(0, at + 1));
    expect(forked).not.toEqual(original);
    const header = JSON.parse(base(readFileSync(forkLog, 'utf8').split('\n')[0]));
    expect(header.fork).toMatchObject({ from: demoLog, at });
    expect(header.fork.scenario.scheduler.quantum).toBe(100_000);
    expect(cli(['replay', forkLog]).code).toBe(0);
  });

  it('refuses bad settings and impossible points with exit 2', () => {
    expect(cli(['run', '--from', demoLog, '--at', '10', '--set', 'costs.exit=soon']).stderr).toMatch(/costs\.exit: expected a duration/);
    expect(cli(['run', '--from', demoLog, '--at', '10', '--set', 'host.pcpus=4']).stderr).toContain('cannot change host settings in the middle of a run');
    expect(cli(['run', '--from', demoLog, '--at', '99999999']).stderr).toMatch(/ends before event 99999999/);
    expect(cli(['run', '--from', demoLog, '--at', 'x']).code).toBe(2);
    expect(cli(['run', '--at', '5']).stderr).toContain('--at and --set go with --from LOG');
  });
});

describe('inputs from outside, reproduced by replay', () => {
  it('types console input, injects faults, logs them as input records, and replays identically', () => {
    const log = join(dir, 'inputs.jsonl');
    const { code, stdout } = cli(['run', join(EXAMPLES, 'inputs.yaml'), '--log', log]);
    expect(code).toBe(0);
    expect(stdout).toContain('[echo  ] HELLO, GUEST');
    expect(stdout).toContain('[echo  ] echo: bye');
    const text = readFileSync(log, 'utf8');
    expect(text.match(/"type":"input\.console"/g)).toHaveLength(2);
    expect(text.match(/"type":"input\.fault"/g)).toHaveLength(3);
    expect(text).toContain('"type":"device.failed","data":{"kind":"timer"}');
    expect(text).toMatch(/"src":"vm\/kernel\/vcpu\/0","type":"vcpu\.paused"/);
    expect(cli(['replay', log]).code).toBe(0);
  });
});

describe('vmmsim run --interactive', () => {
  it('turns typed lines into logged inputs that replay reproduces', async () => {
    const { spawn } = await import('node:child_process');
    const log = join(dir, 'typed.jsonl');
    const bin = resolve(import.meta.dirname, '..', '..', 'bin', 'vmmsim.js');
    const child = spawn(process.execPath, [bin, 'run', join(EXAMPLES, 'inputs.yaml'), '--interactive', '--pace', '50ms', '--log', log], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdin.write('echo: typed in\n');
    child.stdin.write('!stall kernel 0 500us\n');
    child.stdin.write('nonsense\n');
    child.stdin.end('!quit\n');
    const code = await new Promise<number>((done) => child.on('close', (status) => done(status ?? -1)));
    expect(code).toBe(0);
    expect(stderr).toContain('ignored: ');
    expect(stdout).toMatch(/>>> [\d.]+\w+ echo: console input "typed in\\n"/);
    const text = readFileSync(log, 'utf8');
    expect(text).toContain('"type":"input.console","data":{"text":"typed in\\n"}');
    expect(text).toMatch(/"type":"input\.fault","data":\{"fault":"vcpu-stall","target":"vm\/kernel\/vcpu\/0","durationNs":500000\}/);
    expect(cli(['replay', log]).code).toBe(0);
  });
});
