/**
 * Reading scenario files for the CLI: the file itself, the bundled default, and program files it
 * names (relative to the scenario's folder). Turns every kind of bad input into an InputError.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssemblyError } from '../core/isa/assembler.js';
import { loadScenario, ScenarioError } from '../core/scenario/load.js';
import type { Scenario } from '../core/scenario/schema.js';
import { BUNDLED_GUEST_NAMES } from '../guests/index.js';
import { InputError } from './errors.js';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_SCENARIO = resolve(PACKAGE_ROOT, 'examples', 'demo.yaml');

export interface LoadedScenario {
  readonly scenario: Scenario;
  readonly file: string;
  readonly readProgram: (path: string) => string;
}

export function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (error as Error).message;
    throw new InputError(`${file}: cannot read ${what}: ${reason}`);
  }
}

export function loadScenarioFile(path: string | undefined): LoadedScenario {
  const file = path ?? DEFAULT_SCENARIO;
  const text = readText(file, 'the scenario');
  let scenario: Scenario;
  try {
    scenario = loadScenario(text, { file, guests: BUNDLED_GUEST_NAMES });
  } catch (error) {
    if (error instanceof ScenarioError) throw new InputError(error.message);
    throw error;
  }
  const folder = dirname(file);
  return {
    scenario,
    file,
    readProgram: (program) => readText(resolve(folder, program), 'the guest program'),
  };
}

/** Runs `build` and turns assembly errors in guest programs into InputErrors. */
export function withGuestErrors<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof AssemblyError) throw new InputError(error.message);
    throw error;
  }
}
