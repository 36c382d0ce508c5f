/**
 * Loading scenario files: YAML text → validated, resolved Scenario, with every problem reported as
 * `file:line:col: path: message`.
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Alias, type Document, type Pair } from 'yaml';
import { validateScenarioSource, type IssuePath, type Scenario, type ScenarioIssue } from './schema.js';
import { quote } from './units.js';

// The inverse of resolveScenarioObject lives with the schema; offered here too, next to it.
export { scenarioToSource } from './schema.js';

export interface ScenarioOptions {
  /** Name of the scenario file, used in diagnostics (and nothing else). */
  readonly file: string;
  /** Names of the bundled guests a VM may name with `guest:`. */
  readonly guests: readonly string[];
}

export interface ScenarioDiagnostic {
  readonly file: string;
  /** 1-based; 0 when the scenario did not come from text (resolveScenarioObject). */
  readonly line: number;
  /** 1-based; 0 when the scenario did not come from text. */
  readonly column: number;
  /** Where in the scenario, e.g. `vms[1].memory`; empty for the whole file or a YAML syntax error. */
  readonly path: string;
  readonly message: string;
}

/** `file:line:col: path: message`; the position is left out when unknown, the path when empty. */
export function formatDiagnostic(d: ScenarioDiagnostic): string {
  const position = d.line > 0 ? `:${d.line}:${d.column}` : '';
  const path = d.path === '' ? '' : `${d.path}: `;
  return `${d.file}${position}: ${path}${d.message}`;
}

/** A scenario that cannot be loaded; `message` holds every diagnostic, one per line. */
/**
 * At most this many problems are located and reported: a file with thousands of duplicate keys
 * is refused as fast as one with a single one, and the message stays readable.
 */
export const MAX_DIAGNOSTICS = 20;

/** Locates the first {@link MAX_DIAGNOSTICS} problems only, and counts the rest. */
function refuse<T>(problems: readonly T[], locate: (problem: T) => ScenarioDiagnostic): ScenarioError {
  return new ScenarioError(problems.slice(0, MAX_DIAGNOSTICS).map(locate), Math.max(0, problems.length - MAX_DIAGNOSTICS));
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  readonly diagnostics: readonly ScenarioDiagnostic[];
  /** Problems found beyond the first {@link MAX_DIAGNOSTICS}, counted but not located. */
  readonly omitted: number;

  constructor(diagnostics: readonly ScenarioDiagnostic[], omitted = 0) {
    const lines = diagnostics.map(formatDiagnostic);
    if (omitted > 0) lines.push(`(${omitted} more problem${omitted === 1 ? '' : 's'} not shown)`);
    super(lines.join('\n'));
    this.diagnostics = Object.freeze(diagnostics.map((d) => Object.freeze({ ...d })));
    this.omitted = omitted;
  }

  /** The first problem's file, line and column (line and column 0 where the text is unknown). */
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

/** `vms[1].memory`, `vms[0].params.TICKS`; keys that are not identifiers in brackets: `params['a b']`. */
export function formatPath(path: IssuePath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${quote(segment)}]`;
  }
  return out;
}

/**
 * Validates an already parsed plain object (for instance the scenario stored in an event log).
 * Diagnostics have line 0 and column 0.
 * @throws ScenarioError
 */
export function resolveScenarioObject(obj: unknown, options: ScenarioOptions): Scenario {
  const result = validateScenarioSource(obj, options.guests);
  if (result.ok) return result.scenario;
  throw new ScenarioError(
    result.issues.map((issue) => ({ file: options.file, line: 0, column: 0, path: formatPath(issue.path), message: issue.message })),
  );
}

/**
 * Parses and validates the YAML text of a scenario file.
 * @throws ScenarioError listing every problem found, with its position in the text
 */
export function loadScenario(text: string, options: ScenarioOptions): Scenario {
  const { file } = options;
  const at = (line: number, column: number, message: string, path = ''): ScenarioDiagnostic => ({ file, line, column, path, message });
  const limit = checkTextLimits(text);
  if (limit !== undefined) {
    const before = text.slice(0, limit.offset);
    const line = before.split('\n').length;
    throw new ScenarioError([at(line, limit.offset - before.lastIndexOf('\n'), limit.message)]);
  }
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    // Duplicate keys are found by analyse, in one pass: the yaml library's own check (uniqueKeys)
    // compares each key with every earlier one, and 35,000 keys took over a second.
    doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: false, logLevel: 'error' });
  } catch (error) {
    throw new ScenarioError([at(1, 1, `could not read the YAML: ${errorMessage(error)}`)]);
  }
  const position = (offset: number): { line: number; column: number } => {
    const { line, col } = lineCounter.linePos(Math.max(0, Math.min(offset, text.length)));
    return { line, column: col };
  };

  // Warnings are refusals too: an unknown tag (`!foo`) would otherwise pass as a plain string.
  const yamlProblems = [...doc.errors, ...doc.warnings];
  if (yamlProblems.length > 0) {
    throw refuse(yamlProblems, (error) => {
      const { line, column } = position(error.pos[0]);
      return at(line, column, yamlErrorMessage(error.code, error.message, keyAt(doc, error.pos[0])));
    });
  }
  if (doc.contents === null) {
    throw new ScenarioError([at(1, 1, "the file is empty: expected a map of scenario settings with at least the keys 'name' and 'vms'")]);
  }
  const vmCount = vmListLength(doc);
  if (vmCount !== undefined && vmCount.length > MAX_VMS) {
    const { line, column } = position(vmCount.offset);
    throw new ScenarioError([at(line, column, `expected a list of 1 to ${MAX_VMS} VMs, got a list of ${vmCount.length} items`, 'vms')]);
  }
  const { problems, aliases } = analyse(doc);
  if (problems.length > 0) {
    throw refuse(problems, (problem) => {
      const { line, column } = position(problem.offset);
      return at(line, column, problem.message);
    });
  }
  const tree: Tree = { root: doc.contents, aliases };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // The alias-expansion guard: point at the first alias, where the expansion starts.
    const firstAlias = aliases.keys().next().value;
    const { line, column } = position(firstAlias === undefined ? 0 : (offsetOf(firstAlias) ?? 0));
    throw new ScenarioError([at(line, column, `could not read the YAML: ${errorMessage(error)}`)]);
  }

  const sourceLineOf = (vmIndex: number): number => {
    let found: Located;
    try {
      found = locate(tree, ['vms', vmIndex, 'source']);
    } catch {
      return 0;
    }
    if (!found.found || found.node === null || !isScalar(found.node) || found.node.range === undefined || found.node.range === null) return 0;
    const { line } = position(found.node.range[0]);
    // A block scalar's text starts on the line after its header (`source: |`).
    return found.node.type === 'BLOCK_LITERAL' || found.node.type === 'BLOCK_FOLDED' ? line + 1 : line;
  };

  const result = validateScenarioSource(data, options.guests, sourceLineOf);
  if (result.ok) return result.scenario;
  // One problem reported twice (by a union's branches, say) is shown once.
  const seen = new Set<string>();
  const issues = result.issues.filter((issue) => {
    const key = `${formatPath(issue.path)}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  // Issues come in path order, close to text order: locate a few more than are shown, then sort.
  const distinct = issues.slice(0, 10 * MAX_DIAGNOSTICS).map((issue, index) => {
    const { line, column } = position(issueOffset(tree, issue));
    return { index, diagnostic: at(line, column, issue.message, formatPath(issue.path)) };
  });
  distinct.sort((a, b) => a.diagnostic.line - b.diagnostic.line || a.diagnostic.column - b.diagnostic.column || a.index - b.index);
  throw new ScenarioError(
    distinct.slice(0, MAX_DIAGNOSTICS).map((d) => d.diagnostic),
    Math.max(0, issues.length - MAX_DIAGNOSTICS),
  );
}

/** Scenario files larger than this are refused before parsing (the bundled examples are a few KiB). */
export const MAX_SCENARIO_BYTES = 1 << 20;
/**
 * Scenario files with more lines, keys and list items than this (counted as newlines, colons and
 * commas outside quotes and comments: an upper bound) are refused before parsing. The YAML parser
 * costs 6 to 13 us a node here, so a file of 1 MiB of short lines took 1.4 s to parse. At 64,000 the
 * worst shapes (one list item or key a line) took 0.5 to 0.56 s of CPU on an idle machine, and over
 * a second of wall time in the 10,000-case campaign on a loaded one; at 32,000 they take about
 * 0.3 s. It fits 4,096 VMs written one a line in flow style (`- { name: a, guest: cpu-bound }`).
 */
export const MAX_SCENARIO_ITEMS = 32_000;
/** Flow collections (`[`, `{`) nested deeper than this are refused before parsing. */
export const MAX_NESTING_DEPTH = 64;
/** Alias nodes (`*name`) in one file; each expands its anchor's whole subtree. */
export const MAX_ALIASES = 4096;
/** The schema's VM limit, checked on the parsed list before anything is built from it. */
const MAX_VMS = 4096;
/** Keys that would rewrite an object's prototype instead of making a property. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Tags of YAML 1.1 types the scenario format has no use for (a set, an ordered map, ...). */
const ALLOWED_TAGS = new Set(['tag:yaml.org,2002:str', 'tag:yaml.org,2002:int', 'tag:yaml.org,2002:float', 'tag:yaml.org,2002:bool', 'tag:yaml.org,2002:null', 'tag:yaml.org,2002:map', 'tag:yaml.org,2002:seq']);

/**
 * Limits checked on the raw text in one linear pass, before the YAML parser (which recurses on
 * nesting) sees it: the size, and the depth of flow collections outside quoted strings. Block
 * nesting needs two more columns of indentation per level, so the size limit bounds it.
 */
function checkTextLimits(text: string): { offset: number; message: string } | undefined {
  const bytes = text.length;
  if (bytes > MAX_SCENARIO_BYTES) {
    return { offset: 0, message: `the file is too large: ${bytes} characters, at most ${MAX_SCENARIO_BYTES} (1 MiB) are read` };
  }
  let depth = 0;
  let quote = 0;
  let comment = false;
  let previous = 10;
  let items = 0;
  // Block indicators (`- `, `? `, `: `) before anything else on a line: each opens one more level
  // of block nesting on that line (`- - - x` is a list in a list in a list).
  let lineStart = true;
  let lineDepth = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 10 || ((code === 44 || code === 58) && quote === 0 && !comment)) {
      items++;
      if (items > MAX_SCENARIO_ITEMS) return { offset: index, message: `too many entries: more than ${MAX_SCENARIO_ITEMS} lines, keys and list items are read` };
    }
    if (lineStart && code !== 10 && code !== 32 && code !== 9) {
      const next = index + 1 < text.length ? text.charCodeAt(index + 1) : 10;
      if ((code === 45 || code === 63 || code === 58) && (next === 32 || next === 9 || next === 10 || next === 13)) {
        lineDepth++;
        if (code !== 58) items++;
        if (lineDepth > MAX_NESTING_DEPTH) return { offset: index, message: `nested too deep: more than ${MAX_NESTING_DEPTH} levels of block list items on one line` };
        if (items > MAX_SCENARIO_ITEMS) return { offset: index, message: `too many entries: more than ${MAX_SCENARIO_ITEMS} lines, keys and list items are read` };
        previous = code;
        continue;
      }
      lineStart = false;
    }
    // A node property or indicator starting a token (`!tag`, `&anchor`, `*alias`, a `- ` or `? `
    // after the line's start): each costs the parser a node, or an error when misplaced (65,000
    // of them on one line took 0.6 to 0.8 s of CPU), so each counts as an item.
    if (quote === 0 && !comment && (previous === 32 || previous === 9 || previous === 10 || previous === 44 || previous === 91 || previous === 123)) {
      const token = code === 33 || code === 38 || code === 42 || ((code === 45 || code === 63) && isBlank(index + 1 < text.length ? text.charCodeAt(index + 1) : 10));
      if (token && ++items > MAX_SCENARIO_ITEMS) return { offset: index, message: `too many entries: more than ${MAX_SCENARIO_ITEMS} lines, keys and list items are read` };
    }
    if (code === 10) {
      lineStart = true;
      lineDepth = 0;
      comment = false;
    } else if (comment) {
      // inside a comment
    } else if (quote !== 0) {
      if (code === quote) quote = 0;
      else if (code === 92 && quote === 34) index++;
    } else if (code === 35 && (previous === 32 || previous === 9 || previous === 10)) {
      comment = true;
    } else if ((code === 34 || code === 39) && (previous === 32 || previous === 9 || previous === 10 || previous === 91 || previous === 123 || previous === 44 || previous === 58)) {
      quote = code;
    } else if (code === 91 || code === 123) {
      depth++;
      if (depth > MAX_NESTING_DEPTH) return { offset: index, message: `nested too deep: more than ${MAX_NESTING_DEPTH} levels of [ ] or { }` };
    } else if ((code === 93 || code === 125) && depth > 0) {
      depth--;
    }
    previous = code;
  }
  return undefined;
}

/** A space, a tab or a line end (what ends a YAML indicator such as `- `). */
function isBlank(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

/** The length and position of the top-level `vms` list, when there is one. */
function vmListLength(doc: Document.Parsed): { length: number; offset: number } | undefined {
  if (!isMap(doc.contents)) return undefined;
  for (const pair of doc.contents.items) {
    if (keyText(pair.key) === 'vms' && isSeq(pair.value)) return { length: pair.value.items.length, offset: offsetOf(pair.value) ?? 0 };
  }
  return undefined;
}

/**
 * The line and column of the node at `path` in a scenario's text (for checks made after loading,
 * e.g. a guest image that does not fit its VM's memory); 1:1 when not found.
 */
export function scenarioPosition(text: string, path: IssuePath): { line: number; column: number } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true, logLevel: 'silent' });
  const { aliases } = analyse(doc);
  const offset = issueOffset({ root: doc.contents, aliases }, { path, message: '', at: 'value' } as unknown as ScenarioIssue);
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Limit of yaml's guard against alias bombs (data.count × aliasCount per anchor). yaml's default
 * of 100 would refuse a file whose thousands of VMs merge one anchor (`<<: *base`); 10 000 still
 * stops exponential expansion early.
 */
const MAX_ALIAS_COUNT = 10_000;

/** The document's root and where each alias points, for finding nodes by path. */
interface Tree {
  readonly root: AnyNode;
  readonly aliases: ReadonlyMap<Alias, AnyNode>;
}

/**
 * Resolves every alias to its anchored node (the last one of that name before it, as yaml does),
 * and finds what toJS would refuse or mangle: aliases (`*name`) with no anchor (`&name`) before
 * them, and lists or maps used as map keys.
 */
function analyse(doc: Document.Parsed): { problems: { message: string; offset: number }[]; aliases: Map<Alias, AnyNode> } {
  const anchors = new Map<string, AnyNode>();
  const aliases = new Map<Alias, AnyNode>();
  const problems: { message: string; offset: number }[] = [];
  let aliasCount = 0;
  visit(doc, {
    Pair(_, pair) {
      if (isMap(pair.key) || isSeq(pair.key)) {
        problems.push({
          message: `expected a plain key (a name), got ${isMap(pair.key) ? 'a map' : 'a list'} used as a key`,
          offset: offsetOf(pair.key) ?? 0,
        });
      }
      const key = keyText(pair.key);
      if (key !== undefined && FORBIDDEN_KEYS.has(key)) {
        problems.push({ message: `key ${quote(key)} is not allowed (it names a property of every object)`, offset: offsetOf(pair.key) ?? 0 });
      }
      if (isMergeKey(pair.key)) {
        const value = isAlias(pair.value) ? anchors.get(pair.value.source) : pair.value;
        const sources = isSeq(value) ? value.items.map((item) => (isAlias(item) ? anchors.get(item.source) : item)) : [value];
        if (!sources.every((source) => isMap(source))) {
          problems.push({ message: "a merge key '<<' takes a map or an alias of one (e.g. <<: *base), or a list of them", offset: offsetOf(pair.value) ?? offsetOf(pair.key) ?? 0 });
        }
      }
    },
    Node(_, node) {
      if (isMap(node)) {
        const seen = new Set<string>();
        for (const pair of node.items) {
          if (!isScalar(pair.key) || isMergeKey(pair.key)) continue;
          const value = pair.key.value;
          const identity = `${typeof value}:${String(value)}`;
          if (seen.has(identity)) {
            const key = keyText(pair.key);
            problems.push({ message: `${key === undefined ? 'duplicate key' : `duplicate key ${quote(key)}`}: each key may appear only once in a map`, offset: offsetOf(pair.key) ?? 0 });
          }
          seen.add(identity);
        }
      }
      const tag = (node as { tag?: unknown }).tag;
      if (typeof tag === 'string' && !ALLOWED_TAGS.has(tag)) {
        problems.push({ message: `unsupported tag ${quote(tag.replace('tag:yaml.org,2002:', '!!'))}: a scenario holds only maps, lists, strings, numbers and booleans`, offset: offsetOf(node) ?? 0 });
      }
      if (isAlias(node)) {
        aliasCount++;
        if (aliasCount === MAX_ALIASES + 1) {
          problems.push({ message: `too many aliases: more than ${MAX_ALIASES} (*name) in one file`, offset: offsetOf(node) ?? 0 });
        }
        const target = anchors.get(node.source);
        if (target !== undefined) {
          aliases.set(node, target);
        } else {
          problems.push({
            message: `unknown alias ${quote(`*${node.source}`)}: no anchor ${quote(`&${node.source}`)} before it`,
            offset: offsetOf(node) ?? 0,
          });
        }
      } else if (typeof node.anchor === 'string') {
        anchors.set(node.anchor, node);
      }
    },
  });
  return { problems, aliases };
}

/** The text of the map key that starts at `offset`, if any. */
function keyAt(doc: Document.Parsed, offset: number): string | undefined {
  let found: string | undefined;
  try {
    visit(doc, {
      Pair(_, pair) {
        if (offsetOf(pair.key) === offset) {
          found = keyText(pair.key);
          return visit.BREAK;
        }
        return undefined;
      },
    });
  } catch {
    return undefined;
  }
  return found;
}

function yamlErrorMessage(code: string, message: string, key: string | undefined): string {
  switch (code) {
    case 'DUPLICATE_KEY':
      return `${key === undefined ? 'duplicate key' : `duplicate key ${quote(key)}`}: each key may appear only once in a map`;
    case 'MULTIPLE_DOCS':
      return 'expected a single YAML document, got more than one (remove the --- separator)';
    case 'TAB_AS_INDENT':
      return 'invalid YAML: tabs are not allowed for indentation, use spaces';
    default:
      return `invalid YAML: ${message.replace(/\s+/g, ' ').trim()}`;
  }
}

type AnyNode = unknown;

interface Located {
  /** Whether the whole path exists in the document. */
  readonly found: boolean;
  /** The node at the path when found, else the nearest existing ancestor (as written). */
  readonly node: AnyNode;
  /** The key node of the last map entry on the way, when the last step was a map key. */
  readonly key: AnyNode;
}

function isMergeKey(key: AnyNode): boolean {
  if (!isScalar(key)) return false;
  const value: unknown = key.value;
  return value === '<<' || (typeof value === 'symbol' && value.description === '<<');
}

function deref(tree: Tree, node: AnyNode): AnyNode {
  for (let hops = 0; isAlias(node) && hops < 16; hops++) node = tree.aliases.get(node) ?? null;
  return node;
}

/** A map key as toJS turns it into a property name; undefined for a collection used as a key. */
function keyText(key: AnyNode): string | undefined {
  if (!isScalar(key)) return undefined;
  const value: unknown = key.value;
  if (value === null) return '';
  return typeof value === 'symbol' ? value.description : String(value);
}

function findPair(tree: Tree, map: AnyNode, key: string, depth = 0): Pair | undefined {
  if (!isMap(map) || depth > 8) return undefined;
  for (const pair of map.items) {
    if (!isMergeKey(pair.key) && keyText(pair.key) === key) return pair as Pair;
  }
  // Keys brought in by a merge key (`<<: *base`) live in the merged map.
  for (const pair of map.items) {
    if (!isMergeKey(pair.key)) continue;
    const source = deref(tree, pair.value);
    const sources = isSeq(source) ? source.items.map((item) => deref(tree, item)) : [source];
    for (const candidate of sources) {
      const found = findPair(tree, candidate, key, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Finds the node at `path` (map keys, sequence indexes), following aliases and merge keys. */
function locate(tree: Tree, path: IssuePath): Located {
  let node: AnyNode = tree.root;
  let key: AnyNode = null;
  for (const segment of path) {
    const container = deref(tree, node);
    if (isMap(container)) {
      const pair = findPair(tree, container, String(segment));
      if (pair === undefined) return { found: false, node, key };
      key = pair.key;
      node = pair.value;
    } else if (isSeq(container) && typeof segment === 'number' && segment < container.items.length) {
      key = null;
      node = container.items[segment];
    } else {
      return { found: false, node, key };
    }
  }
  return { found: true, node, key };
}

function offsetOf(node: AnyNode): number | undefined {
  if (typeof node !== 'object' || node === null || !('range' in node)) return undefined;
  const range = (node as { range?: unknown }).range;
  return Array.isArray(range) && typeof range[0] === 'number' ? range[0] : undefined;
}

/** Where to point for an issue: the key node for key problems, else the value node (or ancestor). */
function issueOffset(tree: Tree, issue: ScenarioIssue): number {
  let found: Located;
  try {
    found = locate(tree, issue.path);
  } catch {
    // Positions are a courtesy: never let finding one hide the problem itself.
    return offsetOf(tree.root) ?? 0;
  }
  if (found.found && issue.at === 'key') {
    const keyOffset = offsetOf(found.key);
    if (keyOffset !== undefined) return keyOffset;
  }
  return offsetOf(found.node) ?? offsetOf(found.key) ?? offsetOf(tree.root) ?? 0;
}
