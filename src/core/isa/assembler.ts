/**
 * A two-pass assembler for the guest ISA (see opcodes.ts and docs/isa.md).
 *
 * Pass 0 tokenizes and parses every line and declares every label and `.equ` name, pass 1 lays
 * the image out (assigns label addresses), pass 2 evaluates expressions and encodes. Errors are
 * collected (up to MAX_DIAGNOSTICS) and thrown together as one AssemblyError; no other exception
 * escapes `assemble` for any input string.
 */
import { Hypercall, Irq, Mmio, PAGE_WORDS, Port } from '../platform.js';
import {
  CSR_COUNT,
  CSR_NAMES,
  INSTRUCTION_WORDS,
  OPCODES,
  REGISTER_COUNT,
  STACK_POINTER,
  VECTOR_COUNT,
  Vector,
  type OpcodeInfo,
  type OperandKind,
} from './opcodes.js';

export interface SourceLocation {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}

export interface AsmDiagnostic extends SourceLocation {
  readonly message: string;
}

/** A guest program that cannot be assembled; `diagnostics` hold each problem's file, line and column. */
export class AssemblyError extends Error {
  readonly diagnostics: readonly AsmDiagnostic[];

  constructor(diagnostics: readonly AsmDiagnostic[], truncated = false) {
    const lines = diagnostics.map((d) => `${d.file}:${d.line}:${d.column}: ${d.message}`);
    if (truncated) lines.push(`too many errors; stopped after ${diagnostics.length}`);
    super(lines.join('\n'));
    this.name = 'AssemblyError';
    this.diagnostics = diagnostics;
  }

  /** The first problem's position. */
  get file(): string {
    return this.diagnostics[0]?.file ?? '';
  }

  get line(): number {
    return this.diagnostics[0]?.line ?? 0;
  }

  get column(): number {
    return this.diagnostics[0]?.column ?? 0;
  }
}

/** The name the library documents for assembly errors. */
export { AssemblyError as AsmError };

export interface AssembledImage {
  /** The image, loaded at guest-physical address 0. */
  readonly words: Int32Array;
  readonly entry: number;
  /** Labels and `.equ` constants defined by the program (not the predefined ones). */
  readonly symbols: Readonly<Record<string, number>>;
  /** Instruction address to 1-based source line. */
  readonly lineOf: ReadonlyMap<number, number>;
  readonly file: string;
}

export interface AssembleOptions {
  /** Used in diagnostics. Default `<source>`. */
  readonly file?: string;
  /** Extra predefined symbols (a scenario's parameters, e.g. `{ TICKS: 20 }`). */
  readonly symbols?: Readonly<Record<string, number>>;
}

/** At most this many diagnostics are collected before assembly stops. */
export const MAX_DIAGNOSTICS = 50;
/** The largest image the assembler produces, in words (16 MiB). */
export const MAX_IMAGE_WORDS = 1 << 22;
/** `text` up to `length` characters, longer ones cut with an ellipsis. */
function cut(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length)}…`;
}

/** Longest source the assembler reads, in characters (a whole guest is a few KiB). */
export const MAX_SOURCE_CHARS = 1 << 22;
/** Longest line, in characters: longer lines are refused before they are tokenized. */
export const MAX_LINE_CHARS = 4096;
/** Longest number literal (0b and 32 binary digits). */
export const MAX_NUMBER_CHARS = 34;
/** How deeply expressions may nest (parentheses and unary minus). */
const MAX_EXPRESSION_DEPTH = 64;

const MIN_VALUE = -(2n ** 31n);
const MAX_VALUE = 2n ** 32n - 1n;

/**
 * Symbols every program can use without defining them: the platform's ports (PORT_*), MMIO
 * addresses (MMIO_*), IRQ lines (IRQ_*) and hypercall numbers (HC_*), the exception vectors
 * (VEC_*), VECTOR_COUNT and PAGE_WORDS.
 */
export const PREDEFINED_SYMBOLS: Readonly<Record<string, number>> = Object.freeze(
  (() => {
    const table: Record<string, number> = {};
    for (const [key, value] of Object.entries(Port)) table[`PORT_${key}`] = value;
    for (const [key, value] of Object.entries(Mmio)) table[`MMIO_${key}`] = value;
    for (const [key, value] of Object.entries(Irq)) table[`IRQ_${key}`] = value;
    for (const [key, value] of Object.entries(Hypercall)) table[`HC_${key}`] = value;
    for (const [key, value] of Object.entries(Vector)) table[`VEC_${key}`] = value;
    table.VECTOR_COUNT = VECTOR_COUNT;
    table.PAGE_WORDS = PAGE_WORDS;
    return table;
  })(),
);

/** The assembler's directives, with the dot. */
export const DIRECTIVES: readonly string[] = ['.equ', '.org', '.word', '.string', '.space', '.align', '.entry'];

const SYMBOL_NAME = /^[A-Za-z_.][A-Za-z0-9_.]*$/;
/** For lines that fail to parse: a leading label, and a `.equ` name. */
const LEADING_LABEL = /^([ \t]*)([A-Za-z_.][A-Za-z0-9_.]*)[ \t]*:/;
const LEADING_EQU = /^([ \t]*\.[eE][qQ][uU][ \t]+)([A-Za-z_.][A-Za-z0-9_.]*)/;

// ---------------------------------------------------------------------------------------------
// Tokens

type Token =
  | { readonly type: 'ident'; readonly text: string; readonly col: number }
  | { readonly type: 'num'; readonly text: string; readonly col: number; readonly value: bigint }
  | { readonly type: 'str'; readonly text: string; readonly col: number; readonly codes: readonly number[] }
  | { readonly type: 'punct'; readonly text: string; readonly col: number };

/** Internal: a diagnostic raised while parsing one line (that line is then skipped). */
class LineError {
  constructor(
    readonly column: number,
    readonly message: string,
  ) {}
}

const isIdentStart = (c: number): boolean =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 /* _ */ || c === 46; /* . */
const isIdentPart = (c: number): boolean => isIdentStart(c) || (c >= 48 && c <= 57);
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const PUNCTUATION = ',[]+-*():';

const ESCAPES: Readonly<Record<string, number>> = { n: 10, t: 9, r: 13, '0': 0, '\\': 92, "'": 39, '"': 34 };

/** Reads one (possibly escaped) character at `i`; returns its code point and the next index. */
function readChar(line: string, i: number): [number, number] {
  if (line[i] === '\\') {
    const next = line[i + 1];
    if (next === undefined) throw new LineError(i + 1, 'unterminated escape sequence');
    const code = ESCAPES[next];
    if (code === undefined) {
      const shown = String.fromCodePoint(line.codePointAt(i + 1) ?? 0);
      throw new LineError(i + 1, `unknown escape sequence '\\${shown}' (expected \\n, \\t, \\r, \\0, \\\\, \\' or \\")`);
    }
    return [code, i + 2];
  }
  const code = line.codePointAt(i) ?? 0;
  return [code, i + (code > 0xffff ? 2 : 1)];
}

function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) {
      i++;
      continue;
    }
    const ch = line[i];
    if (ch === ';' || ch === '#') break;
    const col = i + 1;
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(line.charCodeAt(j))) j++;
      tokens.push({ type: 'ident', text: line.slice(i, j), col });
      i = j;
    } else if (isDigit(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(line.charCodeAt(j))) j++;
      const text = line.slice(i, j);
      if (text.length > MAX_NUMBER_CHARS) {
        throw new LineError(col, `number too long: ${text.length} characters (at most ${MAX_NUMBER_CHARS}): '${text.slice(0, 12)}…'`);
      }
      let value: bigint;
      if (/^0[xX][0-9a-fA-F]+$/.test(text) || /^0[bB][01]+$/.test(text) || /^[0-9]+$/.test(text)) {
        value = BigInt(text);
      } else {
        throw new LineError(col, `invalid number '${text}' (expected decimal, 0x hexadecimal or 0b binary)`);
      }
      tokens.push({ type: 'num', text, col, value });
      i = j;
    } else if (ch === "'") {
      let j = i + 1;
      if (j >= n) throw new LineError(col, 'unterminated character literal');
      if (line[j] === "'") throw new LineError(col, 'empty character literal');
      const [code, after] = readChar(line, j);
      if (line[after] !== "'") {
        if (line.indexOf("'", after) >= 0) throw new LineError(col, 'character literal must contain exactly one character');
        throw new LineError(col, 'unterminated character literal');
      }
      j = after + 1;
      tokens.push({ type: 'num', text: line.slice(i, j), col, value: BigInt(code) });
      i = j;
    } else if (ch === '"') {
      const codes: number[] = [];
      let j = i + 1;
      for (;;) {
        if (j >= n) throw new LineError(col, 'unterminated string');
        if (line[j] === '"') break;
        const [code, after] = readChar(line, j);
        codes.push(code);
        j = after;
      }
      j++;
      tokens.push({ type: 'str', text: line.slice(i, j), col, codes });
      i = j;
    } else if (PUNCTUATION.includes(ch)) {
      tokens.push({ type: 'punct', text: ch, col });
      i++;
    } else {
      const shown = String.fromCodePoint(line.codePointAt(i) ?? 0);
      throw new LineError(col, `unexpected character '${shown}'`);
    }
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Expressions

type Expr =
  | { readonly k: 'num'; readonly value: bigint; readonly col: number }
  | { readonly k: 'sym'; readonly name: string; readonly col: number }
  | { readonly k: 'neg'; readonly arg: Expr; readonly col: number }
  /** `first op1 rest[0] op2 rest[1] ...`, left to right; kept flat so evaluation does not recurse per term. */
  | { readonly k: 'chain'; readonly first: Expr; readonly ops: readonly ('+' | '-' | '*')[]; readonly rest: readonly Expr[]; readonly col: number };

const REGISTER_NAMES = new Map<string, number>([
  ...Array.from({ length: REGISTER_COUNT }, (_, r) => [`r${r}`, r] as [string, number]),
  ['sp', STACK_POINTER],
]);
const CSR_BY_NAME = new Map<string, number>(CSR_NAMES.map((name, index) => [name, index]));

const registerOf = (token: Token | undefined): number | undefined =>
  token?.type === 'ident' ? REGISTER_NAMES.get(token.text.toLowerCase()) : undefined;

const describe = (token: Token | undefined): string => (token === undefined ? 'end of line' : `'${token.text}'`);

/** A cursor over the tokens of one operand. */
class Cursor {
  pos: number;
  constructor(
    readonly tokens: readonly Token[],
    start: number,
    readonly end: number,
    /** Column to blame when the operand is empty or ends early. */
    readonly endCol: number,
  ) {
    this.pos = start;
  }
  peek(): Token | undefined {
    return this.pos < this.end ? this.tokens[this.pos] : undefined;
  }
  next(): Token | undefined {
    const token = this.peek();
    if (token !== undefined) this.pos++;
    return token;
  }
  atEnd(): boolean {
    return this.pos >= this.end;
  }
  isPunct(text: string): boolean {
    const token = this.peek();
    return token?.type === 'punct' && token.text === text;
  }
  col(): number {
    return this.peek()?.col ?? this.endCol;
  }
  expectEnd(what: string): void {
    const token = this.peek();
    if (token !== undefined) throw new LineError(token.col, `unexpected ${describe(token)} after ${what}`);
  }
}

function parseExpr(cur: Cursor, depth = 0): Expr {
  const first = parseTerm(cur, depth);
  const ops: Array<'+' | '-'> = [];
  const rest: Expr[] = [];
  while (cur.isPunct('+') || cur.isPunct('-')) {
    ops.push((cur.next() as Token).text as '+' | '-');
    rest.push(parseTerm(cur, depth));
  }
  return ops.length === 0 ? first : { k: 'chain', first, ops, rest, col: first.col };
}

function parseTerm(cur: Cursor, depth: number): Expr {
  const first = parseUnary(cur, depth);
  const ops: Array<'*'> = [];
  const rest: Expr[] = [];
  while (cur.isPunct('*')) {
    cur.next();
    ops.push('*');
    rest.push(parseUnary(cur, depth));
  }
  return ops.length === 0 ? first : { k: 'chain', first, ops, rest, col: first.col };
}

function parseUnary(cur: Cursor, depth: number): Expr {
  if (depth > MAX_EXPRESSION_DEPTH) throw new LineError(cur.col(), 'expression nested too deeply');
  const token = cur.next();
  if (token === undefined) throw new LineError(cur.endCol, 'expected an expression, got end of line');
  if (token.type === 'num') return { k: 'num', value: token.value, col: token.col };
  if (token.type === 'ident') {
    if (registerOf(token) !== undefined) {
      throw new LineError(token.col, `unexpected register '${token.text}' in an expression`);
    }
    return { k: 'sym', name: token.text, col: token.col };
  }
  if (token.type === 'punct' && token.text === '-') {
    return { k: 'neg', arg: parseUnary(cur, depth + 1), col: token.col };
  }
  if (token.type === 'punct' && token.text === '(') {
    const inner = parseExpr(cur, depth + 1);
    const close = cur.next();
    if (close?.type !== 'punct' || close.text !== ')') {
      throw new LineError(close?.col ?? cur.endCol, `expected ')', got ${describe(close)}`);
    }
    return inner;
  }
  throw new LineError(token.col, `expected an expression, got ${describe(token)}`);
}

// ---------------------------------------------------------------------------------------------
// Statements

type Operand =
  | { readonly k: 'reg'; readonly reg: number }
  | { readonly k: 'expr'; readonly kind: 'imm' | 'port' | 'target'; readonly expr: Expr }
  | { readonly k: 'mem'; readonly base: number; readonly offset: Expr | null; readonly negate: boolean; readonly col: number }
  | { readonly k: 'absmem'; readonly expr: Expr }
  | { readonly k: 'csr'; readonly csr: number }
  | { readonly k: 'csrexpr'; readonly expr: Expr };

type Statement =
  | { readonly k: 'instr'; readonly info: OpcodeInfo; readonly operands: readonly Operand[]; readonly col: number }
  | { readonly k: 'word'; readonly exprs: readonly Expr[]; readonly col: number }
  | { readonly k: 'string'; readonly codes: readonly number[]; readonly col: number }
  | { readonly k: 'space' | 'align' | 'org' | 'entry'; readonly expr: Expr; readonly col: number }
  | { readonly k: 'equ'; readonly name: string; readonly expr: Expr; readonly col: number };

interface Label {
  readonly name: string;
  readonly col: number;
}

interface ParsedLine {
  readonly line: number;
  readonly labels: readonly Label[];
  readonly stmt: Statement | null;
}

const KIND_NAMES: Readonly<Record<OperandKind, string>> = {
  reg: 'register',
  imm: 'immediate',
  target: 'target',
  mem: 'memory',
  absmem: 'memory',
  port: 'port',
  csr: 'csr',
};

const MNEMONICS = new Map<string, OpcodeInfo[]>();
for (const entry of OPCODES) {
  const list = MNEMONICS.get(entry.mnemonic);
  if (list === undefined) MNEMONICS.set(entry.mnemonic, [entry]);
  else list.push(entry);
}

/**
 * Edit distance (optimal string alignment: insertions, deletions, substitutions and swaps of
 * adjacent characters), for "did you mean" suggestions. Anything above 2 is reported as 3.
 */
export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      row[j] = d;
    }
    prev2 = prev;
    prev = row;
  }
  return Math.min(prev[b.length], 3);
}

/**
 * `; did you mean 'x'?` for the closest candidate within edit distance 2 (1 for words of up to
 * three characters, where two edits change most of the word), or ''. Ties go to a candidate with
 * the same first letter, then to the first one listed.
 */
function suggest(word: string, candidates: Iterable<string>): string {
  const limit = word.length <= 3 ? 1 : 2;
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance > limit) continue;
    const score = distance * 2 + (candidate[0] === word[0] ? 0 : 1);
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best === undefined ? '' : `; did you mean '${best}'?`;
}

/** Splits tokens [start, end) at top-level commas into operand ranges. */
function splitOperands(tokens: readonly Token[], start: number, end: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  if (start >= end) return ranges;
  let depth = 0;
  let from = start;
  for (let i = start; i < end; i++) {
    const token = tokens[i];
    if (token.type !== 'punct') continue;
    if (token.text === '(' || token.text === '[') depth++;
    else if (token.text === ')' || token.text === ']') depth = Math.max(0, depth - 1);
    else if (token.text === ',' && depth === 0) {
      ranges.push([from, i]);
      from = i + 1;
    }
  }
  ranges.push([from, end]);
  return ranges;
}

/**
 * Where to point when operand tokens [from, to) end too early: an empty operand is blamed on the
 * comma before it (after it, for an empty first operand); a truncated one on what follows it.
 */
function operandEndCol(tokens: readonly Token[], from: number, to: number, lineEndCol: number): number {
  if (from === to && from > 0 && tokens[from - 1].type === 'punct' && tokens[from - 1].text === ',') return tokens[from - 1].col;
  return to < tokens.length ? tokens[to].col : lineEndCol;
}

/** Where to point for a surplus operand: its first token, or the comma before an empty one. */
function extraOperandCol(tokens: readonly Token[], [from, to]: [number, number]): number {
  return (from < to ? tokens[from] : tokens[from - 1]).col;
}

function parseRegister(cur: Cursor): number {
  const token = cur.next();
  if (token === undefined) throw new LineError(cur.endCol, 'expected a register (r0..r7 or sp), got nothing');
  const reg = registerOf(token);
  if (reg === undefined) {
    if (token.type === 'ident') throw new LineError(token.col, `unknown register '${token.text}' (expected r0..r7 or sp)`);
    throw new LineError(token.col, `expected a register (r0..r7 or sp), got ${describe(token)}`);
  }
  cur.expectEnd('the register');
  return reg;
}

function parseValue(cur: Cursor, what: string): Expr {
  if (cur.atEnd()) throw new LineError(cur.endCol, `expected ${what}, got nothing`);
  const expr = parseExpr(cur);
  cur.expectEnd('the expression');
  return expr;
}

/** `[rs]`, `[rs + expr]`, `[rs - expr]` or `[expr]`. */
function parseMemory(cur: Cursor, mnemonic: string, index: number): Operand {
  const open = cur.peek();
  if (open?.type !== 'punct' || open.text !== '[') {
    const got = open === undefined ? 'nothing' : describe(open);
    throw new LineError(
      cur.col(),
      `'${mnemonic}' expects a memory operand ([rs], [rs + offset] or [address]) as operand ${index + 1}, got ${got}`,
    );
  }
  cur.next();
  const base = registerOf(cur.peek());
  let operand: Operand;
  if (base !== undefined) {
    cur.next();
    if (cur.isPunct('+') || cur.isPunct('-')) {
      const sign = cur.next() as Token;
      operand = { k: 'mem', base, offset: parseExpr(cur), negate: sign.text === '-', col: sign.col };
    } else {
      operand = { k: 'mem', base, offset: null, negate: false, col: open.col };
    }
  } else {
    if (cur.isPunct(']')) throw new LineError(cur.col(), 'empty memory operand (expected [rs + offset] or [address])');
    operand = { k: 'absmem', expr: parseExpr(cur) };
  }
  const close = cur.next();
  if (close?.type !== 'punct' || close.text !== ']') {
    throw new LineError(close?.col ?? cur.endCol, `expected ']' to close the memory operand, got ${describe(close)}`);
  }
  cur.expectEnd('the memory operand');
  return operand;
}

function parseInstruction(tokens: readonly Token[], at: number, lineEndCol: number): Statement {
  const head = tokens[at];
  const mnemonic = head.text.toLowerCase();
  const infos = MNEMONICS.get(mnemonic);
  if (infos === undefined) {
    throw new LineError(head.col, `unknown instruction '${head.text}'${suggest(mnemonic, MNEMONICS.keys())}`);
  }
  const ranges = splitOperands(tokens, at + 1, tokens.length);
  const shape = infos[0].operands;
  if (ranges.length !== shape.length) {
    const expected =
      shape.length === 0
        ? 'no operands'
        : `${shape.length} operand${shape.length === 1 ? '' : 's'} (${shape.map((k) => KIND_NAMES[k]).join(', ')})`;
    const col = ranges.length > shape.length ? extraOperandCol(tokens, ranges[shape.length]) : head.col;
    throw new LineError(col, `'${mnemonic}' expects ${expected}, got ${ranges.length}`);
  }
  const cursorFor = (index: number): Cursor => {
    const [from, to] = ranges[index];
    const endCol = operandEndCol(tokens, from, to, lineEndCol);
    return new Cursor(tokens, from, to, endCol);
  };
  let info = infos[0];
  if (infos.length > 1) {
    // ld/st: the second operand's shape picks register-relative or absolute.
    const cur = cursorFor(1);
    const first = cur.peek();
    const isBracket = first?.type === 'punct' && first.text === '[';
    const relative = isBracket && registerOf(tokens[cur.pos + 1]) !== undefined && cur.pos + 1 < cur.end;
    info = infos.find((entry) => entry.operands.includes(relative || !isBracket ? 'mem' : 'absmem')) ?? infos[0];
  }
  const operands: Operand[] = info.operands.map((kind, index): Operand => {
    const cur = cursorFor(index);
    switch (kind) {
      case 'reg':
        return { k: 'reg', reg: parseRegister(cur) };
      case 'imm':
        return { k: 'expr', kind, expr: parseValue(cur, 'an immediate') };
      case 'port':
        return { k: 'expr', kind, expr: parseValue(cur, 'a port number') };
      case 'target':
        return { k: 'expr', kind, expr: parseValue(cur, 'a target address') };
      case 'mem':
      case 'absmem':
        return parseMemory(cur, mnemonic, index);
      case 'csr': {
        const token = cur.peek();
        if (token?.type === 'ident' && cur.pos + 1 === cur.end) {
          const csr = CSR_BY_NAME.get(token.text.toLowerCase());
          if (csr !== undefined) return { k: 'csr', csr };
        }
        return { k: 'csrexpr', expr: parseValue(cur, `a CSR (${CSR_NAMES.join(', ')} or 0..${CSR_COUNT - 1})`) };
      }
    }
  });
  return { k: 'instr', info, operands, col: head.col };
}

function parseDirective(tokens: readonly Token[], at: number, lineEndCol: number): Statement {
  const head = tokens[at];
  const name = head.text.toLowerCase();
  const ranges = splitOperands(tokens, at + 1, tokens.length);
  const cursorFor = (index: number): Cursor => {
    const [from, to] = ranges[index];
    const endCol = operandEndCol(tokens, from, to, lineEndCol);
    return new Cursor(tokens, from, to, endCol);
  };
  const expectCount = (count: number, what: string): void => {
    if (ranges.length !== count) {
      const col = ranges.length > count ? extraOperandCol(tokens, ranges[count]) : head.col;
      throw new LineError(col, `'${name}' expects ${what}, got ${ranges.length} operand${ranges.length === 1 ? '' : 's'}`);
    }
  };
  switch (name) {
    case '.equ': {
      expectCount(2, 'a name and a value');
      const nameCur = cursorFor(0);
      const nameToken = nameCur.next();
      if (nameToken?.type !== 'ident') {
        throw new LineError(nameToken?.col ?? nameCur.endCol, `'.equ' expects a symbol name, got ${describe(nameToken)}`);
      }
      nameCur.expectEnd('the symbol name');
      return { k: 'equ', name: nameToken.text, expr: parseValue(cursorFor(1), 'a value'), col: nameToken.col };
    }
    case '.org':
    case '.space':
    case '.align':
    case '.entry': {
      const what = { '.org': 'an address', '.space': 'a word count', '.align': 'an alignment', '.entry': 'an address' }[name];
      expectCount(1, `1 operand (${what})`);
      return { k: name.slice(1) as 'org' | 'space' | 'align' | 'entry', expr: parseValue(cursorFor(0), what), col: head.col };
    }
    case '.word': {
      if (ranges.length === 0) throw new LineError(head.col, `'.word' expects at least 1 value, got 0`);
      return { k: 'word', exprs: ranges.map((_, index) => parseValue(cursorFor(index), 'a value')), col: head.col };
    }
    case '.string': {
      expectCount(1, 'a string literal');
      const cur = cursorFor(0);
      const token = cur.next();
      if (token?.type !== 'str') {
        throw new LineError(token?.col ?? cur.endCol, `'.string' expects a string literal ("text"), got ${describe(token)}`);
      }
      cur.expectEnd('the string');
      return { k: 'string', codes: token.codes, col: head.col };
    }
    default:
      throw new LineError(head.col, `unknown directive '${head.text}'${suggest(name, DIRECTIVES)}`);
  }
}

function parseLine(text: string, line: number): ParsedLine {
  const tokens = tokenize(text);
  const labels: Label[] = [];
  let at = 0;
  while (at + 1 < tokens.length && tokens[at].type === 'ident' && tokens[at + 1].type === 'punct' && tokens[at + 1].text === ':') {
    labels.push({ name: tokens[at].text, col: tokens[at].col });
    at += 2;
  }
  if (at >= tokens.length) return { line, labels, stmt: null };
  const head = tokens[at];
  const lineEndCol = text.length + 1;
  if (head.type !== 'ident') {
    throw new LineError(head.col, `expected an instruction, a directive or a label, got ${describe(head)}`);
  }
  const stmt = head.text.startsWith('.') ? parseDirective(tokens, at, lineEndCol) : parseInstruction(tokens, at, lineEndCol);
  return { line, labels, stmt };
}

// ---------------------------------------------------------------------------------------------
// Assembly

/** Internal: evaluation failed. `diag` is null when the failure has already been reported. */
class EvalFailure {
  constructor(
    readonly diag: { line: number; column: number; message: string } | null,
    /** Set when a layout directive needed a label that is defined further down. */
    readonly forwardLabel?: string,
  ) {}
}

interface Definition {
  readonly kind: 'label' | 'equ';
  readonly line: number;
  readonly col: number;
  readonly expr?: Expr;
  value?: bigint;
  state: 'pending' | 'evaluating' | 'done' | 'failed';
}

const hex = (value: bigint | number): string => {
  const v = BigInt(value);
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
};

/**
 * Assembles `source` into an image loaded at guest-physical address 0. Throws AssemblyError
 * (and nothing else) listing every problem found.
 */
export function assemble(source: string, options: AssembleOptions = {}): AssembledImage {
  const file = options.file ?? '<source>';
  const diagnostics: AsmDiagnostic[] = [];
  let truncated = false;
  const report = (line: number, column: number, message: string): void => {
    if (diagnostics.length >= MAX_DIAGNOSTICS) {
      truncated = true;
      return;
    }
    diagnostics.push({ file, line, column, message });
  };
  /** True once the cap is reached (the remaining work is then skipped). */
  const full = (): boolean => {
    if (diagnostics.length < MAX_DIAGNOSTICS) return false;
    truncated = true;
    return true;
  };

  // Predefined symbols: the platform's, then the scenario's parameters.
  const predefined = new Map<string, bigint>();
  for (const [name, value] of Object.entries(PREDEFINED_SYMBOLS)) predefined.set(name, BigInt(value));
  const params = new Set<string>();
  for (const [name, value] of Object.entries(options.symbols ?? {})) {
    if (!SYMBOL_NAME.test(name) || REGISTER_NAMES.has(name.toLowerCase())) {
      report(1, 1, `options.symbols: invalid symbol name '${name}'`);
    } else if (predefined.has(name)) {
      report(1, 1, `options.symbols: '${name}' is a predefined platform symbol`);
    } else if (typeof value !== 'number' || !Number.isSafeInteger(value) || BigInt(value) < MIN_VALUE || BigInt(value) > MAX_VALUE) {
      report(1, 1, `options.symbols: value of '${name}' (${String(value)}) is not an integer that fits in 32 bits`);
    } else {
      predefined.set(name, BigInt(value));
      params.add(name);
    }
  }

  // Pass 0: parse every line, declare labels and constants.
  const lines: ParsedLine[] = [];
  const defs = new Map<string, Definition>();
  const declare = (name: string, kind: 'label' | 'equ', line: number, col: number, expr?: Expr, failed = false): void => {
    const what = kind === 'label' ? 'label' : 'constant';
    if (REGISTER_NAMES.has(name.toLowerCase())) {
      report(line, col, `'${name}' is a register name and cannot be used as a ${what}`);
    } else if (params.has(name)) {
      report(line, col, `'${name}' is already defined by the scenario's params`);
    } else if (predefined.has(name)) {
      report(line, col, `'${name}' is a predefined symbol and cannot be redefined`);
    } else {
      const previous = defs.get(name);
      if (previous === undefined) {
        defs.set(name, { kind, line, col, expr, state: failed ? 'failed' : 'pending' });
      } else if (kind === 'label' && previous.kind === 'label') {
        report(line, col, `duplicate label '${name}' (first defined at line ${previous.line})`);
      } else {
        const first = previous.kind === 'label' ? 'label' : 'constant';
        report(line, col, `'${name}' is already defined as a ${first} at line ${previous.line}`);
      }
    }
  };
  if (source.length > MAX_SOURCE_CHARS) {
    throw new AssemblyError([{ file, line: 1, column: 1, message: `the source is too large: ${source.length} characters (at most ${MAX_SOURCE_CHARS})` }]);
  }
  const sourceLines = source.split('\n');
  for (let index = 0; index < sourceLines.length && !full(); index++) {
    const line = index + 1;
    let parsed: ParsedLine;
    try {
      if (sourceLines[index].length > MAX_LINE_CHARS) {
        throw new LineError(MAX_LINE_CHARS + 1, `line too long: ${sourceLines[index].length} characters (at most ${MAX_LINE_CHARS})`);
      }
      parsed = parseLine(sourceLines[index], line);
    } catch (error) {
      if (!(error instanceof LineError)) throw error;
      report(line, error.column, error.message);
      // Still declare the line's labels and constant, as already failed, so that their uses do
      // not add "undefined symbol" errors on top of this one.
      const text = sourceLines[index].slice(0, MAX_LINE_CHARS);
      let rest = 0;
      for (;;) {
        const match = LEADING_LABEL.exec(text.slice(rest));
        if (match === null) break;
        declare(match[2], 'label', line, rest + match[1].length + 1, undefined, true);
        rest += match[0].length;
      }
      const equ = LEADING_EQU.exec(text.slice(rest));
      if (equ !== null) declare(equ[2], 'equ', line, rest + equ[1].length + 1, undefined, true);
      continue;
    }
    for (const label of parsed.labels) declare(label.name, 'label', line, label.col);
    if (parsed.stmt?.k === 'equ') declare(parsed.stmt.name, 'equ', line, parsed.stmt.col, parsed.stmt.expr);
    lines.push(parsed);
  }

  // Expression evaluation. During layout (pass 1) a label not yet placed is a forward reference.
  const evaluate = (expr: Expr, line: number): bigint => {
    switch (expr.k) {
      case 'num':
        return expr.value;
      case 'neg':
        return -evaluate(expr.arg, line);
      case 'chain': {
        let value = evaluate(expr.first, line);
        for (let i = 0; i < expr.ops.length; i++) {
          const right = evaluate(expr.rest[i], line);
          const op = expr.ops[i];
          value = op === '+' ? value + right : op === '-' ? value - right : value * right;
        }
        return value;
      }
      case 'sym':
        return lookup(expr.name, line, expr.col);
    }
  };
  const lookup = (name: string, line: number, col: number): bigint => {
    const def = defs.get(name);
    if (def === undefined) {
      const value = predefined.get(name);
      if (value !== undefined) return value;
      const candidates = [...defs.keys(), ...predefined.keys()];
      throw new EvalFailure({ line, column: col, message: `undefined symbol '${name}'${suggest(name, candidates)}` });
    }
    if (def.state === 'done') return def.value as bigint;
    if (def.state === 'failed') throw new EvalFailure(null);
    if (def.kind === 'label') {
      // Only possible during layout: every label is placed (or failed) before pass 2.
      throw new EvalFailure(null, name);
    }
    if (def.state === 'evaluating') {
      throw new EvalFailure({ line, column: col, message: `circular definition of '${name}'` });
    }
    if (resolveConstant(name)) return def.value as bigint;
    throw new EvalFailure(null);
  };
  /** The constants an expression refers to that are not evaluated yet. */
  const pendingConstants = (expr: Expr, out: string[]): void => {
    switch (expr.k) {
      case 'num':
        return;
      case 'neg':
        pendingConstants(expr.arg, out);
        return;
      case 'chain':
        pendingConstants(expr.first, out);
        for (const term of expr.rest) pendingConstants(term, out);
        return;
      case 'sym': {
        const def = defs.get(expr.name);
        if (def?.kind === 'equ' && def.state === 'pending') out.push(expr.name);
      }
    }
  };
  /**
   * Evaluates a constant (true when it succeeded) and, first, the constants it depends on, depth first with an explicit
   * stack (so that a long chain of definitions cannot overflow the call stack). A constant being
   * evaluated is `evaluating`: meeting one again is a cycle. Errors are reported at the constant's
   * definition, once; whoever depends on a failed constant fails quietly. A forward reference to a
   * label during layout puts everything back to `pending` and propagates.
   */
  const resolveConstant = (root: string): boolean => {
    const stack = [root];
    while (stack.length > 0) {
      const name = stack[stack.length - 1];
      const def = defs.get(name) as Definition;
      if (def.state === 'done' || def.state === 'failed') {
        stack.pop();
        continue;
      }
      if (def.state === 'pending') {
        def.state = 'evaluating';
        const deps: string[] = [];
        pendingConstants(def.expr as Expr, deps);
        if (deps.length > 0) {
          for (const dep of deps) stack.push(dep);
          continue;
        }
      }
      // Every dependency is now done or failed (or, in a cycle, evaluating).
      stack.pop();
      try {
        def.value = checkRange(evaluate(def.expr as Expr, def.line), def.line, (def.expr as Expr).col);
        def.state = 'done';
      } catch (error) {
        if (!(error instanceof EvalFailure)) throw error;
        if (error.forwardLabel !== undefined) {
          def.state = 'pending';
          for (const other of stack) {
            const entry = defs.get(other) as Definition;
            if (entry.state === 'evaluating') entry.state = 'pending';
          }
          throw error;
        }
        def.state = 'failed';
        if (error.diag !== null) report(error.diag.line, error.diag.column, error.diag.message);
      }
    }
    return (defs.get(root) as Definition).state === 'done';
  };
  const checkRange = (value: bigint, line: number, column: number): bigint => {
    if (value < MIN_VALUE || value > MAX_VALUE) {
      throw new EvalFailure({ line, column, message: `value ${cut(String(value), 24)} does not fit in 32 bits` });
    }
    return value;
  };
  /** Evaluates a whole expression, reporting failures; undefined when it failed. */
  const tryEvaluate = (expr: Expr, line: number, what: string): bigint | undefined => {
    try {
      return checkRange(evaluate(expr, line), line, expr.col);
    } catch (error) {
      if (!(error instanceof EvalFailure)) throw error;
      if (error.forwardLabel !== undefined) {
        report(line, expr.col, `${what} uses label '${error.forwardLabel}' before it is defined (the layout must be known at this point)`);
      } else if (error.diag !== null) {
        report(error.diag.line, error.diag.column, error.diag.message);
      }
      return undefined;
    }
  };

  // Pass 1: layout.
  interface Placed {
    readonly address: number;
    readonly parsed: ParsedLine;
  }
  const placed: Placed[] = [];
  let pending: Array<{ label: Label; line: number }> = [];
  let loc = 0;
  const bind = (address: number): void => {
    for (const { label, line } of pending) {
      const def = defs.get(label.name);
      if (def !== undefined && def.kind === 'label' && def.line === line && def.col === label.col) {
        def.value = BigInt(address);
        def.state = 'done';
      }
    }
    pending = [];
  };
  let overflow = false;
  const advance = (to: bigint, line: number, col: number): void => {
    if (to > BigInt(MAX_IMAGE_WORDS)) {
      report(line, col, `the image would exceed ${MAX_IMAGE_WORDS} words (location ${hex(to)})`);
      overflow = true;
      return;
    }
    loc = Number(to);
  };
  for (const parsed of lines) {
    if (overflow || full()) break;
    for (const label of parsed.labels) pending.push({ label, line: parsed.line });
    const stmt = parsed.stmt;
    if (stmt === null) continue;
    const line = parsed.line;
    switch (stmt.k) {
      case 'instr': {
        const aligned = Math.ceil(loc / INSTRUCTION_WORDS) * INSTRUCTION_WORDS;
        advance(BigInt(aligned + INSTRUCTION_WORDS), line, stmt.col);
        if (overflow) break;
        bind(aligned);
        placed.push({ address: aligned, parsed });
        break;
      }
      case 'word':
      case 'string': {
        const count = stmt.k === 'word' ? stmt.exprs.length : stmt.codes.length + 1;
        const address = loc;
        advance(BigInt(loc + count), line, stmt.col);
        if (overflow) break;
        bind(address);
        placed.push({ address, parsed });
        break;
      }
      case 'space': {
        const count = tryEvaluate(stmt.expr, line, "'.space'");
        if (count === undefined) break;
        if (count < 0n) {
          report(line, stmt.expr.col, `'.space' needs a non-negative word count, got ${count}`);
          break;
        }
        const address = loc;
        advance(BigInt(loc) + count, line, stmt.col);
        if (!overflow) bind(address);
        break;
      }
      case 'align': {
        const n = tryEvaluate(stmt.expr, line, "'.align'");
        if (n === undefined) break;
        if (n < 1n) {
          report(line, stmt.expr.col, `'.align' needs a positive alignment, got ${n}`);
          break;
        }
        const big = ((BigInt(loc) + n - 1n) / n) * n;
        advance(big, line, stmt.col);
        break;
      }
      case 'org': {
        const target = tryEvaluate(stmt.expr, line, "'.org'");
        if (target === undefined) break;
        if (target < BigInt(loc)) {
          report(line, stmt.expr.col, `'.org ${hex(target)}' would move the location counter backwards (it is at ${hex(loc)})`);
          break;
        }
        advance(target, line, stmt.expr.col);
        break;
      }
      case 'equ':
      case 'entry':
        break;
    }
  }
  if (!overflow) bind(loc);
  // An image past the limit has no words to encode into: stop with what layout found.
  if (overflow) throw new AssemblyError(diagnostics, truncated);

  // Pass 2: evaluate and encode.
  for (const def of defs.values()) {
    // Labels never placed (layout stopped early): make them fail quietly.
    if (def.kind === 'label' && def.state !== 'done') def.state = 'failed';
  }
  const words = new Int32Array(overflow ? 0 : loc);
  const lineOf = new Map<number, number>();
  let entry: number | undefined;
  let entryLine = 0;
  const toInt32 = (value: bigint): number => Number(BigInt.asIntN(32, value));

  for (const { address, parsed } of placed) {
    if (full()) break;
    const stmt = parsed.stmt as Statement;
    const line = parsed.line;
    if (stmt.k === 'word') {
      stmt.exprs.forEach((expr, i) => {
        const value = tryEvaluate(expr, line, "'.word'");
        if (value !== undefined) words[address + i] = toInt32(value);
      });
      continue;
    }
    if (stmt.k === 'string') {
      words.set(stmt.codes, address);
      continue;
    }
    if (stmt.k !== 'instr') continue;
    lineOf.set(address, line);
    const slots: number[] = [];
    for (const operand of stmt.operands) {
      switch (operand.k) {
        case 'reg':
          slots.push(operand.reg);
          break;
        case 'csr':
          slots.push(operand.csr);
          break;
        case 'csrexpr': {
          let value: bigint | undefined;
          const expr = operand.expr;
          if (expr.k === 'sym' && !defs.has(expr.name) && !predefined.has(expr.name)) {
            report(line, expr.col, `unknown CSR '${expr.name}' (expected ${CSR_NAMES.join(', ')} or 0..${CSR_COUNT - 1})`);
          } else {
            value = tryEvaluate(expr, line, 'a CSR number');
            if (value !== undefined && (value < 0n || value >= BigInt(CSR_COUNT))) {
              report(line, expr.col, `CSR number ${value} is out of range (expected 0..${CSR_COUNT - 1})`);
              value = undefined;
            }
          }
          slots.push(value === undefined ? 0 : Number(value));
          break;
        }
        case 'expr': {
          const value = tryEvaluate(operand.expr, line, 'an operand');
          if (value !== undefined && operand.kind === 'target' && value % BigInt(INSTRUCTION_WORDS) !== 0n) {
            report(line, operand.expr.col, `target ${hex(value)} is not a multiple of ${INSTRUCTION_WORDS}`);
          }
          slots.push(value === undefined ? 0 : toInt32(value));
          break;
        }
        case 'mem': {
          slots.push(operand.base);
          let offset: bigint | undefined = 0n;
          if (operand.offset !== null) {
            offset = tryEvaluate(operand.offset, line, 'a memory offset');
            if (offset !== undefined && operand.negate) {
              offset = -offset;
              if (offset < MIN_VALUE) {
                report(line, operand.offset.col, `offset -${-offset} does not fit in 32 bits`);
                offset = undefined;
              }
            }
          }
          slots.push(offset === undefined ? 0 : toInt32(offset));
          break;
        }
        case 'absmem': {
          const value = tryEvaluate(operand.expr, line, 'an address');
          slots.push(value === undefined ? 0 : toInt32(value));
          break;
        }
      }
    }
    words[address] = stmt.info.opcode;
    for (let i = 0; i < slots.length && i < INSTRUCTION_WORDS - 1; i++) words[address + 1 + i] = slots[i];
  }

  // Constants that nothing used still get checked, and `.entry`.
  for (const parsed of lines) {
    if (full()) break;
    const stmt = parsed.stmt;
    if (stmt?.k === 'equ') {
      const def = defs.get(stmt.name);
      if (def?.kind === 'equ' && def.line === parsed.line && def.state === 'pending') {
        try {
          lookup(stmt.name, parsed.line, stmt.col);
        } catch (error) {
          if (!(error instanceof EvalFailure)) throw error;
          if (error.diag !== null) report(error.diag.line, error.diag.column, error.diag.message);
        }
      }
    } else if (stmt?.k === 'entry') {
      if (entryLine !== 0) {
        report(parsed.line, stmt.col, `duplicate '.entry' (first at line ${entryLine})`);
        continue;
      }
      entryLine = parsed.line;
      const value = tryEvaluate(stmt.expr, parsed.line, "'.entry'");
      if (value === undefined) continue;
      if (value < 0n || value >= 2n ** 31n) {
        report(parsed.line, stmt.expr.col, `entry point ${hex(value)} is not a valid address`);
      } else if (value % BigInt(INSTRUCTION_WORDS) !== 0n) {
        report(parsed.line, stmt.expr.col, `entry point ${hex(value)} is not a multiple of ${INSTRUCTION_WORDS}`);
      } else {
        entry = Number(value);
      }
    }
  }
  if (entryLine === 0) {
    const start = defs.get('_start');
    if (start?.kind === 'label' && start.state === 'done') {
      const value = start.value as bigint;
      if (value % BigInt(INSTRUCTION_WORDS) !== 0n) {
        report(start.line, start.col, `entry point '_start' (${hex(value)}) is not a multiple of ${INSTRUCTION_WORDS}`);
      } else {
        entry = Number(value);
      }
    }
  }

  if (diagnostics.length > 0) {
    diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new AssemblyError(diagnostics, truncated);
  }

  const symbols: Record<string, number> = {};
  for (const [name, def] of defs) {
    if (def.state !== 'done') continue;
    // defineProperty, so that a symbol named __proto__ is an ordinary entry.
    Object.defineProperty(symbols, name, { value: Number(def.value as bigint), enumerable: true, writable: true, configurable: true });
  }
  return { words, entry: entry ?? 0, symbols: Object.freeze(symbols), lineOf, file };
}
