/**
 * Each VM's guest program as the debugger shows it: the assembly text (a bundled guest's source,
 * or the user's file), assembled again with the same symbols the run used, for its line map
 * (instruction address -> source line) and its labels.
 */
import { resolve } from 'node:path';
import { assemble, type AssembledImage } from '../core/isa/assembler.js';
import type { Scenario } from '../core/scenario/schema.js';
import { bundledGuest } from '../guests/index.js';
import { parseTrace, traceGuestSource } from '../guests/workloads.js';

export interface GuestProgram {
  readonly vm: string;
  readonly vmIndex: number;
  /** What the source is called in the editor (`alpha: kernel.asm`). */
  readonly name: string;
  /** The user's file, absolute, when the guest is one (breakpoints set in it apply). */
  readonly path: string | undefined;
  readonly text: string;
  readonly image: AssembledImage;
  /** Source line -> first instruction address on it. */
  readonly addressOfLine: ReadonlyMap<number, number>;
}

export function guestPrograms(scenario: Scenario, readProgram: ((path: string) => string) | undefined, folder: string | undefined): GuestProgram[] {
  return scenario.vms.map((spec, vmIndex) => {
    const guest = spec.guest;
    let text: string;
    let name: string;
    let path: string | undefined;
    let symbols: Readonly<Record<string, number>> = spec.params;
    let file: string;
    if (guest.kind === 'bundled') {
      const bundled = bundledGuest(guest.name);
      text = bundled.source;
      symbols = { ...bundled.defaults, ...spec.params };
      name = `${spec.name}: ${guest.name}.asm`;
      file = `guest:${guest.name}`;
    } else if (guest.kind === 'file') {
      if (readProgram === undefined) throw new Error(`VM ${spec.name}: no way to read program file ${guest.path}`);
      text = readProgram(guest.path);
      path = folder === undefined ? undefined : resolve(folder, guest.path);
      name = `${spec.name}: ${guest.path}`;
      file = guest.path;
    } else if (guest.kind === 'trace') {
      if (readProgram === undefined) throw new Error(`VM ${spec.name}: no way to read trace file ${guest.path}`);
      text = traceGuestSource(parseTrace(readProgram(guest.path)));
      name = `${spec.name}: ${guest.path}.asm`;
      file = `trace:${guest.path}`;
    } else if (guest.kind === 'image') {
      throw new Error(`VM ${spec.name} is restored from an image (${guest.path}): its guest program is not known to the debugger`);
    } else {
      text = '\n'.repeat(Math.max(0, guest.line - 1)) + guest.source;
      name = `${spec.name}: inline.asm`;
      file = '<scenario>';
    }
    const image = assemble(text, { file, symbols });
    const addressOfLine = new Map<number, number>();
    for (const [address, line] of [...image.lineOf.entries()].sort(([a], [b]) => a - b)) if (!addressOfLine.has(line)) addressOfLine.set(line, address);
    return { vm: spec.name, vmIndex, name, path, text, image, addressOfLine };
  });
}
