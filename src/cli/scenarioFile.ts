/**
 * Reading scenario files for the CLI: the file itself, the bundled default, and program files it
 * names (relative to the scenario's folder). Turns every kind of bad input into an InputError.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemble, AssemblyError } from '../core/isa/assembler.js';
import { loadScenario, scenarioPosition, ScenarioError } from '../core/scenario/load.js';
import { bundledGuest } from '../guests/index.js';
import { parseTrace, traceGuestSource, TraceError } from '../guests/workloads.js';
import { parseColumn, WorkloadFileError } from '../actors/workload/driver.js';
import type { Scenario } from '../core/scenario/schema.js';
import { BUNDLED_GUEST_NAMES } from '../guests/index.js';
import { InputError } from './errors.js';
import { decodeImage, ImageError } from '../core/image/format.js';
import { imageMismatch } from '../actors/vmImage.js';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_SCENARIO = resolve(PACKAGE_ROOT, 'examples', 'demo.yaml');

export interface LoadedScenario {
  readonly scenario: Scenario;
  readonly file: string;
  readonly readProgram: (path: string) => string;
  /** Reads an image file named by an `image:` (relative to the scenario's folder). */
  readonly readImage: (path: string) => Uint8Array;
  /** Writes the image of a save (relative to the scenario's folder). */
  readonly writeImage: (path: string, bytes: Uint8Array) => void;
}

/** The bytes of a file, or an InputError that names it. */
export function readBytes(file: string, what: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (error as Error).message;
    throw new InputError(`${file}: cannot read ${what}: ${reason}`);
  }
}

/** Writes an image file, or throws an InputError that names it. */
export function writeImageFile(file: string, bytes: Uint8Array): void {
  try {
    writeFileSync(file, bytes);
  } catch (error) {
    throw new InputError(`${file}: cannot write the VM image: ${(error as Error).message}`);
  }
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
  const readProgram = (program: string): string => readText(resolve(folder, program), 'the guest program');
  const readImage = (image: string): Uint8Array => readBytes(resolve(folder, image), 'the VM image');
  const writeImage = (image: string, bytes: Uint8Array): void => writeImageFile(resolve(folder, image), bytes);
  checkGuests(scenario, text, file, readProgram, readImage);
  return { scenario, file, readProgram, readImage, writeImage };
}

/**
 * What loading alone cannot see, checked before anything runs so that `validate` refuses it too,
 * at the scenario's line: a program file that cannot be read, a guest that does not assemble with
 * the VM's params, an image larger than the VM's memory.
 */
function checkGuests(scenario: Scenario, text: string, file: string, readProgram: (path: string) => string, readImage: (path: string) => Uint8Array): void {
  const sizes = new Map<string, number>();
  scenario.vms.forEach((vm, index) => {
    const guest = vm.guest;
    const where = (key: string): string => {
      const { line, column } = scenarioPosition(text, ['vms', index, key]);
      return `${file}:${line}:${column}: vms[${index}].${key}`;
    };
    let words: number;
    if (guest.kind === 'image') {
      // Read and checked whole here, so that validate refuses a damaged image too (run reads it again).
      let mismatch: string | undefined;
      try {
        mismatch = imageMismatch(vm, decodeImage(readImage(guest.path), guest.path));
      } catch (error) {
        if (error instanceof InputError || error instanceof ImageError) throw new InputError(`${where('image')}: ${error.message}`);
        throw error;
      }
      if (mismatch !== undefined) throw new InputError(`${where('image')}: ${guest.path}: ${mismatch}`);
      return;
    }
    if (guest.kind === 'file') {
      let source: string;
      try {
        source = readProgram(guest.path);
      } catch (error) {
        if (error instanceof InputError) throw new InputError(`${where('program')}: ${error.message}`);
        throw error;
      }
      words = withGuestErrors(() => assemble(source, { file: guest.path, symbols: vm.params })).words.length;
    } else if (guest.kind === 'bundled') {
      const bundled = bundledGuest(guest.name);
      const key = `${guest.name} ${JSON.stringify(vm.params)}`;
      const known = sizes.get(key);
      if (known !== undefined) words = known;
      else try {
        words = assemble(bundled.source, { file: `guest:${guest.name}`, symbols: { ...bundled.defaults, ...vm.params } }).words.length;
        sizes.set(key, words);
      } catch (error) {
        if (error instanceof AssemblyError) throw new InputError(`${where('params')}: the bundled guest '${guest.name}' does not assemble with these params: ${error.diagnostics[0]?.message ?? ''}`);
        throw error;
      }
    } else if (guest.kind === 'inline') {
      const source = '\n'.repeat(Math.max(0, guest.line - 1)) + guest.source;
      words = withGuestErrors(() => assemble(source, { file, symbols: vm.params })).words.length;
    } else {
      // A trace of (burst, sleep) pairs: read and parsed here, so validate refuses a bad one at
      // its line, as run would.
      let csv: string;
      try {
        csv = readProgram(guest.path);
      } catch (error) {
        if (error instanceof InputError) throw new InputError(`${where('trace')}: ${error.message}`);
        throw error;
      }
      let source: string;
      try {
        source = traceGuestSource(parseTrace(csv));
      } catch (error) {
        if (error instanceof TraceError) throw new InputError(`${guest.path}:${error.line}:${error.column}: ${error.message} (the trace of ${where('trace')})`);
        throw error;
      }
      words = withGuestErrors(() => assemble(source, { file: `trace:${guest.path}`, symbols: vm.params })).words.length;
    }
    checkWorkloadFiles(vm, where, readProgram);
    const memoryWords = Math.floor(vm.memoryBytes / 4);
    if (words > memoryWords) {
      throw new InputError(`${where('memory')}: the guest image is ${words} words (${words * 4} bytes), larger than the VM's memory of ${vm.memoryBytes} bytes`);
    }
  });
}

/** The CSV files a VM's workload names (arrival times, empirical sizes), read and parsed as run will. */
function checkWorkloadFiles(vm: Scenario['vms'][number], where: (key: string) => string, readProgram: (path: string) => string): void {
  const workload = vm.workload;
  if (workload === undefined) return;
  const files: { path: string; unit: 'duration' | 'size' }[] = [];
  if (workload.arrivals.process === 'trace') files.push({ path: workload.arrivals.file, unit: 'duration' });
  for (const request of workload.requests) {
    if (request.size.dist === 'empirical') files.push({ path: request.size.file, unit: request.kind === 'cpu' ? 'duration' : 'size' });
  }
  for (const { path, unit } of files) {
    let text: string;
    try {
      text = readProgram(path);
    } catch (error) {
      if (error instanceof InputError) throw new InputError(`${where('workload')}: ${error.message}`);
      throw error;
    }
    try {
      parseColumn(text, path, unit);
    } catch (error) {
      if (error instanceof WorkloadFileError) throw new InputError(`${error.message} (named by ${where('workload')})`);
      throw error;
    }
  }
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
