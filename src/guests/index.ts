/**
 * The bundled guests, by the name a scenario's `guest:` uses. Each has its source and default
 * parameters (a scenario's `params:` override them; the assembler sees them as symbols).
 */
import { KERNEL_DEFAULTS, KERNEL_SOURCE } from './kernel.js';
import { ROGUE_MEMORY_DEFAULTS, ROGUE_MEMORY_SOURCE, ROGUE_PRIVILEGED_DEFAULTS, ROGUE_PRIVILEGED_SOURCE } from './rogue.js';
import { COMPUTE_SOURCE, HELLO_PV_DEFAULTS, HELLO_PV_SOURCE, IO_LOOP_SOURCE, TICKER_DEFAULTS, TICKER_SOURCE } from './small.js';

export interface BundledGuest {
  readonly name: string;
  readonly description: string;
  readonly source: string;
  readonly defaults: Readonly<Record<string, number>>;
}

const guests: readonly BundledGuest[] = [
  { name: 'kernel', description: 'tiny kernel: timer interrupt, two user tasks, syscalls, power-off', source: KERNEL_SOURCE, defaults: KERNEL_DEFAULTS },
  { name: 'ticker', description: 'interrupt-driven: idles in hlt, wakes on its timer, prints ticks', source: TICKER_SOURCE, defaults: TICKER_DEFAULTS },
  { name: 'hello-pv', description: 'paravirtualized hello: prints with hypercalls, powers off', source: HELLO_PV_SOURCE, defaults: HELLO_PV_DEFAULTS },
  { name: 'rogue-memory', description: 'misbehaves: reads guest-physical memory outside its own', source: ROGUE_MEMORY_SOURCE, defaults: ROGUE_MEMORY_DEFAULTS },
  { name: 'rogue-cli', description: 'misbehaves: runs cli in user mode with no #GP handler', source: ROGUE_PRIVILEGED_SOURCE, defaults: ROGUE_PRIVILEGED_DEFAULTS },
  { name: 'compute', description: 'arithmetic loop with no exits (CPU-bound; interpreter speed)', source: COMPUTE_SOURCE, defaults: {} },
  { name: 'io-loop', description: 'one port write per iteration (exit path speed)', source: IO_LOOP_SOURCE, defaults: {} },
];

export const BUNDLED_GUESTS: ReadonlyMap<string, BundledGuest> = new Map(guests.map((guest) => [guest.name, guest]));
export const BUNDLED_GUEST_NAMES: readonly string[] = guests.map((guest) => guest.name);

export function bundledGuest(name: string): BundledGuest {
  const guest = BUNDLED_GUESTS.get(name);
  if (guest === undefined) throw new Error(`unknown bundled guest '${name}' (known: ${BUNDLED_GUEST_NAMES.join(', ')})`);
  return guest;
}
