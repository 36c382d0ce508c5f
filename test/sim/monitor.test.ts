import { describe, expect, it } from 'vitest';
import { consoleOf, inline, runProgram, runScenario, scenario, typesOf, vmSpec } from '../helpers.js';
import { Simulation } from '../../src/actors/simulation.js';
import { DEFAULT_COSTS } from '../../src/core/costs.js';
import { LogWriter } from '../../src/core/log/writer.js';
import fc from 'fast-check';

const PUTS = `
puts:
  mov r3, r1
puts_loop:
  ld r1, [r3]
  jz r1, puts_done
  out PORT_CONSOLE_DATA, r1
  addi r3, r3, 1
  jmp puts_loop
puts_done:
  ret
`;

describe('monitor: I/O exits', () => {
  it('forwards port writes to the console device and emulates port reads', () => {
    const run = runProgram(`
      movi r1, msg
      call puts
      in r4, PORT_CONSOLE_STATUS
      in r5, 0x99           ; nobody claims it: open bus
      out PORT_POWER, r0
    ${PUTS}
    msg: .string "port io\\n"
    `);
    expect(consoleOf(run, 'guest')).toEqual(['port io']);
    const cpu = run.simulation.vms[0].bsp.cpu;
    expect(cpu.regs[4]).toBe(0);
    expect(cpu.regs[5]).toBe(-1);
    expect(run.summary.vms[0].vcpus[0].exits.io).toBe(8 + 2 + 1);
    const io = run.events.filter((event) => event.type === 'exit.io');
    expect(io[0].data).toEqual({ pc: expect.any(Number), port: 0x3f8, dir: 'out', value: 'p'.charCodeAt(0), reg: null });
    // The record names the register an `in` loads: the handler reads nothing else.
    expect(io[8].data).toMatchObject({ port: 0x3f9, dir: 'in', value: null, reg: 4 });
  });

  it('forwards MMIO accesses to the console by address', () => {
    const run = runProgram(`
      movi r1, 'm'
      st r1, [MMIO_CONSOLE_DATA]
      movi r1, 10
      st r1, [MMIO_CONSOLE_DATA]
      ld r2, [MMIO_CONSOLE_STATUS]
      ld r3, [MMIO_CONSOLE_DATA + 100]
      out PORT_POWER, r0
    `);
    expect(consoleOf(run, 'guest')).toEqual(['m']);
    expect(run.summary.vms[0].vcpus[0].exits.mmio).toBe(4);
    expect(run.simulation.vms[0].bsp.cpu.regs[3]).toBe(-1);
  });

  it('charges exit, emulation and entry for each exit', () => {
    const run = runProgram(`
      out 0x80, r0
      out 0x80, r0
      hlt
    `);
    const vcpu = run.summary.vms[0].vcpus[0];
    expect(vcpu.exits.io).toBe(2);
    const perIo = DEFAULT_COSTS.exitNs + DEFAULT_COSTS.ioEmulateNs + DEFAULT_COSTS.entryNs;
    const dispatch = DEFAULT_COSTS.contextSwitchNs + DEFAULT_COSTS.entryNs;
    const hlt = DEFAULT_COSTS.exitNs + DEFAULT_COSTS.privilegedEmulateNs;
    expect(vcpu.overheadNs).toBe(dispatch + 2 * perIo + hlt);
  });
});

describe('monitor: trap-and-emulate', () => {
  it('emulates trapped privileged instructions with the same result as running them natively', () => {
    const run = runProgram(`
      movi r1, 42
      csrw scratch, r1
      csrr r2, scratch
      sti
      cli
      csrr r3, vcpu
      hlt
    `);
    const cpu = run.simulation.vms[0].bsp.cpu;
    expect(cpu.regs[2]).toBe(42);
    expect(cpu.regs[3]).toBe(0);
    expect(cpu.ie).toBe(0);
    const ops = run.events.filter((event) => event.type === 'exit.privileged').map((event) => (event.data as { op: string }).op);
    expect(ops).toEqual(['csrw', 'csrr', 'sti', 'cli', 'csrr']);
    expect(run.summary.vms[0].state).toBe('shutoff');
    expect(run.summary.vms[0].reason).toBe('every vCPU halted with interrupts disabled');
  });

  it('reflects a user-mode syscall into the guest kernel and returns after it', () => {
    const run = runProgram(`
      movi r1, ivt
      csrw ivt, r1
      movi r1, user
      csrw epc, r1
      movi r1, 1
      csrw estatus, r1
      iret
    user:
      movi r1, 'u'
      syscall 7
      movi r1, 'v'
      syscall 7
      syscall 8
    handler:
      csrr r2, eval
      movi r4, 8
      beq r2, r4, stop
      out PORT_CONSOLE_DATA, r1
      iret
    stop:
      out PORT_POWER, r0
    ivt: .word 0, 0, 0, handler
    `);
    expect(typesOf(run).filter((type) => type === 'exception.inject')).toHaveLength(3);
    expect(run.simulation.vms[0].console.transcript + run.simulation.vms[0].console.snapshot().line).toBe('uv\n');
    expect(run.summary.vms[0].state).toBe('shutoff');
  });

  it('crashes the VM on a privileged instruction in user mode with no #GP handler', () => {
    const run = runProgram(`
      movi r1, user
      csrw epc, r1
      movi r1, 1
      csrw estatus, r1
      iret
    user:
      cli
    `);
    expect(run.summary.vms[0].state).toBe('crashed');
    expect(run.summary.vms[0].reason).toBe('#GP (privileged instruction) in user mode with no handler installed');
    expect(typesOf(run)).toContain('vcpu.crashed');
  });

  it('crashes the VM on a fault in kernel mode (a triple fault)', () => {
    const run = runProgram(`
      movi r2, 0
      div r1, r1, r2
    `);
    expect(run.summary.vms[0].state).toBe('crashed');
    expect(run.summary.vms[0].reason).toMatch(/^#DE \(divide error\) in kernel mode/);
  });
});

describe('monitor: interrupts, hlt and wake-up', () => {
  it('blocks a vCPU on hlt, wakes it on the timer interrupt, and injects the interrupt at entry', () => {
    const run = runProgram(`
      movi sp, 1000
      movi r1, ivt
      csrw ivt, r1
      movi r1, 100000
      out PORT_TIMER_PERIOD, r1
      sti
    idle:
      hlt
      movi r2, 3
      blt r5, r2, idle
      out PORT_POWER, r0
    tick:
      addi r5, r5, 1
      movi r1, IRQ_TIMER
      out PORT_PIC_EOI, r1
      iret
    ivt:
      .space VEC_IRQ_BASE
      .word tick
    `);
    const types = typesOf(run);
    expect(types.filter((type) => type === 'vcpu.blocked')).toHaveLength(3);
    expect(types.filter((type) => type === 'irq.inject')).toHaveLength(3);
    expect(types.filter((type) => type === 'irq.eoi')).toHaveLength(3);
    expect(run.simulation.vms[0].bsp.cpu.regs[5]).toBe(3);
    const firstInject = run.events.find((event) => event.type === 'irq.inject');
    expect(firstInject?.data).toEqual({ vector: 32, line: 0 });
    expect(types).toContain('vm.blocked');
    expect(types).toContain('vm.unblocked');
    expect(run.summary.vms[0].state).toBe('shutoff');
  });

  it('does not deliver a masked line, and delivers it once unmasked', () => {
    const run = runProgram(`
      movi r1, ivt
      csrw ivt, r1
      movi r1, 1
      out PORT_PIC_MASK, r1
      movi r1, 5000
      out PORT_TIMER_ONESHOT, r1
      sti
      work 100000
      in r6, PORT_PIC_PENDING
      movi r1, 0
      out PORT_PIC_MASK, r1
      nop
      out PORT_POWER, r0
    tick:
      movi r5, 1
      out PORT_POWER, r0
    ivt:
      .space VEC_IRQ_BASE
      .word tick
    `);
    const cpu = run.simulation.vms[0].bsp.cpu;
    expect(cpu.regs[6]).toBe(1);
    expect(cpu.regs[5]).toBe(1);
  });

  it('crashes a VM that takes an interrupt with no handler installed', () => {
    const run = runProgram(`
      movi r1, 5000
      out PORT_TIMER_ONESHOT, r1
      sti
    spin:
      jmp spin
    `);
    expect(run.summary.vms[0].state).toBe('crashed');
    expect(run.summary.vms[0].reason).toBe('interrupt on vector 32 with no handler installed');
  });
});

describe('monitor: hypercalls', () => {
  it('answers version, console, time and unknown hypercalls, and powers off', () => {
    const run = runProgram(`
      hypercall HC_VERSION
      mov r4, r1
      movi r1, 'h'
      hypercall HC_CONSOLE_PUTC
      work 5000000
      hypercall HC_TIME_US
      mov r5, r1
      hypercall 77
      mov r6, r1
      hypercall HC_POWER_OFF
    `);
    const cpu = run.simulation.vms[0].bsp.cpu;
    expect(cpu.regs[4]).toBe(1);
    expect(cpu.regs[5]).toBeGreaterThanOrEqual(5000);
    expect(cpu.regs[6]).toBe(-1);
    expect(run.simulation.vms[0].console.transcript).toBe('h\n');
    expect(run.summary.vms[0].reason).toBe('the guest asked the monitor to power off');
    expect(run.summary.vms[0].vcpus[0].exits.hypercall).toBe(5);
  });

  it('lets a vCPU yield the physical CPU to another', () => {
    const spinner = `
    loop:
      addi r1, r1, 1
      hypercall HC_YIELD
      jmp loop
    `;
    const run = runScenario(
      scenario([vmSpec('a', inline(spinner)), vmSpec('b', inline(spinner))], {
        costs: { startJitterNs: 0 },
        run: { timeNs: 1_000_000, instructions: undefined, checkpointEvery: 10_000 },
      }),
    );
    const [a, b] = run.simulation.vms.map((vm) => vm.bsp.cpu.regs[1]);
    expect(a).toBeGreaterThan(50);
    expect(Math.abs(a - b)).toBeLessThanOrEqual(1);
  });
});

describe('monitor: scheduling', () => {
  const compute = `
  loop:
    work 1000
    jmp loop
  `;

  it('shares one physical CPU between two CPU-bound VMs round-robin, preempting at the quantum', () => {
    const run = runScenario(
      scenario([vmSpec('a', inline(compute)), vmSpec('b', inline(compute))], {
        scheduler: { policy: 'round-robin', quantumNs: 200_000 },
        run: { timeNs: 10_000_000, instructions: undefined, checkpointEvery: 10_000 },
      }),
    );
    const [a, b] = run.summary.vms.map((vm) => vm.vcpus[0]);
    expect(Math.abs(a.cpuNs - b.cpuNs) / (a.cpuNs + b.cpuNs)).toBeLessThan(0.03);
    expect(a.exits.preempt).toBeGreaterThan(20);
    expect(a.waitNs).toBeGreaterThan(4_000_000);
    const running = run.events.filter((event) => event.type === 'vcpu.running').map((event) => event.src);
    expect(running.length).toBeGreaterThan(40);
    // Round-robin alternates once both are runnable (the first may run alone until the other boots).
    const alternating = running.slice(2).every((src, index) => src !== running[index + 1]);
    expect(alternating).toBe(true);
  });

  it('keeps a lone vCPU on its CPU without preempting it', () => {
    const run = runProgram(compute, {}, { scheduler: { policy: 'round-robin', quantumNs: 100_000 }, run: { timeNs: 5_000_000, instructions: undefined, checkpointEvery: 10_000 } });
    expect(run.summary.vms[0].vcpus[0].exits.preempt).toBe(0);
    expect(run.summary.vms[0].vcpus[0].cpuNs).toBeGreaterThan(4_900_000);
  });

  it('runs SMP VMs with every vCPU starting at the entry with its index in r0', () => {
    const run = runProgram(
      `
      csrr r1, vcpu
      movi r2, 100
      mul r3, r0, r2
      st r1, [r3 + 1000]
    spin:
      work 1000
      jmp spin
    `,
      { vcpus: 3 },
      { host: { pcpus: 2, memoryBytes: 64 << 20 }, scheduler: { policy: 'round-robin', quantumNs: 100_000 }, run: { timeNs: 1_000_000, instructions: undefined, checkpointEvery: 10_000 } },
    );
    const memory = run.simulation.vms[0].memory;
    expect([memory.read(1000), memory.read(1100), memory.read(1200)]).toEqual([0, 1, 2]);
    expect(run.summary.vms[0].vcpus.every((vcpu) => vcpu.cpuNs > 0)).toBe(true);
  });

  it('stops at the instruction budget', () => {
    const run = runProgram(`loop: addi r1, r1, 1
      jmp loop`, {}, { run: { timeNs: 1_000_000_000, instructions: 5000, checkpointEvery: 10_000 } });
    expect(run.summary.endReason).toBe('instructions');
    expect(run.summary.instructions).toBe(5000);
  });
});

describe('monitor: operator commands', () => {
  it('pauses, resumes and destroys a VM, and refuses illegal commands with a not-allowed fact', () => {
    const simulation = new Simulation({
      scenario: scenario([vmSpec('a', inline('loop: work 1000\n jmp loop'), { autostart: false })], {
        run: { timeNs: 1_000_000, instructions: undefined, checkpointEvery: 10_000 },
      }),
    });
    const events: string[] = [];
    simulation.bus.events$.subscribe((event) => {
      if (event.type.startsWith('vm.')) events.push(event.type === 'vm.not-allowed' ? `not-allowed:${(event.data as { command: string }).command}` : event.type);
    });
    const vm = simulation.vms[0];
    const monitor = simulation.monitor;
    expect(monitor.resume(vm)).toBe(false);
    expect(monitor.start(vm)).toBe(true);
    expect(monitor.start(vm)).toBe(false);
    expect(monitor.suspend(vm)).toBe(true);
    expect(vm.bsp.state).toBe('paused');
    expect(monitor.resume(vm)).toBe(true);
    expect(vm.bsp.state).toBe('runnable');
    expect(monitor.destroy(vm)).toBe(true);
    expect(monitor.suspend(vm)).toBe(false);
    expect(events).toEqual(['not-allowed:resume', 'vm.started', 'not-allowed:start', 'vm.suspended', 'vm.resumed', 'vm.stopped', 'not-allowed:suspend']);
  });
});

describe('monitor: acting on a running vCPU at the right time', () => {
  it('takes an interrupt raised by another vCPU of the same VM at the time it is raised', () => {
    // vCPU 1 arms a one-shot timer 5 us from now; vCPU 0 is in a long `work` batch with interrupts on.
    const run = runProgram(
      `
      csrr r1, vcpu
      jnz r1, second
      movi sp, 4000
      movi r1, ivt
      csrw ivt, r1
      sti
    spin:
      work 1000000
      jmp spin
    second:
      movi r1, 50000
      out PORT_TIMER_ONESHOT, r1
    park:
      work 1000000
      jmp park
    tick:
      hypercall HC_TIME_US
      st r1, [3000]
      out PORT_POWER, r0
    ivt:
      .space VEC_IRQ_BASE
      .word tick
    `,
      { vcpus: 2 },
      { host: { pcpus: 2, memoryBytes: 64 << 20 }, costs: { timerJitterNs: 0, startJitterNs: 0 }, run: { timeNs: 5_000_000, instructions: undefined, checkpointEvery: 10_000 } },
    );
    const raise = run.events.find((event) => event.type === 'irq.raise');
    const inject = run.events.find((event) => event.type === 'irq.inject');
    expect(raise).toBeDefined();
    // Injected at the next entry after the raise: the batch was cut at the raise, not at its end.
    expect((inject?.t ?? 0) - (raise?.t ?? 0)).toBeLessThanOrEqual(1_000);
  });

  it('writes the same log whatever the batch length: cutting and rerunning batches is exact', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2_000, max: 40_000 }), fc.integer({ min: 50, max: 400 }), fc.integer({ min: 1, max: 2 }), (period, rounds, vcpus) => {
        const program = `
          csrr r1, vcpu
          jnz r1, other
          movi sp, 1400
          movi r1, ivt
          csrw ivt, r1
          sti
        other:
          movi r1, ${period}
          out PORT_TIMER_PERIOD, r1
          movi r2, 0
        loop:
          addi r2, r2, 1
          csrr r4, vcpu
          movi r5, 500
          mul r4, r4, r5
          add r4, r4, r2
          st r2, [r4 + 2000]
          work 300
          movi r3, ${rounds}
          blt r2, r3, loop
          hypercall HC_POWER_OFF
        tick:
          push r1
          ld r1, [1500]
          addi r1, r1, 1
          st r1, [1500]
          movi r1, IRQ_TIMER
          out PORT_PIC_EOI, r1
          pop r1
          iret
        ivt:
          .space VEC_IRQ_BASE
          .word tick
        `;
        const logWith = (maxBatchNs: number) => {
          let log = '';
          const simulation = new Simulation({
            scenario: scenario([vmSpec('g', inline(program), { vcpus })], {
              host: { pcpus: 2, memoryBytes: 1 << 24 },
              run: { timeNs: 2_000_000, instructions: undefined, checkpointEvery: 1_000_000 },
            }),
            maxBatchNs,
            log: new LogWriter((chunk) => (log += chunk)),
          });
          simulation.run();
          return { log, ticks: simulation.vms[0].memory.read(1500) };
        };
        const long = logWith(100_000);
        const short = logWith(7);
        expect(long.ticks).toBeGreaterThan(0);
        expect(long.log).toBe(short.log);
      }),
      // The example: two vCPUs that exit at the same instant on two physical CPUs (their order
      // once depended on when each batch was scheduled).
      { numRuns: 25, examples: [[2010, 253, 2]] },
    );
  });
});
