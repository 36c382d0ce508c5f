import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { COST_NAMES } from '../../src/core/costs.js';
import {
  POLICY_NAMES,
  ScenarioError,
  formatDuration,
  formatBytes,
  loadScenario,
  resolveScenarioObject,
  scenarioJsonSchema,
  scenarioToSource,
  type Scenario,
} from '../../src/core/scenario/index.js';

const GUESTS = ['kernel', 'idle', 'echo'] as const;
const OPTIONS = { file: 'demo.yaml', guests: GUESTS };
const MiB = 1024 * 1024;

function load(text: string): Scenario {
  return loadScenario(text, OPTIONS);
}

/** The error lines of loading `lines` (joined with newlines), or [] when it loads. */
function errorsOf(...lines: string[]): string[] {
  try {
    load(lines.join('\n') + '\n');
    return [];
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    expect(error.message.split('\n')).toEqual(
      error.diagnostics.map((d) => `${d.file}:${d.line}:${d.column}: ${d.path === '' ? '' : `${d.path}: `}${d.message}`),
    );
    return error.message.split('\n');
  }
}

const MINIMAL = ['name: demo', 'vms:', '  - name: alpha', '    guest: kernel'];

const MINIMAL_RESOLVED: Scenario = {
  name: 'demo',
  description: undefined,
  seed: 1,
  host: { pcpus: 2, memoryBytes: 64 * MiB, type: 'type1', load: 0 },
  scheduler: { policy: 'round-robin', quantumNs: 1_000_000 },
  run: { timeNs: 20_000_000, instructions: undefined, checkpointEvery: undefined, smpQuantumNs: 1_000 },
  costs: {},
  vms: [
    {
      name: 'alpha',
      vcpus: 1,
      memoryBytes: 65_536,
      guest: { kind: 'bundled', name: 'kernel' },
      params: {},
      startNs: 0,
      autostart: true,
      sched: { weight: 256, cap: 0 },
      virt: 'full',
      postedInterrupts: false,
      paging: 'shadow',
      tlbEntries: 64,
      devices: { block: 'emulated', nic: 'emulated' },
    },
  ],
  inputs: [],
};

describe('loadScenario: good files', () => {
  it('lets VMs add up to more than the host memory with host.overcommit: true', () => {
    const s = load(['host: { memory: 1MiB, overcommit: true }', 'name: demo', 'vms:', '  - { name: a, guest: idle, memory: 768KiB }', '  - { name: b, guest: idle, memory: 768KiB }'].join('\n'));
    expect(s.host.overcommit).toBe(true);
    expect(s.vms.map((vm) => vm.memoryBytes)).toEqual([768 * 1024, 768 * 1024]);
  });

  it('applies every default', () => {
    expect(load(MINIMAL.join('\n'))).toStrictEqual(MINIMAL_RESOLVED);
  });

  it('keeps the key order of the Scenario interface', () => {
    const s = load(MINIMAL.join('\n'));
    expect(Object.keys(s)).toEqual(['name', 'description', 'seed', 'host', 'scheduler', 'run', 'costs', 'vms', 'inputs']);
    expect(Object.keys(s.host)).toEqual(['pcpus', 'memoryBytes', 'type', 'load']);
    expect(Object.keys(s.scheduler)).toEqual(['policy', 'quantumNs']);
    expect(Object.keys(s.run)).toEqual(['timeNs', 'instructions', 'checkpointEvery', 'smpQuantumNs']);
    expect(Object.keys(s.vms[0])).toEqual(['name', 'vcpus', 'memoryBytes', 'guest', 'params', 'startNs', 'autostart', 'sched', 'virt', 'postedInterrupts', 'paging', 'tlbEntries', 'devices']);
    expect(Object.keys(s.vms[0].sched)).toEqual(['weight', 'cap']);
  });

  it('converts units and resolves every kind of guest', () => {
    const s = load(
      [
        '# yaml-language-server: $schema=../schema/scenario.schema.json',
        'name: full',
        'description: Three guests',
        'seed: 42',
        'host:',
        '  pcpus: 4',
        '  memory: 1GiB',
        'scheduler:',
        '  policy: round-robin',
        '  quantum: 250 us',
        'run:',
        '  time: 1.5s',
        '  instructions: 1000000',
        '  checkpointEvery: 500',
        'costs:',
        '  timerJitter: 0',
        '  exit: 1us',
        '  instruction: 2',
        'vms:',
        '  - name: alpha',
        '    vcpus: 2',
        '    memory: 4MiB',
        '    guest: kernel',
        '    params: { TICKS: 20, A_1: -5, _B: 4294967295 }',
        '    start: 0.5ms',
        '    autostart: false',
        '    sched: { weight: 512, cap: 150 }',
        '  - name: beta-2',
        '    memory: 8192',
        '    program: guests/mine.asm',
        '  - name: gamma',
        '    source: |',
        "      movi r1, 'x'",
        '      hlt',
        '    start: 2000',
      ].join('\n'),
    );
    expect(s).toStrictEqual({
      name: 'full',
      description: 'Three guests',
      seed: 42,
      host: { pcpus: 4, memoryBytes: 1024 * MiB, type: 'type1', load: 0 },
      scheduler: { policy: 'round-robin', quantumNs: 250_000 },
      run: { timeNs: 1_500_000_000, instructions: 1_000_000, checkpointEvery: 500, smpQuantumNs: 1_000 },
      costs: { instructionNs: 2, exitNs: 1_000, timerJitterNs: 0 },
      vms: [
        {
          name: 'alpha',
          vcpus: 2,
          memoryBytes: 4 * MiB,
          guest: { kind: 'bundled', name: 'kernel' },
          params: { A_1: -5, TICKS: 20, _B: 4_294_967_295 },
          startNs: 500_000,
          autostart: false,
          sched: { weight: 512, cap: 150 },
          virt: 'full',
          postedInterrupts: false,
          paging: 'shadow',
          tlbEntries: 64,
          devices: { block: 'emulated', nic: 'emulated' },
        },
        {
          name: 'beta-2',
          vcpus: 1,
          memoryBytes: 8192,
          guest: { kind: 'file', path: 'guests/mine.asm' },
          params: {},
          startNs: 0,
          autostart: true,
          sched: { weight: 256, cap: 0 },
          virt: 'full',
          postedInterrupts: false,
          paging: 'shadow',
          tlbEntries: 64,
          devices: { block: 'emulated', nic: 'emulated' },
        },
        {
          name: 'gamma',
          vcpus: 1,
          memoryBytes: 65_536,
          guest: { kind: 'inline', source: "movi r1, 'x'\nhlt\n", line: 33 },
          params: {},
          startNs: 2_000,
          autostart: true,
          sched: { weight: 256, cap: 0 },
          virt: 'full',
          postedInterrupts: false,
          paging: 'shadow',
          tlbEntries: 64,
          devices: { block: 'emulated', nic: 'emulated' },
        },
      ],
      inputs: [],
    });
    // Costs come in COST_NAMES order whatever the order in the file; params sorted by name.
    expect(Object.keys(s.costs)).toEqual(['instructionNs', 'exitNs', 'timerJitterNs']);
    expect(Object.keys(s.vms[0].params)).toEqual(['A_1', 'TICKS', '_B']);
  });

  it('gives the line where inline source starts, for block and flow scalars', () => {
    const lineOf = (yaml: string[]) => {
      const guest = load(yaml.join('\n')).vms[0].guest;
      return guest.kind === 'inline' ? guest.line : undefined;
    };
    expect(lineOf(['name: demo', 'vms:', '  - name: alpha', '    source: |', '      hlt'])).toBe(5);
    expect(lineOf(['name: demo', 'vms:', '  - name: alpha', '    source: |-  # comment', '', '      hlt'])).toBe(5);
    expect(lineOf(['name: demo', 'vms:', '  - name: alpha', '    source: >', '      hlt'])).toBe(5);
    expect(lineOf(['name: demo', 'vms:', '  - name: alpha', '    source: "hlt"'])).toBe(4);
    expect(lineOf(['name: demo', 'vms:', '  - name: alpha', '    source:', '      hlt'])).toBe(5);
    // An explicit sourceLine (as written by scenarioToSource) wins.
    expect(lineOf(['name: demo', 'vms:', '  - name: alpha', '    source: hlt', '    sourceLine: 77'])).toBe(77);
  });

  it('follows anchors, aliases and merge keys', () => {
    const s = load(
      [
        'name: demo',
        'vms:',
        '  - &base { name: alpha, guest: kernel, memory: 128KiB, params: { N: 1 } }',
        '  - <<: *base',
        '    name: beta',
        '  - <<: *base',
        '    name: gamma',
        '    memory: 4KiB',
      ].join('\n'),
    );
    expect(s.vms.map((vm) => [vm.name, vm.memoryBytes, vm.params.N])).toEqual([
      ['alpha', 131_072, 1],
      ['beta', 131_072, 1],
      ['gamma', 4096, 1],
    ]);
  });

  it('loads 4096 VMs that all merge one anchor (no false alias-bomb alarm)', () => {
    const vms = Array.from({ length: 4095 }, (_, i) => `  - <<: *base\n    name: vm${i}`);
    const s = load(['name: big', 'vms:', '  - &base { name: base, guest: idle, memory: 4KiB }', ...vms].join('\n'));
    expect(s.vms).toHaveLength(4096);
    expect(s.vms[4095]).toMatchObject({ name: 'vm4094', memoryBytes: 4096, guest: { kind: 'bundled', name: 'idle' } });
  });

  it('returns a deeply frozen scenario', () => {
    const s = load(MINIMAL.join('\n'));
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.vms[0].sched)).toBe(true);
    expect(Object.isFrozen(s.vms[0].guest)).toBe(true);
  });

  it('accepts the upper limits', () => {
    expect(
      errorsOf(
        'name: demo',
        'seed: 4294967295',
        'host: { pcpus: 256, memory: 1024GiB }',
        'scheduler: { quantum: 10s }',
        'run: { time: 2592000s, instructions: 9007199254740991, checkpointEvery: 10000000 }',
        'vms:',
        '  - { name: a234567890123456789012345678901b, vcpus: 64, memory: 1GiB, guest: idle, sched: { weight: 65535, cap: 25600 } }',
      ),
    ).toEqual([]);
  });
});

describe('loadScenario: errors', () => {
  const VM_KEYS = 'name, vcpus, memory, guest, program, image, trace, source, sourceLine, params, start, autostart, sched, pool, host, numa, virt, postedInterrupts, paging, tlbEntries, tlbTagged, devices, workload';

  it.each<[string, string[], string[]]>([
    [
      'unknown top-level key, with a suggestion',
      ['name: demo', 'hots:', '  pcpus: 2', ...MINIMAL.slice(1)],
      [
        "demo.yaml:2:1: hots: unknown key 'hots' (expected one of: name, description, profile, seed, host, scheduler, cpupools, hosts, links, run, costs, vms, inputs); did you mean 'host'?",
      ],
    ],
    [
      'unknown VM key, with a suggestion',
      [...MINIMAL, '    memroy: 64KiB'],
      [`demo.yaml:5:5: vms[0].memroy: unknown key 'memroy' (expected one of: ${VM_KEYS}); did you mean 'memory'?`],
    ],
    ['unknown VM key, no suggestion', [...MINIMAL, '    colour: red'], [`demo.yaml:5:5: vms[0].colour: unknown key 'colour' (expected one of: ${VM_KEYS})`]],
    [
      'two unknown keys in one map',
      [...MINIMAL, '    sched: { wieght: 3, cpa: 1 }'],
      [
        "demo.yaml:5:14: vms[0].sched.wieght: unknown key 'wieght' (expected one of: weight, cap, budget, period, extratime, pcpu, affinity); did you mean 'weight'?",
        "demo.yaml:5:25: vms[0].sched.cpa: unknown key 'cpa' (expected one of: weight, cap, budget, period, extratime, pcpu, affinity); did you mean 'cap'?",
      ],
    ],
    [
      'unknown cost',
      ['name: demo', 'costs:', '  exitNs: 1us', ...MINIMAL.slice(1)],
      [
        `demo.yaml:3:3: costs.exitNs: unknown key 'exitNs' (expected one of: ${COST_NAMES.map((n) => n.slice(0, -2)).join(', ')}); did you mean 'exit'?`,
      ],
    ],
    ['missing name', MINIMAL.slice(1), ["demo.yaml:1:1: name: missing required key 'name'"]],
    ['missing vms', ['# a scenario', 'name: demo'], ["demo.yaml:2:1: vms: missing required key 'vms'"]],
    ['missing VM name', ['name: demo', 'vms:', '  - guest: kernel'], ["demo.yaml:3:5: vms[0].name: missing required key 'name'"]],
    ['empty name', ['name: ""', ...MINIMAL.slice(1)], ['demo.yaml:1:7: name: expected a non-empty string, got an empty string']],
    ['name of the wrong type', ['name: [a]', ...MINIMAL.slice(1)], ['demo.yaml:1:7: name: expected a non-empty string, got a list of 1 item']],
    ['seed out of range', ['seed: -1', ...MINIMAL], ['demo.yaml:1:7: seed: expected an integer from 0 to 4294967295, got -1']],
    ['seed not an integer', ['seed: 1.5', ...MINIMAL], ['demo.yaml:1:7: seed: expected an integer from 0 to 4294967295, got 1.5']],
    ['pcpus 0', ['host: { pcpus: 0 }', ...MINIMAL], ['demo.yaml:1:16: host.pcpus: expected an integer from 1 to 256, got 0']],
    ['pcpus empty', ['host:', '  pcpus:', ...MINIMAL], ['demo.yaml:2:9: host.pcpus: expected an integer from 1 to 256, got an empty value']],
    ['host not a map', ['host: big', ...MINIMAL], ["demo.yaml:1:7: host: expected a map of host settings (key: value pairs), got 'big'"]],
    ['host memory too small', ['host: { memory: 512KiB }', ...MINIMAL], ["demo.yaml:1:17: host.memory: expected a size from 1MiB to 1024GiB, got '512KiB'"]],
    [
      'policy unknown',
      ['scheduler: { policy: round-robn }', ...MINIMAL],
      ["demo.yaml:1:22: scheduler.policy: expected a scheduling policy, one of: round-robin, credit, credit2, cfs, rtds, null, arinc653, gang, got 'round-robn'; did you mean 'round-robin'?"],
    ],
    [
      'quantum not a duration',
      ['scheduler:', '  quantum: soon', ...MINIMAL],
      ["demo.yaml:2:12: scheduler.quantum: expected a duration such as 500us, 20ms or 1s, got 'soon'"],
    ],
    ['quantum too long', ['scheduler:', '  quantum: 20s', ...MINIMAL], ["demo.yaml:2:12: scheduler.quantum: expected a duration from 1us to 10s, got '20s'"]],
    ['quantum too short (ns)', ['scheduler:', '  quantum: 500', ...MINIMAL], ['demo.yaml:2:12: scheduler.quantum: expected a duration from 1us to 10s, got 500']],
    ['quantum a boolean', ['scheduler:', '  quantum: true', ...MINIMAL], ['demo.yaml:2:12: scheduler.quantum: expected a duration such as 500us, 20ms or 1s, got true']],
    ['quantum in KB', ['scheduler:', '  quantum: 1KB', ...MINIMAL], ["demo.yaml:2:12: scheduler.quantum: expected a duration such as 500us, 20ms or 1s, got '1KB'"]],
    ['fractional ns', ['scheduler:', '  quantum: 1.0000005ms', ...MINIMAL], ["demo.yaml:2:12: scheduler.quantum: expected a whole number of nanoseconds, got '1.0000005ms'"]],
    ['run time too long', ['run:', '  time: 2592001s', ...MINIMAL], ["demo.yaml:2:9: run.time: expected a duration from 1ns to 2592000s, got '2592001s'"]],
    ['run time huge', ['run:', '  time: 99999999999s', ...MINIMAL], ["demo.yaml:2:9: run.time: expected a duration from 1ns to 2592000s, got '99999999999s'"]],
    ['instructions 0', ['run:', '  instructions: 0', ...MINIMAL], ['demo.yaml:2:17: run.instructions: expected a positive integer, got 0']],
    ['checkpointEvery', ['run:', '  checkpointEvery: 99', ...MINIMAL], ['demo.yaml:2:20: run.checkpointEvery: expected an integer from 100 to 10000000, got 99']],
    ['cost out of range', ['costs: { instruction: 0, exit: 2s }', ...MINIMAL], [
      'demo.yaml:1:23: costs.instruction: expected a duration from 1ns to 1s, got 0',
      "demo.yaml:1:32: costs.exit: expected a duration of at most 1s, got '2s'",
    ]],
    ['no VMs', ['name: demo', 'vms: []'], ['demo.yaml:2:6: vms: expected a list of 1 to 4096 VMs, got an empty list']],
    ['vms not a list', ['name: demo', 'vms: { name: a }'], ['demo.yaml:2:6: vms: expected a list of 1 to 4096 VMs, got a map']],
    ['VM not a map', ['name: demo', 'vms:', '  - alpha'], ["demo.yaml:3:5: vms[0]: expected a map of VM settings (key: value pairs), got 'alpha'"]],
    [
      'bad VM name',
      ['name: demo', 'vms:', '  - name: Alpha', '    guest: kernel'],
      ["demo.yaml:3:11: vms[0].name: expected a VM name: a lowercase letter, then up to 31 lowercase letters, digits or '-', got 'Alpha'"],
    ],
    [
      'duplicate VM name',
      [...MINIMAL, '  - name: beta', '    guest: idle', '  - name: alpha', '    guest: echo'],
      ["demo.yaml:7:11: vms[2].name: duplicate VM name 'alpha' (already used by vms[0])"],
    ],
    [
      'no guest code',
      ['name: demo', 'vms:', '  - name: alpha', '    vcpus: 2'],
      [
        "demo.yaml:3:5: vms[0]: missing the guest code: expected exactly one of 'guest' (a bundled guest), 'program' (an assembly file), 'source' (inline assembly), 'trace' (a CSV trace) or 'image' (a saved VM)",
      ],
    ],
    [
      'two kinds of guest code',
      [...MINIMAL, '    source: hlt'],
      ["demo.yaml:5:5: vms[0].source: expected exactly one of 'guest', 'program', 'source', 'trace' or 'image', got both 'guest' and 'source'"],
    ],
    ['sourceLine without source', [...MINIMAL, '    sourceLine: 3'], ["demo.yaml:5:5: vms[0].sourceLine: 'sourceLine' is only allowed together with 'source'"]],
    [
      'unknown bundled guest',
      ['name: demo', 'vms:', '  - name: alpha', '    guest: kernal'],
      ["demo.yaml:4:12: vms[0].guest: unknown bundled guest 'kernal' (expected one of: kernel, idle, echo); did you mean 'kernel'?"],
    ],
    [
      'unknown bundled guest, no suggestion',
      ['name: demo', 'vms:', '  - name: alpha', '    guest: linux'],
      ["demo.yaml:4:12: vms[0].guest: unknown bundled guest 'linux' (expected one of: kernel, idle, echo)"],
    ],
    ['empty program path', ['name: demo', 'vms:', '  - name: alpha', "    program: ''"], ['demo.yaml:4:14: vms[0].program: expected the path of an assembly file, got an empty string']],
    ['vcpus too many', [...MINIMAL, '    vcpus: 65'], ['demo.yaml:5:12: vms[0].vcpus: expected an integer from 1 to 64, got 65']],
    ['VM memory in KB', [...MINIMAL, '    memory: 64KB'], [
      "demo.yaml:5:13: vms[0].memory: expected a size such as 64KiB, 4MiB or 1GiB (units B, KiB, MiB, GiB; a plain integer is bytes), got '64KB'",
    ]],
    ['VM memory not whole pages', [...MINIMAL, '    memory: 6KiB'], ["demo.yaml:5:13: vms[0].memory: expected a multiple of 4KiB (the page size), got '6KiB'"]],
    ['VM memory not whole pages (bytes)', [...MINIMAL, '    memory: 5000'], ['demo.yaml:5:13: vms[0].memory: expected a multiple of 4KiB (the page size), got 5000']],
    ['VM memory too large', [...MINIMAL, '    memory: 2GiB'], ["demo.yaml:5:13: vms[0].memory: expected a size from 4KiB to 1GiB, got '2GiB'"]],
    [
      'VM memory over the host memory',
      [
        'host: { memory: 1MiB }',
        'name: demo',
        'vms:',
        '  - { name: a, guest: idle, memory: 512KiB }',
        '  - { name: b, guest: idle, memory: 256KiB }',
        '  - { name: c, guest: idle, memory: 512KiB }',
        '  - { name: d, guest: idle, memory: 512KiB }',
      ],
      ["demo.yaml:6:37: vms[2].memory: the memory of vms[0] to vms[2] adds up to 1.25MiB, more than the host's 1MiB (host.memory; or set host.overcommit: true to let them share it)"],
    ],
    [
      'default VM memory over the host memory',
      ['host: { memory: 1MiB }', 'name: demo', 'vms:', ...Array.from({ length: 17 }, (_, i) => `  - { name: v${i}, guest: idle }`)],
      ["demo.yaml:20:5: vms[16].memory: the memory of vms[0] to vms[16] adds up to 1088KiB, more than the host's 1MiB (host.memory; or set host.overcommit: true to let them share it)"],
    ],
    [
      'bad parameter name',
      [...MINIMAL, '    params: { ticks: 3 }'],
      ["demo.yaml:5:15: vms[0].params.ticks: invalid parameter name 'ticks': expected upper-case letters, digits and '_', not starting with a digit, and not a register name (R0..R7, SP)"],
    ],
    [
      'parameter out of range',
      [...MINIMAL, '    params: { BIG: 4294967296 }'],
      ['demo.yaml:5:20: vms[0].params.BIG: expected a 32-bit integer (from -2147483648 to 4294967295), got 4294967296'],
    ],
    ['params not a map', [...MINIMAL, '    params: [1]'], ['demo.yaml:5:13: vms[0].params: expected a map of parameters (NAME: integer), got a list of 1 item']],
    ['negative start', [...MINIMAL, '    start: -5ms'], ["demo.yaml:5:12: vms[0].start: expected a non-negative duration, got '-5ms'"]],
    ['autostart yes', [...MINIMAL, '    autostart: yes'], ["demo.yaml:5:16: vms[0].autostart: expected true or false, got 'yes'"]],
    ['weight 0', [...MINIMAL, '    sched: { weight: 0 }'], ['demo.yaml:5:22: vms[0].sched.weight: expected an integer from 1 to 65535, got 0']],
    [
      'cap above 100 × pcpus',
      ['host: { pcpus: 2 }', ...MINIMAL, '    sched: { cap: 201 }'],
      ['demo.yaml:6:19: vms[0].sched.cap: expected an integer from 0 to 200 (100 × host.pcpus), got 201'],
    ],
    ['sched not a map', [...MINIMAL, '    sched: 5'], ['demo.yaml:5:12: vms[0].sched: expected a map of scheduling parameters (key: value pairs), got 5']],
    ['parameter name in quotes', [...MINIMAL, '    params: { "a b": 1 }'], [
      "demo.yaml:5:15: vms[0].params['a b']: invalid parameter name 'a b': expected upper-case letters, digits and '_', not starting with a digit, and not a register name (R0..R7, SP)",
    ]],
  ])('%s', (_title, lines, expected) => {
    expect(errorsOf(...lines)).toEqual(expected);
  });

  it('reports every problem at once, in file order', () => {
    expect(
      errorsOf(
        'name: demo',
        'seed: -1',
        'host:',
        '  pcpus: 0',
        '  memroy: 64MiB',
        'vms:',
        '  - name: Alpha',
        '    guest: kernal',
        '    program: x.asm',
        '  - vcpus: 65',
      ),
    ).toEqual([
      'demo.yaml:2:7: seed: expected an integer from 0 to 4294967295, got -1',
      'demo.yaml:4:10: host.pcpus: expected an integer from 1 to 256, got 0',
      "demo.yaml:5:3: host.memroy: unknown key 'memroy' (expected one of: pcpus, topology, memory, type, load, pageSharing, overcommit, ballooning, driverDomain); did you mean 'memory'?",
      "demo.yaml:7:11: vms[0].name: expected a VM name: a lowercase letter, then up to 31 lowercase letters, digits or '-', got 'Alpha'",
      "demo.yaml:8:12: vms[0].guest: unknown bundled guest 'kernal' (expected one of: kernel, idle, echo); did you mean 'kernel'?",
      "demo.yaml:9:5: vms[0].program: expected exactly one of 'guest', 'program', 'source', 'trace' or 'image', got both 'guest' and 'program'",
      "demo.yaml:10:5: vms[1].name: missing required key 'name'",
      "demo.yaml:10:5: vms[1]: missing the guest code: expected exactly one of 'guest' (a bundled guest), 'program' (an assembly file), 'source' (inline assembly), 'trace' (a CSV trace) or 'image' (a saved VM)",
      'demo.yaml:10:12: vms[1].vcpus: expected an integer from 1 to 64, got 65',
    ]);
  });

  it('reports a problem inside a merged map at the anchored map', () => {
    expect(errorsOf('name: demo', 'vms:', '  - &base { name: alpha, guest: kernel, vcpus: 99 }', '  - <<: *base', '    name: beta')).toEqual([
      'demo.yaml:3:48: vms[0].vcpus: expected an integer from 1 to 64, got 99',
      'demo.yaml:3:48: vms[1].vcpus: expected an integer from 1 to 64, got 99',
    ]);
  });

  it.each<[string, string, string[]]>([
    ['an empty file', '', ["demo.yaml:1:1: the file is empty: expected a map of scenario settings with at least the keys 'name' and 'vms'"]],
    ['only comments', '# nothing yet\n\n', ["demo.yaml:1:1: the file is empty: expected a map of scenario settings with at least the keys 'name' and 'vms'"]],
    ['a list at the top level', '- name: demo\n', ['demo.yaml:1:1: expected a map of scenario settings (key: value pairs), got a list of 1 item']],
    ['a scalar at the top level', '# c\nhello\n', ["demo.yaml:2:1: expected a map of scenario settings (key: value pairs), got 'hello'"]],
    ['a duplicate key', 'name: a\nvms: []\nname: b\n', ["demo.yaml:3:1: duplicate key 'name': each key may appear only once in a map"]],
    ['a syntax error', 'name: demo\nvms: [\n', ['demo.yaml:3:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]']],
    ['two documents', 'name: a\n---\nname: b\n', ['demo.yaml:2:1: expected a single YAML document, got more than one (remove the --- separator)']],
    ['an unknown alias', 'name: demo\nvms: *list\n', ["demo.yaml:2:6: unknown alias '*list': no anchor '&list' before it"]],
    ['a list used as a key', 'name: demo\n? [a, b]\n: 1\n', ['demo.yaml:2:3: expected a plain key (a name), got a list used as a key']],
  ])('YAML-level problem: %s', (_title, text, expected) => {
    expect(errorsOf(text.replace(/\n$/, ''))).toEqual(expected);
  });

  it('refuses an alias bomb', () => {
    // 10^12 values once expanded.
    const bomb = ['l0: &l0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) bomb.push(`l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(', ')}]`);
    const errors = errorsOf(...bomb);
    expect(errors).toHaveLength(1);
    // Reported at the first alias, where the expansion starts (issue 12: it used to say 1:1).
    expect(errors[0]).toMatch(/^demo\.yaml:2:10: could not read the YAML: /);
  });

  it('exposes the diagnostics as data', () => {
    try {
      load(['name: demo', 'vms:', '  - name: alpha', '    guest: kernel', '    memory: 5000'].join('\n'));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ScenarioError);
      expect(error).toBeInstanceOf(Error);
      expect((error as ScenarioError).name).toBe('ScenarioError');
      expect((error as ScenarioError).diagnostics).toEqual([
        { file: 'demo.yaml', line: 5, column: 13, path: 'vms[0].memory', message: 'expected a multiple of 4KiB (the page size), got 5000' },
      ]);
    }
  });
});

describe('resolveScenarioObject', () => {
  it('resolves a plain object like the YAML loader', () => {
    expect(resolveScenarioObject({ name: 'demo', vms: [{ name: 'alpha', guest: 'kernel' }] }, OPTIONS)).toStrictEqual(MINIMAL_RESOLVED);
  });

  it('reports problems with line 0 and column 0 and the path', () => {
    let error: unknown;
    try {
      resolveScenarioObject({ name: 'demo', vms: [{ name: 'alpha', guest: 'kernel', memroy: 1 }, { guest: 'idle' }] }, OPTIONS);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScenarioError);
    const { diagnostics, message } = error as ScenarioError;
    expect(diagnostics.map((d) => [d.line, d.column, d.path])).toEqual([
      [0, 0, 'vms[0].memroy'],
      [0, 0, 'vms[1].name'],
    ]);
    expect(message.split('\n')).toEqual([
      "demo.yaml: vms[0].memroy: unknown key 'memroy' (expected one of: name, vcpus, memory, guest, program, image, trace, source, sourceLine, params, start, autostart, sched, pool, host, numa, virt, postedInterrupts, paging, tlbEntries, tlbTagged, devices, workload); did you mean 'memory'?",
      "demo.yaml: vms[1].name: missing required key 'name'",
    ]);
  });

  it('scenarioToSource writes the plain source form, defaults and units resolved', () => {
    const s = load(
      ['name: demo', 'costs: { exit: 1us }', 'vms:', '  - name: alpha', '    source: |', '      hlt', '  - name: beta', '    program: b.asm'].join('\n'),
    );
    const source = scenarioToSource(s);
    expect(source).toStrictEqual({
      name: 'demo',
      seed: 1,
      host: { pcpus: 2, memory: 64 * MiB, type: 'type1', load: 0 },
      scheduler: { policy: 'round-robin', quantum: 1_000_000 },
      run: { time: 20_000_000, smpQuantum: 1_000 },
      costs: { exit: 1_000 },
      vms: [
        {
          name: 'alpha',
          vcpus: 1,
          memory: 65_536,
          source: 'hlt\n',
          sourceLine: 6,
          params: {},
          start: 0,
          autostart: true,
          sched: { weight: 256, cap: 0 },
          virt: 'full',
          postedInterrupts: false,
          paging: 'shadow',
          tlbEntries: 64,
          devices: { block: 'emulated', nic: 'emulated' },
        },
        {
          name: 'beta',
          vcpus: 1,
          memory: 65_536,
          program: 'b.asm',
          params: {},
          start: 0,
          autostart: true,
          sched: { weight: 256, cap: 0 },
          virt: 'full',
          postedInterrupts: false,
          paging: 'shadow',
          tlbEntries: 64,
          devices: { block: 'emulated', nic: 'emulated' },
        },
      ],
    });
    expect(resolveScenarioObject(source, OPTIONS)).toStrictEqual(s);
  });

  it('refuses values that are not maps', () => {
    for (const value of [null, undefined, 42, 'x', [], new Map()]) {
      expect(() => resolveScenarioObject(value, OPTIONS)).toThrow(ScenarioError);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const DAY_NS = 86_400_000_000_000;

/** A value in the units of the source format, written as an integer or one of the text forms. */
function written(value: number, format: (n: number) => string, unit: string) {
  return fc.constantFrom<string | number>(value, format(value), `${value}${unit}`, `${value} ${unit}`);
}

const durationArb = (min: number, max: number) => fc.integer({ min, max }).chain((ns) => written(ns, formatDuration, 'ns'));
const bytesArb = (min: number, max: number, step = 1) =>
  fc.integer({ min: Math.ceil(min / step), max: Math.floor(max / step) }).chain((n) => written(n * step, formatBytes, 'B'));

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

function compact(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}

const guestArb = fc.oneof(
  fc.constantFrom(...GUESTS).map((guest) => ({ guest })),
  fc.string({ minLength: 1, maxLength: 20 }).map((program) => ({ program })),
  fc
    .record({ source: fc.string({ minLength: 1, maxLength: 40 }), sourceLine: maybe(fc.integer({ min: 0, max: 10_000 })) })
    .map((g) => compact(g)),
);

const paramNameArb = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/).filter((name) => !/^(R[0-7]|SP)$/.test(name));

const vmArb = fc
  .record({
    vcpus: maybe(fc.integer({ min: 1, max: 64 })),
    memory: maybe(bytesArb(4096, 1024 * 1024, 4096)),
    guest: guestArb,
    params: maybe(fc.dictionary(paramNameArb, fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), { maxKeys: 4 })),
    start: maybe(durationArb(0, 30 * DAY_NS)),
    autostart: maybe(fc.boolean()),
    sched: maybe(fc.record({ weight: maybe(fc.integer({ min: 1, max: 65_535 })), cap: maybe(fc.integer({ min: 0, max: 100 })) }).map(compact)),
  })
  .map(({ guest, ...rest }) => compact({ ...rest, ...guest }));

const costsArb = fc
  .subarray([...COST_NAMES])
  .chain((names) => fc.tuple(...names.map((name) => durationArb(name === 'instructionNs' ? 1 : 0, 1_000_000_000).map((v) => [name.slice(0, -2), v] as const))))
  .map((entries) => Object.fromEntries(entries));

const sourceArb = fc
  .record({
    name: fc.string({ minLength: 1, maxLength: 20 }),
    description: maybe(fc.string({ maxLength: 40 })),
    seed: maybe(fc.integer({ min: 0, max: 0xffff_ffff })),
    pcpus: maybe(fc.integer({ min: 1, max: 256 })),
    scheduler: maybe(fc.record({ policy: maybe(fc.constantFrom(...POLICY_NAMES)), quantum: maybe(durationArb(1_000, 10_000_000_000)) }).map(compact)),
    run: maybe(
      fc
        .record({
          time: maybe(durationArb(1, 30 * DAY_NS)),
          instructions: maybe(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
          checkpointEvery: maybe(fc.integer({ min: 100, max: 10_000_000 })),
        })
        .map(compact),
    ),
    costs: maybe(costsArb),
    vms: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,31}$/), { minLength: 1, maxLength: 6 }).chain((names) =>
      fc.tuple(...names.map((name) => vmArb.map((vm) => ({ name, ...vm })))),
    ),
  })
  .map(({ pcpus, ...rest }) => {
    // Enough host memory for the VMs (at most 6 × 1MiB), written in any form.
    const host = compact({ pcpus, memory: formatBytes(64 * MiB) });
    return compact({ ...rest, host });
  });

describe('properties', () => {
  it('round trip: resolveScenarioObject(scenarioToSource(s)) deep-equals s, key order included', () => {
    fc.assert(
      fc.property(sourceArb, (source) => {
        const s = resolveScenarioObject(source, OPTIONS);
        const back = scenarioToSource(s);
        const again = resolveScenarioObject(back, OPTIONS);
        expect(again).toStrictEqual(s);
        expect(JSON.stringify(again)).toBe(JSON.stringify(s));
        // Through JSON, as the event log stores it.
        expect(resolveScenarioObject(JSON.parse(JSON.stringify(back)), OPTIONS)).toStrictEqual(s);
      }),
      { numRuns: 300 },
    );
  });

  it('round trip through YAML text keeps the scenario (inline source lines included)', () => {
    fc.assert(
      fc.property(sourceArb, (source) => {
        const s = loadScenario(stringify(source), OPTIONS);
        expect(loadScenario(stringify(scenarioToSource(s)), OPTIONS)).toStrictEqual(
          resolveScenarioObject(scenarioToSource(s), OPTIONS),
        );
        expect(resolveScenarioObject(scenarioToSource(s), OPTIONS)).toStrictEqual(s);
      }),
      { numRuns: 100 },
    );
  });

  function loadsOrReports(text: string): void {
    let result: Scenario | undefined;
    try {
      result = load(text);
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      expect(error.diagnostics.length).toBeGreaterThan(0);
      for (const d of error.diagnostics) {
        expect(d.line).toBeGreaterThanOrEqual(1);
        expect(d.column).toBeGreaterThanOrEqual(1);
        expect(d.message).not.toBe('');
        expect(d.message).not.toContain('\n');
      }
      return;
    }
    expect(result.vms.length).toBeGreaterThan(0);
  }

  it('fuzz: any string loads or raises a ScenarioError', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), loadsOrReports), { numRuns: 500 });
    fc.assert(fc.property(fc.string({ maxLength: 200 }), loadsOrReports), { numRuns: 500 });
  });

  const TOKENS = [
    'name: demo', 'vms:', 'host:', 'costs:', 'scheduler:', 'run:', 'sched:', 'params:', '- name: a', '- ', 'guest: kernel',
    'program: x.asm', 'source: |', 'source: >-', 'memory: 64KiB', 'memory:', 'vcpus: 2', 'start: 1ms', 'quantum: 1ms',
    'pcpus: 0', 'time: 30days', 'exit: 1us', 'TICKS: 3', 'cap: 500', '__proto__: 1', 'constructor:', 'toString: x',
    '<<: *a', '<<: 5', '&a ', '*a', '*b', '!!binary aGk=', '!!set', '!!omap', '!!str', '!foo', '%YAML 1.1', '---', '...',
    '{', '}', '[', ']', ',', ':', '? ', '"', "'", '#', '|', '>', '~', 'null', 'yes', '.inf', '-.nan', '0x1F', '1e400',
    '-0', '2001-12-14', '\t', ' ', '  ', '    ', '\n', '\n', '\n', '\r\n', '\u00a0', '\ufeff', 'µs',
  ];

  it('fuzz: YAML-ish text loads or raises a ScenarioError', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((parts) => parts.join('')), loadsOrReports), {
      numRuns: 2000,
    });
  });

  it('fuzz: mutations of a valid file load or raise a ScenarioError', () => {
    const valid = [
      'name: demo',
      'seed: 7',
      'host: { pcpus: 2, memory: 64MiB }',
      'costs: { exit: 1us }',
      'vms:',
      '  - &v { name: alpha, guest: kernel, params: { TICKS: 20 }, sched: { weight: 3 } }',
      '  - <<: *v',
      '    name: beta',
      '    source: |',
      '      movi r1, 1',
      '      hlt',
    ].join('\n');
    loadsOrReports(valid);
    const mutation = fc.record({ at: fc.nat(valid.length), remove: fc.nat(6), insert: fc.constantFrom('', ...TOKENS, 'x', '9', '-') });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        let text = valid;
        for (const m of mutations) {
          const at = Math.min(m.at, text.length);
          text = text.slice(0, at) + m.insert + text.slice(at + m.remove);
        }
        loadsOrReports(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('fuzz: any JSON-like value resolves or raises a ScenarioError', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        try {
          resolveScenarioObject(value, OPTIONS);
        } catch (error) {
          expect(error).toBeInstanceOf(ScenarioError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('scenarioJsonSchema', () => {
  const schema = scenarioJsonSchema(GUESTS) as Record<string, unknown>;

  it('is a draft 2020-12 schema of the source format', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.type).toBe('object');
    expect(schema.required).toEqual(['name', 'vms']);
    expect(schema.additionalProperties).toBe(false);
    const properties = schema.properties as Record<string, Record<string, unknown>>;
    expect(Object.keys(properties)).toEqual(['name', 'description', 'profile', 'seed', 'host', 'scheduler', 'cpupools', 'hosts', 'links', 'run', 'costs', 'vms', 'inputs']);
    const vm = (properties.vms as { items: Record<string, unknown> }).items;
    expect(vm.oneOf).toEqual([{ required: ['guest'] }, { required: ['program'] }, { required: ['source'] }]);
    const vmProperties = vm.properties as Record<string, Record<string, unknown>>;
    expect(vmProperties.guest.enum).toEqual([...GUESTS]);
    expect(vmProperties.memory.default).toBe('64KiB');
    expect(vmProperties.memory.anyOf).toEqual([
      { type: 'integer', minimum: 4096, maximum: 1024 ** 3, multipleOf: 4096 },
      { type: 'string', pattern: expect.any(String) },
    ]);
    const costs = properties.costs.properties as Record<string, unknown>;
    expect(Object.keys(costs)).toEqual(COST_NAMES.map((name) => name.slice(0, -2)));
  });

  it('has a title and a description for every field', () => {
    const missing: string[] = [];
    const walk = (node: Record<string, unknown>, where: string) => {
      const properties = node.properties as Record<string, Record<string, unknown>> | undefined;
      for (const [key, child] of Object.entries(properties ?? {})) {
        if (typeof child.title !== 'string' || typeof child.description !== 'string') missing.push(`${where}${key}`);
        walk(child, `${where}${key}.`);
        const items = child.items as Record<string, unknown> | undefined;
        if (items !== undefined) {
          if (typeof items.title !== 'string' || typeof items.description !== 'string') missing.push(`${where}${key}[]`);
          walk(items, `${where}${key}[].`);
        }
      }
    };
    walk(schema, '');
    expect(missing).toEqual([]);
    expect(typeof schema.title).toBe('string');
    expect(typeof schema.description).toBe('string');
  });

  it('its string patterns accept what the loader accepts', () => {
    const properties = schema.properties as Record<string, Record<string, Record<string, Record<string, unknown>>>>;
    const quantum = properties.scheduler.properties.quantum as { anyOf: { pattern?: string }[] };
    const pattern = new RegExp(quantum.anyOf[1].pattern ?? '');
    for (const text of ['500ns', '20us', '1.5ms', '2s', '250 us', '3µs']) expect(pattern.test(text)).toBe(true);
    for (const text of ['soon', '5m', '-1ms']) expect(pattern.test(text)).toBe(false);
  });
});

describe('tlbEntries', () => {
  it('refuses a one-entry TLB at its line, saying why (a paging guest would never get past an instruction whose data is on another page)', () => {
    const text = ['name: t', 'vms:', '  - name: a', '    guest: kernel', '    tlbEntries: 1'].join('\n');
    expect(() => loadScenario(text, { file: 't.yaml', guests: GUESTS })).toThrow(
      "t.yaml:5:17: vms[0].tlbEntries: expected an integer from 2 to 1024 (an instruction and the page it touches need one entry each), got 1",
    );
    expect(loadScenario(text.replace('tlbEntries: 1', 'tlbEntries: 2'), { file: 't.yaml', guests: GUESTS }).vms[0].tlbEntries).toBe(2);
  });
});
