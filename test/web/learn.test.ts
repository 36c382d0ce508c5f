/**
 * The learner's texts, under Node: every event type of src/core/events.ts has a "what just
 * happened" text in English and Brazilian Portuguese, linked to a section that exists in
 * docs/concepts.md; every reason sentence in src/ has a translation key, and every reason the
 * bundled scenarios produce is translated.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../../src/actors/simulation.js';
import { EVENT_TYPES, type SimEvent } from '../../src/core/events.js';
import { loadScenario } from '../../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { CONCEPTS, headingSlugs, sectionText } from '../../web/src/learn/concepts.js';
import { explain, explainedTypes } from '../../web/src/learn/explain.js';
import { matchReason, REASON_TEMPLATES, templateFor, translateReason } from '../../web/src/learn/reasons.js';
import { reasonSkeletons } from './reasonSources.js';
import { RunData } from '../../web/src/store/runData.js';
import { chartsOf, type BarChart } from '../../web/src/views/chartData.js';
import { compareScenario, resolveScenario, runScenario } from '../../web/src/worker/runScenario.js';
import { compareArchitectures } from '../../src/cli/compareArch.js';
import { setLanguage } from '../../web/src/i18n.js';
import { TOURS } from '../../web/src/learn/tours.js';

const CONCEPTS_MD = readFileSync('docs/concepts.md', 'utf8');
/** The bundled examples a test can run in a second or so each (the long sweeps left out). */
const QUICK_EXAMPLES = readdirSync('examples')
  .filter((name) => name.endsWith('.yaml') && !['mixed.yaml', 'overhead.yaml'].includes(name))
  .sort();

function runEvents(name: string): SimEvent[] {
  const events: SimEvent[] = [];
  const scenario = loadScenario(readFileSync(join('examples', name), 'utf8'), { file: name, guests: BUNDLED_GUEST_NAMES });
  new Simulation({ scenario, sink: (event) => events.push(event) }).run();
  return events;
}

const EVENTS = QUICK_EXAMPLES.flatMap(runEvents);

/** Any field of the data reads as 0: renders a type no bundled run produced, without a hand-written sample. */
const ZEROS = new Proxy({}, { get: (_target, key) => (key === Symbol.toPrimitive ? () => 0 : 0) });

describe('"what just happened"', () => {
  it('has a text for every event type in both languages (types from src/core/events.ts)', () => {
    expect(EVENT_TYPES.length).toBeGreaterThan(50);
    for (const lang of ['en', 'pt-BR'] as const) expect(EVENT_TYPES.filter((type) => !explainedTypes(lang).includes(type)), lang).toEqual([]);
    // The event log's documentation lists the same types (docs/event-log.md), so none is explained from a stale list.
    const documented = new Set([...readFileSync('docs/event-log.md', 'utf8').matchAll(/`([a-z]+\.[a-z-]+)`/g)].map((match) => match[1]));
    expect(EVENT_TYPES.filter((type) => !documented.has(type))).toEqual([]);
  });

  it('renders every type: from the bundled runs where they occur, from empty data otherwise', () => {
    const seen = new Map<string, SimEvent>();
    for (const event of EVENTS) if (!seen.has(event.type)) seen.set(event.type, event);
    expect(seen.size).toBeGreaterThan(35);
    for (const type of EVENT_TYPES) {
      const event = seen.get(type) ?? ({ seq: 0, t: 0, src: 'vm/x/vcpu/0', type, data: ZEROS } as unknown as SimEvent);
      const en = explain(event, 'en');
      const pt = explain(event, 'pt-BR');
      for (const text of [en.text, pt.text]) {
        expect(text.length, type).toBeGreaterThan(20);
        expect(text, type).not.toMatch(/undefined|NaN|\[object/);
      }
      expect(pt.text, type).not.toBe(en.text);
      // Portuguese contracts "em o", "de o", "a o" before the vCPU's name.
      expect(pt.text, type).not.toMatch(/\b(em|de|a) o vCPU/);
      expect(pt.concept).toBe(en.concept);
    }
  });

  it('tells the first trap of the demo in the words of the issue, in both languages', () => {
    const demo = runEvents('demo.yaml');
    const io = demo.find((event) => event.type === 'exit.io' && event.data.port === 0x3f8) as SimEvent;
    expect(explain(io, 'en').text).toMatch(/wrote the character '.' to its console with out\. In a VM this instruction is privileged, so the CPU left the guest \(a VM exit, reason io\).*trap and emulate/);
    expect(explain(io, 'pt-BR').text).toMatch(/escreveu o caractere '.' em seu console com out\. .*saída de VM, motivo io.*trap-and-emulate/);
    expect(explain(io, 'en').concept).toBe('trap');
  });

  it('links every concept to a section that exists in docs/concepts.md', () => {
    const slugs = headingSlugs(CONCEPTS_MD);
    for (const [id, concept] of Object.entries(CONCEPTS)) {
      expect(slugs.has(concept.slug), `${id}: #${concept.slug}`).toBe(true);
      expect(sectionText(CONCEPTS_MD, concept.slug).length, id).toBeGreaterThan(200);
    }
    expect(headingSlugs('## 7. I/O and interrupts\n### `hlt`: blocking and waking')).toEqual(new Set(['7-io-and-interrupts', 'hlt-blocking-and-waking']));
  });
});

describe('every reason translated', () => {
  it('has a key for every reason sentence written in src/ (read from the source)', () => {
    const sources = reasonSkeletons(process.cwd());
    expect(sources.length).toBeGreaterThan(30);
    const missing = sources.filter((source) => templateFor(source.skeleton) === undefined).map((source) => `${source.where}: ${source.skeleton}`);
    expect(missing).toEqual([]);
    // Each template is matched back from an instance of it, and its Portuguese is not the English.
    for (const source of sources) {
      const instance = source.skeleton.replace(/\{\}/g, '7');
      expect(matchReason(instance)?.key, instance).toBe(templateFor(source.skeleton)?.key);
      expect(translateReason(instance, 'pt-BR'), instance).not.toBe(instance);
    }
  });

  it('translates every reason the bundled scenarios produce, parameters included', () => {
    const reasons = new Set<string>();
    for (const event of EVENTS) {
      const data = event.data as { reason?: unknown };
      if (typeof data.reason === 'string' && !['wake', 'start', 'preempt', 'resume', 'idle', 'time', 'instructions', 'stopped'].includes(data.reason)) reasons.add(data.reason);
    }
    expect(reasons.size).toBeGreaterThan(3);
    for (const reason of reasons) {
      expect(matchReason(reason), reason).not.toBeNull();
      expect(translateReason(reason, 'pt-BR'), reason).not.toBe(reason);
      expect(translateReason(reason, 'en')).toBe(reason);
    }
    expect(translateReason("read of guest-physical address 0x3fff0000 outside the VM's memory (EPT violation)", 'pt-BR')).toBe(
      'leitura do endereço físico do convidado 0x3fff0000 fora da memória da VM (violação de EPT)',
    );
    expect(translateReason('a VM that is shutoff cannot shutdown', 'pt-BR')).toBe('uma VM que está desligada não pode desligar');
    expect(translateReason('triple fault: #GP in user mode with no handler installed', 'pt-BR')).toBe('falta tripla: #GP em modo usuário sem tratador instalado');
    expect(translateReason("transmit buffer: guest-physical address 0x10 is outside the VM's memory", 'pt-BR')).toBe(
      'buffer de transmissão: o endereço físico do convidado 0x10 está fora da memória da VM',
    );
  });

  it('has one template per key', () => {
    expect(new Set(REASON_TEMPLATES.map((template) => template.key)).size).toBe(REASON_TEMPLATES.length);
    expect(new Set(REASON_TEMPLATES.map((template) => template.en)).size).toBe(REASON_TEMPLATES.length);
  });
});

async function indexedRun(name: string): Promise<RunData> {
  const chunks: string[] = [];
  await runScenario(resolveScenario(readFileSync(`examples/${name}.yaml`, 'utf8'), `${name}.yaml`), undefined, { log: (text) => chunks.push(text), yieldNow: async () => true });
  const run = new RunData(`${name}.jsonl`);
  run.ingest(chunks.join(''));
  run.close();
  return run;
}

describe('empty data', () => {
  it('shows "no data" / "sem dados" for the wake-up latency of a VM that never woke, never 0', async () => {
    // In the demo no vCPU ever sleeps (they are preempted, never woken); in the smp example some do.
    const demo = await indexedRun('demo');
    const smp = await indexedRun('smp');
    for (const lang of ['en', 'pt-BR'] as const) {
      setLanguage(lang);
      const latency = (run: RunData) => chartsOf(run).find((chart) => chart.title === 'chartLatency') as BarChart;
      const never = latency(demo);
      expect(never.rows.length).toBe(4);
      expect(never.rows.map((row) => row.values.map(never.format))).toEqual(never.rows.map(() => Array(3).fill(lang === 'en' ? 'no data' : 'sem dados')));
      const woke = latency(smp).rows.filter((row) => row.values.some((value) => !Number.isNaN(value)));
      expect(woke.length).toBeGreaterThan(0);
      for (const row of woke) for (const value of row.values) expect(latency(smp).format(value)).toMatch(/^\d[\d.,]* [nµm]?s$/);
    }
    setLanguage('en');
  });
});

describe('guided tours', () => {
  it('finds the event of every step of every tour in its scenario, and tells it in both languages', async () => {
    const runs = new Map<string, RunData>();
    const load = async (name: string) => {
      const cached = runs.get(name);
      if (cached !== undefined) return cached;
      const path = name.startsWith('tour-') ? `web/tours/${name.slice(5)}.yaml` : `examples/${name}.yaml`;
      const chunks: string[] = [];
      await runScenario(resolveScenario(readFileSync(path, 'utf8'), `${name}.yaml`), undefined, { log: (text) => chunks.push(text), yieldNow: async () => true });
      const run = new RunData(`${name}.jsonl`);
      run.ingest(chunks.join(''));
      run.close();
      runs.set(name, run);
      return run;
    };
    expect(TOURS.map((tour) => tour.id)).toEqual(['trap', 'para', 'isolation', 'types', 'scheduling']);
    for (const tour of TOURS) {
      const seen = new Map<string, RunData>();
      let previous = -1;
      for (const [index, step] of tour.steps.entries()) {
        const run = await load(step.scenario);
        seen.set(step.scenario, run);
        const seq = step.at({ run, runs: seen });
        expect(seq, `${tour.id} step ${index + 1}`).toBeGreaterThanOrEqual(0);
        // Steps over one scenario go forward in it.
        if (index > 0 && tour.steps[index - 1].scenario === step.scenario) expect(seq, `${tour.id} step ${index + 1}`).toBeGreaterThan(previous);
        previous = seq;
        for (const lang of ['en', 'pt-BR'] as const) {
          const text = step.text[lang]({ run, runs: seen }, seq);
          expect(text.length).toBeGreaterThan(40);
          expect(text, `${tour.id} ${index + 1} ${lang}`).not.toMatch(/undefined|NaN|\?|""/);
        }
      }
    }
    // The paravirtualization tour compares two VMs with the same output and far fewer exits.
    const paraRun = await load('tour-para');
    const lines = (vm: string) => paraRun.consoleSeqs[paraRun.vms.indexOf(vm)].map((seq) => paraRun.consoleText(seq)).filter((line) => line.startsWith('task'));
    // The same lines; their order depends on where the timer ticks fall, which differs with the exits' costs.
    expect(lines('para').sort()).toEqual(lines('full').sort());
    expect(lines('para').length).toBe(4);
    const exits = (vm: string) => paraRun.exitsByVm[paraRun.vms.indexOf(vm)].reduce((a, b) => a + b, 0);
    expect(exits('para') * 5).toBeLessThan(exits('full'));
  });
});

describe('compare in the page', () => {
  it("gives the CLI's rows of vmmsim compare --arch type1,type2 --virt full,para,hw (demo)", () => {
    const text = readFileSync('examples/demo.yaml', 'utf8');
    const rows = compareScenario(text, 'demo.yaml', ['type1', 'type2'], ['full', 'para', 'hw']);
    expect(JSON.parse(JSON.stringify(rows))).toEqual(JSON.parse(JSON.stringify(compareArchitectures('examples/demo.yaml', { arch: 'type1,type2', virt: 'full,para,hw' }))));
    expect(rows.map((row) => row.config)).toEqual(['bare machine', 'type1/full', 'type1/para', 'type1/hw', 'type2/full', 'type2/para', 'type2/hw']);
    // Paravirtualization takes fewer exits than trap and emulate for the kernel VMs.
    const exits = (config: string, vm: string) => rows.find((row) => row.config === config)?.vms.find((entry) => entry.vm === vm)?.exits ?? Number.NaN;
    expect(exits('type1/para', 'alpha')).toBeLessThan(exits('type1/full', 'alpha'));
  });
});
