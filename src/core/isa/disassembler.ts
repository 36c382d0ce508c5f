/**
 * The disassembler: the inverse of the assembler. Every line it produces assembles back to the
 * same words: an encoding that is not a valid instruction (unknown opcode, register or CSR out
 * of range, misaligned target, non-zero unused slot) comes out as a `.word` directive.
 */
import { hex32 } from '../hash.js';
import {
  CSR_COUNT,
  CSR_NAMES,
  INSTRUCTION_WORDS,
  OPCODE_INFO,
  REGISTER_COUNT,
  STACK_POINTER,
  type OperandKind,
} from './opcodes.js';

export interface DisassembleOptions {
  /** First word address (default 0). */
  readonly start?: number;
  /** Word address to stop before (default: the end of `words`). */
  readonly end?: number;
  /** Labels to print before the instructions they point at, and next to matching targets. */
  readonly symbols?: Readonly<Record<string, number>>;
}

const int32 = (value: number): number => value | 0;
const hex = (value: number): string => `0x${(value >>> 0).toString(16)}`;
const register = (r: number): string => (r === STACK_POINTER ? 'sp' : `r${r}`);

/** How many encoding slots each operand kind fills. */
const SLOTS: Readonly<Record<OperandKind, number>> = { reg: 1, imm: 1, target: 1, mem: 2, absmem: 1, port: 1, csr: 1 };

function wordDirective(values: readonly number[], note?: string): string {
  const text = `.word ${values.map((v) => String(int32(v))).join(', ')}`;
  return note === undefined ? text : `${text} ; ${note}`;
}

interface Decoded {
  readonly text: string;
  /** Targets named by the instruction (for symbol annotations). */
  readonly targets: readonly number[];
}

function decode(words: ArrayLike<number>, address: number): Decoded {
  const raw = [0, 1, 2, 3].map((i) => int32(words[address + i] ?? 0));
  const info = OPCODE_INFO.get(raw[0]);
  if (info === undefined) return { text: wordDirective(raw), targets: [] };
  const parts: string[] = [];
  const targets: number[] = [];
  let slot = 1;
  let problem: string | undefined;
  for (const kind of info.operands) {
    const value = raw[slot];
    switch (kind) {
      case 'reg':
        if (value < 0 || value >= REGISTER_COUNT) problem ??= `register ${value} out of range`;
        parts.push(register(value));
        break;
      case 'imm':
        parts.push(String(value));
        break;
      case 'port':
        parts.push(hex(value));
        break;
      case 'target':
        if (value % INSTRUCTION_WORDS !== 0) problem ??= `target ${hex(value)} is not a multiple of ${INSTRUCTION_WORDS}`;
        targets.push(value);
        parts.push(hex(value));
        break;
      case 'csr':
        if (value < 0 || value >= CSR_COUNT) problem ??= `CSR ${value} out of range`;
        parts.push(CSR_NAMES[value] ?? String(value));
        break;
      case 'absmem':
        parts.push(`[${hex(value)}]`);
        break;
      case 'mem': {
        const offset = raw[slot + 1];
        if (value < 0 || value >= REGISTER_COUNT) problem ??= `register ${value} out of range`;
        const base = register(value);
        if (offset === 0) parts.push(`[${base}]`);
        else if (offset < 0) parts.push(`[${base} - ${-offset}]`);
        else parts.push(`[${base} + ${offset}]`);
        break;
      }
    }
    slot += SLOTS[kind];
  }
  for (let i = slot; i < INSTRUCTION_WORDS; i++) if (raw[i] !== 0) problem ??= `unused operand word ${i} is not zero`;
  const text = parts.length === 0 ? info.mnemonic : `${info.mnemonic} ${parts.join(', ')}`;
  if (problem !== undefined) return { text: wordDirective(raw, `${text} (invalid: ${problem})`), targets: [] };
  return { text, targets };
}

/**
 * One instruction as assembly text, e.g. `movi r1, 10`, `ld r2, [r1 + 4]`, `out 0x3f8, r1`,
 * `csrw ivt, r1`, `jmp 0x20`. Words past the end of `words` read as zero. An encoding that is
 * not a valid instruction comes out as `.word op, a, b, c` (with a comment when the opcode is
 * known), so that the text always assembles back to the same four words.
 */
export function disassembleInstruction(words: ArrayLike<number>, address: number): string {
  return decode(words, address).text;
}

/**
 * A listing: one line per instruction (address, the four raw words in hex, the text), with each
 * label of `symbols` on its own line before the address it names. Targets that match a label get
 * a `; label` comment.
 */
export function disassemble(words: ArrayLike<number>, options: DisassembleOptions = {}): string {
  const start = Math.max(0, Math.trunc(options.start ?? 0));
  const end = Math.min(words.length, Math.trunc(options.end ?? words.length));
  const labelsAt = new Map<number, string[]>();
  const names = Object.keys(options.symbols ?? {}).sort();
  for (const name of names) {
    const value = (options.symbols as Record<string, number>)[name];
    const list = labelsAt.get(value);
    if (list === undefined) labelsAt.set(value, [name]);
    else list.push(name);
  }
  const out: string[] = [];
  for (let address = start; address < end; address += INSTRUCTION_WORDS) {
    for (const name of labelsAt.get(address) ?? []) out.push(`${name}:`);
    const count = Math.min(INSTRUCTION_WORDS, end - address);
    const raw = Array.from({ length: count }, (_, i) => int32(words[address + i]));
    let text: string;
    if (count < INSTRUCTION_WORDS) {
      text = wordDirective(raw);
    } else {
      const decoded = decode(words, address);
      text = decoded.text;
      const named = decoded.targets.map((t) => labelsAt.get(t)?.[0]).filter((n): n is string => n !== undefined);
      if (named.length > 0) text += ` ; ${named.join(', ')}`;
    }
    out.push(`${hex32(address)}:  ${raw.map(hex32).join(' ').padEnd(35)}  ${text}`);
  }
  return out.join('\n');
}
