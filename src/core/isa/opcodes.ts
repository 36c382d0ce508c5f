/**
 * The guest instruction set: opcodes, operand shapes, privilege, exception vectors and
 * control/status registers. This file is the single source of truth for the ISA; the
 * interpreter (src/actors/vcpu/interpreter.ts), the assembler and the disassembler all read it.
 *
 * Encoding: every instruction is four 32-bit words `[opcode, a, b, c]` at a word address that is
 * a multiple of four. Guest addresses count 32-bit words, not bytes. Registers are r0..r7;
 * r7 doubles as the stack pointer `sp` (the stack grows down). Unused operand words are zero.
 */

export const INSTRUCTION_WORDS = 4;
export const REGISTER_COUNT = 8;
export const STACK_POINTER = 7;

/** Opcode numbers. Gaps are left on purpose so that families stay together. */
export const Op = {
  NOP: 0,
  MOVI: 1, // movi rd, imm            a=rd b=imm
  MOV: 2, // mov rd, rs               a=rd b=rs
  ADD: 3, // add rd, rs, rt           a=rd b=rs c=rt
  SUB: 4,
  MUL: 5,
  DIV: 6, // signed, truncating; rt == 0 raises #DE
  MOD: 7, // signed remainder; rt == 0 raises #DE
  AND: 8,
  OR: 9,
  XOR: 10,
  SHL: 11, // shift amounts use the low 5 bits
  SHR: 12, // logical
  SAR: 13, // arithmetic
  ADDI: 14, // addi rd, rs, imm       a=rd b=rs c=imm
  LD: 15, // ld rd, [rs + imm]        a=rd b=rs c=imm
  ST: 16, // st rt, [rs + imm]        a=rt (value) b=rs (base) c=imm
  LDA: 17, // ld rd, [imm]            a=rd b=imm  (absolute address)
  STA: 18, // st rs, [imm]            a=rs b=imm  (absolute address)
  PUSH: 19, // push rs                a=rs        sp -= 1; [sp] = rs
  POP: 20, // pop rd                  a=rd        rd = [sp]; sp += 1
  CALL: 21, // call target            a=target    push(pc + 4); pc = target
  RET: 22, // ret                                 pc = pop()
  JMP: 23, // jmp target              a=target
  JZ: 24, // jz rs, target            a=rs b=target
  JNZ: 25, // jnz rs, target          a=rs b=target
  BEQ: 26, // beq rs, rt, target      a=rs b=rt c=target
  BNE: 27,
  BLT: 28, // signed
  BGE: 29, // signed
  JR: 30, // jr rs                    a=rs        pc = rs
  WORK: 31, // work imm               a=ns        abstract computation of imm ns, preemptible
  WORKR: 32, // workr rs              a=rs        abstract computation of rs ns, preemptible
  SYSCALL: 33, // syscall imm         a=imm       raises vector SYSCALL with EVAL = imm
  HYPERCALL: 34, // hypercall imm     a=imm       call the monitor; r1..r3 arguments, r1 result
  XCHG: 35, // xchg rd, [rs + imm]     a=rd b=rs c=imm  swap rd and the word, atomically
  XCHGA: 36, // xchg rd, [imm]        a=rd b=imm  (absolute address)
  // Privileged (sensitive) instructions: in virtual user mode they raise #GP; in virtual kernel
  // mode under full virtualization they trap to the monitor, which emulates them.
  CLI: 40, // disable interrupts
  STI: 41, // enable interrupts
  IRET: 42, // return from interrupt: pc = EPC, mode and IE from ESTATUS
  HLT: 43, // wait for an interrupt (IE = 1) or stop this vCPU for good (IE = 0)
  IN: 44, // in rd, port              a=rd b=port
  OUT: 45, // out port, rs            a=port b=rs
  CSRR: 46, // csrr rd, csr           a=rd b=csr
  CSRW: 47, // csrw csr, rs           a=csr b=rs
  INR: 48, // inr rd, rs              a=rd b=rs (port number in a register)
  OUTR: 49, // outr rs, rt            a=rs (port number in a register) b=rt (value)
} as const;
export type Opcode = (typeof Op)[keyof typeof Op];

/** What each operand slot holds, for the assembler, the disassembler and the docs. */
export type OperandKind =
  | 'reg' // a register r0..r7 (sp = r7)
  | 'imm' // an immediate expression
  | 'target' // a code address (label or expression), must be a multiple of 4
  | 'mem' // [rs + imm] occupying two slots (base register, offset)
  | 'absmem' // [imm] occupying one slot
  | 'port' // an I/O port number (immediate)
  | 'csr'; // a control/status register by name or number

export interface OpcodeInfo {
  readonly mnemonic: string;
  readonly opcode: Opcode;
  /** Operands in source order. `mem` fills two encoding slots. */
  readonly operands: readonly OperandKind[];
  /** Sensitive: traps (#GP) in virtual user mode; exits to the monitor in virtual kernel mode. */
  readonly privileged: boolean;
  readonly summary: string;
}

const info = (
  mnemonic: string,
  opcode: Opcode,
  operands: readonly OperandKind[],
  summary: string,
  privileged = false,
): OpcodeInfo => ({ mnemonic, opcode, operands, privileged, summary });

/** Every instruction, in opcode order. `ld`/`st`/`xchg` appear twice (register-relative and absolute). */
export const OPCODES: readonly OpcodeInfo[] = [
  info('nop', Op.NOP, [], 'do nothing'),
  info('movi', Op.MOVI, ['reg', 'imm'], 'rd = imm'),
  info('mov', Op.MOV, ['reg', 'reg'], 'rd = rs'),
  info('add', Op.ADD, ['reg', 'reg', 'reg'], 'rd = rs + rt'),
  info('sub', Op.SUB, ['reg', 'reg', 'reg'], 'rd = rs - rt'),
  info('mul', Op.MUL, ['reg', 'reg', 'reg'], 'rd = rs * rt (low 32 bits)'),
  info('div', Op.DIV, ['reg', 'reg', 'reg'], 'rd = rs / rt (signed, truncating); rt = 0 raises #DE'),
  info('mod', Op.MOD, ['reg', 'reg', 'reg'], 'rd = rs % rt (signed); rt = 0 raises #DE'),
  info('and', Op.AND, ['reg', 'reg', 'reg'], 'rd = rs & rt'),
  info('or', Op.OR, ['reg', 'reg', 'reg'], 'rd = rs | rt'),
  info('xor', Op.XOR, ['reg', 'reg', 'reg'], 'rd = rs ^ rt'),
  info('shl', Op.SHL, ['reg', 'reg', 'reg'], 'rd = rs << (rt & 31)'),
  info('shr', Op.SHR, ['reg', 'reg', 'reg'], 'rd = rs >>> (rt & 31)'),
  info('sar', Op.SAR, ['reg', 'reg', 'reg'], 'rd = rs >> (rt & 31)'),
  info('addi', Op.ADDI, ['reg', 'reg', 'imm'], 'rd = rs + imm'),
  info('ld', Op.LD, ['reg', 'mem'], 'rd = [rs + imm]'),
  info('st', Op.ST, ['reg', 'mem'], '[rs + imm] = rt'),
  info('ld', Op.LDA, ['reg', 'absmem'], 'rd = [imm]'),
  info('st', Op.STA, ['reg', 'absmem'], '[imm] = rs'),
  info('push', Op.PUSH, ['reg'], 'sp = sp - 1; [sp] = rs'),
  info('pop', Op.POP, ['reg'], 'rd = [sp]; sp = sp + 1'),
  info('call', Op.CALL, ['target'], 'push return address; jump'),
  info('ret', Op.RET, [], 'pop return address; jump'),
  info('jmp', Op.JMP, ['target'], 'jump'),
  info('jz', Op.JZ, ['reg', 'target'], 'jump if rs = 0'),
  info('jnz', Op.JNZ, ['reg', 'target'], 'jump if rs != 0'),
  info('beq', Op.BEQ, ['reg', 'reg', 'target'], 'jump if rs = rt'),
  info('bne', Op.BNE, ['reg', 'reg', 'target'], 'jump if rs != rt'),
  info('blt', Op.BLT, ['reg', 'reg', 'target'], 'jump if rs < rt (signed)'),
  info('bge', Op.BGE, ['reg', 'reg', 'target'], 'jump if rs >= rt (signed)'),
  info('jr', Op.JR, ['reg'], 'jump to the address in rs'),
  info('work', Op.WORK, ['imm'], 'compute for imm ns (abstract, preemptible, no memory effects)'),
  info('workr', Op.WORKR, ['reg'], 'compute for rs ns (abstract, preemptible, no memory effects)'),
  info('syscall', Op.SYSCALL, ['imm'], 'raise the SYSCALL vector with EVAL = imm'),
  info('hypercall', Op.HYPERCALL, ['imm'], 'call the monitor (paravirtual interface); #GP in user mode'),
  info('xchg', Op.XCHG, ['reg', 'mem'], 'swap rd and [rs + imm], atomically'),
  info('xchg', Op.XCHGA, ['reg', 'absmem'], 'swap rd and [imm], atomically'),
  info('cli', Op.CLI, [], 'disable interrupts', true),
  info('sti', Op.STI, [], 'enable interrupts', true),
  info('iret', Op.IRET, [], 'return from an interrupt or exception', true),
  info('hlt', Op.HLT, [], 'wait for an interrupt; with interrupts disabled, stop the vCPU', true),
  info('in', Op.IN, ['reg', 'port'], 'rd = read port', true),
  info('out', Op.OUT, ['port', 'reg'], 'write rs to port', true),
  info('csrr', Op.CSRR, ['reg', 'csr'], 'rd = csr', true),
  info('csrw', Op.CSRW, ['csr', 'reg'], 'csr = rs', true),
  info('inr', Op.INR, ['reg', 'reg'], 'rd = read port rs', true),
  info('outr', Op.OUTR, ['reg', 'reg'], 'write rt to port rs', true),
];

/** Opcode number to its description (for `ld`/`st`, the one matching the encoding). */
export const OPCODE_INFO: ReadonlyMap<number, OpcodeInfo> = new Map(OPCODES.map((entry) => [entry.opcode, entry]));

/** Whether an opcode is sensitive (privileged). Indexed by opcode; length 64. */
export const PRIVILEGED: Uint8Array = (() => {
  const table = new Uint8Array(64);
  for (const entry of OPCODES) if (entry.privileged) table[entry.opcode] = 1;
  return table;
})();

/** Exception and interrupt vectors. The vector table holds VECTOR_COUNT handler addresses. */
export const Vector = {
  DE: 0, // divide error
  GP: 1, // general protection: a privileged instruction in user mode
  PF: 2, // guest page fault (reserved for guest paging)
  SYSCALL: 3, // the syscall instruction
  UD: 4, // undefined opcode
  AC: 5, // misaligned instruction address
  IRQ_BASE: 32, // interrupt line n arrives on vector IRQ_BASE + n
} as const;
export const VECTOR_COUNT = 64;
export const IRQ_LINES = 16;

/** Control/status registers, read with csrr and written with csrw (both privileged). */
export const Csr = {
  EPC: 0, // pc to return to on iret
  ESTATUS: 1, // bit 0: previous mode was user; bit 1: previous interrupt enable
  IVT: 2, // guest-physical address of the vector table (VECTOR_COUNT words)
  PTB: 3, // page-table base (stored; guest paging arrives with memory virtualization)
  SCRATCH: 4, // free for the kernel (e.g. to save a register on entry)
  CAUSE: 5, // vector of the last exception or interrupt
  EVAL: 6, // syscall immediate, or the faulting address
  VCPU: 7, // read-only: this vCPU's index in its VM
  EWORK: 8, // the unfinished part (ns) of the `work` instruction at EPC, saved on interrupt entry, resumed by iret
} as const;
export const CSR_COUNT = 9;
export const CSR_NAMES: readonly string[] = ['epc', 'estatus', 'ivt', 'ptb', 'scratch', 'cause', 'eval', 'vcpu', 'ework'];

export const ESTATUS_PREV_USER = 1;
export const ESTATUS_PREV_IE = 2;

/** Privilege levels of a vCPU. */
export const Mode = { KERNEL: 0, USER: 1 } as const;
export type Mode = (typeof Mode)[keyof typeof Mode];
