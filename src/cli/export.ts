/** `vmmsim export LOG --format chrome [--out FILE]`: a logged run as a trace for Perfetto. */
import { closeSync, openSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LogError } from '../core/log/reader.js';
import { EXPORT_FORMATS, exportChromeTrace, type ExportFormat } from '../export/index.js';
import { EXIT_OK, InputError } from './errors.js';
import { openLog } from './replay.js';
import { readText } from './scenarioFile.js';

export interface ExportOptions {
  readonly format?: string;
  readonly out?: string;
  /** Commander's `--no-guest-time` sets this to false. */
  readonly guestTime?: boolean;
}

export function exportCommand(path: string, options: ExportOptions, stdout: { write(text: string): void }, stderr: { write(text: string): void }): number {
  const format = (options.format ?? 'chrome') as ExportFormat;
  if (!EXPORT_FORMATS.includes(format)) {
    const hint = (format as string) === 'perfetto' ? " (Perfetto's protobuf format is not written: no maintained encoder package; Perfetto opens the chrome format)" : '';
    throw new InputError(`--format: unknown format '${format}'${hint}; expected one of: ${EXPORT_FORMATS.join(', ')}`);
  }
  const file = openLog(path);
  const fd = options.out === undefined ? undefined : openSync(options.out, 'w');
  try {
    const write = fd === undefined ? (chunk: string) => stdout.write(chunk) : (chunk: string) => void writeSync(fd, chunk);
    const folder = dirname(resolve(path));
    const result = exportChromeTrace(file, write, { guestTime: options.guestTime, readProgram: (program) => readText(resolve(folder, program), 'the guest program') });
    if (fd !== undefined) stderr.write(`${options.out}: ${result.traceEvents} trace events from ${result.events} log events\n`);
  } catch (error) {
    if (error instanceof LogError) throw new InputError(error.message);
    throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
    file.close();
  }
  for (const warning of file.warnings) stderr.write(`vmmsim: warning: ${warning}\n`);
  return EXIT_OK;
}
