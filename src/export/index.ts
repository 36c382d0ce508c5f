/**
 * Exporting a run to other tools' formats. Only the Chrome trace (Trace Event Format, JSON) for
 * now: Perfetto opens it. Perfetto's own protobuf format would need a maintained encoder package
 * for its schema; none is used (see docs/debugging.md).
 */
import type { LogFile } from '../replay/logFile.js';
import { ChromeTraceBuilder, type TraceEvent } from './chrome.js';
import { guestTimeSlices } from './guestTime.js';

export { guestTimeSlices, type GuestTimeResult } from './guestTime.js';
export { ChromeTraceBuilder, HOST_PID, VCPU_TID_BASE, type TraceEvent } from './chrome.js';

export const EXPORT_FORMATS = ['chrome'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportResult {
  readonly events: number;
  readonly traceEvents: number;
  /** Per pCPU, the ns its vCPU residency slices cover. */
  readonly sliceNs: readonly number[];
  /** Per pCPU, the ns its `guest` slices cover (the summary's busy time), when re-executed. */
  readonly guestNs?: readonly number[];
}

export interface ExportOptions {
  /**
   * Re-execute the run to add `guest` slices (guest time, which the log does not carry); on by
   * default. Off: the log alone is read.
   */
  readonly guestTime?: boolean;
  /** Reads `program:` files the header's scenario names (for the re-execution). */
  readonly readProgram?: (path: string) => string;
}

/** Buffer size before a chunk is handed to `write`. */
const CHUNK_CHARS = 1 << 16;

/**
 * Writes the log as a Chrome trace through `write`, in chunks of about 64 KiB, reading the log one
 * line at a time (each line's checksum checked): memory stays bounded whatever the log's length.
 */
export function exportChromeTrace(file: LogFile, write: (chunk: string) => void, options: ExportOptions = {}): ExportResult {
  const builder = new ChromeTraceBuilder(file.header);
  let buffer = `{"displayTimeUnit":"ns","otherData":${JSON.stringify({ generator: 'vmmsim', scenario: (file.header.scenario as { name: string }).name, seed: file.header.seed, engine: file.header.engine })},"traceEvents":[\n`;
  let first = true;
  let traceEvents = 0;
  const emit = (events: readonly TraceEvent[]): void => {
    for (const event of events) {
      buffer += (first ? '' : ',\n') + JSON.stringify(event);
      first = false;
      traceEvents++;
    }
    if (buffer.length >= CHUNK_CHARS) {
      write(buffer);
      buffer = '';
    }
  };
  emit(builder.start());
  let events = 0;
  let endNs: number | undefined;
  for (const { record } of file.records()) {
    if (record.kind === 'event') {
      events++;
      emit(builder.event(record.event));
    } else if (record.kind === 'end') {
      endNs = record.end.t;
    }
  }
  emit(builder.finish(endNs));
  const guest = options.guestTime === false ? undefined : guestTimeSlices(file, emit, options.readProgram);
  buffer += '\n]}\n';
  write(buffer);
  return { events, traceEvents, sliceNs: [...builder.sliceNs], ...(guest === undefined ? {} : { guestNs: guest.busyNs }) };
}
