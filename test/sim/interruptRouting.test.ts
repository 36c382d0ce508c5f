/**
 * The contract of interrupt routing (src/actors/monitor/interrupts.ts), one rule per test: which
 * line goes first, what an injection costs and under which mode, when a blocked vCPU wakes
 * (Type 1 and Type 2), when an interrupt exit happens, what an IPI to a halted vCPU does, what a
 * VM crashed by an interrupt without a handler still does, and that a waking vCPU enqueues as a
 * wake (credit's BOOST). Written from StrykerJS's survivors on interrupts.ts (docs/testing.md):
 * each test kills mutants the isolation properties cannot see.
 */
import { describe, expect, it } from 'vitest';
import type { SimEvent } from '../../src/core/events.js';
import { Simulation } from '../../src/actors/simulation.js';
import { consoleOf, inline, runProgram, runScenario, scenario, vmSpec, type TestRun } from '../helpers.js';

const of = (run: TestRun, type: string, src?: string): SimEvent[] => run.events.filter((event) => event.type === type && (src === undefined || event.src === src));

/** A guest that sets a one-shot timer, waits in hlt, and powers off after its handler (whose first instruction is `first`). */
const sleepUntilTimer = (ns: number, first = '') => `
      movi sp, 2000
      movi r1, ivt
      csrw ivt, r1
      movi r1, ${ns}
      out PORT_TIMER_ONESHOT, r1
      sti
      hlt
      out PORT_POWER, r0
    tick:
      ${first}
      movi r1, IRQ_TIMER
      out PORT_PIC_EOI, r1
      iret
    ivt:
      .space VEC_IRQ_BASE
      .word tick
    `;

describe('interrupt routing', () => {
  it('a lower device line goes before a pending IPI: the timer (line 0), then the IPI (line 1)', () => {
    const run = runProgram(`
      movi sp, 2000
      movi r1, ivt
      csrw ivt, r1
      movi r1, 1000
      out PORT_TIMER_ONESHOT, r1
      work 5000                 ; the timer fires while interrupts are off: pending
      out PORT_IPI_SEND, r0     ; an IPI to itself (vCPU 0): pending too
      sti                       ; both can be taken now
      nop
      nop
      out PORT_POWER, r0
    tick:
      movi r1, IRQ_TIMER
      out PORT_PIC_EOI, r1
      iret
    ipi:
      iret
    ivt:
      .space VEC_IRQ_BASE
      .word tick, ipi
    `);
    expect(of(run, 'irq.ipi')).toHaveLength(1);
    expect(of(run, 'irq.inject').map((event) => (event.data as { line: number }).line)).toEqual([0, 1]);
    expect(run.summary.vms[0].vcpus[0].interrupts).toBe(2);
  });

  it('a pending IPI (line 1) goes before a higher device line: the console (line 4)', () => {
    const run = runProgram(
      `
      movi sp, 2000
      movi r1, ivt
      csrw ivt, r1
      work 200000               ; console input arrives meanwhile, interrupts off: pending
      out PORT_IPI_SEND, r0     ; an IPI to itself: pending too
      sti
      nop
      nop
      out PORT_POWER, r0
    ipi:
      iret
    typed:
      in r2, PORT_CONSOLE_DATA
      movi r1, IRQ_CONSOLE
      out PORT_PIC_EOI, r1
      iret
    ivt:
      .space VEC_IRQ_BASE
      .word 0, ipi, 0, 0, typed
    `,
      {},
      { inputs: [{ kind: 'console', atNs: 150_000, vm: 'guest', text: 'x' }] },
    );
    expect(of(run, 'irq.inject').map((event) => (event.data as { line: number }).line)).toEqual([1, 4]);
  });

  it('an IPI to a halted vCPU is dropped: no irq.ipi, nothing pending', () => {
    const run = runProgram(
      `
      jnz r0, second
      work 50000                ; vCPU 1 halts meanwhile
      movi r1, 1
      out PORT_IPI_SEND, r1
      work 1000
      out PORT_POWER, r0
    second:
      cli
      hlt
    `,
      { vcpus: 2 },
      { host: { pcpus: 2, memoryBytes: 64 * 1024 * 1024 } },
    );
    expect(of(run, 'vcpu.halted', 'vm/guest/vcpu/1')).toHaveLength(1);
    expect(of(run, 'irq.ipi')).toHaveLength(0);
    expect(run.simulation.vms[0].vcpus[1].localPending).toBe(0);
  });

  it('what an injection costs: interruptInjectNs, or postedInterruptNs under posted interrupts, before the handler runs', () => {
    // The timer wakes the vCPU from hlt; entry injects the line; the handler's first instruction exits.
    const guest = sleepUntilTimer(10_000, 'out PORT_CONSOLE_DATA, r1');
    const gap = (posted: boolean, costs: Record<string, number>) => {
      const run = runProgram(guest, { virt: 'hw', postedInterrupts: posted }, { costs: { timerJitterNs: 0, ...costs } });
      const inject = of(run, 'irq.inject')[0];
      const exit = run.events.find((event) => event.type === 'exit.io' && event.seq > inject.seq && (event.data as { port: number }).port === 0x3f8) as SimEvent;
      return { gap: exit.t - inject.t, overhead: run.summary.vms[0].vcpus[0].overheadNs };
    };
    for (const posted of [false, true]) {
      const name = posted ? 'postedInterruptNs' : 'interruptInjectNs';
      const other = posted ? 'interruptInjectNs' : 'postedInterruptNs';
      const base = gap(posted, { [name]: 100, [other]: 100 });
      const dearer = gap(posted, { [name]: 5100, [other]: 100 });
      const otherDearer = gap(posted, { [name]: 100, [other]: 5100 });
      expect(dearer.gap - base.gap, name).toBe(5000);
      expect(dearer.overhead - base.overhead, name).toBe(5000);
      expect(otherDearer.gap, `${other} is not charged`).toBe(base.gap);
    }
  });

  it('a vCPU blocked in hlt wakes at the interrupt under Type 1, hostWakeNs later under Type 2', () => {
    const guest = sleepUntilTimer(30_000);
    for (const type of ['type1', 'type2'] as const) {
      const run = runProgram(guest, {}, { host: { pcpus: 1, memoryBytes: 64 * 1024 * 1024, type }, costs: { timerJitterNs: 0, hostWakeNs: 7000 } });
      const raise = of(run, 'irq.raise')[0];
      const wake = run.events.find((event) => event.type === 'vcpu.runnable' && (event.data as { reason: string }).reason === 'wake') as SimEvent;
      expect(wake.t - raise.t, type).toBe(type === 'type2' ? 7000 : 0);
      expect(of(run, 'vm.unblocked')).toHaveLength(1);
    }
  });

  it('an interrupt exit happens when the interrupt arrives, never later (the tiny kernel, every exit.interrupt at an irq.raise)', () => {
    const run = runScenario(scenario([vmSpec('k', { kind: 'bundled', name: 'kernel' }, { virt: 'hw' })]), 7);
    const raised = new Set(of(run, 'irq.raise').map((event) => event.t));
    const exits = of(run, 'exit.interrupt');
    expect(exits.length).toBeGreaterThan(5);
    for (const exit of exits) expect(raised.has(exit.t), `exit.interrupt at ${exit.t}`).toBe(true);
    // Posted: the line rides in the record.
    const posted = runScenario(scenario([vmSpec('k', { kind: 'bundled', name: 'kernel' }, { virt: 'hw', postedInterrupts: true })]), 7);
    expect(of(posted, 'irq.posted').length).toBeGreaterThan(5);
    for (const event of of(posted, 'irq.posted')) expect(event.data).toEqual({ line: 0 });
  });

  it('a VM crashed by an interrupt without a handler does nothing more: no event and no CPU time after the crash', () => {
    const run = runProgram(`
      movi r1, 5000
      out PORT_TIMER_ONESHOT, r1
      sti
    spin:
      addi r2, r2, 1
      st r2, [count]
      jmp spin
    count: .word 0
    `);
    expect(of(run, 'vm.crashed')).toHaveLength(1);
    const crash = of(run, 'vcpu.crashed')[0];
    expect(run.events.filter((event) => event.seq > crash.seq && event.src.startsWith('vm/guest/vcpu'))).toEqual([]);
    expect(run.summary.vms[0].vcpus[0].cpuNs).toBeLessThanOrEqual(crash.t);
    // The guest ran no further: its registers and memory are as they were at the crash.
    const cpu = run.simulation.vms[0].bsp.cpu;
    expect(cpu.pc).toBe((crash.data as { pc: number }).pc);
    const memory = run.simulation.vms[0].memory;
    const count = memory.host.words[memory.translate(24)]; // `count`: after three 4-word instructions and the loop's three
    expect(count).toBe(cpu.regs[2]);
  });

  it("a waking vCPU enqueues as a wake: credit BOOSTs it past a CPU-bound VM's slice", () => {
    const run = runScenario(
      scenario([vmSpec('hog', { kind: 'bundled', name: 'cpu-bound' }), vmSpec('tick', { kind: 'bundled', name: 'ticker' }, { params: { PERIOD_NS: 2_000_000, EVERY: 1, TICKS: 30, BURST_NS: 10_000 } })], {
        scheduler: { policy: 'credit', quantumNs: 1_000_000 },
        run: { timeNs: 100_000_000, instructions: undefined, checkpointEvery: 10_000 },
      }),
      3,
    );
    expect(consoleOf(run, 'tick').length).toBeGreaterThan(5);
    const wakes = run.events.filter((event) => event.src === 'vm/tick/vcpu/0' && event.type === 'vcpu.runnable' && (event.data as { reason: string }).reason === 'wake');
    expect(wakes.length).toBeGreaterThan(20);
    for (const wake of wakes) {
      const running = run.events.find((event) => event.seq > wake.seq && event.src === 'vm/tick/vcpu/0' && event.type === 'vcpu.running') as SimEvent;
      // BOOST preempts the hog at once (credit's 30 ms slice otherwise).
      expect(running.t - wake.t).toBeLessThan(100_000);
    }
  });

  it('an irq.raise from no VM\'s device is ignored', () => {
    const simulation = new Simulation({ scenario: scenario([vmSpec('guest', inline('work 1000\nout PORT_POWER, r0'))]) });
    expect(() => simulation.bus.publish('nowhere', 'irq.raise', { line: 0 })).not.toThrow();
    simulation.run();
    expect(simulation.vms[0].pic.deliverable(0)).toBe(-1);
  });
});
