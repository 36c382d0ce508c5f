/**
 * Where a log's bytes come from: a file (random access through a descriptor, so a 10-million-event
 * log is never read whole to seek in it) or bytes in memory (tests, the browser).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { LogError } from '../core/log/reader.js';

export interface ByteSource {
  readonly name: string;
  readonly size: number;
  /** Up to `length` bytes from `offset` (fewer at the end). */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

export function memorySource(bytes: Uint8Array | string, name = '<log>'): ByteSource {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  return {
    name,
    size: data.length,
    read: (offset, length) => data.subarray(offset, Math.min(data.length, offset + length)),
    close: () => {},
  };
}

export function fileSource(path: string): ByteSource {
  const fd = openSync(path, 'r');
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    throw new LogError(path, 1, `not a log file: ${stat.isDirectory() ? 'a directory' : 'not a regular file'}`);
  }
  const size = stat.size;
  let open = true;
  return {
    name: path,
    size,
    read(offset, length) {
      const end = Math.min(size, offset + length);
      const buffer = Buffer.allocUnsafe(Math.max(0, end - offset));
      let done = 0;
      while (done < buffer.length) {
        const count = readSync(fd, buffer, done, buffer.length - done, offset + done);
        if (count === 0) break;
        done += count;
      }
      return buffer.subarray(0, done);
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}
