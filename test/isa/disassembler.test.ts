import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  CSR_COUNT,
  OPCODES,
  Op,
  REGISTER_COUNT,
  assemble,
  disassemble,
  disassembleInstruction,
  type OpcodeInfo,
} from '../../src/core/isa/index.js';

const text = (...instruction: number[]): string => disassembleInstruction(instruction, 0);

describe('disassembleInstruction', () => {
  it('prints each operand kind in assembler syntax', () => {
    expect(text(Op.MOVI, 1, 10, 0)).toBe('movi r1, 10');
    expect(text(Op.MOVI, 1, -10, 0)).toBe('movi r1, -10');
    expect(text(Op.LD, 2, 1, 4)).toBe('ld r2, [r1 + 4]');
    expect(text(Op.LD, 2, 7, -3)).toBe('ld r2, [sp - 3]');
    expect(text(Op.ST, 3, 4, 0)).toBe('st r3, [r4]');
    expect(text(Op.LDA, 1, 0x40000000, 0)).toBe('ld r1, [0x40000000]');
    expect(text(Op.STA, 5, 0x100, 0)).toBe('st r5, [0x100]');
    expect(text(Op.OUT, 0x3f8, 1, 0)).toBe('out 0x3f8, r1');
    expect(text(Op.IN, 1, 0x3f9, 0)).toBe('in r1, 0x3f9');
    expect(text(Op.CSRW, 2, 1, 0)).toBe('csrw ivt, r1');
    expect(text(Op.CSRR, 3, 5, 0)).toBe('csrr r3, cause');
    expect(text(Op.JMP, 0x20, 0, 0)).toBe('jmp 0x20');
    expect(text(Op.JMP, -4, 0, 0)).toBe('jmp 0xfffffffc');
    expect(text(Op.BEQ, 1, 2, 0x40)).toBe('beq r1, r2, 0x40');
    expect(text(Op.JZ, 1, 8, 0)).toBe('jz r1, 0x8');
    expect(text(Op.ADD, 1, 2, 7)).toBe('add r1, r2, sp');
    expect(text(Op.WORK, 5000, 0, 0)).toBe('work 5000');
    expect(text(Op.NOP, 0, 0, 0)).toBe('nop');
    expect(text(Op.IRET, 0, 0, 0)).toBe('iret');
  });

  it('reads the instruction at the given address; missing words read as zero', () => {
    expect(disassembleInstruction([0, 0, 0, 0, Op.PUSH, 3, 0, 0], 4)).toBe('push r3');
    expect(disassembleInstruction([Op.RET], 0)).toBe('ret');
    expect(disassembleInstruction(new Int32Array([Op.MOVI, 1, -1, 0]), 0)).toBe('movi r1, -1');
  });

  it('prints an unknown opcode as .word', () => {
    expect(text(99, 1, 2, 3)).toBe('.word 99, 1, 2, 3');
    expect(text(-1, 0, 0, 0)).toBe('.word -1, 0, 0, 0');
    expect(text(0xffffffff, 0, 0, 0)).toBe('.word -1, 0, 0, 0');
  });

  it('prints an invalid encoding of a known opcode as .word with an explanation', () => {
    expect(text(Op.MOVI, 9, 1, 0)).toBe('.word 1, 9, 1, 0 ; movi r9, 1 (invalid: register 9 out of range)');
    expect(text(Op.JMP, 6, 0, 0)).toBe('.word 23, 6, 0, 0 ; jmp 0x6 (invalid: target 0x6 is not a multiple of 4)');
    expect(text(Op.CSRR, 1, 9, 0)).toBe('.word 46, 1, 9, 0 ; csrr r1, 9 (invalid: CSR 9 out of range)');
    expect(text(Op.NOP, 0, 0, 5)).toBe('.word 0, 0, 0, 5 ; nop (invalid: unused operand word 3 is not zero)');
    expect(text(Op.LD, 1, -1, 0)).toBe('.word 15, 1, -1, 0 ; ld r1, [r-1] (invalid: register -1 out of range)');
  });
});

/** A valid random instruction of the given kind: the four words. */
function validInstruction(info: OpcodeInfo): fc.Arbitrary<number[]> {
  const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
  const slots: Array<fc.Arbitrary<number>> = [];
  for (const kind of info.operands) {
    switch (kind) {
      case 'reg':
        slots.push(fc.integer({ min: 0, max: REGISTER_COUNT - 1 }));
        break;
      case 'csr':
        slots.push(fc.integer({ min: 0, max: CSR_COUNT - 1 }));
        break;
      case 'target':
        slots.push(int32.map((v) => v & ~3));
        break;
      case 'mem':
        slots.push(fc.integer({ min: 0, max: REGISTER_COUNT - 1 }), int32);
        break;
      case 'imm':
      case 'port':
      case 'absmem':
        slots.push(fc.oneof(int32, fc.integer({ min: -8, max: 8 })));
        break;
    }
  }
  return fc.tuple(...slots).map((values) => {
    const out = [info.opcode, ...values];
    while (out.length < 4) out.push(0);
    return out;
  });
}

describe('round trip', () => {
  it('assemble(disassembleInstruction(w)) reproduces every valid instruction', () => {
    const anyValid = fc.constantFrom(...OPCODES).chain(validInstruction);
    fc.assert(
      fc.property(anyValid, (instruction) => {
        const source = disassembleInstruction(instruction, 0);
        expect([...assemble(source).words], source).toEqual(instruction);
      }),
      { numRuns: 3000 },
    );
  });

  it('reproduces arbitrary words too (invalid encodings become .word)', () => {
    const word = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: -2, max: 64 }));
    fc.assert(
      fc.property(fc.tuple(word, word, word, word), (instruction) => {
        const source = disassembleInstruction(instruction, 0);
        expect([...assemble(source).words], source).toEqual(instruction);
      }),
      { numRuns: 3000 },
    );
  });

  it('reproduces every opcode with extreme operands', () => {
    for (const info of OPCODES) {
      for (const extreme of [0, -(2 ** 31), 2 ** 31 - 4, -4]) {
        const instruction = [info.opcode, 0, 0, 0];
        info.operands.forEach((kind, index) => {
          if (kind === 'imm' || kind === 'port' || kind === 'target' || kind === 'absmem') instruction[index + 1] = extreme;
          if (kind === 'mem') instruction[index + 2] = extreme;
        });
        const source = disassembleInstruction(instruction, 0);
        expect([...assemble(source).words], source).toEqual(instruction);
      }
    }
  });
});

describe('disassemble', () => {
  const program = [
    '_start: movi r1, msg',
    'loop:   ld r2, [r1]',
    '        jz r2, done',
    '        out PORT_CONSOLE_DATA, r2',
    '        addi r1, r1, 1',
    '        jmp loop',
    'done:   out PORT_POWER, r0',
    'msg:    .string "hi"',
  ].join('\n');

  it('lists address, raw words and text, with labels on their own lines', () => {
    const image = assemble(program);
    const listing = disassemble(image.words, { end: 28, symbols: image.symbols });
    expect(listing.split('\n')).toEqual([
      '_start:',
      '00000000:  00000001 00000001 0000001c 00000000  movi r1, 28',
      'loop:',
      '00000004:  0000000f 00000002 00000001 00000000  ld r2, [r1]',
      '00000008:  00000018 00000002 00000018 00000000  jz r2, 0x18 ; done',
      '0000000c:  0000002d 000003f8 00000002 00000000  out 0x3f8, r2',
      '00000010:  0000000e 00000001 00000001 00000001  addi r1, r1, 1',
      '00000014:  00000017 00000004 00000000 00000000  jmp 0x4 ; loop',
      'done:',
      '00000018:  0000002d 00000604 00000000 00000000  out 0x604, r0',
    ]);
  });

  it('honours start and end and prints a trailing partial instruction as .word', () => {
    const image = assemble(program);
    const listing = disassemble(image.words, { start: 24 });
    expect(listing.split('\n')).toEqual([
      '00000018:  0000002d 00000604 00000000 00000000  out 0x604, r0',
      '0000001c:  00000068 00000069 00000000           .word 104, 105, 0',
    ]);
    expect(disassemble(image.words, { start: 4, end: 8 })).toBe(
      '00000004:  0000000f 00000002 00000001 00000000  ld r2, [r1]',
    );
    expect(disassemble(image.words, { start: 100 })).toBe('');
    expect(disassemble([])).toBe('');
  });

  it('reassembles: the text column of a listing assembles to the same image', () => {
    const image = assemble(program);
    const listing = disassemble(image.words);
    const source = listing
      .split('\n')
      .map((line) => line.slice(48))
      .join('\n');
    expect([...assemble(source).words]).toEqual([...image.words]);
  });
});
