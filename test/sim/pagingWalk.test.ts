/**
 * Paging against a bare machine's page-table walk (issue 11): a guest builds a random page table,
 * turns paging on, and makes a random sequence of loads and stores through it, some of them to its
 * own page table. A fault handler logs each #PF's address and skips the instruction. A reference
 * machine written here (the walk a bare machine does on every access: the entry at PTB + page,
 * present, writable for a store, user for user mode, then frame + offset) runs the same sequence
 * on plain memory. Under every way the monitor virtualizes the MMU (shadow and nested paging,
 * full and hardware-assisted, tagged and untagged TLBs of any size, two VMs sharing a pCPU), the
 * guest's loads, its fault log, its data and its page table must come out as the reference's.
 *
 * The one liberty the reference takes: a store that may change the page table is followed by a
 * PTB write (`csrw ptb`), the guest's TLB flush, as a real guest invalidates after it edits an
 * entry (nested paging, like hardware, leaves a stale entry in the TLB until then).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { VmSpec } from '../../src/core/scenario/schema.js';
import { PAGE_WORDS } from '../../src/core/platform.js';
import { inline, runScenario, scenario, vmSpec } from '../helpers.js';

const PAGES = 32;
const PT_PAGE = 31;
const PT = PT_PAGE * PAGE_WORDS;
const LOG = 2 * PAGE_WORDS;
const RESULTS = 3 * PAGE_WORDS;
/** The guest-virtual pages the random entries cover. */
const WINDOW = { first: 16, last: 30 } as const;
const DATA = { first: 4, last: 15 } as const;
const NOTHING = 0x7777;

interface Op {
  readonly store: boolean;
  /** A store made by `xchg` (the old word is kept, as a load's result), or a load/store with a base register. */
  readonly swap?: boolean;
  readonly based?: boolean;
  readonly page: number;
  readonly offset: number;
  readonly value: number;
}

interface Case {
  /** Entries of the window pages (guest-virtual page -> entry). */
  readonly entries: readonly number[];
  readonly ops: readonly Op[];
  readonly user: boolean;
}

const entryArbitrary = fc.record({ frame: fc.oneof(fc.integer({ min: DATA.first, max: DATA.last }), fc.constant(PT_PAGE)), flags: fc.integer({ min: 0, max: 7 }) }).map(({ frame, flags }) => (frame << 10) | flags);

const caseArbitrary: fc.Arbitrary<Case> = fc.record({
  entries: fc.array(entryArbitrary, { minLength: WINDOW.last - WINDOW.first + 1, maxLength: WINDOW.last - WINDOW.first + 1 }),
  ops: fc.array(
    fc.record({
      store: fc.boolean(),
      swap: fc.boolean(),
      based: fc.boolean(),
      page: fc.integer({ min: WINDOW.first, max: WINDOW.last }),
      offset: fc.oneof(fc.constantFrom(0, 1, PAGE_WORDS - 1), fc.integer({ min: 0, max: PAGE_WORDS - 1 })),
      // Values that are also page-table entries (a frame of the VM, any flags), for stores that land in the table.
      value: entryArbitrary,
    }),
    { minLength: 1, maxLength: 30 },
  ),
  user: fc.boolean(),
});

/** The fixed entries: code, log and results identity-mapped (user, writable); the table maps itself. */
function fixedEntries(): Map<number, number> {
  const entries = new Map<number, number>();
  for (const page of [0, 1, LOG / PAGE_WORDS, RESULTS / PAGE_WORDS]) entries.set(page, (page << 10) | 7);
  entries.set(PT_PAGE, (PT_PAGE << 10) | 7);
  return entries;
}

/**
 * The bare machine: every access walks the table in memory. A store into the table's words for
 * the window is allowed; one that would change a fixed entry is moved to the window's (so the
 * handler and the log stay mapped). Returns the ops as run (with `flush` after table stores),
 * the loads' results, the fault log and the final memory.
 */
function reference(c: Case) {
  const memory = new Int32Array(PAGES * PAGE_WORDS);
  for (const [page, entry] of fixedEntries()) memory[PT + page] = entry;
  c.entries.forEach((entry, index) => (memory[PT + WINDOW.first + index] = entry));
  const ran: (Op & { flush: boolean })[] = [];
  const results: number[] = [];
  const faults: number[] = [];
  for (const op of c.ops) {
    const entry = memory[PT + op.page];
    let offset = op.offset;
    const fault = (entry & 1) === 0 || (c.user && (entry & 4) === 0) || (op.store && (entry & 2) === 0);
    const frame = entry >>> 10;
    // Keep the fixed entries fixed: a table store lands on a window entry.
    if (!fault && op.store && frame === PT_PAGE && (offset < WINDOW.first || offset > WINDOW.last)) offset = WINDOW.first + (offset % (WINDOW.last - WINDOW.first + 1));
    const actual = { ...op, offset, flush: false };
    const at = frame * PAGE_WORDS + offset;
    if (fault) faults.push(op.page * PAGE_WORDS + offset);
    else if (op.store) {
      if (op.swap) results.push(memory[at]);
      memory[at] = op.value;
      actual.flush = frame === PT_PAGE;
    }
    if (fault && op.store && op.swap) results.push(op.value);
    if (!op.store) results.push(fault ? NOTHING : memory[at]);
    ran.push(actual);
  }
  return { ran, results, faults, memory };
}

/** The guest that runs `ops` through the page table of `c`. */
function guestOf(c: Case, ops: readonly (Op & { flush: boolean })[]): string {
  const lines: string[] = [];
  const table = fixedEntries();
  c.entries.forEach((entry, index) => table.set(WINDOW.first + index, entry));
  lines.push('    movi r1, ivt', '    csrw ivt, r1');
  for (const [page, entry] of table) lines.push(`    movi r2, ${entry}`, `    st r2, [${PT + page}]`);
  lines.push(`    movi r1, ${PT}`, '    csrw ptb, r1');
  if (c.user) lines.push('    movi r5, body', '    csrw epc, r5', '    movi r5, 1', '    csrw estatus, r5', '    iret');
  lines.push('body:');
  let load = 0;
  for (const op of ops) {
    const address = op.page * PAGE_WORDS + op.offset;
    const operand = op.based ? `r5 + ${op.offset}` : `${address}`;
    if (op.based) lines.push(`    movi r5, ${op.page * PAGE_WORDS}`);
    if (op.store && op.swap) {
      lines.push(`    movi r3, ${op.value}`, `    xchg r3, [${operand}]`, `    st r3, [${RESULTS + load}]`);
      load++;
    } else if (op.store) {
      lines.push(`    movi r3, ${op.value}`, `    st r3, [${operand}]`);
    } else {
      lines.push(`    movi r2, ${NOTHING}`, `    ld r2, [${operand}]`, `    st r2, [${RESULTS + load}]`);
      load++;
    }
    // The guest's invalidation after it edits its table (a PTB write is privileged: from user mode, a syscall).
    if (op.flush) lines.push(c.user ? '    syscall 1' : '    csrw ptb, r1');
  }
  lines.push(c.user ? '    syscall 2' : '    hypercall HC_POWER_OFF');
  lines.push(
    'pf:',
    `    ld r7, [${LOG}]`,
    '    addi r7, r7, 1',
    `    st r7, [${LOG}]`,
    '    csrr r6, eval',
    `    movi r4, ${LOG}`,
    '    add r4, r4, r7',
    '    st r6, [r4]',
    '    csrr r6, epc',
    '    addi r6, r6, 4',
    '    csrw epc, r6',
    '    iret',
    // The user-mode program's requests: 1 flushes the TLB (rewrites PTB), 2 powers off.
    'sys:',
    '    csrr r6, eval',
    '    movi r4, 2',
    '    beq r6, r4, off',
    '    csrw ptb, r1',
    '    iret',
    'off:',
    '    hypercall HC_POWER_OFF',
    'ivt: .word 0, 0, pf, sys',
  );
  return lines.join('\n') + '\n';
}

interface Config {
  readonly label: string;
  readonly spec: Partial<VmSpec>;
}

const CONFIGS: readonly Config[] = [
  { label: 'full/shadow', spec: { virt: 'full', paging: 'shadow' } },
  { label: 'hw/shadow, 2-entry TLB', spec: { virt: 'hw', paging: 'shadow', tlbEntries: 2 } },
  { label: 'hw/nested', spec: { virt: 'hw', paging: 'nested' } },
  { label: 'hw/nested, tagged 3-entry TLB', spec: { virt: 'hw', paging: 'nested', tlbEntries: 3, tlbTagged: true } },
  { label: 'full/shadow, tagged 2-entry TLB', spec: { virt: 'full', paging: 'shadow', tlbEntries: 2, tlbTagged: true } },
];

function check(c: Case, config: Config, neighbour: boolean): void {
  const expected = reference(c);
  const source = guestOf(c, expected.ran);
  const vms = [vmSpec('g', inline(source), { memoryBytes: PAGES * PAGE_WORDS * 4, ...config.spec })];
  // A second paging VM on the same pCPU: world switches in between, its TLB entries beside ours.
  if (neighbour) vms.push(vmSpec('n', inline(guestOf({ entries: c.entries.map((entry) => entry ^ 2), ops: c.ops, user: false }, reference({ ...c, entries: c.entries.map((entry) => entry ^ 2), user: false }).ran)), { memoryBytes: PAGES * PAGE_WORDS * 4, ...config.spec }));
  const run = runScenario(scenario(vms, { scheduler: { policy: 'round-robin', quantumNs: 3_000 } as never, run: { timeNs: 3_000_000, instructions: undefined, checkpointEvery: 1_000_000 } }));
  const vm = run.simulation.vms[0];
  const label = `${config.label}${neighbour ? ' beside another VM' : ''}`;
  expect(vm.state, `${label}: ${run.summary.vms[0].reason ?? ''}`).toBe('shutoff');
  const loads = expected.results.map((_, index) => vm.memory.read(RESULTS + index));
  expect(loads, `${label}: loads`).toEqual(expected.results);
  const logged = Array.from({ length: vm.memory.read(LOG) as number }, (_, index) => vm.memory.read(LOG + 1 + index));
  expect(logged, `${label}: fault log`).toEqual(expected.faults);
  for (let page = DATA.first; page <= DATA.last; page++) {
    for (let word = 0; word < PAGE_WORDS; word++) {
      const at = page * PAGE_WORDS + word;
      if (vm.memory.read(at) !== expected.memory[at]) expect(`${label}: word ${at} = ${vm.memory.read(at)}`).toBe(`${label}: word ${at} = ${expected.memory[at]}`);
    }
  }
  for (let page = WINDOW.first; page <= WINDOW.last; page++) expect(vm.memory.read(PT + page), `${label}: entry ${page}`).toBe(expected.memory[PT + page]);
}

describe('paging against a bare machine walk', () => {
  it('loads, faults, data and the page table are the reference walk’s, under every paging mode and TLB (property)', () => {
    fc.assert(
      fc.property(caseArbitrary, fc.boolean(), (c, neighbour) => {
        for (const config of CONFIGS) check(c, config, neighbour);
      }),
      { numRuns: 25, seed: 11_300 },
    );
  });

  it('by example: a read-only page, an absent one, a kernel-only one from user mode, and an edit of the table that takes effect', () => {
    const entries = Array.from({ length: WINDOW.last - WINDOW.first + 1 }, () => 0);
    entries[0] = (4 << 10) | 7; // page 16 -> frame 4, writable, user
    entries[1] = (5 << 10) | 5; // page 17 -> frame 5, read-only
    entries[2] = (6 << 10) | 3; // page 18 -> frame 6, kernel only
    entries[3] = (PT_PAGE << 10) | 7; // page 19 -> the page table itself
    // page 20: absent
    const ops: Op[] = [
      { store: true, page: 16, offset: 5, value: 11 },
      { store: true, page: 17, offset: 5, value: 12 },
      { store: false, page: 17, offset: 5, value: 0 },
      { store: true, page: 18, offset: PAGE_WORDS - 1, value: 13 },
      { store: false, page: 20, offset: 0, value: 0 },
      { store: true, page: 19, offset: 20, value: (4 << 10) | 7 }, // page 20 -> frame 4
      { store: false, page: 20, offset: 5, value: 0 },
      { store: false, page: 19, offset: 17, value: 0 },
      // xchg on the table: page 21 -> frame 5, writable (the old entry, 0, comes back); then a store through it.
      { store: true, swap: true, page: 19, offset: 21, value: (5 << 10) | 7 },
      { store: true, page: 21, offset: 3, value: 99 },
      { store: false, page: 17, offset: 3, value: 0 },
      // A store with a base register on the table: page 22 -> frame 5, read-only; xchg through it faults.
      { store: true, based: true, page: 19, offset: 22, value: (5 << 10) | 5 },
      { store: true, swap: true, page: 22, offset: 3, value: 7 },
      { store: false, based: true, page: 22, offset: 3, value: 0 },
    ];
    for (const user of [false, true]) {
      const expected = reference({ entries, ops, user });
      expect(expected.faults).toEqual([...(user ? [17 * PAGE_WORDS + 5, 18 * PAGE_WORDS + PAGE_WORDS - 1] : [17 * PAGE_WORDS + 5]), 20 * PAGE_WORDS, 22 * PAGE_WORDS + 3]);
      expect(expected.results).toEqual([0, NOTHING, 11, (5 << 10) | 5, 0, 99, 7, 99]);
      for (const config of CONFIGS) check({ entries, ops, user }, config, false);
    }
  });
});

describe('paging: an edited entry takes effect after the guest flushes', () => {
  it('a page already in the TLB, retargeted through the table, reads its new frame after the PTB write (every mode and TLB)', () => {
    const entries = Array.from({ length: WINDOW.last - WINDOW.first + 1 }, () => 0);
    entries[0] = (4 << 10) | 7; // page 16 -> frame 4
    entries[3] = (PT_PAGE << 10) | 7; // page 19 -> the table
    const ops: Op[] = [
      { store: true, page: 16, offset: 5, value: 11 },
      { store: false, page: 16, offset: 5, value: 0 },
      { store: true, page: 19, offset: 16, value: (5 << 10) | 7 }, // page 16 -> frame 5
      { store: false, page: 16, offset: 5, value: 0 },
    ];
    for (const user of [false, true]) {
      expect(reference({ entries, ops, user }).results).toEqual([11, 0]);
      for (const config of CONFIGS) check({ entries, ops, user }, config, false);
    }
  });
});

describe('paging: the walk’s edges', () => {
  /** Pages 0..3 identity-mapped (user, writable), the table at page 31 mapping itself; `body` runs with paging on. */
  const guest = (body: string, { handler = true, ptb = `${PT}` } = {}) => `
    movi r1, ivt
    csrw ivt, r1
    ${[0, 1, 2, 3, PT_PAGE].map((page) => `movi r2, ${(page << 10) | 7}\n    st r2, [${PT + page}]`).join('\n    ')}
    movi r1, ${ptb}
    csrw ptb, r1
    ${body}
    hypercall HC_POWER_OFF
  pf:
    csrr r6, eval
    st r6, [${LOG}]
    csrr r6, epc
    addi r6, r6, 4
    csrw epc, r6
    iret
  ivt: .word 0, 0, ${handler ? 'pf' : '0'}, 0
  `;
  const run = (source: string, spec: Partial<VmSpec>) => {
    const result = runScenario(scenario([vmSpec('g', inline(source), { memoryBytes: PAGES * PAGE_WORDS * 4, ...spec })], { run: { timeNs: 3_000_000, instructions: undefined, checkpointEvery: 1_000_000 } }));
    return { vm: result.simulation.vms[0], summary: result.summary.vms[0], events: result.events };
  };

  for (const config of CONFIGS) {
    it(`an address past the guest-virtual space, or negative, is the guest's #PF with that address (${config.label})`, () => {
      for (const address of [1 << 20, (1 << 20) + 7, -5]) {
        const { vm, summary } = run(guest(`movi r5, ${address}\n    movi r2, ${NOTHING}\n    ld r2, [r5 + 0]\n    st r2, [${RESULTS}]`), config.spec);
        expect(summary.state, summary.reason).toBe('shutoff');
        expect(vm.memory.read(LOG)).toBe(address);
        expect(vm.memory.read(RESULTS)).toBe(NOTHING);
      }
    });

    it(`guest-virtual address 0 is an address like any other: a load reads word 0, a store to page 0 lands (${config.label})`, () => {
      const { vm, summary } = run(guest(`movi r2, ${NOTHING}\n    ld r2, [0]\n    st r2, [${RESULTS}]\n    movi r3, 77\n    st r3, [${PAGE_WORDS - 1}]`), config.spec);
      expect(summary.state, summary.reason).toBe('shutoff');
      expect(vm.memory.read(RESULTS)).toBe(vm.memory.read(0));
      expect(vm.memory.read(PAGE_WORDS - 1)).toBe(77);
      expect(vm.memory.read(LOG)).toBe(0);
    });

    it(`a page table base that is not page-aligned, or outside the VM, crashes the VM at its first walk (${config.label})`, () => {
      const unaligned = run(guest(`ld r2, [${LOG}]`, { ptb: `${PT + 3}` }), config.spec);
      expect(unaligned.summary.state).toBe('crashed');
      expect(unaligned.summary.reason).toBe(`page table base 0x${(PT + 3).toString(16)} is not page-aligned`);
      const outside = run(guest(`ld r2, [${LOG}]`, { ptb: `${PAGES * PAGE_WORDS}` }), config.spec);
      expect(outside.summary.state).toBe('crashed');
      expect(outside.summary.reason).toBe(`page table at guest-physical 0x${(PAGES * PAGE_WORDS).toString(16)} is outside the VM's memory (EPT violation)`);
    });

    it(`an entry whose frame is outside the VM crashes the VM, not the host (${config.label})`, () => {
      const { summary } = run(guest(`movi r2, ${(PAGES << 10) | 7}\n    st r2, [${PT + 20}]\n    csrw ptb, r1\n    ld r2, [${20 * PAGE_WORDS + 9}]`), config.spec);
      expect(summary.state).toBe('crashed');
      expect(summary.reason).toBe(`the guest's page table maps 0x${(20 * PAGE_WORDS + 9).toString(16)} to guest-physical page 0x${PAGES.toString(16)}, outside the VM's memory (EPT violation)`);
    });
  }

  it('shadow paging cannot emulate a push onto the page table: the VM crashes, naming the pc', () => {
    const { summary } = run(guest(`movi sp, ${PT + 40}\n    push r1`), { virt: 'full', paging: 'shadow' });
    expect(summary.state).toBe('crashed');
    expect(summary.reason).toMatch(/^cannot emulate this access to the page table at pc 0x[0-9a-f]+$/);
  });

  it('nested paging lets the same push through (the guest writes its table freely)', () => {
    const { vm, summary } = run(guest(`movi sp, ${PT + 40}\n    push r1`), { virt: 'hw', paging: 'nested' });
    expect(summary.state).toBe('shutoff');
    expect(vm.memory.read(PT + 39)).toBe(PT);
  });

  it('a page-fault exit says what the access was (a fetch, a read, a write), and the vCPU counts each one', () => {
    // A load and a store to an absent page, then a jump there (a fetch): the handler skips each
    // instruction, so the fetch faults again at every next word of the page until the run ends.
    const absent = 20 * PAGE_WORDS;
    const result = runScenario(scenario([vmSpec('g', inline(guest(`movi r5, ${absent}\n    ld r2, [${absent}]\n    st r2, [${absent + 1}]\n    jmp ${absent + 8}`)), { memoryBytes: PAGES * PAGE_WORDS * 4, virt: 'full', paging: 'shadow' })], { run: { timeNs: 3_000_000, instructions: undefined, checkpointEvery: 1_000_000 } }));
    const faults = result.events.filter((event) => event.type === 'exit.page-fault' && (event.data as { cause: string }).cause === 'guest-fault').map((event) => [(event.data as { addr: number }).addr, (event.data as { access: string }).access]);
    expect(faults.slice(0, 4)).toEqual([
      [absent, 'read'],
      [absent + 1, 'write'],
      [absent + 8, 'fetch'],
      [absent + 12, 'fetch'],
    ]);
    const pageFaultExits = result.events.filter((event) => event.type === 'exit.page-fault').length;
    expect(result.summary.vms[0].vcpus[0].exits['page-fault']).toBe(pageFaultExits);
  });

  it('hardware-assisted, a #PF with no handler is a triple fault (shutdown); fully virtualized, the monitor crashes the VM', () => {
    const body = `ld r2, [${20 * PAGE_WORDS}]`;
    const native = run(guest(body, { handler: false }), { virt: 'hw', paging: 'nested' });
    expect(native.events.some((event) => event.type === 'exit.shutdown' && (event.data as { reason: string }).reason === `triple fault: #PF at 0x${(20 * PAGE_WORDS).toString(16)} with no handler installed`)).toBe(true);
    expect(native.vm.nativeExceptions).toBe(0);
    expect(native.summary.vcpus[0].exits.shutdown).toBe(1);
    const emulated = run(guest(body, { handler: false }), { virt: 'full', paging: 'shadow' });
    expect(emulated.summary.state).toBe('crashed');
    expect(emulated.summary.reason).toBe(`#PF (page fault) at 0x${(20 * PAGE_WORDS).toString(16)} with no handler installed`);
  });

  it('a #PF handled natively (hw) costs no exit; reflected (full) it is a guest-fault exit and an exception.inject', () => {
    const body = `ld r2, [${20 * PAGE_WORDS}]`;
    const native = run(guest(body), { virt: 'hw', paging: 'nested' });
    expect(native.vm.nativeExceptions).toBe(1);
    expect(native.events.filter((event) => event.type === 'exit.page-fault' && (event.data as { cause: string }).cause === 'guest-fault')).toHaveLength(0);
    const emulated = run(guest(body), { virt: 'full', paging: 'shadow' });
    const faults = emulated.events.filter((event) => event.type === 'exit.page-fault' && (event.data as { cause: string }).cause === 'guest-fault');
    expect(faults.map((event) => event.data)).toEqual([expect.objectContaining({ addr: 20 * PAGE_WORDS, access: 'read', cause: 'guest-fault' })]);
    expect(emulated.events.filter((event) => event.type === 'exception.inject').map((event) => (event.data as { vector: number }).vector)).toEqual([2]);
    expect(emulated.vm.memory.read(LOG)).toBe(20 * PAGE_WORDS);
  });
});

describe('shadow paging: an emulated write to the table zaps what it changed (as KVM’s kvm_mmu_pte_write does)', () => {
  it('rewriting an entry, even with the same value, drops its shadow and TLB entries: the next access is a hidden page fault again', () => {
    const entry16 = (4 << 10) | 7;
    const source = `
      movi r1, ivt
      csrw ivt, r1
      ${[0, 1, 2, 3, PT_PAGE].map((page) => `movi r2, ${(page << 10) | 7}\n      st r2, [${PT + page}]`).join('\n      ')}
      movi r2, ${entry16}
      st r2, [${PT + 16}]
      movi r2, ${(PT_PAGE << 10) | 7}
      st r2, [${PT + 17}]
      movi r1, ${PT}
      csrw ptb, r1
      ld r3, [${16 * PAGE_WORDS + 1}]
      ld r3, [${16 * PAGE_WORDS + 2}]
      movi r2, ${entry16}
      st r2, [${17 * PAGE_WORDS + 16}]
      ld r3, [${16 * PAGE_WORDS + 3}]
      hypercall HC_POWER_OFF
    ivt: .word 0, 0, 0, 0
    `;
    const run = runScenario(scenario([vmSpec('g', inline(source), { memoryBytes: PAGES * PAGE_WORDS * 4, virt: 'full', paging: 'shadow' })], { run: { timeNs: 3_000_000, instructions: undefined, checkpointEvery: 1_000_000 } }));
    expect(run.summary.vms[0].state).toBe('shutoff');
    const onPage16 = run.events
      .filter((event) => event.type === 'exit.page-fault')
      .map((event) => event.data as { addr: number; cause: string })
      .filter((data) => data.addr >>> 10 === 16 || data.cause === 'pt-write');
    expect(run.events.filter((event) => event.type === 'exit.page-fault' && (event.data as { cause: string }).cause === 'pt-write').map((event) => (event.data as { access: string }).access)).toEqual(['write']);
    expect(run.simulation.vms[0].shadow.fills).toBe(run.events.filter((event) => event.type === 'exit.page-fault' && (event.data as { cause: string }).cause === 'shadow-fill').length);
    expect(onPage16.map((data) => [data.addr, data.cause])).toEqual([
      [16 * PAGE_WORDS + 1, 'shadow-fill'],
      [17 * PAGE_WORDS + 16, 'pt-write'],
      [16 * PAGE_WORDS + 3, 'shadow-fill'],
    ]);
  });
});

describe('shadow paging: the emulation reads the instruction through the guest’s table', () => {
  // Code run from an alias: guest-virtual page 20 maps the code's frame 0, so the instruction at a
  // pc of page 20 is at physical page 0. The emulation of a write to the table must decode the
  // word the guest ran (through its table), not the word at that number in guest-physical memory
  // (page 20: not code at all).
  it('a st, an xchg (each also with a base register) on the table and a csrr, run from an aliased code page, are emulated as the guest ran them', () => {
    const ALIAS = 20;
    const entry21 = (5 << 10) | 7;
    const entry22 = (6 << 10) | 5;
    const entry23 = (7 << 10) | 7;
    const entry24 = (8 << 10) | 3;
    const source = `
      movi r1, ivt
      csrw ivt, r1
      ${[0, 1, 2, 3, PT_PAGE].map((page) => `movi r2, ${(page << 10) | 7}\n      st r2, [${PT + page}]`).join('\n      ')}
      movi r2, ${(0 << 10) | 7}
      st r2, [${PT + ALIAS}]
      movi r2, 33
      st r2, [${PT + 22}]
      movi r2, 44
      st r2, [${PT + 24}]
      movi r1, ${PT}
      csrw ptb, r1
      movi r5, there
      addi r5, r5, ${ALIAS * PAGE_WORDS}
      csrw epc, r5
      movi r5, 0
      csrw estatus, r5
      iret
    there:
      csrr r6, ptb
      st r6, [${RESULTS + 1}]
      movi r3, ${entry21}
      st r3, [${PT + 21}]
      st r3, [${RESULTS + 3}]
      movi r4, ${entry22}
      xchg r4, [${PT + 22}]
      st r4, [${RESULTS}]
      movi r7, ${PT}
      movi r3, ${entry23}
      st r3, [r7 + 23]
      movi r4, ${entry24}
      xchg r4, [r7 + 24]
      st r4, [${RESULTS + 2}]
      hypercall HC_POWER_OFF
    ivt: .word 0, 0, 0, 0
    `;
    for (const spec of [{ virt: 'full', paging: 'shadow' }, { virt: 'hw', paging: 'shadow' }, { virt: 'hw', paging: 'nested' }] as const) {
      const run = runScenario(scenario([vmSpec('g', inline(source), { memoryBytes: PAGES * PAGE_WORDS * 4, ...spec })], { run: { timeNs: 3_000_000, instructions: undefined, checkpointEvery: 1_000_000 } }));
      const label = `${spec.virt}/${spec.paging}`;
      expect(run.summary.vms[0].state, `${label}: ${run.summary.vms[0].reason ?? ''}`).toBe('shutoff');
      const vm = run.simulation.vms[0];
      expect(vm.memory.read(PT + 21), label).toBe(entry21);
      expect(vm.memory.read(PT + 22), label).toBe(entry22);
      // xchg's register took the old entry; csrr (trapped and emulated under full virtualization,
      // its operands read through the table too) read the table's base.
      expect(vm.memory.read(RESULTS), label).toBe(33);
      expect(vm.memory.read(RESULTS + 1), label).toBe(PT);
      // A st leaves its register as it was (only xchg takes the old entry).
      expect(vm.memory.read(RESULTS + 3), label).toBe(entry21);
      // The same two writes with a base register (sta, xchga).
      expect(vm.memory.read(PT + 23), label).toBe(entry23);
      expect(vm.memory.read(PT + 24), label).toBe(entry24);
      expect(vm.memory.read(RESULTS + 2), label).toBe(44);
      const ptWrites = run.events.filter((event) => event.type === 'exit.page-fault' && (event.data as { cause: string }).cause === 'pt-write');
      // Shadow paging emulates both writes (from pcs on the alias page); nested paging lets them through.
      expect(ptWrites.map((event) => (event.data as { pc: number }).pc >>> 10), label).toEqual(spec.paging === 'shadow' ? [ALIAS, ALIAS, ALIAS, ALIAS] : []);
    }
  });
});

describe('shadow paging: an emulated write to the table reaches the sibling vCPUs’ TLBs', () => {
  /**
   * Two vCPUs. vCPU 0 builds the table at PT (guest page 16 on frame 4, which holds 111; frame 5
   * holds 222), with a copy at page 30 when vCPU 1 is to walk a table of its own, turns paging on,
   * waits until vCPU 1 has read page 16, then (`write`) points PT's entry for page 16 at frame 5
   * and says so. vCPU 1 turns paging on with its table, reads page 16 into RESULTS, and again
   * into RESULTS + 1 once told; or (`siblingPages` false) only says it has read, and stops.
   */
  const siblings = ({ ownTable = false, write = true, siblingPages = true } = {}) => {
    const siblingTable = ownTable ? 30 * PAGE_WORDS : PT;
    const fixed = ownTable ? [0, 1, 2, 3, PT_PAGE, 30] : [0, 1, 2, 3, PT_PAGE];
    const store = (at: number) => `st r2, [${PT + at}]${ownTable ? `\n        st r2, [${siblingTable + at}]` : ''}`;
    return `
        jnz r0, second
        ${fixed.map((page) => `movi r2, ${(page << 10) | 7}\n        ${store(page)}`).join('\n        ')}
        movi r2, ${(4 << 10) | 7}
        ${store(16)}
        movi r2, 111
        st r2, [${4 * PAGE_WORDS}]
        movi r2, 222
        st r2, [${5 * PAGE_WORDS}]
        movi r1, ${PT}
        csrw ptb, r1
        movi r2, 1
        st r2, [ready]
wait1:  ld r2, [seen]
        jz r2, wait1
        ${write ? `movi r3, ${(5 << 10) | 7}\n        st r3, [${PT + 16}]` : 'nop'}
        movi r2, 1
        st r2, [moved]
        cli
        hlt
second: ${siblingPages ? '' : 'movi r2, 1\n        st r2, [seen]\n        cli\n        hlt\n'}ld r2, [ready]
        jz r2, second
        movi r1, ${siblingTable}
        csrw ptb, r1
        ld r3, [${16 * PAGE_WORDS}]
        st r3, [${RESULTS}]
        movi r2, 1
        st r2, [seen]
wait2:  ld r2, [moved]
        jz r2, wait2
        ld r3, [${16 * PAGE_WORDS}]
        st r3, [${RESULTS + 1}]
        out PORT_POWER, r0
ready:  .word 0
seen:   .word 0
moved:  .word 0
    `;
  };
  const runSiblings = (source: string, spec: Partial<VmSpec> = { virt: 'full', paging: 'shadow' }, pcpus = 2) =>
    runScenario(scenario([vmSpec('g', inline(source), { vcpus: 2, memoryBytes: PAGES * PAGE_WORDS * 4, ...spec })], { host: { pcpus, memoryBytes: 64 << 20 }, run: { timeNs: 20_000_000, instructions: undefined, checkpointEvery: 1_000_000 } }));

  // Two vCPUs share one page table. vCPU 1 reads guest page 16 (frame 4) and so holds it in its
  // TLB; vCPU 0 then points page 16 at frame 5, a write the monitor emulates (the table is
  // write-protected under shadow paging), and says so. vCPU 1's next read must go to frame 5: the
  // emulation drops the entry from every vCPU's TLB that walks this table, as KVM's
  // kvm_mmu_pte_write zaps the shadow entry for all of them (and flushes their TLBs).
  it('the sibling reads through the new entry without flushing its own TLB', () => {
    for (const spec of [{ virt: 'full', paging: 'shadow' }, { virt: 'hw', paging: 'shadow' }, { virt: 'full', paging: 'shadow', tlbTagged: true }] as const) {
      for (const pcpus of [1, 2]) {
        const run = runSiblings(siblings(), spec, pcpus);
        const label = `${JSON.stringify(spec)} on ${pcpus} pCPU(s)`;
        expect(run.summary.vms[0].state, `${label}: ${run.summary.vms[0].reason ?? ''}`).toBe('shutoff');
        const vm = run.simulation.vms[0];
        expect([vm.memory.read(RESULTS), vm.memory.read(RESULTS + 1)], label).toEqual([111, 222]);
      }
    }
  });

  // vCPU 1 walks a table of its own (a copy at page 30, the same entries), reads page 16 and then
  // again after vCPU 0 has written its own table's entry for page 16: a write to one table must
  // leave the TLB of a vCPU on another alone (its misses stay as without the write). And a
  // sibling that never turned paging on (it has no MMU yet) is skipped.
  const runTwo = (write: boolean, siblingPages: boolean) => runSiblings(siblings({ ownTable: true, write, siblingPages }));

  it('a write to one table leaves the TLB of a vCPU on another table alone', () => {
    const written = runTwo(true, true);
    const untouched = runTwo(false, true);
    for (const run of [written, untouched]) expect(run.summary.vms[0].state, run.summary.vms[0].reason).toBe('shutoff');
    // vCPU 1 reads through its own table, which still maps page 16 to frame 4.
    expect(written.simulation.vms[0].memory.read(RESULTS + 1)).toBe(untouched.simulation.vms[0].memory.read(RESULTS + 1));
    const misses = (run: ReturnType<typeof runTwo>) => run.simulation.vms[0].vcpus[1].mmu?.misses;
    expect(misses(written)).toBeGreaterThan(0);
    expect(misses(written)).toBe(misses(untouched));
  });

  it('a sibling that never turned paging on is left alone by the emulation', () => {
    const run = runTwo(true, false);
    expect(run.summary.vms[0].state, run.summary.vms[0].reason).toBe('shutoff');
    expect(run.simulation.vms[0].vcpus[1].mmu).toBeUndefined();
    expect(run.events.some((event) => event.type === 'exit.page-fault' && (event.data as { cause: string }).cause === 'pt-write')).toBe(true);
  });
});

describe('the emulation of a guest that does not page reads its instructions where they are', () => {
  // No page table (PTB 0): a trapped csrw/csrr on page 1 is decoded from guest-physical memory as
  // it is, not through a table at address 0 (whose "entries" would be the first code words).
  it('a csrw and a csrr on page 1, trapped and emulated, move the value the guest gave', () => {
    const source = `
        jmp far
        .space ${PAGE_WORDS - 4}
far:    movi r3, 4660
        csrw scratch, r3
        csrr r4, scratch
        st r4, [${RESULTS}]
        out PORT_POWER, r0
    `;
    const run = runScenario(scenario([vmSpec('g', inline(source), { memoryBytes: PAGES * PAGE_WORDS * 4, virt: 'full' })]));
    expect(run.summary.vms[0].state, run.summary.vms[0].reason).toBe('shutoff');
    expect(run.events.filter((event) => event.type === 'exit.privileged').map((event) => (event.data as { pc: number }).pc >>> 10)).toEqual([1, 1]);
    expect(run.simulation.vms[0].memory.read(RESULTS)).toBe(4660);
  });
});
