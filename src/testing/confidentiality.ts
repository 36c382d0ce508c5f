/**
 * Confidentiality as non-interference, in Goguen and Meseguer's form (the one seL4's proofs use):
 * run the same scenario twice, changing only the victim's secret (the words it keeps in memory,
 * the console input it is sent, the computation it does with them in its registers), and require
 * every observation the adversary (the reader) can make to be identical between the two runs: its
 * registers and CSRs, its memory, its console, the completions of its devices and the values its
 * port reads returned. Timing is the one exception: it is left out of the equality (the covert
 * channel it opens is measured separately, `npm run covert`).
 *
 * The victim is written so that nothing it does depends on its secret but data: the same
 * instructions in the same order whatever the secret, so both runs schedule alike and any
 * difference the reader sees is a leak of data. The reader reads wherever a monitor bug could let
 * it: past the end of its memory and at page edges, freshly allocated frames (under overcommit,
 * frames the victim gave back), ports no device of its own answers, DMA from foreign addresses
 * into its own memory, a paravirtual console write whose buffer straddles the end of its memory,
 * and its registers right after it is scheduled.
 *
 * Each run draws a random subset of the configuration (swarm testing): physical CPUs, host type,
 * policy, the host's memory (plain, page sharing, overcommit, ballooning), each VM's technique and
 * the attach modes of the reader's devices.
 */
import fc from 'fast-check';
import type { SimEvent } from '../core/events.js';
import { PAGE_WORDS } from '../core/platform.js';
import { VIRT_TECHNIQUES, type Scenario, type VirtTechnique } from '../core/scenario/schema.js';
import type { InputSpec } from '../core/scenario/inputs.js';
import { SCENARIO_POLICIES } from './arbitraries.js';
import { adversaryPort, GUEST_WORDS } from './guests.js';
import type { Mutation } from './mutants/index.js';
import { PropertyViolation, type IsolationProperty } from './property.js';
import { guestVm, runChecked, testScenario, type CheckedRun } from './scenario.js';

/** One secret: three words the victim keeps and computes with, and the console input it is sent. */
export interface Secret {
  readonly words: readonly [number, number, number];
  readonly input: string;
}

export interface ConfidentialityCase {
  readonly reader: string;
  readonly secrets: readonly [Secret, Secret];
  /** The victim powers off at the end (its frames go back to the host) or stays, computing. */
  readonly victimEnds: boolean;
  readonly readerFirst: boolean;
  readonly pcpus: number;
  readonly hostType: 'type1' | 'type2';
  readonly policy: (typeof SCENARIO_POLICIES)[number];
  readonly memory: 'plain' | 'sharing' | 'overcommit' | 'ballooning';
  readonly victimVirt: VirtTechnique;
  readonly readerVirt: VirtTechnique;
  readonly block: 'emulated' | 'paravirtual' | 'passthrough';
  /** The reader's own console fails at once (an input): its reads of the console port go nowhere. */
  readonly readerConsoleFails: boolean;
  readonly seed: number;
}

/** Where the victim keeps its secret: the first word of a page, the last word of another, the middle of a third. */
const SECRET_AT = [0x2000, 3 * PAGE_WORDS - 1, GUEST_WORDS - PAGE_WORDS / 2] as const;

/**
 * The victim: stores its secret at page edges, reads its console input into memory, mixes both in
 * its registers for a while (preempted in the middle), and ends (powers off, or computes forever).
 * Its instructions do not depend on the secret, only the data does.
 */
function victimSource(ends: boolean): string {
  return `
_start:
  movi r1, SECRET0
  movi r2, SECRET1
  movi r3, SECRET2
  st r1, [${SECRET_AT[0]}]
  st r2, [${SECRET_AT[1]}]
  st r3, [${SECRET_AT[2]}]
  movi r6, 0
  movi r7, 4
read:
  work 20000
  in r4, PORT_CONSOLE_DATA   ; its console input (or -1 before it arrives): a secret too
  st r4, [r6 + 0x2100]
  xor r1, r1, r4
  mul r2, r2, r1
  add r3, r3, r2
  st r3, [r6 + 0x2200]
  csrw scratch, r2           ; kernel scratch state, private to the VM
  addi r6, r6, 1
  blt r6, r7, read
  ${ends ? 'movi r0, 0\n  out PORT_POWER, r0\n  hlt' : 'forever:\n  work 5000\n  add r3, r3, r1\n  jmp forever'}
`;
}

/** One reading statement of the reader: what it reads ends in r4, which it appends to its log at 0x3000. */
function readerStatement(ownWords: number): fc.Arbitrary<string> {
  const record = '  st r4, [r7 + 0x3000]\n  addi r7, r7, 1';
  const edge = fc.oneof(
    fc.integer({ min: ownWords - 4, max: ownWords + 4 * PAGE_WORDS - 1 }),
    // The first words of host memory and of the frames after a VM's: where a neighbour's code and data begin.
    fc.integer({ min: 0, max: 64 }),
    fc.constantFrom(...SECRET_AT).chain((at) => fc.integer({ min: at - 8, max: at }).map((near) => near + ownWords)),
    fc.integer({ min: 0, max: ownWords / PAGE_WORDS }).map((page) => page * PAGE_WORDS - 1),
    fc.integer({ min: 0, max: 1 << 19 }),
    fc.integer({ min: -8, max: -1 }),
  );
  // A page of its own it has not touched yet (under overcommit: a freshly allocated frame).
  const fresh = fc.integer({ min: 8, max: ownWords / PAGE_WORDS - 2 }).chain((page) => fc.integer({ min: 0, max: PAGE_WORDS - 1 }).map((offset) => page * PAGE_WORDS + offset));
  return fc.oneof(
    { weight: 3, arbitrary: edge.map((at) => `  movi r1, ${at}\n  ld r4, [r1]\n${record}`) },
    { weight: 2, arbitrary: fresh.map((at) => `  movi r1, ${at}\n  ld r4, [r1]\n${record}`) },
    { weight: 2, arbitrary: fc.oneof(fc.constant(0x3f8), adversaryPort).map((port) => `  in r4, ${port}\n${record}`) },
    // A port polled over time, 10 us apart, while the victim does its own I/O (@ makes the label unique).
    {
      weight: 2,
      arbitrary: fc.tuple(adversaryPort, fc.integer({ min: 2, max: 8 })).map(
        ([port, times]) => `  movi r5, ${times}\npoll@:\n  work 10000\n  in r4, ${port}\n${record}\n  addi r5, r5, -1\n  jnz r5, poll@`,
      ),
    },
    // DMA from a foreign address into its own buffer at 0x3800.
    {
      weight: 2,
      arbitrary: fc.tuple(edge, fc.integer({ min: 1, max: 32 })).map(
        ([from, words]) => `  movi r1, ${from}\n  out PORT_DMA_SOURCE, r1\n  movi r1, 0x3800\n  out PORT_DMA_DESTINATION, r1\n  movi r1, ${words}\n  out PORT_DMA_LENGTH, r1\n  out PORT_DMA_GO, r1\n  in r4, PORT_DMA_GO\n${record}`,
      ),
    },
    // A paravirtual console write whose buffer straddles a page or the end of its memory.
    {
      weight: 2,
      arbitrary: fc.tuple(fc.oneof(fc.integer({ min: ownWords - 8, max: ownWords - 1 }), fc.integer({ min: 1, max: ownWords / PAGE_WORDS - 1 }).map((page) => page * PAGE_WORDS - 2)), fc.integer({ min: 2, max: 16 })).map(
        ([at, length]) => `  movi r1, ${at}\n  movi r2, ${length}\n  hypercall HC_CONSOLE_WRITE\n  mov r4, r1\n${record}`,
      ),
    },
    // Registers and CSRs right after being scheduled: a long computation, then what they hold.
    { weight: 2, arbitrary: fc.constantFrom('  work 40000\n  mov r4, r3\n' + record + '\n  mov r4, r2\n' + record, '  work 40000\n  csrr r4, scratch\n' + record) },
  );
}

/** A guest that reads wherever a bug could let it and records what it read (see readerStatement). */
export function readerGuest(ownWords = GUEST_WORDS): fc.Arbitrary<string> {
  return fc
    .array(readerStatement(ownWords), { minLength: 1, maxLength: 10 })
    .map((statements) => ['_start:', '  movi r7, 0', ...statements.map((statement, index) => statement.replaceAll('@', `_${index}`)), 'forever:\n  work 2000\n  jmp forever', ''].join('\n'));
}

/** Distinct secrets, never zero (a zero page would be shared with every other zero page). */
const secretPair: fc.Arbitrary<readonly [Secret, Secret]> = fc
  .tuple(
    fc.tuple(fc.integer({ min: 1, max: 0x7fff_ffff }), fc.integer({ min: 1, max: 0x7fff_ffff }), fc.integer({ min: 1, max: 0x7fff_ffff })),
    fc.tuple(fc.integer({ min: 1, max: 0x7fff_ffff }), fc.integer({ min: 1, max: 0x7fff_ffff }), fc.integer({ min: 1, max: 0x7fff_ffff })),
    fc.tuple(fc.constantFrom('a', 'k', 'z'), fc.constantFrom('b', 'q', 'y')),
  )
  .filter(([a, b]) => a[0] !== b[0] && a[1] !== b[1] && a[2] !== b[2])
  .map(([a, b, [x, y]]) => [
    { words: a, input: `${x}${y}` },
    { words: b, input: `${y}${x}` },
  ]);

export function confidentialityScenario(value: ConfidentialityCase, secret: Secret): Scenario {
  const victim = guestVm('victim', victimSource(value.victimEnds), {
    virt: value.victimVirt,
    params: { SECRET0: secret.words[0], SECRET1: secret.words[1], SECRET2: secret.words[2] },
  });
  const reader = guestVm('reader', value.reader, { virt: value.readerVirt, devices: { block: value.block, nic: 'emulated' } });
  const memory = value.memory;
  const inputs: InputSpec[] = [
    ...(value.readerConsoleFails ? [{ kind: 'device-error' as const, atNs: 0, vm: 'reader', device: 'console' as const }] : []),
    { kind: 'console', atNs: 10_000, vm: 'victim', text: secret.input },
  ];
  return testScenario(value.readerFirst ? [reader, victim] : [victim, reader], {
    host: {
      pcpus: value.pcpus,
      // Overcommitted: less host memory than the two VMs' 128 KiB, so frames are reused.
      memoryBytes: memory === 'overcommit' || memory === 'ballooning' ? 96 * 1024 : 4 * 1024 * 1024,
      type: value.hostType,
      ...(memory === 'sharing' ? { pageSharing: { intervalNs: 100_000, pagesPerScan: 64 } } : {}),
      ...(memory === 'overcommit' || memory === 'ballooning' ? { overcommit: true } : {}),
      ...(memory === 'ballooning' ? { ballooning: { intervalNs: 100_000, belowFraction: 0.2, stepPages: 2 } } : {}),
    },
    scheduler: { policy: value.policy, quantumNs: 30_000 },
    run: { timeNs: 1_500_000, instructions: undefined, checkpointEvery: 10_000 },
    inputs,
  });
}

/** Device events whose data a reader sees as the completion of its own request. */
const COMPLETIONS: ReadonlySet<string> = new Set(['dma.done', 'dma.blocked', 'blk.done', 'blk.refused', 'iommu.fault', 'console.output']);

/** Everything the reader can observe, timing left out. */
export function readerView(run: CheckedRun): Record<string, string> {
  const vm = run.simulation.vms.find((candidate) => candidate.name === 'reader');
  if (vm === undefined) throw new Error('no reader VM');
  const reads: string[] = [];
  const completions: string[] = [];
  for (const event of run.events as readonly SimEvent[]) {
    if (!event.src.startsWith('vm/reader')) continue;
    if (event.type === 'exit.io' && event.data.dir === 'in') reads.push(`${event.data.port}=${String(event.data.value)}`);
    else if (COMPLETIONS.has(event.type)) completions.push(`${event.type} ${JSON.stringify(event.data)}`);
  }
  return {
    state: `${vm.state} ${vm.endReason ?? ''}`,
    registers: vm.vcpus.map((vcpu) => [...vcpu.cpu.regs].join(' ')).join(' | '),
    csrs: vm.vcpus.map((vcpu) => [...vcpu.cpu.csr].join(' ')).join(' | '),
    memory: vm.memoryDigest(),
    console: vm.console.transcript,
    reads: reads.join(', '),
    completions: completions.join('; '),
  };
}

export const confidentiality: IsolationProperty<ConfidentialityCase> = {
  name: 'confidentiality',
  description: "what a reader observes (registers, memory, console, device completions, values read) is the same whatever the victim's secret",
  arbitrary: fc.record({
    reader: readerGuest(),
    secrets: secretPair,
    victimEnds: fc.boolean(),
    readerFirst: fc.boolean(),
    pcpus: fc.integer({ min: 1, max: 2 }),
    hostType: fc.constantFrom('type1' as const, 'type2' as const),
    policy: fc.constantFrom(...SCENARIO_POLICIES),
    memory: fc.constantFrom('plain' as const, 'plain' as const, 'sharing' as const, 'overcommit' as const, 'ballooning' as const),
    victimVirt: fc.constantFrom(...VIRT_TECHNIQUES),
    readerVirt: fc.constantFrom(...VIRT_TECHNIQUES),
    block: fc.constantFrom('emulated' as const, 'paravirtual' as const, 'passthrough' as const),
    readerConsoleFails: fc.boolean(),
    seed: fc.nat(),
  }),
  numRuns: 60,
  check(value, mutation?: Mutation) {
    const [first, second] = value.secrets.map((secret) => readerView(runChecked(confidentialityScenario(value, secret), { seed: value.seed, mutation })));
    for (const key of Object.keys(first)) {
      if (first[key] !== second[key]) {
        throw new PropertyViolation(this.name, `the reader's ${key} depends on the victim's secret: ${JSON.stringify(first[key]).slice(0, 200)} with one secret, ${JSON.stringify(second[key]).slice(0, 200)} with the other`);
      }
    }
  },
  reproduce: (value) => ({ scenario: confidentialityScenario(value, value.secrets[0]), seed: value.seed }),
};
