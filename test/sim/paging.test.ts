import { describe, expect, it } from 'vitest';
import { Simulation } from '../../src/actors/simulation.js';
import { LogWriter } from '../../src/core/log/writer.js';
import { bareMachine } from '../../src/actors/technique.js';
import type { VmSpec } from '../../src/core/scenario/schema.js';
import { inline, runScenario, scenario, vmSpec } from '../helpers.js';

const KiB = 1024;
const bundled = (name: string) => ({ kind: 'bundled', name }) as const;
const paged = (name: string, guest: string, paging: 'shadow' | 'nested'): VmSpec =>
  vmSpec(name, bundled(guest), { memoryBytes: 512 * KiB, virt: 'hw', paging });
const fourCpus = { host: { pcpus: 4, memoryBytes: 64 << 20 }, run: { timeNs: 3_000_000, instructions: undefined, checkpointEvery: 10_000 } };

function pageFaults(run: ReturnType<typeof runScenario>, vm: string, cause: string): number {
  return run.events.filter((event) => event.type === 'exit.page-fault' && event.src.startsWith(`vm/${vm}/`) && (event.data as { cause?: string }).cause === cause).length;
}

describe('memory virtualization: shadow and nested paging', () => {
  const run = runScenario(
    scenario([paged('pt-shadow', 'pt-heavy', 'shadow'), paged('pt-nested', 'pt-heavy', 'nested'), paged('tlb-shadow', 'tlb-heavy', 'shadow'), paged('tlb-nested', 'tlb-heavy', 'nested')], fourCpus),
  );
  const vcpu = (name: string) => run.summary.vms.find((vm) => vm.name === name)?.vcpus[0] as (typeof run.summary.vms)[number]['vcpus'][number];

  it("traps the guest's page-table writes under shadow paging, and not under nested paging", () => {
    expect(pageFaults(run, 'pt-shadow', 'pt-write')).toBeGreaterThan(100);
    expect(pageFaults(run, 'pt-nested', 'pt-write')).toBe(0);
    expect(vcpu('pt-nested').exits['page-fault']).toBe(0);
  });

  it('makes a TLB miss cost more under nested paging (a two-dimensional walk)', () => {
    // The same TLB-miss-heavy guest does far less work under nested paging once shadow is warm.
    expect(vcpu('tlb-shadow').instructions).toBeGreaterThan(vcpu('tlb-nested').instructions * 1.5);
    // Shadow paging pays its hidden page faults once per page, then walks its shadow table.
    const fills = pageFaults(run, 'tlb-shadow', 'shadow-fill');
    expect(fills).toBeGreaterThan(90);
    expect(fills).toBeLessThan(130);
  });

  it('lets nested paging win on a page-table-heavy guest', () => {
    expect(vcpu('pt-nested').instructions).toBeGreaterThan(vcpu('pt-shadow').instructions * 1.3);
  });

  it('gives the same log whatever the batch length (TLB fills happen between batches)', () => {
    const logWith = (maxBatchNs: number) => {
      let text = '';
      new Simulation({
        scenario: scenario([paged('a', 'pt-heavy', 'shadow'), paged('b', 'tlb-heavy', 'nested')], {
          host: { pcpus: 1, memoryBytes: 16 << 20 },
          scheduler: { policy: 'round-robin', quantumNs: 200_000 },
          run: { timeNs: 1_000_000, instructions: undefined, checkpointEvery: 1_000 },
        }),
        maxBatchNs,
        log: new LogWriter((chunk) => (text += chunk)),
      }).run();
      return text;
    };
    expect(logWith(100_000)).toBe(logWith(50));
  });
});

describe('the TLB miss walk each paging mode pays', () => {
  // The same TLB-miss-heavy guest, one walk cost changed at a time: each mode must pay its own walk
  // and no other (nested: two tables; the bare machine's native MMU: one; shadow: one, its shadow
  // table, once the hidden faults have filled it).
  const work = (paging: 'shadow' | 'nested' | 'native', costs: { tlbWalkNs: number; nestedWalkNs: number }) => {
    const base = scenario([paged('g', 'tlb-heavy', paging === 'native' ? 'nested' : paging)], { ...fourCpus, costs });
    const summary = runScenario(paging === 'native' ? bareMachine(base) : base).summary;
    return summary.vms[0].vcpus[0].instructions;
  };
  const usual = { tlbWalkNs: 30, nestedWalkNs: 120 };

  it('the bare machine walks one table: a dearer nested walk changes nothing, a dearer walk slows it', () => {
    expect(work('native', { ...usual, nestedWalkNs: 5_000 })).toBe(work('native', usual));
    expect(work('native', { ...usual, tlbWalkNs: 500 })).toBeLessThan(work('native', usual) * 0.8);
  });

  it('nested paging walks two: a dearer one-table walk changes nothing, a dearer nested walk slows it', () => {
    expect(work('nested', { ...usual, tlbWalkNs: 5_000 })).toBe(work('nested', usual));
    expect(work('nested', { ...usual, nestedWalkNs: 1_000 })).toBeLessThan(work('nested', usual) * 0.8);
  });

  it('shadow paging never pays a nested walk', () => {
    expect(work('shadow', { ...usual, nestedWalkNs: 5_000 })).toBe(work('shadow', usual));
    expect(work('shadow', { ...usual, tlbWalkNs: 500 })).toBeLessThan(work('shadow', usual) * 0.8);
  });
});

describe("the guest's own page faults and protection", () => {
  const guest = (body: string, handler = true, onFault = 'hypercall HC_POWER_OFF') => `
    .equ PT, 15 * PAGE_WORDS
    movi sp, 14 * PAGE_WORDS
    movi r1, ivt
    csrw ivt, r1
    movi r1, 0
    movi r3, 16               ; map pages 0..15 (the table too), present, writable, user
  map:
    movi r4, PAGE_WORDS
    mul r2, r1, r4
    movi r4, 7
    or r2, r2, r4
    movi r4, PT
    add r4, r4, r1
    st r2, [r4]
    addi r1, r1, 1
    blt r1, r3, map
    movi r1, PT
    csrw ptb, r1
    ${body}
    hypercall HC_POWER_OFF
  pf:
    csrr r6, eval
    ${onFault}
  ivt: .word 0, 0, ${handler ? 'pf' : '0'}, 0
  `;

  for (const [virt, paging] of [
    ['full', 'shadow'],
    ['hw', 'shadow'],
    ['hw', 'nested'],
  ] as const) {
    it(`delivers a page fault to the guest's handler (${virt}/${paging})`, () => {
      const run = runScenario(scenario([vmSpec('g', inline(guest('ld r2, [20 * PAGE_WORDS + 5]')), { virt, paging })]));
      const vm = run.simulation.vms[0];
      expect(vm.state).toBe('shutoff');
      expect(vm.bsp.cpu.regs[6]).toBe(20 * 1024 + 5);
    });
  }

  for (const [virt, paging] of [
    ['full', 'shadow'],
    ['hw', 'shadow'],
    ['hw', 'nested'],
  ] as const) {
    it(`enforces the write bit: a store to a read-only page is the guest's #PF, which it can fix (${virt}/${paging})`, () => {
      const readOnly = `
        movi r4, 3 * PAGE_WORDS + 5   ; page 3: present, user, not writable
        st r4, [PT + 3]
        csrw ptb, r1
        ld r2, [3 * PAGE_WORDS + 7]   ; a read goes through
        movi r3, 42
        st r3, [3 * PAGE_WORDS + 7]   ; the write faults; the handler makes the page writable
        ld r5, [3 * PAGE_WORDS + 7]
      `;
      const fix = `
        movi r4, 3 * PAGE_WORDS + 7
        st r4, [PT + 3]
        iret
      `;
      const run = runScenario(scenario([vmSpec('g', inline(guest(readOnly, true, fix)), { virt, paging })]));
      const vm = run.simulation.vms[0];
      expect(vm.state).toBe('shutoff');
      expect(vm.bsp.cpu.regs[6]).toBe(3 * 1024 + 7);
      expect(vm.bsp.cpu.regs[5]).toBe(42);
      expect(vm.memory.read(3 * 1024 + 7)).toBe(42);
      const faults = run.events.filter((event) => event.type === 'exit.page-fault' && (event.data as { cause?: string }).cause === 'guest-fault');
      if (virt === 'hw') expect(vm.nativeExceptions).toBe(1);
      else expect(faults.map((event) => (event.data as { access: string }).access)).toEqual(['write']);
    });
  }

  it('does not fault on a page-table read under shadow paging (the table is mapped read-only), but traps the writes', () => {
    const body = `
      ld r2, [PT + 3]
      ld r3, [PT + 4]
      addi r3, r3, 0
      st r3, [PT + 4]
    `;
    const run = runScenario(scenario([vmSpec('g', inline(guest(body)), { virt: 'full', paging: 'shadow' })]));
    expect(run.simulation.vms[0].bsp.cpu.regs[2]).toBe(3 * 1024 + 7);
    const causes = run.events.filter((event) => event.type === 'exit.page-fault').map((event) => (event.data as { cause?: string }).cause);
    // The map loop's 16 entries and the final store are written through the TLB before paging is
    // on; afterwards only the one store to the table exits.
    expect(causes.filter((cause) => cause === 'pt-write')).toHaveLength(1);
    expect(causes).not.toContain('pt-read');
  });

  it('crashes a guest whose page fault has no handler', () => {
    const run = runScenario(scenario([vmSpec('g', inline(guest('ld r2, [20 * PAGE_WORDS]', false)), { virt: 'full' })]));
    expect(run.summary.vms[0].state).toBe('crashed');
    expect(run.summary.vms[0].reason).toMatch(/#PF \(page fault\) at 0x5000 with no handler installed/);
  });

  it('cannot map memory outside the VM: a page table pointing past it is an EPT violation, for that VM only', () => {
    const escape = `
      movi r1, 0x40000 + 7      ; page 1 -> guest-physical page 256 (the VM has 16 pages)
      st r1, [PT + 1]
      ld r2, [1 * PAGE_WORDS]
    `;
    const run = runScenario(scenario([vmSpec('g', inline(guest(escape)), { virt: 'hw', paging: 'nested' }), vmSpec('quiet', inline('loop: work 1000\n jmp loop'))]));
    expect(run.summary.vms[0].state).toBe('crashed');
    expect(run.summary.vms[0].reason).toMatch(/outside the VM's memory \(EPT violation\)/);
    expect(run.summary.vms[1].state).toBe('running');
  });

  it("enforces the user bit: user mode cannot touch the kernel's pages", () => {
    const user = `
      movi r4, 1                ; page 3: present, kernel only
      movi r2, 3 * PAGE_WORDS
      or r2, r2, r4
      st r2, [PT + 3]
      csrw ptb, r1
      movi r1, user
      csrw epc, r1
      movi r1, 1
      csrw estatus, r1
      iret
    user:
      ld r2, [3 * PAGE_WORDS + 7]
    `;
    const run = runScenario(scenario([vmSpec('g', inline(guest(user)), { virt: 'full' })]));
    expect(run.simulation.vms[0].bsp.cpu.regs[6]).toBe(3 * 1024 + 7);
  });
});
