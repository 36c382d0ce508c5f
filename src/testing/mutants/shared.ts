/** What the mutants share: the shape of one, and who a mutant leaks to. */
import type { SimulationParts } from '../../actors/parts.js';
import type { Vm } from '../../actors/vm.js';

/** One deliberately broken build of the system: the bug, the property meant to catch it, the parts. */
export interface Mutant {
  readonly name: string;
  /** What the bug is, in one sentence. */
  readonly bug: string;
  /** The property expected to catch it (docs/testing.md). */
  readonly caughtBy: string;
  /** The parts the Simulation is built with (src/actors/parts.ts). */
  readonly parts: SimulationParts;
}

/** The VM after `vm` in the scenario's order (the first after the last): who a mutant leaks to. */
export function neighbourOf(vms: readonly Vm[], vm: Vm): Vm {
  return vms[(vms.indexOf(vm) + 1) % vms.length];
}
