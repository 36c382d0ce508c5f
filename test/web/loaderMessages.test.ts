/**
 * Every message the loader can produce has its Brazilian Portuguese (web/src/learn/loaderMessages.ts):
 * every message skeleton written in the loader's source has a template (read from the source, as
 * learn.test.ts reads the reasons), each template renders an instance of itself in Portuguese
 * with its numbers and names, and a corpus of broken scenarios, traces, workload files and logs
 * fed through the real readers comes out in Portuguese, numbers and names kept, English as it was.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario, ScenarioError } from '../../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { parseTrace } from '../../src/guests/workloads.js';
import { parseColumn } from '../../src/actors/workload/driver.js';
import { readLog } from '../../src/core/log/reader.js';
import { assemble, AssemblyError } from '../../src/core/isa/assembler.js';
import { LOADER_TEMPLATES, loaderTemplateFor, translateLoaderMessage, translateLoaderText } from '../../web/src/learn/loaderMessages.js';
import { loaderSkeletons, yamlLibrarySkeletons, zodLocaleSkeletons } from './loaderSources.js';

/** The numbers and quoted names of a message: what its translation must carry over. */
function carried(text: string): string[] {
  return [...(text.match(/'(?:[^'\\]|\\.)*'|"[^"]*"|\d+(?:\.\d+)?/g) ?? [])];
}

/**
 * English words left in a translation outside the parts carried over as written (quoted text, key
 * lists): a sign of a template that matched a sentence it was not written for.
 */
const ENGLISH_WORDS = /(?<![\p{L}\d_])(the|such|expected|got|must|with|of|and|is|are|not|an|to|from|at|in|or|one|found|than)(?![\p{L}\d_])/gu;
function englishLeft(portuguese: string): string[] {
  const outsideQuotes = portuguese.replace(/'(?:[^'\\]|\\.)*'|"[^"]*"/g, '').replace(/\(esperava-se uma? de: [^)]*\)|um de: [^)]*\)|dentre: [^;]*;/g, '');
  return outsideQuotes.match(ENGLISH_WORDS) ?? [];
}

function expectTranslated(english: string): string {
  const portuguese = translateLoaderMessage(english, 'pt-BR');
  expect(portuguese, english).not.toBe(english);
  for (const part of carried(english)) expect(portuguese, `${english}\n  lost ${part}`).toContain(part);
  expect(translateLoaderMessage(english, 'en')).toBe(english);
  expect(englishLeft(portuguese), `${english}\n  ${portuguese}`).toEqual([]);
  return portuguese;
}

/** Words whose Portuguese is the English (a part of other messages, never a message alone). */
const SAME_IN_PORTUGUESE = new Set(['bytes']);

/** An instance of a template: each hole filled with something of its kind. */
function instance(skeleton: string, holes = ''): string {
  let index = 0;
  return skeleton.replace(/\{\}/g, () => {
    const kind = holes[index] ?? 'k';
    index++;
    if (kind === 't') return 'a duration';
    if (kind === 'v') return `'v${index}'`;
    if (kind === 's') return `; did you mean 'w${index}'?`;
    if (kind === 'p') return 's';
    if (kind === 'c') return '>=';
    if (kind === 'w') return `w${index}`;
    if (kind === 'l') return 'register, memory';
    if (kind === 'q') return `"q${index}"`;
    return String(70 + index);
  });
}

describe('every loader message translated', () => {
  it('has a template for every message skeleton written in the loader, the readers and the page (read from the source)', () => {
    const sources = loaderSkeletons(process.cwd());
    expect(sources.length).toBeGreaterThan(150);
    const missing = sources.filter((source) => loaderTemplateFor(source.skeleton) === undefined).map((source) => `${source.where}: ${source.skeleton}`);
    expect(missing).toEqual([]);
  });

  it("has a template for every message of the yaml library and of zod's English locale (read from node_modules)", () => {
    const yaml = yamlLibrarySkeletons(process.cwd());
    const zod = zodLocaleSkeletons(process.cwd());
    expect(yaml.length).toBeGreaterThan(50);
    expect(zod.length).toBeGreaterThan(15);
    const missing = [...yaml, ...zod].filter((source) => loaderTemplateFor(source.skeleton) === undefined).map((source) => `${source.where}: ${source.skeleton}`);
    expect(missing).toEqual([]);
  });

  it('renders an instance of every template in Portuguese, with its numbers and names', () => {
    for (const template of LOADER_TEMPLATES) {
      if (SAME_IN_PORTUGUESE.has(template.en)) continue;
      expectTranslated(instance(template.en, template.holes));
    }
    expect(new Set(LOADER_TEMPLATES.map((template) => template.en)).size).toBe(LOADER_TEMPLATES.length);
  });

  const BASE = ['name: t', 'host:', '  pcpus: 2', '  memory: 16MiB', 'run:', '  time: 1ms', 'vms:', '  - name: a', '    guest: ticker', '    memory: 64KiB'];
  const base = (...extra: string[]): string => [...BASE, ...extra].join('\n');
  const replace = (from: string, to: string): string => base().replace(from, to);
  /** Broken scenarios, each a kind of problem the loader reports. */
  const CORPUS: readonly (readonly [string, string])[] = [
    ['missing key', 'host:\n  pcpus: 2\nvms:\n  - guest: ticker\n'],
    ['wrong type', replace('pcpus: 2', 'pcpus: two')],
    ['wrong type (list for a map)', replace('run:\n  time: 1ms', 'run: [1, 2, 3]')],
    ['empty value', replace('pcpus: 2', 'pcpus:')],
    ['unknown key', replace('memory: 64KiB', 'memroy: 64KiB')],
    ['unknown key at the top', base('sede: 3')],
    ['bad unit', replace('time: 1ms', 'time: 5 parsecs')],
    ['negative duration', replace('time: 1ms', 'time: -5ms')],
    ['fraction of a nanosecond', replace('time: 1ms', 'time: 1.5ns')],
    ['duration out of range', replace('time: 1ms', 'time: 9999999999999999999s')],
    ['bad size', replace('memory: 64KiB', 'memory: 64KB')],
    ['size not a page multiple', replace('memory: 64KiB', 'memory: 65000')],
    ['size out of range', replace('memory: 16MiB', 'memory: 1B')],
    ['bad enum value', base('scheduler:', '  policy: credits')],
    ['bad enum value (virt)', replace('memory: 64KiB', 'memory: 64KiB\n    virt: fast')],
    ['bad attach mode', replace('memory: 64KiB', 'memory: 64KiB\n    devices: { nic: virtio }')],
    ['unknown guest', replace('guest: ticker', 'guest: tickr')],
    ['no guest', replace('guest: ticker', 'vcpus: 1')],
    ['two guests', replace('guest: ticker', 'guest: ticker\n    source: "hlt"')],
    ['bad parameter name', replace('memory: 64KiB', 'memory: 64KiB\n    params: { r1: 3 }')],
    ['bad VM name', replace('name: a', 'name: Alpha')],
    ['duplicate VM name', base('  - name: a', '    guest: ticker')],
    ['integer out of range', replace('pcpus: 2', 'pcpus: 1000')],
    ['too many VMs', base().replace('vms:', 'vms: []')],
    ['boolean', replace('memory: 64KiB', 'memory: 64KiB\n    autostart: maybe')],
    ['string for a number', replace('memory: 64KiB', 'memory: [1]')],
    ['fraction', replace('memory: 16MiB', 'memory: 16MiB\n  overcommit: true\n  ballooning: { below: 2 }')],
    ['ballooning without overcommit', replace('memory: 16MiB', 'memory: 16MiB\n  ballooning: { below: 5% }')],
    ['posted interrupts without hw', replace('memory: 64KiB', 'memory: 64KiB\n    postedInterrupts: true')],
    ['memory adds up', replace('memory: 64KiB', 'memory: 32MiB')],
    ['pinned CPU out of range', replace('memory: 64KiB', 'memory: 64KiB\n    sched: { pcpu: 5 }')],
    ['rtds budget above period', base('scheduler:', '  policy: rtds').replace('memory: 64KiB', 'memory: 64KiB\n    sched: { budget: 5ms, period: 1ms }')],
    ['cpupools: a pCPU in two pools, a pCPU in none', base('cpupools: [{ name: Pool-0, cpus: [0] }, { name: b, cpus: [0] }]')],
    ['cpupools: unknown pool', base('cpupools: [{ name: Pool-0, cpus: [0, 1] }]').replace('memory: 64KiB', 'memory: 64KiB\n    pool: Pool-1')],
    ['cpupools: pool without cpupools', replace('memory: 64KiB', 'memory: 64KiB\n    pool: rt')],
    ['arinc653 frame', base('scheduler:', '  policy: arinc653', '  frame: [{ vm: b, duration: 1ms }, { vm: a, vcpu: 3, duration: 1ms }]')],
    ['YAML syntax error', replace('  pcpus: 2', '  pcpus: [2')],
    ['YAML syntax error (map)', replace('  time: 1ms', '  time: 1ms\n time2 x')],
    ['YAML quote', replace('name: t', 'name: "t')],
    ['tab indentation', replace('  pcpus: 2', '\tpcpus: 2')],
    ['duplicate key', replace('  pcpus: 2', '  pcpus: 2\n  pcpus: 3')],
    ['unknown tag', replace('pcpus: 2', 'pcpus: !!set { a }')],
    ['unknown local tag', replace('pcpus: 2', 'pcpus: !weird 2')],
    ['unknown alias', replace('pcpus: 2', 'pcpus: *nothing')],
    ['forbidden key', base('__proto__: 1')],
    ['collection as key', base('? [a]', ': 1')],
    ['two documents', `${base()}\n---\nname: u\n`],
    ['empty file', ''],
    ['nested too deep', `name: ${'['.repeat(70)}${']'.repeat(70)}`],
    ['too large', `# ${'x'.repeat((1 << 20) + 10)}\n`],
    ['too many entries', `${'#\n'.repeat(64_010)}name: t\n`],
    ['inputs', base('inputs:', '  - { at: 1ms, vm: b, console: "x" }', '  - { at: 1ms, vm: a }', '  - { at: 1ms, vm: a, fault: vcpu-stall, vcpu: 4 }', '  - { at: 1ms, vm: a, fault: device-error }')],
    ['inputs (kinds)', base('inputs:', '  - { at: 1ms, vm: a, fault: melt }', '  - { at: 1ms, vm: a, console: "x", duration: 1ms }')],
    ['workload', replace('memory: 64KiB', 'memory: 64KiB\n    workload: { arrivals: { process: poisson, rate: -1 }, requests: [{ kind: cpu, size: { dist: uniform, min: 5, max: 1 } }], queue: 0 }')],
    ['workload (kinds)', replace('memory: 64KiB', 'memory: 64KiB\n    workload: { arrivals: { process: sometimes }, requests: [{ kind: nap, size: { dist: deterministic, value: fast } }] }')],
    ['workload (zod)', replace('memory: 64KiB', 'memory: 64KiB\n    workload: { arrivals: { process: mmpp, rates: [0, 0], holds: [1ms, 1ms] }, requests: [], limit: x, extra: 1 }')],
  ];

  it('translates what the real loader says about a corpus of broken scenarios, numbers and names kept', () => {
    const seen = new Set<string>();
    for (const [what, text] of CORPUS) {
      let error: unknown;
      try {
        loadScenario(text, { file: 'broken.yaml', guests: BUNDLED_GUEST_NAMES });
      } catch (caught) {
        error = caught;
      }
      expect(error, what).toBeInstanceOf(ScenarioError);
      const scenarioError = error as ScenarioError;
      for (const diagnostic of scenarioError.diagnostics) {
        seen.add(diagnostic.message);
        expectTranslated(diagnostic.message);
      }
      // The status line's text: every line keeps its file:line:col and path, and is translated.
      const lines = translateLoaderText(scenarioError.message, 'pt-BR').split('\n');
      scenarioError.message.split('\n').forEach((line, index) => {
        expect(lines[index], line).not.toBe(line);
        const prefix = /^broken\.yaml:\d+:\d+: /.exec(line)?.[0] ?? 'broken.yaml: ';
        expect(lines[index].startsWith(prefix), `${line}\n${lines[index]}`).toBe(true);
      });
    }
    expect(seen.size).toBeGreaterThan(50);
  });

  it('translates the trace, workload file and log readers', () => {
    const messages: string[] = [];
    const catching = (read: () => unknown): void => {
      try {
        read();
      } catch (error) {
        messages.push((error as Error).message);
      }
    };
    for (const csv of ['burst_ns,sleep_ns\n1,2,3\n', '5,x\n', '0,0\n', '# nothing\n', `${'1,1\n'.repeat(4100)}`]) catching(() => parseTrace(csv));
    for (const csv of ['1ms\nfast\n', '\n', '-1\n']) catching(() => parseColumn(csv, 'arrivals.csv', 'duration'));
    for (const log of ['', 'not json\n', '{"format":"other"}\n', '\uFEFF{}\n']) catching(() => readLog(log, 'run.jsonl'));
    expect(messages.length).toBeGreaterThanOrEqual(11);
    for (const message of messages) {
      const portuguese = translateLoaderText(message, 'pt-BR');
      expect(portuguese, message).not.toBe(message);
      for (const part of carried(message)) expect(portuguese, `${message}\n  lost ${part}`).toContain(part);
    }
  });

  it("translates what the assembler says about a guest's broken source (a VM's inline source: or program:)", () => {
    const PROGRAMS = [
      'mvo r1, 3',
      'movi r9, 1',
      'movi r1',
      'ld r1, r2',
      'movi r1, 0xZZ',
      '.foo 3',
      'jmp nowhere',
      "movi r1, 'ab'",
      "movi r1, ''",
      '.string 5',
      'a:\na:\nhlt',
      'movi r1, (1 + 2',
      'movi r1, 1 2',
      '.word',
      'r1:\nhlt',
      'movi r1, 99999999999',
      'movi r1, "abc',
      'movi r1, \'\\q\'',
      'csrw nocsr, r1',
      '.equ X X\nmovi r1, X',
      '.org 16\n.org 0',
      'ld r1, []',
      'ld r1, [r2',
      'movi r1, $',
      'hlt ,',
    ];
    const seen = new Set<string>();
    for (const program of PROGRAMS) {
      let error: unknown;
      try {
        assemble(program, { file: 'guest.s' });
      } catch (caught) {
        error = caught;
      }
      expect(error, program).toBeInstanceOf(AssemblyError);
      for (const diagnostic of (error as AssemblyError).diagnostics) {
        seen.add(diagnostic.message);
        expectTranslated(diagnostic.message);
      }
      // The status line's text after Run: each line keeps its guest.s:line:col.
      const text = (error as AssemblyError).message;
      const lines = translateLoaderText(text, 'pt-BR').split('\n');
      text.split('\n').forEach((line, index) => {
        expect(lines[index], line).not.toBe(line);
        expect(lines[index].startsWith(/^guest\.s:\d+:\d+: /.exec(line)?.[0] ?? '-'), lines[index]).toBe(true);
      });
    }
    expect(seen.size).toBeGreaterThan(18);
  });

  it('keeps the English of a message no template renders whole, never half of each', () => {
    expect(translateLoaderMessage('the moon is made of cheese', 'pt-BR')).toBe('the moon is made of cheese');
    // A known frame around an unknown part: the whole message stays English.
    expect(translateLoaderMessage('expected a warp drive, got 5', 'pt-BR')).toBe('expected a warp drive, got 5');
    expect(translateLoaderMessage('invalid YAML: the parser is tired', 'pt-BR')).toBe('invalid YAML: the parser is tired');
    expect(translateLoaderText('broken.yaml:3:7: vms[0].memory: something new', 'pt-BR')).toBe('broken.yaml:3:7: vms[0].memory: something new');
    // Only a location or a path in front is kept as written: not an English sentence.
    expect(translateLoaderText('the moon is made of: Invalid input', 'pt-BR')).toBe('the moon is made of: Invalid input');
    expect(translateLoaderText('broken.yaml:3:7: vms[0].memory: Invalid input', 'pt-BR')).toBe('broken.yaml:3:7: vms[0].memory: Entrada inválida');
    expect(translateLoaderText('Flow map: unknown words', 'pt-BR')).toBe('Flow map: unknown words');
  });

  it('renders known messages as a reader would write them', () => {
    expect(translateLoaderMessage("unknown key 'memroy' (expected one of: name, vcpus, memory); did you mean 'memory'?", 'pt-BR')).toBe(
      "chave desconhecida 'memroy' (esperava-se uma de: name, vcpus, memory); você quis dizer 'memory'?",
    );
    expect(translateLoaderMessage('expected an integer from 1 to 64, got a list of 3 items', 'pt-BR')).toBe('esperava-se um inteiro de 1 a 64; encontrado: uma lista de 3 itens');
    expect(translateLoaderMessage('expected a duration such as 500us, 20ms or 1s, got \'5 parsecs\'', 'pt-BR')).toBe(
      "esperava-se uma duração como 500us, 20ms ou 1s; encontrado: '5 parsecs'",
    );
    expect(translateLoaderText("broken.yaml:3:3: host: duplicate key 'pcpus': each key may appear only once in a map", 'pt-BR')).toBe(
      "broken.yaml:3:3: host: chave duplicada 'pcpus': cada chave pode aparecer só uma vez num mapa",
    );
    expect(translateLoaderText('broken.yaml:2:10: invalid YAML: Implicit map keys need to be followed by map values', 'pt-BR')).toBe(
      'broken.yaml:2:10: YAML inválido: chaves implícitas de mapa precisam ser seguidas de valores',
    );
  });
});
