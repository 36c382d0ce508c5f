/**
 * A run with a scheduling policy from a JavaScript module (`run --policy ./file.js`) replays:
 * the log's header records the module (path, sha256, the policy's name), and every path that
 * rebuilds the run (replay, inspect's re-execution, a fork, the library's replay and restore)
 * loads it again, or stops with exit 2 saying what was expected when it is missing or differs.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { openLog, PolicyModuleError, readLog } from '../../src/index.js';

function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(args, { stdout: { write: (text) => (stdout += text) }, stderr: { write: (text) => (stderr += text) }, color: false });
  return { code, stdout, stderr };
}

/** First come, first served, to completion: nothing like the scenario's round-robin. */
const FCFS = `export default function createPolicy(options) {
  const queue = [];
  return {
    name: 'fcfs',
    get waiting() { return queue.length; },
    enqueue(entity) { if (!queue.includes(entity)) queue.push(entity); },
    remove(entity) { const i = queue.indexOf(entity); if (i >= 0) queue.splice(i, 1); },
    pick() { const entity = queue.shift(); return entity && { entity, sliceNs: 1e9 }; },
    shouldPreempt() { return false; },
    extend() { return 1e9; },
    charge() {},
    snapshot() { return { queue: queue.map((entity) => entity.id) }; },
  };
}
`;

const SCENARIO = `name: policy-module
seed: 5
host: { pcpus: 1, memory: 16MiB }
scheduler: { policy: round-robin, quantum: 500us }
run: { time: 20ms, checkpointEvery: 300 }
vms:
  - { name: think, memory: 16KiB, guest: interactive, params: { THINK_NS: 1000000 } }
  - { name: batch, memory: 16KiB, guest: io-bound, params: { BURST_NS: 700000, IO_NS: 300000 } }
  - { name: io, memory: 16KiB, guest: io-bound }
  - { name: kernel, memory: 64KiB, guest: kernel }
`;

/** A temp folder with the scenario, the policy module and the logged run with it. */
function setUp() {
  const dir = mkdtempSync(join(tmpdir(), 'vmmsim-policy-module-'));
  const scenario = join(dir, 'scenario.yaml');
  const policy = join(dir, 'fcfs.js');
  const log = join(dir, 'run.jsonl');
  writeFileSync(scenario, SCENARIO);
  writeFileSync(policy, FCFS);
  const run = cli(['run', scenario, '--policy', policy, '--quiet', '--log', log]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return { dir, scenario, policy, log };
}

/** The event lines without their checksums (which chain from the header, and a fork's header differs). */
const eventLines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith('{"seq":'))
    .map((line) => line.slice(0, -16));

describe('a run with a policy module', () => {
  it('records the module in the header, and replays byte for byte through the CLI', () => {
    const { dir, scenario, policy, log } = setUp();
    const text = readFileSync(log, 'utf8');
    const header = readLog(text).header;
    expect(header.policy).toEqual({ module: policy, sha256: createHash('sha256').update(FCFS).digest('hex'), label: 'fcfs' });
    expect(text.split('\n')[0]).toContain(`"policy":{"module":${JSON.stringify(policy)},"sha256":"`);
    // The module really ran: the scenario's own policy gives another run.
    const plain = join(dir, 'plain.jsonl');
    expect(cli(['run', scenario, '--quiet', '--log', plain]).code).toBe(0);
    expect(eventLines(readFileSync(plain, 'utf8'))).not.toEqual(eventLines(text));
    expect(readLog(readFileSync(plain, 'utf8')).header.policy).toBeUndefined();

    const replayed = cli(['replay', log]);
    expect(replayed.stderr).toBe('');
    expect(replayed.stdout).toMatch(/^identical: /);
    expect(replayed.code).toBe(0);
    // A log cut short is compared line by line: the module is loaded there too.
    const cut = join(dir, 'cut.jsonl');
    writeFileSync(cut, text.slice(0, Math.floor(text.length / 2)));
    expect(cli(['replay', cut])).toMatchObject({ code: 0 });

    const inspected = cli(['inspect', log, '--at', '400']);
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toContain('the re-executed state matches the log');
  });

  it('replays and restores through the library', () => {
    const { log } = setUp();
    const opened = openLog(log);
    try {
      const result = opened.replay();
      expect(result.divergence).toBeUndefined();
      expect(result.identical).toBe(true);
      const last = opened.lastSeq();
      const simulation = opened.restore(Math.floor(last / 2));
      expect(simulation.monitor.policy.name).toBe('fcfs');
      expect(simulation.run().events).toBe(last + 1);
    } finally {
      opened.close();
    }
    // From the log's bytes too: the header names the module, so it is found where it was.
    const fromBytes = openLog(readFileSync(log), 'bytes.jsonl');
    try {
      expect(fromBytes.replay().identical).toBe(true);
    } finally {
      fromBytes.close();
    }
  });

  it('forks: unchanged it goes on with the module, event for event; changed settings keep it until another policy is named', () => {
    const { dir, log, policy } = setUp();
    const original = readFileSync(log, 'utf8');
    const at = Math.floor(eventLines(original).length / 3);
    const forked = join(dir, 'fork.jsonl');
    const result = cli(['run', '--from', log, '--at', String(at), '--quiet', '--log', forked]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const forkText = readFileSync(forked, 'utf8');
    expect(readLog(forkText).header.policy?.module).toBe(policy);
    expect(eventLines(forkText)).toEqual(eventLines(original));
    expect(cli(['replay', forked]).code).toBe(0);

    // A new quantum: the module's policy is made again with it (fcfs ignores the quantum). The new
    // policy starts empty: the vCPU running at the fork gives its CPU up there and joins it
    // (monitor.reconfigure, adopt.ts), so the continuation is fcfs's from that point, not the original's.
    const requantum = join(dir, 'requantum.jsonl');
    expect(cli(['run', '--from', log, '--at', String(at), '--set', 'scheduler.quantum=2ms', '--quiet', '--log', requantum]).code).toBe(0);
    const requantumText = readFileSync(requantum, 'utf8');
    expect(readLog(requantumText).header.policy?.module).toBe(policy);
    expect(eventLines(requantumText).slice(0, at + 1)).toEqual(eventLines(original).slice(0, at + 1));
    expect(cli(['replay', requantum]).code).toBe(0);

    // Another policy named: it takes over at the fork (with its defaults), and the fork still replays.
    const cfs = join(dir, 'cfs.jsonl');
    expect(cli(['run', '--from', log, '--at', String(at), '--set', 'scheduler.policy=cfs', '--quiet', '--log', cfs]).code).toBe(0);
    const cfsText = readFileSync(cfs, 'utf8');
    expect(eventLines(cfsText).slice(0, at + 1)).toEqual(eventLines(original).slice(0, at + 1));
    expect(eventLines(cfsText)).not.toEqual(eventLines(original));
    const forkHeader = readLog(cfsText).header.fork as { scenario: { scheduler: Record<string, unknown> } };
    expect(forkHeader.scenario.scheduler).toEqual({ policy: 'cfs', quantum: 500_000, latency: 6_000_000, minGranularity: 750_000, charge: 'held' });
    expect(cli(['replay', cfs]).code).toBe(0);
    // Inspect's re-execution (restore) makes the fork's change at the fork's point too.
    const after = eventLines(cfsText).length - 5;
    expect(cli(['inspect', cfs, '--at', String(after)]).stdout).toContain('the re-executed state matches the log');
    const opened = openLog(cfs);
    try {
      expect(opened.restore(after).monitor.policy.name).toBe('cfs');
      expect(opened.restore(at).monitor.policy.name).toBe('fcfs');
    } finally {
      opened.close();
    }
  });

  it('stops with exit 2 when the module is missing, and goes on with a moved copy given with --policy', () => {
    const { dir, log, policy } = setUp();
    const moved = join(dir, 'elsewhere');
    mkdirSync(moved);
    const copy = join(moved, 'fcfs.js');
    renameSync(policy, copy);

    const replayed = cli(['replay', log]);
    expect(replayed.code).toBe(2);
    expect(replayed.stderr).toContain(`${log} was run with the policy module ${policy}\n(policy 'fcfs', sha256 `);
    expect(replayed.stderr).toContain(`there is no such file at ${policy}: pass --policy PATH naming a copy of that module`);
    const inspected = cli(['inspect', log, '--at', '10']);
    expect(inspected.code).toBe(2);
    expect(inspected.stderr).toContain('(or --no-registers to skip the re-execution)');
    expect(cli(['inspect', log, '--at', '10', '--no-registers']).code).toBe(0);
    const forked = cli(['run', '--from', log, '--at', '10', '--quiet']);
    expect(forked.code).toBe(2);
    expect(forked.stderr).toContain('there is no such file');
    const opened = openLog(log);
    try {
      expect(() => opened.replay()).toThrow(PolicyModuleError);
      expect(() => opened.restore(10)).toThrow(/no such file/);
      expect(opened.replay({ policy: copy }).identical).toBe(true);
      expect(opened.restore(10, { policy: copy }).monitor.policy.name).toBe('fcfs');
    } finally {
      opened.close();
    }

    expect(cli(['replay', log, '--policy', copy])).toMatchObject({ code: 0, stderr: '' });
    expect(cli(['inspect', log, '--at', '10', '--policy', copy]).code).toBe(0);
    const forkLog = join(dir, 'fork.jsonl');
    expect(cli(['run', '--from', log, '--at', '10', '--policy', copy, '--quiet', '--log', forkLog]).code).toBe(0);
    // The fork's log names the copy it was made with, so it replays as it is.
    expect(readLog(readFileSync(forkLog, 'utf8')).header.policy?.module).toBe(copy);
    expect(cli(['replay', forkLog]).code).toBe(0);
  });

  it('a module that picks vCPUs that cannot run stops the run with exit 2 and says so (it once overflowed the stack)', () => {
    const { dir, scenario } = setUp();
    const sticky = join(dir, 'sticky.js');
    // Always the first vCPU it was ever given, running or not.
    writeFileSync(
      sticky,
      `export default function createPolicy() {
  const seen = [];
  return {
    name: 'sticky',
    enqueue(entity) { if (!seen.includes(entity)) seen.push(entity); },
    remove() {},
    pick() { return seen.length > 0 ? { entity: seen[0], sliceNs: 1e6 } : undefined; },
    shouldPreempt() { return false; },
    extend() { return 1e6; },
    charge() {},
    get waiting() { return seen.length; },
    snapshot() { return null; },
  };
}
`,
    );
    const run = cli(['run', scenario, '--policy', sticky, '--quiet']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/policy sticky picked vm\/\w+\/vcpu\/0 for pCPU \d+ at \d+ ns, which is \w+, not runnable, \d+ times in a row: a policy must pick a runnable vCPU/);
    expect(run.stderr).not.toContain('internal error');
  });

  it('stops with exit 2 when the module differs from the one the run used', () => {
    const { dir, log, policy } = setUp();
    const expected = createHash('sha256').update(FCFS).digest('hex');
    const copy = join(dir, 'copy.js');
    copyFileSync(policy, copy);
    appendFileSync(policy, '// changed\n');
    const changed = createHash('sha256').update(readFileSync(policy)).digest('hex');

    const replayed = cli(['replay', log]);
    expect(replayed.code).toBe(2);
    expect(replayed.stderr).toContain(`sha256 ${expected}`);
    expect(replayed.stderr).toContain(`${policy} (${policy}) is a different module (sha256 ${changed}):\npass --policy PATH naming a copy of the module the run used, or put it back`);
    expect(cli(['inspect', log, '--at', '10']).code).toBe(2);
    expect(cli(['run', '--from', log, '--at', '10', '--quiet']).code).toBe(2);
    const wrongCopy = cli(['replay', log, '--policy', policy]);
    expect(wrongCopy.code).toBe(2);
    expect(wrongCopy.stderr).toContain(`--policy ${policy} is a different module`);
    expect(cli(['replay', log, '--policy', copy]).code).toBe(0);
  });

  it('refuses --policy where it cannot apply, saying what to do instead', () => {
    const { dir, log, scenario } = setUp();
    const registry = cli(['replay', log, '--policy', 'credit']);
    expect(registry.code).toBe(2);
    expect(registry.stderr).toContain("--policy credit: here --policy names a moved copy of the policy module the log's run used");
    const fork = cli(['run', '--from', log, '--at', '5', '--policy', 'credit']);
    expect(fork.code).toBe(2);
    expect(fork.stderr).toContain('use --set scheduler.policy=credit');
    const plain = join(dir, 'plain.jsonl');
    expect(cli(['run', scenario, '--quiet', '--log', plain]).code).toBe(0);
    const notModule = cli(['replay', plain, '--policy', join(dir, 'fcfs.js')]);
    expect(notModule.code).toBe(2);
    expect(notModule.stderr).toContain("was not run with a policy module (its policy, round-robin, is in its scenario); leave --policy out");
  });

  it('a registry policy given with --policy is in the scenario, defaults and all, and replays', () => {
    const { dir, scenario } = setUp();
    const log = join(dir, 'cfs.jsonl');
    expect(cli(['run', scenario, '--policy', 'cfs', '--quiet', '--log', log]).code).toBe(0);
    const header = readLog(readFileSync(log, 'utf8')).header;
    expect(header.policy).toBeUndefined();
    expect((header.scenario as { scheduler: Record<string, unknown> }).scheduler).toEqual({ policy: 'cfs', quantum: 500_000, latency: 6_000_000, minGranularity: 750_000, charge: 'held' });
    expect(cli(['replay', log])).toMatchObject({ code: 0, stderr: '' });
    expect(cli(['inspect', log, '--at', '50']).code).toBe(0);
  });
});
