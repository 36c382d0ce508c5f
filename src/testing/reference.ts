/**
 * A reference execution of one guest: a plain, slow interpreter of the ISA written from
 * docs/isa.md, independent of the monitor and of the vCPU's interpreter, for the trap
 * completeness and equivalence checkers. It runs one vCPU on its own with no devices and no
 * interrupts (the guests it is used for need none: `trapGuest`), and counts what a monitor must
 * see: every sensitive instruction run in virtual user mode (each must raise #GP through the
 * monitor) and every one run in virtual kernel mode (each must exit under trap-and-emulate).
 */
import { assemble } from '../core/isa/assembler.js';
import { Csr, Op, Vector } from '../core/isa/opcodes.js';
import { Port } from '../core/platform.js';

export interface ReferenceResult {
  /** How it ended: powered off through PORT_POWER, crashed (with why), or out of steps. */
  readonly end: 'powered-off' | 'crashed' | 'steps';
  readonly reason: string;
  /** Sensitive instructions (and hypercalls) executed in user mode: each raised #GP. */
  readonly userSensitive: number;
  /** Sensitive instructions executed in kernel mode, by mnemonic. */
  readonly kernelSensitive: Readonly<Record<string, number>>;
  /** Exceptions raised in user mode (#GP included), by vector. */
  readonly userExceptions: Readonly<Record<number, number>>;
  readonly memory: Int32Array;
  readonly registers: readonly number[];
}

const SENSITIVE: ReadonlyMap<number, string> = new Map([
  [Op.CLI, 'cli'],
  [Op.STI, 'sti'],
  [Op.IRET, 'iret'],
  [Op.HLT, 'hlt'],
  [Op.IN, 'in'],
  [Op.OUT, 'out'],
  [Op.CSRR, 'csrr'],
  [Op.CSRW, 'csrw'],
  [Op.INR, 'inr'],
  [Op.OUTR, 'outr'],
]);

const STEP_LIMIT = 1_000_000;

/** Runs `source` on a reference CPU with `memoryWords` words of RAM. */
export function referenceRun(source: string, memoryWords: number): ReferenceResult {
  const image = assemble(source);
  const memory = new Int32Array(memoryWords);
  memory.set(image.words);
  const regs = new Int32Array(8);
  const csr = new Int32Array(8);
  regs[7] = memoryWords;
  let pc = image.entry;
  let user = false;
  let ie = false;
  let userSensitive = 0;
  const kernelSensitive: Record<string, number> = {};
  const userExceptions: Record<number, number> = {};
  const result = (end: ReferenceResult['end'], reason: string): ReferenceResult => ({
    end,
    reason,
    userSensitive,
    kernelSensitive,
    userExceptions,
    memory,
    registers: [...regs],
  });
  const inRange = (address: number) => address >= 0 && address < memoryWords;
  /** Raises an exception; returns why the VM crashes, or '' when a handler took it. */
  const raise = (vector: number, returnPc: number, value: number): string => {
    if (!user && vector !== Vector.SYSCALL) return `vector ${vector} in kernel mode`;
    if (user) userExceptions[vector] = (userExceptions[vector] ?? 0) + 1;
    const table = csr[Csr.IVT];
    const handler = table !== 0 && inRange(table + vector) ? memory[table + vector] : 0;
    if (handler === 0) return `vector ${vector} with no handler`;
    csr[Csr.EPC] = returnPc;
    csr[Csr.ESTATUS] = (user ? 1 : 0) | (ie ? 2 : 0);
    csr[Csr.CAUSE] = vector;
    csr[Csr.EVAL] = value;
    user = false;
    ie = false;
    pc = handler;
    return '';
  };
  for (let step = 0; step < STEP_LIMIT; step++) {
    if (pc % 4 !== 0) {
      const why = raise(Vector.AC, pc, pc);
      if (why !== '') return result('crashed', why);
      continue;
    }
    if (!inRange(pc) || !inRange(pc + 3)) return result('crashed', `fetch outside memory at ${pc}`);
    const [op, a, b, c] = [memory[pc], memory[pc + 1], memory[pc + 2], memory[pc + 3]];
    const next = pc + 4;
    const sensitive = SENSITIVE.get(op);
    if (sensitive !== undefined || op === Op.HYPERCALL) {
      if (user) {
        userSensitive++;
        const why = raise(Vector.GP, pc, op);
        if (why !== '') return result('crashed', why);
        continue;
      }
      if (sensitive !== undefined) kernelSensitive[sensitive] = (kernelSensitive[sensitive] ?? 0) + 1;
    }
    switch (op) {
      case Op.NOP:
      case Op.WORK:
      case Op.WORKR:
        pc = next;
        break;
      case Op.MOVI:
        regs[a & 7] = b;
        pc = next;
        break;
      case Op.MOV:
        regs[a & 7] = regs[b & 7];
        pc = next;
        break;
      case Op.ADD:
      case Op.SUB:
      case Op.MUL:
      case Op.AND:
      case Op.OR:
      case Op.XOR:
      case Op.SHL:
      case Op.SHR:
      case Op.SAR: {
        const x = regs[b & 7];
        const y = regs[c & 7];
        regs[a & 7] = alu(op, x, y);
        pc = next;
        break;
      }
      case Op.DIV:
      case Op.MOD: {
        const divisor = regs[c & 7];
        if (divisor === 0) {
          const why = raise(Vector.DE, pc, 0);
          if (why !== '') return result('crashed', why);
          break;
        }
        regs[a & 7] = op === Op.DIV ? Math.trunc(regs[b & 7] / divisor) : regs[b & 7] % divisor;
        pc = next;
        break;
      }
      case Op.ADDI:
        regs[a & 7] = regs[b & 7] + c;
        pc = next;
        break;
      case Op.LD:
      case Op.LDA: {
        const address = op === Op.LD ? (regs[b & 7] + c) | 0 : b;
        if (!inRange(address)) return result('crashed', `read outside memory at ${address}`);
        regs[a & 7] = memory[address];
        pc = next;
        break;
      }
      case Op.ST:
      case Op.STA: {
        const address = op === Op.ST ? (regs[b & 7] + c) | 0 : b;
        if (!inRange(address)) return result('crashed', `write outside memory at ${address}`);
        memory[address] = regs[a & 7];
        pc = next;
        break;
      }
      case Op.PUSH:
      case Op.CALL: {
        const address = regs[7] - 1;
        if (!inRange(address)) return result('crashed', `push outside memory at ${address}`);
        memory[address] = op === Op.PUSH ? regs[a & 7] : next;
        regs[7] = address;
        pc = op === Op.PUSH ? next : a;
        break;
      }
      case Op.POP:
      case Op.RET: {
        const address = regs[7];
        if (!inRange(address)) return result('crashed', `pop outside memory at ${address}`);
        regs[7] = address + 1;
        if (op === Op.POP) {
          regs[a & 7] = memory[address];
          pc = next;
        } else {
          pc = memory[address];
        }
        break;
      }
      case Op.JMP:
        pc = a;
        break;
      case Op.JZ:
        pc = regs[a & 7] === 0 ? b : next;
        break;
      case Op.JNZ:
        pc = regs[a & 7] !== 0 ? b : next;
        break;
      case Op.BEQ:
        pc = regs[a & 7] === regs[b & 7] ? c : next;
        break;
      case Op.BNE:
        pc = regs[a & 7] !== regs[b & 7] ? c : next;
        break;
      case Op.BLT:
        pc = regs[a & 7] < regs[b & 7] ? c : next;
        break;
      case Op.BGE:
        pc = regs[a & 7] >= regs[b & 7] ? c : next;
        break;
      case Op.JR:
        pc = regs[a & 7];
        break;
      case Op.SYSCALL: {
        const why = raise(Vector.SYSCALL, next, a);
        if (why !== '') return result('crashed', why);
        break;
      }
      case Op.CLI:
        ie = false;
        pc = next;
        break;
      case Op.STI:
        ie = true;
        pc = next;
        break;
      case Op.IRET: {
        const status = csr[Csr.ESTATUS];
        pc = csr[Csr.EPC];
        user = (status & 1) !== 0;
        ie = (status & 2) !== 0;
        break;
      }
      case Op.CSRR:
        regs[a & 7] = b >= 0 && b < 8 ? csr[b] : 0;
        pc = next;
        break;
      case Op.CSRW:
        if (a >= 0 && a < 8 && a !== Csr.VCPU) csr[a] = regs[b & 7];
        pc = next;
        break;
      case Op.OUT:
        if (a === Port.POWER) return result('powered-off', 'the guest powered off');
        return result('crashed', `the reference machine has no device at port ${a}`);
      case Op.HLT:
        return result('crashed', 'hlt: the reference machine has no interrupts');
      case Op.IN:
      case Op.INR:
      case Op.OUTR:
      case Op.HYPERCALL:
        return result('crashed', `the reference machine has no devices nor monitor (opcode ${op} in kernel mode)`);
      default: {
        const why = raise(Vector.UD, pc, op);
        if (why !== '') return result('crashed', why);
      }
    }
  }
  return result('steps', `still running after ${STEP_LIMIT} instructions`);
}

function alu(op: number, x: number, y: number): number {
  switch (op) {
    case Op.ADD:
      return (x + y) | 0;
    case Op.SUB:
      return (x - y) | 0;
    case Op.MUL:
      return Math.imul(x, y);
    case Op.AND:
      return x & y;
    case Op.OR:
      return x | y;
    case Op.XOR:
      return x ^ y;
    case Op.SHL:
      return x << (y & 31);
    case Op.SHR:
      return x >>> (y & 31) | 0;
    default:
      return x >> (y & 31);
  }
}
