import { describe, expect, it } from 'vitest';
import { consoleOf, inline, runProgram, runScenario, scenario, vmSpec, type TestRun } from '../helpers.js';
import type { VmSpec } from '../../src/core/scenario/schema.js';

function smpRun(vcpus: number, pcpus: number, overrides: Partial<VmSpec> = {}): TestRun {
  const vm = vmSpec('s', { kind: 'bundled', name: 'smp-ipi' }, { vcpus, params: { VCPUS: vcpus, ROUNDS: 4 }, ...overrides });
  return runScenario(scenario([vm], { host: { pcpus, memoryBytes: 64 * 1024 * 1024 } }), 5);
}

const ipis = (run: TestRun) => run.events.filter((event) => event.type === 'irq.ipi');

describe('inter-processor interrupts', () => {
  it('wake a secondary vCPU waiting in hlt, and its answer reaches vCPU 0 (3 vCPUs on 2 pCPUs)', () => {
    const run = smpRun(3, 2);
    expect(consoleOf(run, 's')).toEqual([
      'smp-ipi: round 1: answers from vCPUs: 2',
      'smp-ipi: round 2: answers from vCPUs: 2',
      'smp-ipi: round 3: answers from vCPUs: 2',
      'smp-ipi: round 4: answers from vCPUs: 2',
      'smp-ipi: done, powering off',
    ]);
    expect(run.summary.vms[0].state).toBe('shutoff');
    // 4 rounds x 2 secondaries, each way.
    const sent = ipis(run);
    expect(sent.filter((event) => event.src === 'vm/s/vcpu/0').map((event) => (event.data as { to: number }).to)).toEqual([1, 2, 1, 2, 1, 2, 1, 2]);
    expect(sent.filter((event) => event.src !== 'vm/s/vcpu/0').every((event) => (event.data as { to: number }).to === 0)).toBe(true);
    expect(sent).toHaveLength(16);
    const [bsp, first, second] = run.summary.vms[0].vcpus;
    expect(first.interrupts).toBe(4);
    expect(second.interrupts).toBe(4);
    expect(bsp.interrupts).toBe(8);
    // Each IPI to a secondary woke it from hlt.
    const wakes = run.events.filter((event) => event.type === 'vcpu.runnable' && (event.data as { reason: string }).reason === 'wake' && event.src !== 'vm/s/vcpu/0');
    expect(wakes).toHaveLength(8);
  });

  it('work on one physical CPU too, and the log is the same twice', () => {
    const run = smpRun(4, 1);
    expect(consoleOf(run, 's').at(-1)).toBe('smp-ipi: done, powering off');
    expect(ipis(run)).toHaveLength(24);
    expect(smpRun(4, 1).log).toBe(run.log);
  });

  it('reach a running vCPU as an external-interrupt exit, or posted without one', () => {
    const exiting = smpRun(3, 3, { virt: 'hw' });
    const posted = smpRun(3, 3, { virt: 'hw', postedInterrupts: true });
    expect(consoleOf(posted, 's')).toEqual(consoleOf(exiting, 's'));
    const interruptExits = (run: TestRun) => run.summary.vms[0].vcpus.reduce((sum, vcpu) => sum + vcpu.exits.interrupt, 0);
    expect(interruptExits(exiting)).toBeGreaterThan(0);
    expect(interruptExits(posted)).toBe(0);
    expect(posted.events.some((event) => event.type === 'irq.posted')).toBe(true);
  });

  it('to a vCPU the VM does not have are dropped', () => {
    const run = runProgram(['movi r1, 9', 'out PORT_IPI_SEND, r1', 'movi r1, -1', 'out PORT_IPI_SEND, r1', 'out PORT_POWER, r0'].join('\n'));
    expect(ipis(run)).toHaveLength(0);
    expect(run.summary.vms[0].state).toBe('shutoff');
  });

  it("a vCPU sees a sibling's write within the SMP quantum of when it was made", () => {
    // vCPU 1 computes 50 us, then sets a flag and reports (port 0x98); vCPU 0 spins on the flag
    // and reports (port 0x99) as soon as it sees it set.
    const source = [
      '        jnz r0, writer',
      'spin:   ld r1, [flag]',
      '        jz r1, spin',
      '        out 0x99, r1',
      '        cli',
      '        hlt',
      'writer: work 50000',
      '        movi r1, 1',
      '        st r1, [flag]',
      '        out 0x98, r1',
      '        cli',
      '        hlt',
      'flag:   .word 0',
    ].join('\n');
    const gap = (quantumNs: number | undefined) => {
      const s = scenario([vmSpec('w', inline(source), { vcpus: 2 })], { host: { pcpus: 2, memoryBytes: 64 * 1024 * 1024 } });
      const run = runScenario(quantumNs === undefined ? s : { ...s, run: { ...s.run, smpQuantumNs: quantumNs } }, 1);
      const at = (port: number) => run.events.find((event) => event.type === 'exit.io' && (event.data as { port: number }).port === port)?.t as number;
      return at(0x99) - at(0x98);
    };
    // The spinner reports after the writer: it sees the store when its own batch, bounded by the
    // SMP quantum, ends; never more than a quantum late (seed 1: 1 us after the writer with the
    // default 1 us quantum, 10 us with a 20 us one).
    for (const quantum of [undefined, 1_000, 20_000]) {
      const bound = quantum ?? 1_000;
      const difference = gap(quantum);
      expect(Math.abs(difference), `quantum ${bound}`).toBeLessThanOrEqual(bound + 10);
    }
  });

  it('xchg makes a spin lock: no two vCPUs are ever inside the critical section together', () => {
    const source = [
      '        movi r5, 0',
      'again:  ld r1, [lock]',
      '        jnz r1, spin',
      '        movi r1, 1',
      '        xchg r1, [lock]',
      '        jnz r1, spin',
      '        ld r2, [inside]        ; inside the critical section: nobody else may be',
      '        jz r2, alone',
      '        ld r3, [overlaps]',
      '        addi r3, r3, 1',
      '        st r3, [overlaps]',
      'alone:  movi r2, 1',
      '        st r2, [inside]',
      '        ld r3, [sections]',
      '        addi r3, r3, 1',
      '        st r3, [sections]',
      '        work 700',
      '        movi r2, 0',
      '        st r2, [inside]',
      '        st r2, [lock]',
      '        addi r5, r5, 1',
      '        work 300',
      '        movi r2, 200',
      '        blt r5, r2, again',
      '        cli',
      '        hlt',
      'spin:   work 50',
      '        jmp again',
      'lock:     .word 0',
      'inside:   .word 0',
      'overlaps: .word 0',
      'sections: .word 0',
    ].join('\n');
    for (const [vcpus, pcpus] of [[3, 3], [3, 2], [4, 4]]) {
      const run = runScenario(scenario([vmSpec('l', inline(source), { vcpus })], { host: { pcpus, memoryBytes: 64 * 1024 * 1024 } }), 2);
      const vm = run.simulation.vms[0];
      expect(vm.state, `${vcpus} vCPUs on ${pcpus} pCPUs`).toBe('shutoff');
      // The data words follow the code: 28 instructions of 4 words.
      const data = 28 * 4;
      expect([vm.memory.read(data), vm.memory.read(data + 1), vm.memory.read(data + 2), vm.memory.read(data + 3)]).toEqual([0, 0, 0, 200 * vcpus]);
    }
  });

  it('a device line routed to vCPU 1 wakes and interrupts vCPU 1, not vCPU 0', () => {
    const source = (route: boolean) =>
      [
        '        jnz r0, second',
        route ? '        movi r1, 0x100 + IRQ_TIMER     ; the timer line goes to vCPU 1' : '        nop',
        route ? '        out PORT_PIC_ROUTE, r1' : '        nop',
        '        cli',
        '        hlt                            ; vCPU 0 stops for good',
        'second: movi sp, 0x800',
        '        movi r1, ivt',
        '        csrw ivt, r1',
        '        movi r1, 20000',
        '        out PORT_TIMER_PERIOD, r1',
        '        sti',
        'wait:   hlt',
        '        ld r1, [ticks]',
        '        movi r2, 5',
        '        blt r1, r2, wait',
        '        out PORT_POWER, r0',
        'tick:   ld r1, [ticks]',
        '        addi r1, r1, 1',
        '        st r1, [ticks]',
        '        movi r1, IRQ_TIMER',
        '        out PORT_PIC_EOI, r1',
        '        iret',
        'ticks:  .word 0',
        '        .align 4',
        'ivt:    .space VEC_IRQ_BASE',
        '        .word tick',
      ].join('\n');
    const run = (route: boolean) => runScenario(scenario([vmSpec('r', inline(source(route)), { vcpus: 2 })], { host: { pcpus: 2, memoryBytes: 64 * 1024 * 1024 } }), 1);
    const routed = run(true);
    expect(routed.summary.vms[0].state).toBe('shutoff');
    const injected = routed.events.filter((event) => event.type === 'irq.inject');
    expect(injected.length).toBeGreaterThanOrEqual(5);
    expect(injected.every((event) => event.src === 'vm/r/vcpu/1')).toBe(true);
    // Unrouted, the ticks go to vCPU 0, which has stopped: vCPU 1 waits for ever.
    const unrouted = run(false);
    expect(unrouted.summary.vms[0].state).not.toBe('shutoff');
    expect(unrouted.events.some((event) => event.type === 'irq.inject')).toBe(false);
  });
});
