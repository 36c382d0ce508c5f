/**
 * The message texts the scenario loader and the readers the page uses can produce, read from their
 * source with the TypeScript parser, as skeletons whose `${...}` holes are `{}` (the way
 * reasonSources.ts reads the simulation's reasons): every string or template literal in a message
 * position. Message positions are the arguments that carry a message or a piece of one
 * (`expecting(what)`, `oneOfMessage(noun, ...)`, `nonEmptyString(what)`, `integer(min, max, what)`,
 * `strictObject(shape, what)`, `at(line, column, message)`, the message argument of UnitError,
 * TraceError, WorkloadFileError, LogError, RangeError and Error, a text pushed on a list of them), properties named `message` and
 * `error`, the texts returned by the functions that build messages (`...Message`, `...Problem`,
 * `describeValue`, `didYouMean`, `rangeText`, the assembler's `describe` and `suggest`), and the
 * constants and variables that name what a value should be (`..._WHAT`, `..._EXPECTED`, `what`,
 * `expected`, `got`; a table indexed at once gives each of its values). A conditional gives both its branches; a literal inside a
 * template's hole (`${key === undefined ? 'duplicate key' : ...}`) is a skeleton of its own.
 * One-word literals are names or enumerated values (`burst_ns`, `s`), not text to translate.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** The files whose messages reach the page's editor, lint tooltips and status line. */
export const LOADER_SOURCE_FILES = [
  'src/core/scenario/load.ts',
  'src/core/scenario/schema.ts',
  'src/core/scenario/units.ts',
  'src/core/scenario/inputs.ts',
  'src/core/scenario/hosts.ts',
  'src/core/scenario/workload.ts',
  'src/core/scenario/profiles.ts',
  'src/guests/workloads.ts',
  'src/actors/workload/driver.ts',
  'src/core/log/reader.ts',
  'web/src/worker/runScenario.ts',
  'web/src/store/runData.ts',
  'src/core/isa/assembler.ts',
] as const;

/** Callee name → the index of the argument that holds the message (or what was expected). */
const MESSAGE_ARGUMENT: Readonly<Record<string, number>> = {
  expecting: 0,
  oneOfMessage: 0,
  nonEmptyString: 0,
  integer: 2,
  strictObject: 1,
  at: 2,
  UnitError: 0,
  TraceError: 2,
  WorkloadFileError: 2,
  LogError: 2,
  RangeError: 0,
  Error: 0,
  push: 0,
  // The assembler (a VM's inline `source:`, its `program:` file).
  LineError: 1,
  report: 2,
  expectEnd: 0,
  parseValue: 1,
  expectCount: 1,
};

const MESSAGE_FUNCTION = /(Message|Problem)$|^(describeValue|didYouMean|rangeText|integer|suggest|describe)$/;
const MESSAGE_CONSTANT = /_(WHAT|EXPECTED)$|^(what|expected|got)$/;

export interface LoaderSource {
  readonly skeleton: string;
  readonly where: string;
}

function calleeName(expression: ts.Expression): string {
  if (ts.isIdentifier(expression)) return expression.text;
  if (ts.isPropertyAccessExpression(expression)) return expression.name.text;
  return '';
}

/** The skeletons an expression can evaluate to (literals, templates, both branches of a conditional). */
function skeletonsOf(node: ts.Node, nested: string[]): string[] {
  if (ts.isParenthesizedExpression(node)) return skeletonsOf(node.expression, nested);
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isConditionalExpression(node)) return [...skeletonsOf(node.whenTrue, nested), ...skeletonsOf(node.whenFalse, nested)];
  // `{ '.org': 'an address', ... }[name]`: every value the table can give.
  if (ts.isElementAccessExpression(node) && ts.isObjectLiteralExpression(node.expression)) {
    return node.expression.properties.flatMap((property) => (ts.isPropertyAssignment(property) ? skeletonsOf(property.initializer, nested) : []));
  }
  // `const describe = (token) => ...`: the texts the arrow returns.
  if (ts.isArrowFunction(node) && !ts.isBlock(node.body)) return skeletonsOf(node.body, nested);
  if (ts.isTemplateExpression(node)) {
    let text = node.head.text;
    for (const span of node.templateSpans) {
      // Literals chosen inside a hole are pieces of the message too.
      nested.push(...skeletonsOf(span.expression, nested));
      text += `{}${span.literal.text}`;
    }
    return [text];
  }
  return [];
}

/** Every message skeleton in the files, with where it is written. */
export function loaderSkeletons(root: string): LoaderSource[] {
  const out: LoaderSource[] = [];
  for (const file of LOADER_SOURCE_FILES) {
    const text = readFileSync(join(root, file), 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const add = (node: ts.Node | undefined): void => {
      if (node === undefined) return;
      const nested: string[] = [];
      const found = skeletonsOf(node, nested);
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      for (const skeleton of [...found, ...nested]) {
        if (!skeleton.trim().includes(' ')) continue;
        out.push({ skeleton, where: `${file}:${line + 1}` });
      }
    };
    const visit = (node: ts.Node, inMessageFunction: boolean): void => {
      if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
        const index = MESSAGE_ARGUMENT[calleeName(node.expression)];
        if (index !== undefined) add(node.arguments?.[index]);
      } else if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && (node.name.text === 'message' || node.name.text === 'error')) {
        add(node.initializer);
      } else if (ts.isArrowFunction(node) && !ts.isBlock(node.body) && ts.isVariableDeclaration(node.parent) && node.parent.type?.getText() === 'ErrorFn') {
        add(node.body);
      } else if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && (MESSAGE_CONSTANT.test(node.name.text) || MESSAGE_FUNCTION.test(node.name.text))) {
        add(node.initializer);
      } else if (ts.isReturnStatement(node) && inMessageFunction) {
        add(node.expression);
      } else if (ts.isParameter(node) && ts.isIdentifier(node.name) && node.name.text === 'what') {
        add(node.initializer);
      }
      const entersFunction = ts.isFunctionDeclaration(node) && node.name !== undefined;
      const messageFunction = entersFunction ? MESSAGE_FUNCTION.test(node.name.text) : inMessageFunction;
      ts.forEachChild(node, (child) => visit(child, messageFunction));
    };
    visit(source, false);
  }
  return out;
}

/** The JavaScript files of a package folder under node_modules, recursively. */
function scriptsIn(folder: string): string[] {
  return readdirSync(folder).flatMap((entry) => {
    const path = join(folder, entry);
    return statSync(path).isDirectory() ? scriptsIn(path) : path.endsWith('.js') ? [path] : [];
  });
}

/** Names of variables that hold a message in the yaml library (`const msg = ...`). */
const YAML_MESSAGE_VARIABLE = /^(msg|message|startColMsg|blockMsg)$/;

/**
 * The messages the yaml library reports for a document (what the loader shows after "invalid
 * YAML: "), read from its source in node_modules: the message argument of `onError(at, CODE,
 * message)`, `message:` properties of its lexer's and parser's error tokens, and the variables
 * that hold a message.
 */
export function yamlLibrarySkeletons(root: string): LoaderSource[] {
  const out: LoaderSource[] = [];
  const folder = join(root, 'node_modules/yaml/dist');
  for (const path of scriptsIn(folder)) {
    const text = readFileSync(path, 'utf8');
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
    const add = (node: ts.Node | undefined): void => {
      if (node === undefined) return;
      const nested: string[] = [];
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      for (const skeleton of [...skeletonsOf(node, nested), ...nested]) {
        if (!skeleton.trim().includes(' ')) continue;
        out.push({ skeleton, where: `${path.slice(root.length + 1)}:${line + 1}` });
      }
    };
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && calleeName(node.expression) === 'onError') add(node.arguments[2]);
      else if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && node.name.text === 'message') add(node.initializer);
      else if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && YAML_MESSAGE_VARIABLE.test(node.name.text)) add(node.initializer);
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return out;
}

/**
 * zod's English messages (node_modules/zod/v4/locales/en.js), which the workload checks with no
 * message of ours give: the texts its error function returns.
 */
export function zodLocaleSkeletons(root: string): LoaderSource[] {
  const path = join(root, 'node_modules/zod/v4/locales/en.js');
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const out: LoaderSource[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isReturnStatement(node) && node.expression !== undefined) {
      const nested: string[] = [];
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      for (const skeleton of [...skeletonsOf(node.expression, nested), ...nested]) {
        if (skeleton.trim().includes(' ')) out.push({ skeleton, where: `node_modules/zod/v4/locales/en.js:${line + 1}` });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}
