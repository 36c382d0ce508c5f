import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/core/isa/assembler.js';
import { Csr, Mode, Op, PRIVILEGED, Vector } from '../../src/core/isa/opcodes.js';
import { GuestPhysicalMap, HostMemory } from '../../src/core/memory.js';
import { MMIO_BASE, PAGE_WORDS } from '../../src/core/platform.js';
import { CpuState, Stop, Access } from '../../src/actors/vcpu/cpuState.js';
import { enterHandler, execute, executePrivileged } from '../../src/actors/vcpu/interpreter.js';

const NO_TRAPS = new Uint8Array(64);

/** Assembles `source` into a 4-page guest whose frames are scattered in host memory. */
function machine(source: string) {
  const host = new HostMemory(8);
  host.allocate(1, 'someone-else');
  const frames = host.allocate(4, 'guest').reverse();
  const memory = new GuestPhysicalMap(host, frames);
  memory.load(assemble(source).words);
  const cpu = new CpuState();
  cpu.regs[7] = memory.sizeWords;
  const run = (budget = 10_000, trapMask = PRIVILEGED) => execute(cpu, host.words, memory.pageBase, memory.writeBase, budget, 1, trapMask);
  return { host, memory, cpu, run };
}

describe('interpreter: ordinary instructions', () => {
  it('computes with every arithmetic and logic instruction', () => {
    const { cpu, run } = machine(`
      movi r1, 7
      movi r2, -3
      add r3, r1, r2
      sub r4, r1, r2
      mul r5, r1, r2
      div r6, r1, r2
      hlt
    `);
    expect(run()).toBe(Stop.HLT);
    expect([...cpu.regs.slice(1, 7)]).toEqual([7, -3, 4, 10, -21, -2]);
    expect(cpu.retired).toBe(6);
  });

  it('does mod, and, or, xor, shifts, addi and mov', () => {
    const { cpu, run } = machine(`
      movi r1, -7
      movi r2, 3
      mod r3, r1, r2
      and r4, r1, r2
      or r5, r1, r2
      xor r6, r1, r2
      hlt
      shl r3, r2, r2
      shr r4, r1, r2
      sar r5, r1, r2
      addi r6, r2, 100
      mov r1, r6
      hlt
    `);
    expect(run()).toBe(Stop.HLT);
    expect([...cpu.regs.slice(3, 7)]).toEqual([-1, -7 & 3, -7 | 3, -7 ^ 3]);
    cpu.pc += 4;
    expect(run()).toBe(Stop.HLT);
    expect([...cpu.regs.slice(1, 7)]).toEqual([103, 3, 24, -7 >>> 3, -7 >> 3, 103]);
  });

  it('loads and stores through the guest-physical map, across scattered frames', () => {
    const { cpu, run, memory } = machine(`
      movi r1, ${PAGE_WORDS * 2 + 5}
      movi r2, 1234
      st r2, [r1 + 1]
      ld r3, [r1 + 1]
      st r3, [${PAGE_WORDS * 3}]
      ld r4, [${PAGE_WORDS * 3}]
      hlt
    `);
    expect(run()).toBe(Stop.HLT);
    expect(cpu.regs[3]).toBe(1234);
    expect(cpu.regs[4]).toBe(1234);
    expect(memory.read(PAGE_WORDS * 2 + 6)).toBe(1234);
    expect(memory.read(PAGE_WORDS * 3)).toBe(1234);
  });

  it('pushes, pops, calls and returns on the stack', () => {
    const { cpu, run, memory } = machine(`
      movi r1, 5
      push r1
      call f
      pop r2
      hlt
    f:
      addi r3, r1, 1
      ret
    `);
    expect(run()).toBe(Stop.HLT);
    expect(cpu.regs[2]).toBe(5);
    expect(cpu.regs[3]).toBe(6);
    expect(cpu.regs[7]).toBe(memory.sizeWords);
  });

  it('branches: jmp, jz, jnz, beq, bne, blt, bge, jr', () => {
    const { cpu, run } = machine(`
      movi r1, 0
      movi r2, 1
      jz r1, a
      movi r6, 99
    a: jnz r2, b
      movi r6, 98
    b: beq r1, r1, c
      movi r6, 97
    c: bne r1, r2, d
      movi r6, 96
    d: blt r1, r2, e
      movi r6, 95
    e: bge r2, r1, f
      movi r6, 94
    f: movi r5, g
      jr r5
      movi r6, 93
    g: movi r3, 0
    loop:
      addi r3, r3, 1
      movi r4, 10
      blt r3, r4, loop
      hlt
    `);
    expect(run()).toBe(Stop.HLT);
    expect(cpu.regs[6]).toBe(0);
    expect(cpu.regs[3]).toBe(10);
  });

  it('runs work in O(1), and a slice that ends inside it leaves the rest for the next slice', () => {
    const { cpu, run } = machine(`
      work 1000000
      hlt
    `);
    expect(run(400_000)).toBe(Stop.BUDGET);
    expect(cpu.elapsedNs).toBe(400_000);
    expect(cpu.workLeftNs).toBe(600_000);
    expect(cpu.pc).toBe(0);
    expect(run(400_000)).toBe(Stop.BUDGET);
    expect(run(400_000)).toBe(Stop.HLT);
    expect(cpu.elapsedNs).toBe(200_000);
    expect(cpu.workNs).toBe(1_000_000);
    expect(cpu.retired).toBe(1);
  });

  it('stops when the budget runs out and resumes exactly where it was', () => {
    const { cpu, run } = machine(`
    loop:
      addi r1, r1, 1
      jmp loop
    `);
    expect(run(101)).toBe(Stop.BUDGET);
    expect(cpu.retired).toBe(101);
    expect(cpu.regs[1]).toBe(51);
    run(1);
    expect(cpu.regs[1]).toBe(51);
    run(1);
    expect(cpu.regs[1]).toBe(52);
  });
});

describe('interpreter: exits and traps', () => {
  it('exits on port I/O with the port, direction and value, leaving pc on the instruction', () => {
    const { cpu, run } = machine(`
      movi r1, 65
      out 0x3f8, r1
      in r2, 0x3f9
      movi r3, 0x40
      outr r3, r1
      inr r4, r3
    `);
    expect(run()).toBe(Stop.IO);
    expect([cpu.pc, cpu.stopA, cpu.stopB, cpu.stopC]).toEqual([4, 0x3f8, 1, 65]);
    cpu.pc += 4;
    expect(run()).toBe(Stop.IO);
    expect([cpu.pc, cpu.stopA, cpu.stopB, cpu.stopC]).toEqual([8, 0x3f9, 0, 2]);
    cpu.pc += 4;
    expect(run()).toBe(Stop.IO);
    expect([cpu.stopA, cpu.stopB, cpu.stopC]).toEqual([0x40, 1, 65]);
    cpu.pc += 4;
    expect(run()).toBe(Stop.IO);
    expect([cpu.stopA, cpu.stopB, cpu.stopC]).toEqual([0x40, 0, 4]);
  });

  it('exits with MMIO for the device window and with a page fault elsewhere outside the map', () => {
    const { cpu, run } = machine(`
      movi r1, 7
      st r1, [${MMIO_BASE}]
      ld r2, [${MMIO_BASE + 1}]
      ld r3, [${PAGE_WORDS * 4}]
    `);
    expect(run()).toBe(Stop.MMIO);
    expect([cpu.stopA, cpu.stopB, cpu.stopC]).toEqual([MMIO_BASE, Access.WRITE, 7]);
    cpu.pc += 4;
    expect(run()).toBe(Stop.MMIO);
    expect([cpu.stopA, cpu.stopB, cpu.stopC]).toEqual([MMIO_BASE + 1, Access.READ, 2]);
    cpu.pc += 4;
    expect(run()).toBe(Stop.PAGE_FAULT);
    expect([cpu.stopA, cpu.stopB]).toEqual([PAGE_WORDS * 4, Access.READ]);
  });

  it('faults on a negative address, a fetch outside memory, and a stack outside memory', () => {
    const negative = machine(`
      movi r1, -1
      ld r2, [r1]
    `);
    expect(negative.run()).toBe(Stop.PAGE_FAULT);
    const fetch = machine(`jmp ${PAGE_WORDS * 8}`);
    expect(fetch.run()).toBe(Stop.PAGE_FAULT);
    expect([fetch.cpu.stopA, fetch.cpu.stopB]).toEqual([PAGE_WORDS * 8, Access.FETCH]);
    const stack = machine(`
      movi sp, 0
      push r1
    `);
    expect(stack.run()).toBe(Stop.PAGE_FAULT);
    expect(stack.cpu.stopB).toBe(Access.WRITE);
  });

  it('reads a read-only page but stops on st, sta, push and call into it with a write fault', () => {
    const page = 2 * PAGE_WORDS;
    const program = (store: string) =>
      machine(`
      movi r1, ${page}
      movi r2, 9
      ld r3, [r1]
      ${store}
    done:
      hlt
      .org ${page}
      .word 41
    `);
    for (const [store, value] of [
      ['st r2, [r1 + 5]', 9],
      [`st r2, [${page + 5}]`, 9],
      [`movi sp, ${page + 6}\n      push r2`, undefined],
      [`movi sp, ${page + 6}\n      call done`, undefined],
    ] as const) {
      const guest = program(store);
      guest.memory.writeBase[2] = -1;
      const before = guest.memory.read(page + 5);
      expect(guest.run(), store).toBe(Stop.PAGE_FAULT);
      expect(guest.cpu.regs[3], 'the load before went through').toBe(41);
      expect([guest.cpu.stopA, guest.cpu.stopB], store).toEqual([page + 5, Access.WRITE]);
      if (value !== undefined) expect(guest.cpu.stopC).toBe(value);
      expect(guest.memory.read(page + 5), 'memory unchanged').toBe(before);
      // Writable again: the same store goes through.
      guest.memory.writeBase[2] = guest.memory.pageBase[2];
      expect(guest.run(), store).toBe(Stop.HLT);
    }
  });

  it('raises #DE on division by zero, #UD on an unknown opcode, #AC on a misaligned jump', () => {
    const divide = machine(`
      movi r2, 0
      div r1, r1, r2
    `);
    expect(divide.run()).toBe(Stop.EXCEPTION);
    expect(divide.cpu.stopA).toBe(Vector.DE);
    const undefinedOp = machine(`.word 63, 0, 0, 0`);
    expect(undefinedOp.run()).toBe(Stop.EXCEPTION);
    expect(undefinedOp.cpu.stopA).toBe(Vector.UD);
    const misaligned = machine(`
      movi r1, 6
      jr r1
    `);
    expect(misaligned.run()).toBe(Stop.EXCEPTION);
    expect(misaligned.cpu.stopA).toBe(Vector.AC);
  });

  it('traps every privileged instruction in user mode as #GP, and hypercall too', () => {
    for (const op of ['cli', 'sti', 'iret', 'hlt', 'in r1, 1', 'out 1, r1', 'csrr r1, epc', 'csrw epc, r1', 'inr r1, r2', 'outr r1, r2', 'hypercall 0']) {
      const { cpu, run } = machine(op);
      cpu.mode = Mode.USER;
      expect(run(), op).toBe(Stop.EXCEPTION);
      expect(cpu.stopA, op).toBe(Vector.GP);
      expect(cpu.stopC, op).toBe(0);
    }
  });

  it('exits with PRIVILEGED for cli, sti, iret, csrr, csrw in kernel mode under trap-and-emulate', () => {
    for (const [text, op] of [
      ['cli', Op.CLI],
      ['sti', Op.STI],
      ['iret', Op.IRET],
      ['csrr r1, epc', Op.CSRR],
      ['csrw epc, r1', Op.CSRW],
    ] as const) {
      const { cpu, run } = machine(text);
      expect(run(), text).toBe(Stop.PRIVILEGED);
      expect(cpu.stopA, text).toBe(op);
    }
  });

  it('runs the same instructions natively when the trap mask lets them through', () => {
    const { cpu, run } = machine(`
      movi r1, 77
      csrw scratch, r1
      csrr r2, scratch
      cli
      hlt
    `);
    expect(run(10_000, NO_TRAPS)).toBe(Stop.HLT);
    expect(cpu.regs[2]).toBe(77);
    expect(cpu.ie).toBe(0);
  });

  it('exits on syscall with the return address after it, and on hypercall with its number', () => {
    const { cpu, run } = machine(`
      syscall 9
      hypercall 4
    `);
    cpu.mode = Mode.USER;
    expect(run()).toBe(Stop.EXCEPTION);
    expect([cpu.stopA, cpu.stopB, cpu.stopC]).toEqual([Vector.SYSCALL, 9, 4]);
    cpu.mode = Mode.KERNEL;
    cpu.pc = 4;
    expect(run()).toBe(Stop.HYPERCALL);
    expect(cpu.stopA).toBe(4);
  });
});

describe('privileged semantics and handler entry', () => {
  it('enters a handler saving pc, mode and IE, and iret restores them', () => {
    const { cpu, memory } = machine(`nop`);
    memory.write(100 + Vector.GP, 48);
    cpu.csr[Csr.IVT] = 100;
    cpu.mode = Mode.USER;
    cpu.ie = 1;
    cpu.pc = 20;
    expect(enterHandler(cpu, Vector.GP, 20, 5, (address) => memory.read(address))).toBe(true);
    expect([cpu.pc, cpu.mode, cpu.ie, cpu.csr[Csr.EPC], cpu.csr[Csr.CAUSE], cpu.csr[Csr.EVAL]]).toEqual([48, Mode.KERNEL, 0, 20, Vector.GP, 5]);
    expect(executePrivileged(cpu, Op.IRET, 0, 0)).toBe(true);
    expect([cpu.pc, cpu.mode, cpu.ie]).toEqual([20, Mode.USER, 1]);
  });

  it('refuses to enter a vector with no handler', () => {
    const { cpu, memory } = machine(`nop`);
    cpu.csr[Csr.IVT] = 100;
    expect(enterHandler(cpu, Vector.DE, 0, 0, (address) => memory.read(address))).toBe(false);
  });

  it('keeps the vCPU index read-only', () => {
    const cpu = new CpuState();
    cpu.csr[Csr.VCPU] = 3;
    cpu.regs[1] = 9;
    executePrivileged(cpu, Op.CSRW, Csr.VCPU, 1);
    expect(cpu.csr[Csr.VCPU]).toBe(3);
  });
});

describe('interpreter: xchg', () => {
  it('swaps a register and a word, in both addressing forms', () => {
    const { cpu, memory, run } = machine(`
      movi r1, 7
      xchg r1, [val]
      movi r2, 3
      movi r3, val
      xchg r2, [r3 + 1]
      hlt
    val: .word 42, 43
    `);
    expect(run()).toBe(Stop.HLT);
    expect(cpu.regs[1]).toBe(42);
    expect(cpu.regs[2]).toBe(43);
    const at = cpu.regs[3];
    expect([memory.read(at), memory.read(at + 1)]).toEqual([7, 3]);
  });

  it('is a test-and-set lock: taken once, refused while held, taken again after release', () => {
    const { cpu, run } = machine(`
      movi r1, 1
      xchg r1, [lock]      ; r1 = 0: taken
      movi r2, 1
      xchg r2, [lock]      ; r2 = 1: already held
      movi r3, 0
      st r3, [lock]        ; release
      movi r4, 1
      xchg r4, [lock]      ; r4 = 0: taken again
      hlt
    lock: .word 0
    `);
    expect(run()).toBe(Stop.HLT);
    expect([cpu.regs[1], cpu.regs[2], cpu.regs[4]]).toEqual([0, 1, 0]);
  });

  it('is taken back whole by the undo log, and stops on a read-only page without changing anything', () => {
    const { cpu, host, memory, run } = machine(`
      movi r1, 5
      xchg r1, [0x800]
      hlt
    `);
    memory.write(0x800, 9);
    cpu.checkpoint();
    expect(run()).toBe(Stop.HLT);
    expect([cpu.regs[1], memory.read(0x800)]).toEqual([9, 5]);
    cpu.rollback(host.words);
    expect([cpu.regs[1], memory.read(0x800)]).toEqual([0, 9]);
    memory.writeBase[0x800 / PAGE_WORDS] = -1;
    expect(run()).toBe(Stop.PAGE_FAULT);
    expect([cpu.stopA, cpu.stopB]).toEqual([0x800, Access.WRITE]);
    expect([cpu.regs[1], memory.read(0x800)]).toEqual([5, 9]);
  });
});
