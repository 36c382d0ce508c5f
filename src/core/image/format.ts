/**
 * The VM image file: what `vmmsim run --save VM@TIME:FILE` (or a `save:` input) writes and what a
 * scenario's `image:` restores. Versioned and checksummed, and checked whole before anything is
 * loaded, so a damaged image or one of another version is refused with the byte where it went
 * wrong, never half-loaded (docs/migration.md).
 *
 * Layout (bytes):
 *
 *   "vmmsim-image\n"                       magic, 13 bytes
 *   {"version":1,...,"h":"xxxxxxxx"}\n     header: one JSON line with its own checksum `h`
 *   {...}                                  body: `bodyBytes` bytes of UTF-8 JSON (a VmImage)
 *
 * The header names the format version, the engine that wrote it, the VM, the body's length, an
 * FNV-1a checksum of every `chunkBytes` bytes of the body (to say where a body was damaged) and
 * the SHA-256 of the whole body. `h` is the FNV-1a low lane of the header's JSON without `h`.
 */
import { z } from 'zod';
import { CSR_COUNT, REGISTER_COUNT } from '../isa/opcodes.js';
import { PAGE_WORDS } from '../platform.js';
import { hashString } from '../hash.js';
import { sha256Hex } from '../sha256.js';

export const IMAGE_MAGIC = 'vmmsim-image\n';
/** The image format this engine writes and reads. */
export const IMAGE_VERSION = 1;
/** The body is checksummed in chunks of this many bytes, so a damaged byte is located to its chunk. */
export const IMAGE_CHUNK_BYTES = 4096;
/** The largest image read (guards the reader against absurd lengths). */
export const IMAGE_BYTES_LIMIT = 1 << 30;

/** An image refused: the file, the byte offset where it goes wrong (-1: not a matter of bytes), and why. */
export class ImageError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(offset >= 0 ? `${file}: byte ${offset}: ${reason}` : `${file}: ${reason}`);
    this.name = 'ImageError';
  }
}

const integer = z.number().int();
const nonNegative = integer.min(0);
const vcpuRunStates = ['running', 'runnable', 'blocked', 'halted', 'crashed', 'paused', 'created'] as const;

/** One vCPU as saved: its architectural state and what it was doing (the run state before the pause). */
const vcpuImageSchema = z.strictObject({
  runState: z.enum(vcpuRunStates),
  /** ns from the save until this vCPU would have entered the guest again (0: it was inside a batch). */
  enterInNs: nonNegative,
  /** It was the last vCPU to run on a physical CPU: its next dispatch there would cost no context switch. */
  warm: z.boolean(),
  pc: integer,
  mode: z.union([z.literal(0), z.literal(1)]),
  ie: integer,
  regs: z.array(integer).length(REGISTER_COUNT),
  csr: z.array(integer).length(CSR_COUNT),
  workLeftNs: nonNegative,
  localPending: integer,
  ptbWrites: nonNegative,
});

const deviceSchema = z.record(z.string(), z.unknown());

export const vmImageSchema = z.strictObject({
  vm: z.strictObject({
    name: z.string().min(1),
    guest: z.string(),
    vcpus: integer.min(1).max(64),
    memoryBytes: integer.min(PAGE_WORDS * 4),
    devices: z.strictObject({ block: z.string(), nic: z.string() }),
    /** The lifecycle state the image holds: always paused (a saved VM is restored paused, then resumed). */
    lifecycle: z.literal('paused'),
    /** Virtual time of the run that saved it, when the image was written. */
    savedAtNs: nonNegative,
    /** The guest's clock (what TIMER_NOW reads, in ns) when it was paused. */
    guestNowNs: nonNegative,
    /** ns the devices ran on while the VM's in-flight device work drained. */
    drainNs: nonNegative,
  }),
  vcpus: z.array(vcpuImageSchema).min(1),
  /** Guest memory: the pages that hold a non-zero word, each a page number and its words. */
  memory: z.strictObject({
    pageWords: z.literal(PAGE_WORDS),
    pages: z.array(z.strictObject({ page: nonNegative, words: z.array(integer).length(PAGE_WORDS) })),
  }),
  /** Each device's state the guest can observe, by device kind, with its lifecycle state. */
  devices: z.record(z.string(), deviceSchema),
  /** The VM's PRNG streams (by id, e.g. vm/NAME/timer): restored under the same name, fresh under another. */
  random: z.record(z.string(), z.array(integer)),
});

export type VmImage = z.infer<typeof vmImageSchema>;
export type VcpuImage = z.infer<typeof vcpuImageSchema>;

interface ImageHeader {
  readonly version: number;
  readonly engine: string;
  readonly vm: string;
  readonly bodyBytes: number;
  readonly chunkBytes: number;
  readonly chunks: readonly string[];
  readonly sha256: string;
}

/** The FNV-1a check of a byte range (the low lane, 8 hex digits), as the header lists them. */
function chunkCheck(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let index = start; index < end; index++) text += String.fromCharCode(bytes[index]);
  return hashString(text).slice(8);
}

function chunkChecks(body: Uint8Array): string[] {
  const checks: string[] = [];
  for (let start = 0; start < body.length; start += IMAGE_CHUNK_BYTES) checks.push(chunkCheck(body, start, Math.min(body.length, start + IMAGE_CHUNK_BYTES)));
  return checks;
}

/** The bytes of an image file. */
export function encodeImage(image: VmImage, engine: string): Uint8Array {
  const encoder = new TextEncoder();
  const body = encoder.encode(JSON.stringify(image));
  const header: ImageHeader = {
    version: IMAGE_VERSION,
    engine,
    vm: image.vm.name,
    bodyBytes: body.length,
    chunkBytes: IMAGE_CHUNK_BYTES,
    chunks: chunkChecks(body),
    sha256: sha256Hex(body),
  };
  const headerText = JSON.stringify(header);
  const line = `${IMAGE_MAGIC}${JSON.stringify({ ...header, h: hashString(headerText).slice(8) })}\n`;
  const head = encoder.encode(line);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** The SHA-256 of an image's body, as its header records it (for the `vm.saved` event). */
export function imageDigest(bytes: Uint8Array): string {
  return (readHeader(bytes, '<image>').header as ImageHeader).sha256;
}

/**
 * Reads and checks an image: magic, header checksum, format version, length, every chunk's
 * checksum, the body's SHA-256, then the body's shape. Throws ImageError (file, byte offset,
 * reason) at the first problem; returns the image only when all of it checks.
 */
export function decodeImage(bytes: Uint8Array, file: string): VmImage {
  const { header, bodyStart } = readHeader(bytes, file);
  const bodyEnd = bodyStart + header.bodyBytes;
  if (bytes.length < bodyEnd) {
    throw new ImageError(file, bytes.length, `cut short: the file ends at byte ${bytes.length}, its header says the image ends at byte ${bodyEnd} (${bodyEnd - bytes.length} bytes missing)`);
  }
  if (bytes.length > bodyEnd) throw new ImageError(file, bodyEnd, `${bytes.length - bodyEnd} unexpected bytes after the end of the image`);
  const body = bytes.subarray(bodyStart, bodyEnd);
  const expectedChunks = Math.ceil(header.bodyBytes / header.chunkBytes);
  if (header.chunks.length !== expectedChunks) throw new ImageError(file, IMAGE_MAGIC.length, `the header lists ${header.chunks.length} chunk checksums, the body needs ${expectedChunks}`);
  for (let chunk = 0; chunk < expectedChunks; chunk++) {
    const start = chunk * header.chunkBytes;
    const end = Math.min(body.length, start + header.chunkBytes);
    if (chunkCheck(body, start, end) !== header.chunks[chunk]) {
      throw new ImageError(file, bodyStart + start, `damaged: bytes ${bodyStart + start} to ${bodyStart + end - 1} do not match their checksum (chunk ${chunk} of the body)`);
    }
  }
  if (sha256Hex(body) !== header.sha256) throw new ImageError(file, bodyStart, "damaged: the body's SHA-256 does not match the header's");
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (error) {
    throw new ImageError(file, bodyStart, `the body is not JSON: ${(error as Error).message}`);
  }
  const result = vmImageSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ImageError(file, bodyStart, `the body is not a VM image: ${issue.path.join('.')}: ${issue.message}`);
  }
  checkConsistency(result.data, file, bodyStart);
  return result.data;
}

function checkConsistency(image: VmImage, file: string, at: number): void {
  const pages = image.vm.memoryBytes / (PAGE_WORDS * 4);
  if (!Number.isInteger(pages)) throw new ImageError(file, at, `memory of ${image.vm.memoryBytes} bytes is not a whole number of pages`);
  if (image.vcpus.length !== image.vm.vcpus) throw new ImageError(file, at, `the image holds ${image.vcpus.length} vCPUs, its VM has ${image.vm.vcpus}`);
  let previous = -1;
  for (const { page } of image.memory.pages) {
    if (page >= pages) throw new ImageError(file, at, `page ${page} is outside the VM's ${pages} pages`);
    if (page <= previous) throw new ImageError(file, at, `pages out of order (${page} after ${previous})`);
    previous = page;
  }
}

function readHeader(bytes: Uint8Array, file: string): { header: ImageHeader; bodyStart: number } {
  if (bytes.length > IMAGE_BYTES_LIMIT) throw new ImageError(file, IMAGE_BYTES_LIMIT, `larger than ${IMAGE_BYTES_LIMIT} bytes`);
  for (let index = 0; index < IMAGE_MAGIC.length; index++) {
    if (index >= bytes.length) throw new ImageError(file, bytes.length, 'cut short inside the magic: not a whole vmmsim image');
    if (bytes[index] !== IMAGE_MAGIC.charCodeAt(index)) throw new ImageError(file, index, "not a vmmsim image (it does not start with 'vmmsim-image')");
  }
  const start = IMAGE_MAGIC.length;
  const newline = bytes.indexOf(10, start);
  if (newline < 0) throw new ImageError(file, bytes.length, 'cut short inside the header (no end of line)');
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, newline)));
  } catch {
    throw new ImageError(file, start, `the header (bytes ${start} to ${newline}) is damaged: not JSON`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ImageError(file, start, 'the header is damaged: not a JSON object');
  const { h, ...rest } = raw as Record<string, unknown>;
  const intact = typeof h === 'string' && hashString(JSON.stringify(rest)).slice(8) === h;
  const version = rest.version;
  if (version !== IMAGE_VERSION) {
    throw new ImageError(
      file,
      start,
      intact
        ? `image format version ${String(version)}; this vmmsim reads version ${IMAGE_VERSION}`
        : `the header (bytes ${start} to ${newline}) is damaged or of another format version (its version field reads ${JSON.stringify(version)}; this vmmsim reads version ${IMAGE_VERSION})`,
    );
  }
  if (!intact) throw new ImageError(file, start, `the header (bytes ${start} to ${newline}) is damaged: its checksum does not match`);
  const header = rest as unknown as ImageHeader;
  const fields =
    Number.isSafeInteger(header.bodyBytes) &&
    header.bodyBytes >= 0 &&
    Number.isSafeInteger(header.chunkBytes) &&
    header.chunkBytes > 0 &&
    Array.isArray(header.chunks) &&
    typeof header.sha256 === 'string' &&
    typeof header.engine === 'string' &&
    typeof header.vm === 'string';
  if (!fields) throw new ImageError(file, start, 'the header lacks a field (bodyBytes, chunkBytes, chunks, sha256, engine, vm)');
  return { header, bodyStart: newline + 1 };
}
