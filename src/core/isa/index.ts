export {
  CSR_COUNT,
  CSR_NAMES,
  Csr,
  ESTATUS_PREV_IE,
  ESTATUS_PREV_USER,
  INSTRUCTION_WORDS,
  IRQ_LINES,
  Mode,
  Op,
  OPCODE_INFO,
  OPCODES,
  PRIVILEGED,
  REGISTER_COUNT,
  STACK_POINTER,
  VECTOR_COUNT,
  Vector,
} from './opcodes.js';
export type { Opcode, OpcodeInfo, OperandKind } from './opcodes.js';
export { AsmError, AssemblyError, DIRECTIVES, MAX_DIAGNOSTICS, MAX_IMAGE_WORDS, PREDEFINED_SYMBOLS, assemble } from './assembler.js';
export type { AsmDiagnostic, AssembledImage, AssembleOptions, SourceLocation } from './assembler.js';
export { disassemble, disassembleInstruction } from './disassembler.js';
export type { DisassembleOptions } from './disassembler.js';
