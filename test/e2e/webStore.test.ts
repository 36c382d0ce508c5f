/**
 * The web view's data layer, under Node (it is DOM-free): the worker's run gives the CLI's log
 * byte for byte; the page's index of a log (stretches on CPUs, marks, consoles, filters) agrees
 * with the events; and time travel gives, at every seq, the state the replay library (the fold
 * `vmmsim inspect` uses) gives.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { EXIT_REASONS, type SimEvent } from '../../src/core/events.js';
import { LogError, readLog } from '../../src/core/log/reader.js';
import { openLog } from '../../src/replay/index.js';
import { ALL_VMS, FilteredEvents, NO_VM, matchesType } from '../../web/src/store/eventFilter.js';
import { formatData, parsePoint } from '../../web/src/store/format.js';
import { MARK_IRQ, RunData } from '../../web/src/store/runData.js';
import { TimeTravel } from '../../web/src/store/timeTravel.js';
import { chartsOf } from '../../web/src/views/chartData.js';
import { resolveScenario, runScenario } from '../../web/src/worker/runScenario.js';
import { detectLanguage, missingMessages, setLanguage, stateName, t } from '../../web/src/i18n.js';

const EXAMPLE = (name: string) => readFileSync(join('examples', `${name}.yaml`), 'utf8');

/** The log the page's worker writes for a scenario (run to the end). */
async function workerLog(text: string, file: string, options: { seed?: number; policy?: string } = {}): Promise<string> {
  const chunks: string[] = [];
  await runScenario(resolveScenario(text, file, options.policy), options.seed, { log: (chunk) => chunks.push(chunk), yieldNow: async () => true });
  return chunks.join('');
}

/** The log `vmmsim run --log` writes. */
function cliLog(args: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'vmmsim-web-'));
  const path = join(dir, 'run.jsonl');
  const out: string[] = [];
  const code = main([...args, '--log', path, '--quiet'], { stdout: { write: (text) => out.push(text) }, stderr: { write: (text) => out.push(text) }, color: false });
  expect(code, out.join('')).toBe(0);
  return readFileSync(path, 'utf8');
}

function ingestAll(text: string, pieceChars = Number.POSITIVE_INFINITY): RunData {
  const run = new RunData('test.jsonl');
  for (let at = 0; at < text.length; at += Math.min(pieceChars, text.length)) run.ingest(text.slice(at, at + pieceChars));
  run.close();
  return run;
}

describe('the worker runs the simulation the CLI runs', () => {
  it('writes the same log as vmmsim run --log, byte for byte (demo)', async () => {
    expect(await workerLog(EXAMPLE('demo'), 'demo.yaml')).toBe(cliLog(['run', 'examples/demo.yaml']));
  });

  it('does the same for the memory (overcommit) and I/O (attach modes) examples', async () => {
    for (const name of ['memory', 'io']) expect(await workerLog(EXAMPLE(name), `${name}.yaml`), name).toBe(cliLog(['run', `examples/${name}.yaml`]));
  });

  it('applies the seed and the policy chosen in the page (demo, seed 11, credit)', async () => {
    const text = await workerLog(EXAMPLE('demo'), 'demo.yaml', { seed: 11, policy: 'credit' });
    const log = readLog(text);
    expect(log.header.seed).toBe(11);
    expect((log.header.scenario as { scheduler: { policy: string } }).scheduler.policy).toBe('credit');
    expect(text).not.toBe(await workerLog(EXAMPLE('demo'), 'demo.yaml', { seed: 11 }));
    const edited = join(mkdtempSync(join(tmpdir(), 'vmmsim-web-')), 'demo.yaml');
    writeFileSync(edited, EXAMPLE('demo').replace('policy: round-robin', 'policy: credit'));
    expect(text).toBe(cliLog(['run', edited, '--seed', '11']));
  });

  it('stops between slices when asked, and the log it wrote so far still reads', async () => {
    // Exits in a tight loop: about 40,000 events in 60 ms of virtual time, cheap to simulate.
    const long = ['name: long', 'host: { pcpus: 2, memory: 16MiB }', 'scheduler: { policy: round-robin, quantum: 100us }', 'run: { time: 60ms }', 'vms:']
      .concat(['a', 'b', 'c'].map((name) => `  - { name: ${name}, memory: 16KiB, guest: io-loop }`))
      .join('\n');
    const chunks: string[] = [];
    const result = await runScenario(resolveScenario(long, 'long.yaml'), undefined, { log: (chunk) => chunks.push(chunk), yieldNow: async () => false });
    expect(result.stopped).toBe(true);
    const run = ingestAll(chunks.join(''));
    expect(run.finished).toBe(true);
    expect(run.count).toBe(result.summary.events);
    expect(run.count).toBeGreaterThan(20_000);
    expect(run.count).toBeLessThan(25_000);
  });
});

describe('RunData: the page index of a log', () => {
  it('gives the run as it was at a seq (the charts at the cursor) as a log cut there would', async () => {
    const text = await workerLog(EXAMPLE('demo'), 'demo.yaml');
    const run = ingestAll(text);
    const bars = (data: RunData) => chartsOf(data).map((chart) => ({ title: chart.title, series: chart.series, rows: chart.rows }));
    for (const seq of [0, 250, 1_000, run.count - 2]) {
      // The log's lines up to that event (the header, checkpoints and events before it).
      const lines = text.split('\n');
      const upTo = lines.findIndex((line) => line.startsWith(`{"seq":${seq},`));
      const cut = new RunData('cut.jsonl');
      cut.ingest(lines.slice(0, upTo + 1).join('\n') + '\n');
      const partial = run.upTo(seq);
      expect(partial.count).toBe(seq + 1);
      expect(bars(partial), `seq ${seq}`).toEqual(bars(cut));
    }
    // Up to the last event is the whole run (but for the closing line's time).
    expect(run.upTo(run.count - 1).count).toBe(run.count);
  });

  it('reads a log in any pieces the same as whole', async () => {
    const text = await workerLog(EXAMPLE('demo'), 'demo.yaml');
    const whole = ingestAll(text);
    const pieces = ingestAll(text, 997);
    expect(pieces.count).toBe(whole.count);
    expect(pieces.events(0, pieces.count)).toEqual(whole.events(0, whole.count));
    expect(whole.events(0, whole.count)).toEqual(readLog(text).events);
    expect(whole.finished).toBe(true);
    expect(whole.warnings).toEqual([]);
  });

  it('keeps, per physical CPU, the stretches each vCPU ran: in order, never overlapping, one per dispatch', async () => {
    const text = await workerLog(EXAMPLE('smp'), 'smp.yaml');
    const run = ingestAll(text);
    const events = readLog(text).events;
    const dispatches = events.filter((event) => event.type === 'vcpu.running');
    let stretches = 0;
    run.lanes.forEach((lane, pcpu) => {
      for (let index = 0; index < lane.start.length; index++) {
        const end = lane.end.get(index);
        expect(Number.isNaN(end) || end >= lane.start.get(index)).toBe(true);
        if (index > 0) expect(lane.start.get(index)).toBeGreaterThanOrEqual(lane.end.get(index - 1));
      }
      stretches += lane.start.length;
      const onThis = dispatches.filter((event) => event.type === 'vcpu.running' && event.data.pcpu === pcpu);
      expect(lane.start.length).toBe(onThis.length);
      onThis.forEach((event, index) => {
        expect(lane.start.get(index)).toBe(event.t);
        expect(run.vcpus[lane.vcpu.get(index)].id).toBe(event.src);
      });
    });
    expect(stretches).toBe(dispatches.length);
    expect(run.lanes.length).toBe(2);
  });

  it('marks every exit and injected interrupt of a vCPU on the CPU it ran on, and counts exits per VM', async () => {
    const text = await workerLog(EXAMPLE('demo'), 'demo.yaml');
    const run = ingestAll(text);
    const events = readLog(text).events;
    const exits = events.filter((event) => event.type.startsWith('exit.'));
    const injects = events.filter((event) => event.type === 'irq.inject');
    let exitMarks = 0;
    let irqMarks = 0;
    for (const lane of run.lanes) {
      for (let index = 0; index < lane.markTime.length; index++) {
        const event = events[lane.markSeq.get(index)];
        expect(lane.markTime.get(index)).toBe(event.t);
        const kind = lane.markKind.get(index);
        if (kind < EXIT_REASONS.length) {
          expect(event.type).toBe(`exit.${EXIT_REASONS[kind]}`);
          exitMarks++;
        } else if (kind === MARK_IRQ) {
          expect(event.type).toBe('irq.inject');
          irqMarks++;
        }
      }
    }
    expect(exitMarks).toBe(exits.length);
    expect(irqMarks).toBe(injects.length);
    const alpha = run.vms.indexOf('alpha');
    expect(run.exitsByVm[alpha].reduce((a, b) => a + b, 0)).toBe(exits.filter((event) => event.src.startsWith('vm/alpha/')).length);
  });

  it('indexes each VM console so the lines up to any seq are known', async () => {
    const text = await workerLog(EXAMPLE('demo'), 'demo.yaml');
    const run = ingestAll(text);
    const events = readLog(text).events;
    const beta = run.vms.indexOf('beta');
    for (const seq of [0, 500, 1500, run.count - 1]) {
      const expected = events.filter((event) => event.seq <= seq && event.type === 'console.output' && event.src === 'vm/beta/console');
      const lines = run.consoleLinesUpTo(beta, seq);
      expect(lines).toBe(expected.length);
      if (lines > 0) expect(run.consoleText(run.consoleSeqs[beta][lines - 1])).toBe((expected.at(-1) as Extract<SimEvent, { type: 'console.output' }>).data.text);
    }
  });

  it('names the line of a changed log, and warns about a cut one', async () => {
    const text = await workerLog(EXAMPLE('misbehaving'), 'misbehaving.yaml');
    const lines = text.split('\n');
    lines[20] = lines[20].replace('"t":', '"t": ');
    expect(() => ingestAll(lines.join('\n'))).toThrow(LogError);
    expect(() => ingestAll(lines.join('\n'))).toThrow(/:21: /);
    const cut = ingestAll(text.slice(0, Math.floor(text.length / 2)));
    expect(cut.finished).toBe(false);
    expect(cut.warnings.join()).toMatch(/truncated/);
  });
});

describe('time travel uses the replay fold', () => {
  it('gives at every seq the state the replay library (vmmsim inspect) gives, across snapshot boundaries', async () => {
    const text = await workerLog(EXAMPLE('inputs'), 'inputs.yaml');
    const run = ingestAll(text);
    const travel = new TimeTravel(run, 100);
    travel.update();
    const library = openLog(text, 'inputs.jsonl');
    const seqs = [0, 1, 98, 99, 100, 101, 250, 777, run.count - 2, run.count - 1];
    for (const seq of seqs) expect(travel.stateAt(seq), `seq ${seq}`).toEqual(library.stateAt(seq));
    // Forward steps from a state fold only what they pass, and land on the same state.
    let state = travel.stateAt(90);
    for (let seq = 91; seq < 400; seq += 7) {
      state = travel.advance(state, seq);
      expect(state).toEqual(library.stateAt(seq));
    }
    // And backwards.
    expect(travel.advance(travel.stateAt(500), 480)).toEqual(library.stateAt(480));
  });
});

describe('several hosts and a live migration in the page', () => {
  it('runs the hosts example as the CLI does, names each CPU lane\'s host, and folds the migration into the VM', async () => {
    const text = await workerLog(EXAMPLE('hosts'), 'hosts.yaml');
    expect(text).toBe(cliLog(['run', 'examples/hosts.yaml']));
    const run = ingestAll(text);
    expect(run.pcpuHosts).toEqual(['src', 'src', 'dst', 'dst']);
    expect(run.startHostOf('web')).toBe('src');
    expect(run.startHostOf('ticker')).toBe('dst');
    // web runs only on src's CPUs before the migration completes, and only on dst's after.
    const travel = new TimeTravel(run, 100);
    travel.update();
    const end = travel.stateAt(run.count - 1);
    const migration = end.vms.web.migration;
    expect(migration?.state).toBe('completed');
    expect(migration?.from).toBe('src');
    expect(migration?.to).toBe('dst');
    expect(migration?.rounds.length).toBeGreaterThan(1);
    const events = readLog(text).events;
    const completedAt = (events.find((event) => event.type === 'migration.completed') as SimEvent).t;
    const webCpus = (before: boolean) =>
      new Set(events.filter((event) => event.type === 'vcpu.running' && event.src.startsWith('vm/web/') && (event.t < completedAt) === before).map((event) => (event.data as { pcpu: number }).pcpu));
    expect([...webCpus(true)].every((pcpu) => run.pcpuHosts?.[pcpu] === 'src')).toBe(true);
    expect([...webCpus(false)].every((pcpu) => run.pcpuHosts?.[pcpu] === 'dst')).toBe(true);
    expect(webCpus(false).size).toBeGreaterThan(0);
  });

  it('has one host per lane only with several hosts', async () => {
    const run = ingestAll(await workerLog(EXAMPLE('demo'), 'demo.yaml'));
    expect(run.pcpuHosts).toBeUndefined();
    expect(run.startHostOf('alpha')).toBeUndefined();
  });
});

describe('the event list filter', () => {
  it('keeps exactly the events of the VM, type and time asked, also as the run streams in', async () => {
    const text = await workerLog(EXAMPLE('demo'), 'demo.yaml');
    const whole = readLog(text).events;
    const run = new RunData('demo.jsonl');
    const half = Math.floor(text.length / 2);
    run.ingest(text.slice(0, half));
    const alpha = run.vms.indexOf('alpha');
    const filter = { vm: alpha, type: 'exit.*', fromNs: 1_000_000, toNs: 6_000_000 };
    const filtered = new FilteredEvents(run, filter);
    filtered.update();
    run.ingest(text.slice(half));
    filtered.update();
    const expected = whole.filter((event) => event.src.startsWith('vm/alpha/') && event.type.startsWith('exit.') && event.t >= 1_000_000 && event.t <= 6_000_000);
    expect(Array.from({ length: filtered.length }, (_, row) => filtered.seqAt(row))).toEqual(expected.map((event) => event.seq));
    expect(filtered.rowAtOrBefore(expected[3].seq)).toBe(3);
    expect(expected[4].seq - 1).toBeGreaterThanOrEqual(expected[3].seq);
    expect(filtered.rowAtOrBefore(expected[4].seq - 1)).toBe(3);
    const host = new FilteredEvents(run, { vm: NO_VM, type: '', fromNs: 0, toNs: Number.POSITIVE_INFINITY });
    host.update();
    expect(host.length).toBe(whole.filter((event) => !event.src.startsWith('vm/')).length);
    const all = new FilteredEvents(run, { vm: ALL_VMS, type: '', fromNs: 0, toNs: Number.POSITIVE_INFINITY });
    expect(all.isIdentity).toBe(true);
    expect(all.length).toBe(whole.length);
    expect(matchesType('irq.inject', 'irq.*')).toBe(true);
    expect(matchesType('irq.inject', 'exit.*')).toBe(false);
  });
});

describe('the page formats and languages', () => {
  it('parses a point as a seq or a time with a unit', () => {
    expect(parsePoint('123')).toEqual({ seq: 123 });
    expect(parsePoint('5ms')).toEqual({ timeNs: 5_000_000 });
    expect(parsePoint('2.5 us')).toEqual({ timeNs: 2_500 });
    expect(parsePoint('1,5ms')).toEqual({ timeNs: 1_500_000 });
    expect(parsePoint('five')).toBeNull();
    expect(formatData({ pc: 255, port: 1016, text: 'hi' })).toBe('pc=0xff port=1016 text="hi"');
  });

  it('speaks English and Brazilian Portuguese, chosen by ?lang=, the switch, then the browser', () => {
    expect(missingMessages()).toEqual([]);
    expect(detectLanguage('?lang=pt-BR', null, ['en-US'])).toBe('pt-BR');
    expect(detectLanguage('', 'en', ['pt-BR'])).toBe('en');
    expect(detectLanguage('', null, ['pt-BR', 'en'])).toBe('pt-BR');
    expect(detectLanguage('', null, ['de-DE'])).toBe('en');
    setLanguage('pt-BR');
    expect(t('hypervisor')).toBe('Hipervisor');
    expect(t('kernelMode')).toBe('modo núcleo');
    expect(t('userMode')).toBe('modo usuário');
    expect(stateName('running', 'vm')).toBe('em execução');
    expect(stateName('running', 'vcpu')).toBe('executando');
    setLanguage('en');
    expect(t('kernelMode')).toBe('kernel mode');
  });
});
