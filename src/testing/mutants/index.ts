/**
 * The registry of deliberately broken builds of the system (mutants), each one a classic isolation
 * bug, to show that the property suite (src/testing) catches real mistakes. Each mutant is a set of
 * parts for the Simulation builder's component seam (src/actors/parts.ts); production code names
 * none of them. A log written by a mutant records its name in the header, and replay resolves the
 * name here to rebuild the same broken system.
 */
import type { SimulationParts } from '../../actors/parts.js';
import { cap } from './cap.js';
import { capWakeUncharged } from './capWake.js';
import { cowMissing } from './cowMissing.js';
import { csrLeak } from './csrLeak.js';
import { dmaRead } from './dmaRead.js';
import { hypercallOverread } from './hypercallOverread.js';
import { unscrubbedFrames } from './unscrubbedFrames.js';
import { dmaIommu } from './dmaIommu.js';
import { gpaBounds } from './gpaBounds.js';
import { ioOwner } from './ioOwner.js';
import { irqRoute } from './irqRoute.js';
import { openBusLatch } from './openBusLatch.js';
import { privileged } from './privileged.js';
import { registerLeak } from './registerLeak.js';
import { sharedDisk } from './sharedDisk.js';
import type { Mutant } from './shared.js';

export type { Mutant } from './shared.js';

const ALL: readonly Mutant[] = [gpaBounds, ioOwner, registerLeak, dmaIommu, irqRoute, cap, privileged, unscrubbedFrames, hypercallOverread, dmaRead, csrLeak, capWakeUncharged, sharedDisk, cowMissing, openBusLatch];

export const MUTATIONS: readonly string[] = ALL.map((mutant) => mutant.name);
export type Mutation = string;

const BY_NAME = new Map(ALL.map((mutant) => [mutant.name, mutant]));

/** What each mutant breaks, and the property expected to catch it (docs/testing.md). */
export const MUTATION_INFO: Readonly<Record<string, { readonly bug: string; readonly caughtBy: string }>> = Object.fromEntries(ALL.map((mutant) => [mutant.name, { bug: mutant.bug, caughtBy: mutant.caughtBy }]));

export function isMutation(name: string): boolean {
  return BY_NAME.has(name);
}

/** The parts of the mutant named `name`; a RangeError names the known ones when there is none. */
export function mutantParts(name: string): SimulationParts {
  const mutant = BY_NAME.get(name);
  if (mutant === undefined) throw new RangeError(`unknown mutation '${name}' (expected one of: ${MUTATIONS.join(', ')})`);
  return mutant.parts;
}

/** The parts for an optional mutation name (undefined: the standard system). */
export function partsOf(mutation: string | undefined): SimulationParts | undefined {
  return mutation === undefined ? undefined : mutantParts(mutation);
}
