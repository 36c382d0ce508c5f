/**
 * A damaged image is refused whole: cut short anywhere, one bit flipped anywhere, or of another
 * format version, decodeImage throws an ImageError naming the file, the byte and the reason, and a
 * Simulation built on it publishes nothing. fast-check prints the seed and the offset on failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../../src/actors/simulation.js';
import { decodeImage, IMAGE_CHUNK_BYTES, IMAGE_MAGIC, ImageError } from '../../src/core/image/format.js';
import { hashString } from '../../src/core/hash.js';
import type { SimEvent } from '../../src/core/events.js';
import { testScenario, vmSpec } from '../../src/testing/scenario.js';

/** An image of the tiny kernel saved at 2 ms, with a disk sector and more than one body chunk. */
function savedImage(): Uint8Array {
  const images = new Map<string, Uint8Array>();
  const scenario = testScenario([vmSpec('g', { kind: 'bundled', name: 'kernel' })], { inputs: [{ kind: 'save', atNs: 2_000_000, vm: 'g', file: 'g.img' }] });
  new Simulation({ scenario, writeImage: (file, bytes) => images.set(file, bytes) }).run();
  const bytes = images.get('g.img');
  if (bytes === undefined) throw new Error('the save wrote no image');
  return bytes;
}

const IMAGE = savedImage();
const BODY_START = IMAGE.indexOf(10, IMAGE_MAGIC.length) + 1;

function refusal(bytes: Uint8Array): ImageError {
  try {
    decodeImage(bytes, 'g.img');
  } catch (error) {
    if (error instanceof ImageError) return error;
    throw error;
  }
  throw new Error('the image was accepted');
}

describe('image refusal', () => {
  it('reads back the image it wrote', () => {
    expect(decodeImage(IMAGE, 'g.img').vm.name).toBe('g');
    expect(IMAGE.length - BODY_START).toBeGreaterThan(IMAGE_CHUNK_BYTES);
  });

  it('refuses an image cut short anywhere, at the byte where it ends (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: IMAGE.length - 1 }), (length) => {
        const error = refusal(IMAGE.subarray(0, length));
        expect(error.message.startsWith('g.img: byte ')).toBe(true);
        // Cut in the magic or the body: the error is at the end of what is there. In the header:
        // the header line has no end (its end is the cut too).
        expect(error.offset).toBe(length);
        expect(error.reason).toMatch(/cut short/);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses an image with any one bit flipped, at the flipped byte or the start of its part (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: IMAGE.length - 1 }), fc.integer({ min: 0, max: 7 }), (offset, bit) => {
        const damaged = IMAGE.slice();
        damaged[offset] ^= 1 << bit;
        const error = refusal(damaged);
        if (offset < IMAGE_MAGIC.length) {
          expect(error.offset).toBe(offset);
          expect(error.reason).toMatch(/not a vmmsim image/);
        } else if (offset < BODY_START - 1) {
          // Inside the header line: the header is damaged (or, when the bit made a new line, cut).
          expect(error.reason).toMatch(/header|cut short/);
        } else if (offset === BODY_START - 1) {
          // The header's own end of line.
          expect(error.reason).toMatch(/header|cut short/);
        } else {
          // Inside the body: located to its checksummed chunk.
          expect(error.offset).toBeLessThanOrEqual(offset);
          expect(offset - error.offset).toBeLessThan(IMAGE_CHUNK_BYTES);
          expect(error.reason).toMatch(/damaged: bytes \d+ to \d+ do not match their checksum/);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses an image of another format version, saying which', () => {
    const newline = IMAGE.indexOf(10, IMAGE_MAGIC.length);
    const header = JSON.parse(new TextDecoder().decode(IMAGE.subarray(IMAGE_MAGIC.length, newline))) as Record<string, unknown>;
    const { h: _h, ...rest } = header;
    const future = { ...rest, version: 2 };
    const line = new TextEncoder().encode(`${IMAGE_MAGIC}${JSON.stringify({ ...future, h: hashString(JSON.stringify(future)).slice(8) })}\n`);
    const bytes = new Uint8Array(line.length + IMAGE.length - BODY_START);
    bytes.set(line);
    bytes.set(IMAGE.subarray(BODY_START), line.length);
    const error = refusal(bytes);
    expect(error.message).toBe(`g.img: byte ${IMAGE_MAGIC.length}: image format version 2; this vmmsim reads version 1`);
  });

  it('refuses a damaged image before anything is built or published', () => {
    const damaged = IMAGE.slice();
    damaged[damaged.length - 10] ^= 4;
    const events: SimEvent[] = [];
    const scenario = testScenario([vmSpec('ok', { kind: 'bundled', name: 'ticker' }), vmSpec('g', { kind: 'image', path: 'g.img' })]);
    expect(() => new Simulation({ scenario, sink: (event) => events.push(event), readImage: () => damaged })).toThrow(ImageError);
    expect(events).toEqual([]);
  });
});
