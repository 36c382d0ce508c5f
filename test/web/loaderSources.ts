/**
 * The message texts the scenario loader and the readers the page uses can produce, read from their
 * source with the TypeScript parser, as skeletons whose `${...}` holes are `{}` (the way
 * reasonSources.ts reads the simulation's reasons): every string or template literal in a message
 * position. Message positions are the arguments that carry a message or a piece of one
 * (`expecting(what)`, `oneOfMessage(noun, ...)`, `nonEmptyString(what)`, `integer(min, max, what)`,
 * `strictObject(shape, what)`, `at(line, column, message)`, the message argument of UnitError,
 * TraceError, WorkloadFileError, LogError, RangeError and Error, a text pushed on a list of them), properties named `message` and
 * `error`, the texts returned by the functions that build messages (`...Message`, `...Problem`,
 * `describeValue`, `didYouMean`, `rangeText`), and the constants that name what a value should
 * be (`..._WHAT`, `..._EXPECTED`). A conditional gives both its branches; a literal inside a
 * template's hole (`${key === undefined ? 'duplicate key' : ...}`) is a skeleton of its own.
 * One-word literals are names or enumerated values (`burst_ns`, `s`), not text to translate.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** The files whose messages reach the page's editor, lint tooltips and status line. */
export const LOADER_SOURCE_FILES = [
  'src/core/scenario/load.ts',
  'src/core/scenario/schema.ts',
  'src/core/scenario/units.ts',
  'src/core/scenario/inputs.ts',
  'src/core/scenario/workload.ts',
  'src/core/scenario/profiles.ts',
  'src/guests/workloads.ts',
  'src/actors/workload/driver.ts',
  'src/core/log/reader.ts',
  'web/src/worker/runScenario.ts',
  'web/src/store/runData.ts',
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
};

const MESSAGE_FUNCTION = /(Message|Problem)$|^(describeValue|didYouMean|rangeText|integer)$/;
const MESSAGE_CONSTANT = /_(WHAT|EXPECTED)$/;

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
      } else if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && MESSAGE_CONSTANT.test(node.name.text)) {
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
