import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import {
  AssemblyError,
  CSR_NAMES,
  MAX_DIAGNOSTICS,
  OPCODES,
  Op,
  PREDEFINED_SYMBOLS,
  VECTOR_COUNT,
  Vector,
  assemble,
  type AsmDiagnostic,
} from '../../src/core/isa/index.js';
import { Hypercall, Irq, Mmio, PAGE_WORDS, Port } from '../../src/core/platform.js';

const words = (source: string, symbols?: Record<string, number>): number[] => [...assemble(source, { symbols }).words];

/** Assembles `source`, expecting failure; returns the diagnostics. */
function errorsOf(source: string, options?: { file?: string; symbols?: Record<string, number> }): AsmDiagnostic[] {
  try {
    assemble(source, options);
  } catch (error) {
    expect(error).toBeInstanceOf(AssemblyError);
    return [...(error as AssemblyError).diagnostics];
  }
  throw new Error(`expected an AssemblyError for:\n${source}`);
}

/** The single diagnostic of `source`, as [line, column, message]. */
function errorOf(source: string, symbols?: Record<string, number>): [number, number, string] {
  const diagnostics = errorsOf(source, { symbols });
  expect(diagnostics).toHaveLength(1);
  const [d] = diagnostics;
  return [d.line, d.column, d.message];
}

describe('assemble: encoding of every mnemonic', () => {
  const cases: Array<[string, number[]]> = [
    ['nop', [Op.NOP, 0, 0, 0]],
    ['movi r1, 10', [Op.MOVI, 1, 10, 0]],
    ['mov r2, sp', [Op.MOV, 2, 7, 0]],
    ['add r1, r2, r3', [Op.ADD, 1, 2, 3]],
    ['sub r4, r5, r6', [Op.SUB, 4, 5, 6]],
    ['mul r0, r1, r2', [Op.MUL, 0, 1, 2]],
    ['div r1, r1, r2', [Op.DIV, 1, 1, 2]],
    ['mod r1, r2, r1', [Op.MOD, 1, 2, 1]],
    ['and r1, r2, r3', [Op.AND, 1, 2, 3]],
    ['or r1, r2, r3', [Op.OR, 1, 2, 3]],
    ['xor r1, r2, r3', [Op.XOR, 1, 2, 3]],
    ['shl r1, r2, r3', [Op.SHL, 1, 2, 3]],
    ['shr r1, r2, r3', [Op.SHR, 1, 2, 3]],
    ['sar r1, r2, r3', [Op.SAR, 1, 2, 3]],
    ['addi sp, sp, -2', [Op.ADDI, 7, 7, -2]],
    ['ld r2, [r1 + 4]', [Op.LD, 2, 1, 4]],
    ['st r3, [r4 - 2]', [Op.ST, 3, 4, -2]],
    ['ld r1, [0x100]', [Op.LDA, 1, 0x100, 0]],
    ['st r5, [256]', [Op.STA, 5, 256, 0]],
    ['push r1', [Op.PUSH, 1, 0, 0]],
    ['pop r6', [Op.POP, 6, 0, 0]],
    ['call 0x40', [Op.CALL, 0x40, 0, 0]],
    ['ret', [Op.RET, 0, 0, 0]],
    ['jmp 0x20', [Op.JMP, 0x20, 0, 0]],
    ['jz r1, 8', [Op.JZ, 1, 8, 0]],
    ['jnz r2, 12', [Op.JNZ, 2, 12, 0]],
    ['beq r1, r2, 16', [Op.BEQ, 1, 2, 16]],
    ['bne r1, r2, 16', [Op.BNE, 1, 2, 16]],
    ['blt r3, r4, 20', [Op.BLT, 3, 4, 20]],
    ['bge r3, r4, 24', [Op.BGE, 3, 4, 24]],
    ['jr r5', [Op.JR, 5, 0, 0]],
    ['work 1000', [Op.WORK, 1000, 0, 0]],
    ['workr r2', [Op.WORKR, 2, 0, 0]],
    ['syscall 3', [Op.SYSCALL, 3, 0, 0]],
    ['hypercall 7', [Op.HYPERCALL, 7, 0, 0]],
    ['xchg r1, [r2 + 3]', [Op.XCHG, 1, 2, 3]],
    ['xchg r4, [0x40]', [Op.XCHGA, 4, 0x40, 0]],
    ['cli', [Op.CLI, 0, 0, 0]],
    ['sti', [Op.STI, 0, 0, 0]],
    ['iret', [Op.IRET, 0, 0, 0]],
    ['hlt', [Op.HLT, 0, 0, 0]],
    ['in r1, 0x3f8', [Op.IN, 1, 0x3f8, 0]],
    ['out 0x3f8, r1', [Op.OUT, 0x3f8, 1, 0]],
    ['csrr r1, cause', [Op.CSRR, 1, 5, 0]],
    ['csrw ivt, r2', [Op.CSRW, 2, 2, 0]],
    ['inr r1, r2', [Op.INR, 1, 2, 0]],
    ['outr r3, r4', [Op.OUTR, 3, 4, 0]],
  ];

  it.each(cases)('%s', (source, expected) => {
    expect(words(source)).toEqual(expected);
  });

  it('covers every opcode in OPCODES', () => {
    const covered = new Set(cases.map(([, expected]) => expected[0]));
    for (const entry of OPCODES) expect(covered, entry.mnemonic).toContain(entry.opcode);
  });

  it('is case-insensitive for mnemonics, registers and CSR names, case-sensitive for symbols', () => {
    expect(words('MOVI R1, 5\nAdd SP, r1, R2\ncsrw EPC, r1')).toEqual([
      Op.MOVI, 1, 5, 0, Op.ADD, 7, 1, 2, Op.CSRW, 0, 1, 0,
    ]);
    expect(errorOf('.equ Foo, 1\nmovi r1, foo')).toEqual([2, 10, "undefined symbol 'foo'; did you mean 'Foo'?"]);
  });

  it('accepts every CSR name and CSR numbers', () => {
    CSR_NAMES.forEach((name, index) => {
      expect(words(`csrr r1, ${name}`)).toEqual([Op.CSRR, 1, index, 0]);
      expect(words(`csrw ${name.toUpperCase()}, r3`)).toEqual([Op.CSRW, index, 3, 0]);
    });
    expect(words('csrr r1, 7')).toEqual([Op.CSRR, 1, 7, 0]);
    expect(words('.equ MY_CSR, 2 + 1\ncsrw MY_CSR, r1')).toEqual([Op.CSRW, 3, 1, 0]);
  });

  it('places every instruction on a multiple of 4, padding with zeros', () => {
    const image = assemble('.word 5\nnop_at_4: movi r1, 1\n.word 6, 7\nlater: ret');
    expect([...image.words]).toEqual([5, 0, 0, 0, Op.MOVI, 1, 1, 0, 6, 7, 0, 0, Op.RET, 0, 0, 0]);
    expect(image.symbols).toEqual({ nop_at_4: 4, later: 12 });
    expect([...image.lineOf]).toEqual([
      [4, 2],
      [12, 4],
    ]);
  });
});

describe('assemble: ld/st operand shapes', () => {
  it('selects LD/ST for a register base and LDA/STA for an absolute address', () => {
    expect(words('ld r1, [r2]')).toEqual([Op.LD, 1, 2, 0]);
    expect(words('ld r1, [sp + 2 * 3]')).toEqual([Op.LD, 1, 7, 6]);
    expect(words('ld r1, [R3 - (1 + 1)]')).toEqual([Op.LD, 1, 3, -2]);
    expect(words('st r1, [r2 + 0x10]')).toEqual([Op.ST, 1, 2, 16]);
    expect(words('ld r1, [MMIO_CONSOLE_STATUS]')).toEqual([Op.LDA, 1, Mmio.CONSOLE_STATUS, 0]);
    expect(words('st r1, [data + 1]\ndata: .word 0')).toEqual([Op.STA, 1, 5, 0, 0]);
    expect(words('ld r1, [-4]')).toEqual([Op.LDA, 1, -4, 0]);
  });

  it('accepts an offset of -2^31 and rejects anything below', () => {
    expect(words('ld r1, [r2 - 0x80000000]')).toEqual([Op.LD, 1, 2, -0x80000000]);
    expect(errorOf('ld r1, [r2 - 0x80000001]')).toEqual([1, 14, 'offset -2147483649 does not fit in 32 bits']);
  });

  it('explains a missing memory operand', () => {
    expect(errorOf('ld r1, r2')).toEqual([
      1,
      8,
      "'ld' expects a memory operand ([rs], [rs + offset] or [address]) as operand 2, got 'r2'",
    ]);
    expect(errorOf('st r1, [r2 4]')).toEqual([1, 12, "expected ']' to close the memory operand, got '4'"]);
    expect(errorOf('ld r1, [r2 + 4')).toEqual([1, 15, "expected ']' to close the memory operand, got end of line"]);
    expect(errorOf('ld r1, []')).toEqual([1, 9, 'empty memory operand (expected [rs + offset] or [address])']);
    expect(errorOf('ld r1, [4 + r2]')).toEqual([1, 13, "unexpected register 'r2' in an expression"]);
  });
});

describe('assemble: expressions', () => {
  const value = (expr: string, symbols?: Record<string, number>): number => assemble(`.word ${expr}`, { symbols }).words[0];

  it('parses decimal, hex, binary and character literals', () => {
    expect(value('42')).toBe(42);
    expect(value('0x2A')).toBe(42);
    expect(value('0X2a')).toBe(42);
    expect(value('0b101010')).toBe(42);
    expect(value('007')).toBe(7);
    expect(value("'a'")).toBe(97);
    expect(value("' '")).toBe(32);
    expect(value("';'")).toBe(59);
    expect(value("'#'")).toBe(35);
    const escapes: Array<[string, number]> = [
      ['\\n', 10],
      ['\\t', 9],
      ['\\r', 13],
      ['\\0', 0],
      ['\\\\', 92],
      ["\\'", 39],
      ['\\"', 34],
    ];
    for (const [escape, code] of escapes) expect(value(`'${escape}'`)).toBe(code);
    expect(value("'é'")).toBe(0xe9);
    expect(value("'😀'")).toBe(0x1f600);
  });

  it('honours precedence, parentheses and unary minus', () => {
    expect(value('1 + 2 * 3')).toBe(7);
    expect(value('(1 + 2) * 3')).toBe(9);
    expect(value('10 - 2 - 3')).toBe(5);
    expect(value('-3 * -(2 + 1)')).toBe(9);
    expect(value('--5')).toBe(5);
    expect(value('2 * -3 + 1')).toBe(-5);
    expect(value("'a' + 1")).toBe(98);
  });

  it('resolves forward references, .equ chains and labels', () => {
    const image = assemble('.word END - START, SIZE\n.equ SIZE, TWICE\n.equ TWICE, 2 * HALF\n.equ HALF, 3\nSTART: .word 0\nEND:');
    expect([...image.words]).toEqual([1, 6, 0]);
    expect(image.symbols).toEqual({ SIZE: 6, TWICE: 6, HALF: 3, START: 2, END: 3 });
  });

  it('stores 32-bit values as int32 and rejects anything wider', () => {
    expect(value('0xffffffff')).toBe(-1);
    expect(value('0x80000000')).toBe(-0x80000000);
    expect(value('-2147483648')).toBe(-0x80000000);
    expect(value('4294967295')).toBe(-1);
    expect(value('0x10000 * 0x10000 - 1')).toBe(-1);
    expect(errorOf('.word 4294967296')).toEqual([1, 7, 'value 4294967296 does not fit in 32 bits']);
    expect(errorOf('.word -2147483649')).toEqual([1, 7, 'value -2147483649 does not fit in 32 bits']);
    expect(errorOf('.word 1, 0x7fffffff * 4')).toEqual([1, 10, 'value 8589934588 does not fit in 32 bits']);
    // Only the final result is checked; intermediate values are exact.
    expect(value('0xffffffff * 0xffffffff - 0xffffffff * 0xffffffff + 1')).toBe(1);
  });

  it('reports malformed expressions at the offending token', () => {
    expect(errorOf('.word 1 +')).toEqual([1, 10, 'expected an expression, got end of line']);
    expect(errorOf('.word (1 + 2')).toEqual([1, 13, "expected ')', got end of line"]);
    expect(errorOf('.word 1 2')).toEqual([1, 9, "unexpected '2' after the expression"]);
    expect(errorOf('.word 1 + ]')).toEqual([1, 11, "expected an expression, got ']'"]);
    expect(errorOf('.word 0x')).toEqual([1, 7, "invalid number '0x' (expected decimal, 0x hexadecimal or 0b binary)"]);
    expect(errorOf('.word 0b102')).toEqual([1, 7, "invalid number '0b102' (expected decimal, 0x hexadecimal or 0b binary)"]);
    expect(errorOf('.word 12ab')).toEqual([1, 7, "invalid number '12ab' (expected decimal, 0x hexadecimal or 0b binary)"]);
    expect(errorOf('.word 1.5')).toEqual([1, 7, "invalid number '1.5' (expected decimal, 0x hexadecimal or 0b binary)"]);
    expect(errorOf(`.word ${'('.repeat(100)}1${')'.repeat(100)}`)[2]).toBe('expression nested too deeply');
    expect(errorOf(`.word ${'-'.repeat(100)}1`)[2]).toBe('expression nested too deeply');
    expect(value(`${'('.repeat(30)}1${')'.repeat(30)}`)).toBe(1);
    // Long flat chains up to the line limit are fine (and do not overflow the stack); longer
    // lines are refused before they are tokenized (issue 12: a million factors took 28 s).
    expect(value(Array.from({ length: 1_000 }, () => '1').join(' + '))).toBe(1_000);
    expect(value(Array.from({ length: 1_000 }, () => '1').join('*'))).toBe(1);
    expect(errorOf(`.word ${Array.from({ length: 1_000_000 }, () => '1').join('*')}`)).toEqual([1, 4097, 'line too long: 2000005 characters (at most 4096)']);
  });

  it('reports bad character literals and strings', () => {
    expect(errorOf("movi r1, ''")).toEqual([1, 10, 'empty character literal']);
    expect(errorOf("movi r1, 'ab'")).toEqual([1, 10, 'character literal must contain exactly one character']);
    expect(errorOf("movi r1, 'a")).toEqual([1, 10, 'unterminated character literal']);
    expect(errorOf("movi r1, '\\q'")).toEqual([
      1,
      11,
      "unknown escape sequence '\\q' (expected \\n, \\t, \\r, \\0, \\\\, \\' or \\\")",
    ]);
    expect(errorOf('.string "abc')).toEqual([1, 9, 'unterminated string']);
    expect(errorOf('.string "ab\\')).toEqual([1, 12, 'unterminated escape sequence']);
  });

  it('reports undefined symbols with a suggestion when one is close', () => {
    expect(errorOf('loop: jmp lop')).toEqual([1, 11, "undefined symbol 'lop'; did you mean 'loop'?"]);
    expect(errorOf('movi r1, completely_unknown')).toEqual([1, 10, "undefined symbol 'completely_unknown'"]);
    expect(errorOf('jmp lop', { ok: 1 })).toEqual([1, 5, "undefined symbol 'lop'"]);
    expect(errorOf('movi r1, PORT_POWR')).toEqual([1, 10, "undefined symbol 'PORT_POWR'; did you mean 'PORT_POWER'?"]);
  });
});

describe('assemble: comments and labels', () => {
  it('strips ; and # comments but not inside literals', () => {
    const image = assemble('; a comment\n# another\nmovi r1, \';\' ; trailing\n.string "a;b#c" # trailing\n');
    expect([...image.words]).toEqual([Op.MOVI, 1, 59, 0, 97, 59, 98, 35, 99, 0]);
  });

  it('accepts labels alone, indented, several on a line, and dotted names', () => {
    const image = assemble('  start:\n.local.1: _x: nop\n\tlast: ret ; done');
    expect(image.symbols).toEqual({ start: 0, '.local.1': 0, _x: 0, last: 4 });
  });

  it('binds a label to the next placed item, after instruction alignment', () => {
    const image = assemble('.word 1\nhere:\n\nmovi r1, here\nafter_align: .align 8\nmore: .word 2\nend:');
    expect(image.symbols).toEqual({ here: 4, after_align: 8, more: 8, end: 9 });
  });

  it('treats a symbol named __proto__ as an ordinary symbol', () => {
    const image = assemble('__proto__: nop\n.equ constructor, 3');
    expect(Object.keys(image.symbols).sort()).toEqual(['__proto__', 'constructor']);
    expect(image.symbols.constructor).toBe(3);
  });

  it('reports duplicate labels and clashes with constants and registers', () => {
    expect(errorOf('a: nop\na: nop')).toEqual([2, 1, "duplicate label 'a' (first defined at line 1)"]);
    expect(errorOf('.equ a, 1\na: nop')).toEqual([2, 1, "'a' is already defined as a constant at line 1"]);
    expect(errorOf('.equ N, 1\n.equ N, 2')).toEqual([2, 6, "'N' is already defined as a constant at line 1"]);
    expect(errorOf('sp: nop')).toEqual([1, 1, "'sp' is a register name and cannot be used as a label"]);
    expect(errorOf('.equ R3, 1')).toEqual([1, 6, "'R3' is a register name and cannot be used as a constant"]);
  });
});

describe('assemble: directives', () => {
  it('.word places one word per expression', () => {
    expect(words('.word 1, -2, 0x10, \'A\', 2 * 3')).toEqual([1, -2, 16, 65, 6]);
  });

  it('.string places one word per character and a terminating zero', () => {
    expect(words('.string "hi\\n"')).toEqual([104, 105, 10, 0]);
    expect(words('.string ""')).toEqual([0]);
    expect(words('.string "\\t\\"q\\"\\\\\\0"')).toEqual([9, 34, 113, 34, 92, 0, 0]);
    expect(words('.string "é😀"')).toEqual([0xe9, 0x1f600, 0]);
  });

  it('.space reserves zero words', () => {
    expect(words('.word 1\n.space 3\n.word 2')).toEqual([1, 0, 0, 0, 2]);
    expect(words('.space 0\n.word 9')).toEqual([9]);
    expect(words('buf: .space 4')).toEqual([0, 0, 0, 0]);
  });

  it('.align pads to a multiple', () => {
    expect(words('.word 1\n.align 4\n.word 2')).toEqual([1, 0, 0, 0, 2]);
    expect(words('.word 1\n.align 1\n.word 2')).toEqual([1, 2]);
    expect(words('.space 4\n.align 4\n.word 2')).toEqual([0, 0, 0, 0, 2]);
    expect(words('.word 1\n.align 3\n.word 2')).toEqual([1, 0, 0, 2]);
  });

  it('.org moves the location counter forward', () => {
    const image = assemble('jmp main\n.org 0x10\nmain: hlt\n.org 0x18');
    expect(image.words.length).toBe(0x18);
    expect(image.symbols.main).toBe(0x10);
    expect([...image.words.slice(0, 4)]).toEqual([Op.JMP, 0x10, 0, 0]);
    expect(image.words[0x10]).toBe(Op.HLT);
    expect(words('.org 0\n.word 1\n.org 1\n.word 2')).toEqual([1, 2]);
  });

  it('.equ defines constants usable before and after their definition', () => {
    const image = assemble('movi r1, COUNT\n.equ COUNT, 3 * WIDTH\n.equ WIDTH, 4\nmovi r2, COUNT');
    expect([...image.words]).toEqual([Op.MOVI, 1, 12, 0, Op.MOVI, 2, 12, 0]);
    expect(image.symbols).toEqual({ COUNT: 12, WIDTH: 4 });
  });

  it('.entry sets the entry point; otherwise _start; otherwise 0', () => {
    expect(assemble('nop\nmain: nop\n.entry main').entry).toBe(4);
    expect(assemble('nop\n_start: nop').entry).toBe(4);
    expect(assemble('nop\n_start: nop\nother: nop\n.entry other').entry).toBe(8);
    expect(assemble('nop').entry).toBe(0);
    expect(assemble('').entry).toBe(0);
    expect(errorOf('.entry 6')).toEqual([1, 8, 'entry point 0x6 is not a multiple of 4']);
    expect(errorOf('.entry -4')).toEqual([1, 8, 'entry point -0x4 is not a valid address']);
    expect(errorOf('.entry 0\n.entry 4')).toEqual([2, 1, "duplicate '.entry' (first at line 1)"]);
    expect(errorOf('.word 1\n_start: .word 2')).toEqual([2, 1, "entry point '_start' (0x1) is not a multiple of 4"]);
  });

  it('directives are case-insensitive', () => {
    expect(words('.WORD 1\n.Space 1\n.STRING "a"')).toEqual([1, 0, 97, 0]);
  });

  it('reports directive errors', () => {
    expect(errorOf('.org 8\n.org 4')).toEqual([2, 6, "'.org 0x4' would move the location counter backwards (it is at 0x8)"]);
    expect(errorOf('.space -1')).toEqual([1, 8, "'.space' needs a non-negative word count, got -1"]);
    expect(errorOf('.align 0')).toEqual([1, 8, "'.align' needs a positive alignment, got 0"]);
    expect(errorOf('.space N\nN: .word 1')).toEqual([
      1,
      8,
      "'.space' uses label 'N' before it is defined (the layout must be known at this point)",
    ]);
    expect(errorOf('.equ SIZE, later + 1\n.org SIZE\nlater:')).toEqual([
      2,
      6,
      "'.org' uses label 'later' before it is defined (the layout must be known at this point)",
    ]);
    expect(errorOf('.wrod 1')).toEqual([1, 1, "unknown directive '.wrod'; did you mean '.word'?"]);
    expect(errorOf('.bogus_directive')).toEqual([1, 1, "unknown directive '.bogus_directive'"]);
    expect(errorOf('.word')).toEqual([1, 1, "'.word' expects at least 1 value, got 0"]);
    expect(errorOf('.word 1,')).toEqual([1, 8, 'expected a value, got nothing']);
    expect(errorOf('.string abc')).toEqual([1, 9, `'.string' expects a string literal ("text"), got 'abc'`]);
    expect(errorOf('.string "a" "b"')).toEqual([1, 13, `unexpected '"b"' after the string`]);
    expect(errorOf('.equ 5, 5')).toEqual([1, 6, "'.equ' expects a symbol name, got '5'"]);
    expect(errorOf('.equ X')).toEqual([1, 1, "'.equ' expects a name and a value, got 1 operand"]);
    expect(errorOf('.org 1, 2')).toEqual([1, 9, "'.org' expects 1 operand (an address), got 2 operands"]);
    expect(errorOf('.equ A, B\n.equ B, A')).toEqual([2, 9, "circular definition of 'A'"]);
    expect(errorOf('.equ A, A + 1')).toEqual([1, 9, "circular definition of 'A'"]);
    const chain = (n: number): string => Array.from({ length: n }, (_, i) => `.equ C${i}, C${i + 1} + 1`).join('\n') + `\n.equ C${n}, 0`;
    expect(assemble(`${chain(200)}\n.word C0`).words[0]).toBe(200);
    expect(assemble(`${chain(20_000)}\n.word C0`).words[0]).toBe(20_000);
    // Deep chains of deeply nested expressions do not overflow the stack either.
    const nested = (i: number): string => `${'(1 * '.repeat(60)}-C${i + 1}${')'.repeat(60)}`;
    const deep = Array.from({ length: 2000 }, (_, i) => `.equ C${i}, ${nested(i)}`).join('\n');
    expect(assemble(`${deep}\n.equ C2000, 7\n.word C0, C1`).words[0]).toBe(7);
    expect(assemble(`.word C0, C1\n${deep}\n.equ C2000, 7\n.space C0 * 0`).words[1]).toBe(-7);
    // A cycle through a long chain is reported once.
    expect(errorsOf(`${chain(3000).replace('.equ C3000, 0', '.equ C3000, C0')}`).map((d) => [d.line, d.message])).toEqual([
      [3001, "circular definition of 'C0'"],
    ]);
    expect(errorOf('.org 0x40000000')).toEqual([1, 6, 'the image would exceed 4194304 words (location 0x40000000)']);
    expect(errorOf('.word 1\n.space 0x7fffffff')[2]).toBe('the image would exceed 4194304 words (location 0x80000000)');
    expect(errorOf('.word 1\n.align 0xffffffff')[2]).toBe('the image would exceed 4194304 words (location 0xffffffff)');
  });
});

describe('assemble: predefined symbols', () => {
  it('predefines the platform ports, MMIO addresses, IRQ lines, hypercalls, vectors, VECTOR_COUNT and PAGE_WORDS', () => {
    const expected: Record<string, number> = { VECTOR_COUNT, PAGE_WORDS };
    for (const [key, v] of Object.entries(Port)) expected[`PORT_${key}`] = v;
    for (const [key, v] of Object.entries(Mmio)) expected[`MMIO_${key}`] = v;
    for (const [key, v] of Object.entries(Irq)) expected[`IRQ_${key}`] = v;
    for (const [key, v] of Object.entries(Hypercall)) expected[`HC_${key}`] = v;
    for (const [key, v] of Object.entries(Vector)) expected[`VEC_${key}`] = v;
    expect(PREDEFINED_SYMBOLS).toEqual(expected);
    for (const [name, v] of Object.entries(expected)) {
      expect(assemble(`.word ${name}`).words[0], name).toBe(v);
    }
    expect(words('out PORT_CONSOLE_DATA, r1\nmovi r2, VEC_IRQ_BASE + IRQ_TIMER')).toEqual([
      Op.OUT, 0x3f8, 1, 0, Op.MOVI, 2, 32, 0,
    ]);
  });

  it('does not list predefined symbols in the image', () => {
    expect(assemble('.word PORT_POWER').symbols).toEqual({});
  });

  it('refuses to redefine a predefined symbol', () => {
    expect(errorOf('.equ PORT_POWER, 1')).toEqual([1, 6, "'PORT_POWER' is a predefined symbol and cannot be redefined"]);
    expect(errorOf('VEC_GP: nop')).toEqual([1, 1, "'VEC_GP' is a predefined symbol and cannot be redefined"]);
  });

  it('adds options.symbols (scenario params)', () => {
    const image = assemble('work TICKS * 10\n.word BIG', { symbols: { TICKS: 20, BIG: 0xffffffff } });
    expect([...image.words]).toEqual([Op.WORK, 200, 0, 0, -1]);
    expect(image.symbols).toEqual({});
  });

  it("reports a program's redefinition of a param", () => {
    expect(errorOf('.equ TICKS, 5', { TICKS: 20 })).toEqual([1, 6, "'TICKS' is already defined by the scenario's params"]);
    expect(errorOf('TICKS: nop', { TICKS: 20 })).toEqual([1, 1, "'TICKS' is already defined by the scenario's params"]);
  });

  it('validates options.symbols', () => {
    expect(errorOf('', { 'bad name': 1 })[2]).toBe("options.symbols: invalid symbol name 'bad name'");
    expect(errorOf('', { r1: 1 })[2]).toBe("options.symbols: invalid symbol name 'r1'");
    expect(errorOf('', { PORT_POWER: 1 })[2]).toBe("options.symbols: 'PORT_POWER' is a predefined platform symbol");
    expect(errorOf('', { X: 1.5 })[2]).toBe("options.symbols: value of 'X' (1.5) is not an integer that fits in 32 bits");
    expect(errorOf('', { X: 2 ** 32 })[2]).toBe(
      "options.symbols: value of 'X' (4294967296) is not an integer that fits in 32 bits",
    );
  });
});

describe('assemble: diagnostics', () => {
  it('reports operand problems with line, column and what was expected', () => {
    expect(errorOf('movi r9, 1')).toEqual([1, 6, "unknown register 'r9' (expected r0..r7 or sp)"]);
    expect(errorOf('mov r1, 5')).toEqual([1, 9, "expected a register (r0..r7 or sp), got '5'"]);
    expect(errorOf('movi r1, 2, 3')).toEqual([1, 13, "'movi' expects 2 operands (register, immediate), got 3"]);
    expect(errorOf('add r1, r2')).toEqual([1, 1, "'add' expects 3 operands (register, register, register), got 2"]);
    expect(errorOf('nop r1')).toEqual([1, 5, "'nop' expects no operands, got 1"]);
    expect(errorOf('push')).toEqual([1, 1, "'push' expects 1 operand (register), got 0"]);
    expect(errorOf('ld r1')).toEqual([1, 1, "'ld' expects 2 operands (register, memory), got 1"]);
    expect(errorOf('add r1, , r2')).toEqual([1, 7, 'expected a register (r0..r7 or sp), got nothing']);
    expect(errorOf('movi r1,')).toEqual([1, 8, 'expected an immediate, got nothing']);
    expect(errorOf('push r1 r2')).toEqual([1, 9, "unexpected 'r2' after the register"]);
    expect(errorOf('movi r1, r2')).toEqual([1, 10, "unexpected register 'r2' in an expression"]);
  });

  it('reports unknown instructions with a suggestion', () => {
    expect(errorOf('mvoi r1, 1')).toEqual([1, 1, "unknown instruction 'mvoi'; did you mean 'movi'?"]);
    expect(errorOf('  hallt')).toEqual([1, 3, "unknown instruction 'hallt'; did you mean 'hlt'?"]);
    expect(errorOf('frobnicate')).toEqual([1, 1, "unknown instruction 'frobnicate'"]);
    expect(errorOf('42')).toEqual([1, 1, "expected an instruction, a directive or a label, got '42'"]);
    expect(errorOf('x: y')).toEqual([1, 4, "unknown instruction 'y'"]);
    expect(errorOf('a: : nop')).toEqual([1, 4, "expected an instruction, a directive or a label, got ':'"]);
    expect(errorOf('nop @')).toEqual([1, 5, "unexpected character '@'"]);
  });

  it('reports targets that are not multiples of 4', () => {
    expect(errorOf('jmp 6')).toEqual([1, 5, 'target 0x6 is not a multiple of 4']);
    expect(errorsOf('.word 0\nhere: nop\njmp there\n.word 5\nthere: .word 1\nbeq r1, r2, there').map((d) => [d.line, d.column, d.message])).toEqual([
      [3, 5, 'target 0xd is not a multiple of 4'],
      [6, 13, 'target 0xd is not a multiple of 4'],
    ]);
    expect(errorsOf('.word 0\ndata: .word 1\ncall data\njz r1, data + 3\n').map((d) => [d.line, d.column, d.message])).toEqual([
      [3, 6, 'target 0x1 is not a multiple of 4'],
    ]);
  });

  it('reports CSR problems', () => {
    expect(errorOf('csrr r1, epcc')).toEqual([
      1,
      10,
      "unknown CSR 'epcc' (expected epc, estatus, ivt, ptb, scratch, cause, eval, vcpu, ework or 0..8)",
    ]);
    expect(errorOf('csrw 9, r1')).toEqual([1, 6, 'CSR number 9 is out of range (expected 0..8)']);
  });

  it('collects every error, sorted, with file:line:col in the message', () => {
    const source = ['movi r9, 1', 'mvoi r1, 1', 'ok: nop', 'jmp lop', '.string "x'].join('\n');
    let caught: unknown;
    try {
      assemble(source, { file: 'guest.s' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AssemblyError);
    const error = caught as AssemblyError;
    expect(error.name).toBe('AssemblyError');
    expect(error.diagnostics.map((d) => [d.file, d.line, d.column])).toEqual([
      ['guest.s', 1, 6],
      ['guest.s', 2, 1],
      ['guest.s', 4, 5],
      ['guest.s', 5, 9],
    ]);
    expect(error.message).toBe(
      [
        "guest.s:1:6: unknown register 'r9' (expected r0..r7 or sp)",
        "guest.s:2:1: unknown instruction 'mvoi'; did you mean 'movi'?",
        "guest.s:4:5: undefined symbol 'lop'",
        'guest.s:5:9: unterminated string',
      ].join('\n'),
    );
  });

  it('uses <source> as the default file name', () => {
    expect(errorsOf('bogus')[0].file).toBe('<source>');
  });

  it(`stops after ${MAX_DIAGNOSTICS} errors`, () => {
    let caught: unknown;
    try {
      assemble('movi r9, 1\n'.repeat(200));
    } catch (error) {
      caught = error;
    }
    const error = caught as AssemblyError;
    expect(error.diagnostics).toHaveLength(MAX_DIAGNOSTICS);
    expect(error.message.split('\n')).toHaveLength(MAX_DIAGNOSTICS + 1);
    expect(error.message).toMatch(/too many errors; stopped after 50$/);
  });

  it('does not cascade: labels and constants of a line with an error are not reported as undefined', () => {
    expect(errorsOf('loop: movi r9, 1\njmp loop').map((d) => [d.line, d.column])).toEqual([[1, 12]]);
    expect(errorsOf('a: b: bogus\njmp a\njmp b').map((d) => [d.line, d.column])).toEqual([[1, 7]]);
    expect(errorsOf('.equ N, 1 +\nmovi r1, N').map((d) => [d.line, d.column])).toEqual([[1, 12]]);
    expect(errorsOf('x: .string "abc\nmovi r1, x').map((d) => [d.line, d.column])).toEqual([[1, 12]]);
  });

  it('reports an undefined symbol inside an .equ once, at the .equ', () => {
    expect(errorsOf('.equ A, missing\nmovi r1, A\nmovi r2, A').map((d) => [d.line, d.column])).toEqual([[1, 9]]);
  });
});

describe('assemble: robustness and speed', () => {
  const check = (source: string): void => {
    try {
      const image = assemble(source);
      expect(image.words).toBeInstanceOf(Int32Array);
    } catch (error) {
      if (!(error instanceof AssemblyError)) throw error;
      expect(error.diagnostics.length).toBeGreaterThan(0);
      expect(error.diagnostics.length).toBeLessThanOrEqual(MAX_DIAGNOSTICS);
    }
  };

  it('never throws anything but AssemblyError on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), check), { numRuns: 2000 });
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 100 }), check), { numRuns: 500 });
  });

  it('never throws anything but AssemblyError on token soup', () => {
    const mnemonics = [...new Set(OPCODES.map((entry) => entry.mnemonic))];
    const token = fc.oneof(
      fc.constantFrom(...mnemonics),
      fc.constantFrom('.equ', '.org', '.word', '.string', '.space', '.align', '.entry', '.bogus'),
      fc.constantFrom('r0', 'r7', 'r8', 'sp', 'SP', 'epc', 'vcpu', 'PORT_POWER', 'IRQ_TIMER', '_start', 'x', 'y', 'loop'),
      fc.constantFrom(',', ':', '[', ']', '(', ')', '+', '-', '*', ';', '#', '"', "'", '\\', '\n', ' ', '\t', '\r'),
      fc.constantFrom('0', '4', '-1', '0x', '0xffffffff', '0x100000000', '0b12', '99999999999', '2147483648', "'a'", "'\\n'", '"hi"'),
      fc.integer({ min: -(2 ** 33), max: 2 ** 33 }).map(String),
    );
    const soup = fc.array(token, { maxLength: 60 }).map((tokens) => tokens.join(' '));
    const lines = fc.array(fc.array(token, { maxLength: 8 }).map((t) => t.join(' ')), { maxLength: 20 }).map((l) => l.join('\n'));
    fc.assert(fc.property(soup, check), { numRuns: 2000 });
    fc.assert(fc.property(lines, check), { numRuns: 2000 });
  });

  it('assembles a 2,000-line program, the same image twice (no wall-clock bound: speed is for benchmarks)', () => {
    const body: string[] = ['.equ N, 100', '_start:'];
    for (let i = 0; i < 1990; i++) {
      switch (i % 6) {
        case 0:
          body.push(`l${i}: movi r1, N * ${i} + 'a' ; comment`);
          break;
        case 1:
          body.push(`    ld r2, [sp + ${i % 17}]`);
          break;
        case 2:
          body.push(`    beq r1, r2, l${i + 4}`);
          break;
        case 3:
          body.push(`    out PORT_CONSOLE_DATA, r1`);
          break;
        case 4:
          body.push(`    st r2, [data + ${i}]`);
          break;
        default:
          body.push(`    csrw scratch, r3`);
      }
    }
    body.push('l1990: l1991: l1992: l1993: hlt', 'data: .space 2000', '.string "the end"');
    const source = body.join('\n');
    expect(source.split('\n').length).toBeGreaterThanOrEqual(1995);
    const image = assemble(source);
    // 1,991 instructions of one word each, then 2,000 words of data and the string.
    expect(image.words.length).toBeGreaterThanOrEqual(1991 + 2000);
    expect(image.words).toEqual(assemble(source).words);
  });
});

describe('docs/isa.md', () => {
  const markdown = readFileSync(new URL('../../docs/isa.md', import.meta.url), 'utf8');
  const examples = [...markdown.matchAll(/```asm\n([\s\S]*?)```/g)].map((match) => match[1]);

  it('has examples, and every one of them assembles', () => {
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const example of examples) {
      const image = assemble(example, { file: 'docs/isa.md' });
      expect(image.entry).toBe(image.symbols._start ?? 0);
    }
  });

  it('the "hi" example prints through PORT_CONSOLE_DATA and powers off through PORT_POWER', () => {
    const image = assemble(examples[0]);
    expect(image.words.slice(image.symbols.msg)).toEqual(new Int32Array([104, 105, 10, 0]));
    const ops = [...image.lineOf.keys()].map((address) => [...image.words.slice(address, address + 3)]);
    expect(ops).toContainEqual([Op.OUT, Port.CONSOLE_DATA, 1]);
    expect(ops).toContainEqual([Op.OUT, Port.POWER, 0]);
  });

  it('lists every predefined symbol and every mnemonic', () => {
    for (const name of Object.keys(PREDEFINED_SYMBOLS)) expect(markdown, name).toContain(`\`${name}\``);
    for (const entry of OPCODES) expect(markdown, entry.mnemonic).toContain(`| \`${entry.mnemonic}`);
  });
});
