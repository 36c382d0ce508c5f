/**
 * The scenario editor: CodeMirror 6 with its YAML language, completion, hover and validation from
 * the project's JSON Schema (schema/scenario.schema.json, through codemirror-json-schema), and the
 * project's own loader as a second linter, so an error shows at its line with the message the CLI
 * prints (`file:line:col: path: message`), in the page's language (web/src/learn/loaderMessages.ts).
 * Run takes the text from here.
 *
 * The schema's linter (json-schema-library's English messages) runs in English only: in
 * Portuguese the loader's linter alone marks the errors (it checks everything the schema does,
 * the schema being generated from the loader's), so no message shows half in each language.
 */
import { EditorView, basicSetup } from 'codemirror';
import { forceLinting, linter, lintGutter, type Diagnostic } from '@codemirror/lint';
import { yaml, yamlLanguage } from '@codemirror/lang-yaml';
import { hoverTooltip } from '@codemirror/view';
import type { Extension } from '@codemirror/state';
import * as jsonSchemaExtension from 'codemirror-json-schema';
import { yamlCompletion, yamlSchemaHover, yamlSchemaLinter } from 'codemirror-json-schema/yaml';
import type { JSONSchema7 } from 'json-schema';
import { loadScenario, ScenarioError, type ScenarioDiagnostic } from '../../../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../../src/guests/index.js';
import SCHEMA_TEXT from '../../../schema/scenario.schema.json?raw';
import { language } from '../i18n.js';
import { translateLoaderMessage } from '../learn/loaderMessages.js';

const SCHEMA = JSON.parse(SCHEMA_TEXT) as JSONSchema7;

/**
 * The package exports these (dist/index.js re-exports features/state and features/validation), but
 * its type declarations re-export without file extensions, which TypeScript's module resolution here
 * does not follow; so they are typed here, as its features/*.d.ts declare them.
 */
const { handleRefresh, stateExtensions } = jsonSchemaExtension as unknown as {
  readonly handleRefresh: NonNullable<Parameters<typeof linter>[1]>['needsRefresh'];
  readonly stateExtensions: (schema?: JSONSchema7) => Extension[];
};

/** The loader's diagnostics for a scenario text (none when it loads). */
export function scenarioDiagnostics(text: string, file: string): readonly ScenarioDiagnostic[] {
  try {
    loadScenario(text, { file, guests: BUNDLED_GUEST_NAMES });
    return [];
  } catch (error) {
    if (error instanceof ScenarioError) return error.diagnostics;
    return [{ file, line: 0, column: 0, path: '', message: error instanceof Error ? error.message : String(error) }];
  }
}

export class ScenarioEditor {
  readonly view: EditorView;
  private file = 'scenario.yaml';

  constructor(
    parent: HTMLElement,
    label: string,
    private readonly onDiagnostics: (diagnostics: readonly ScenarioDiagnostic[]) => void,
  ) {
    const projectLinter = linter((view) => this.lint(view), { delay: 300 });
    const schemaLint = yamlSchemaLinter();
    this.view = new EditorView({
      parent,
      extensions: [
        basicSetup,
        // YAML highlighting, the schema's linter (English only), completion and hover (descriptions of
        // the keys): codemirror-json-schema's yamlSchema() with its linter behind the language.
        yaml(),
        linter((view) => (language() === 'en' ? schemaLint(view) : []), { needsRefresh: handleRefresh }),
        yamlLanguage.data.of({ autocomplete: yamlCompletion() }),
        hoverTooltip(yamlSchemaHover()),
        stateExtensions(SCHEMA),
        lintGutter(),
        projectLinter,
        EditorView.contentAttributes.of({ 'aria-label': label }),
      ],
    });
    // Reachable from its element (the browser test reads the document through it, as a console user could).
    (parent as HTMLElement & { editorView?: EditorView }).editorView = this.view;
  }

  get text(): string {
    return this.view.state.doc.toString();
  }

  set(text: string, file: string): void {
    this.file = file;
    this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: text } });
  }

  setLabel(label: string): void {
    this.view.contentDOM.setAttribute('aria-label', label);
  }

  /** Lints again now (the language changed: the messages are rendered in it). */
  relint(): void {
    forceLinting(this.view);
  }

  private lint(view: EditorView): Diagnostic[] {
    const doc = view.state.doc;
    const diagnostics = scenarioDiagnostics(doc.toString(), this.file);
    this.onDiagnostics(diagnostics);
    return diagnostics.map((diagnostic) => {
      const line = doc.line(Math.max(1, Math.min(doc.lines, diagnostic.line || 1)));
      const from = Math.min(line.to, line.from + Math.max(0, diagnostic.column - 1));
      return { from, to: Math.max(from, line.to), severity: 'error', source: 'vmmsim', message: `${diagnostic.path === '' ? '' : diagnostic.path + ': '}${translateLoaderMessage(diagnostic.message, language())}` };
    });
  }
}
