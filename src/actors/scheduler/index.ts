/**
 * The registry of scheduling policies, by the name a scenario uses (docs/scheduling.md).
 */
import { CreditPolicy } from './credit.js';
import type { PolicyFactory, PolicyOptions, SchedulingPolicy } from './policy.js';
import { RoundRobinPolicy } from './roundRobin.js';

export type { EnqueueReason, Pick, PolicyFactory, PolicyHost, PolicyOptions, SchedEntity, SchedulingPolicy } from './policy.js';
export { RoundRobinPolicy } from './roundRobin.js';
export { CreditPolicy } from './credit.js';

export const POLICIES: Readonly<Record<string, PolicyFactory>> = {
  'round-robin': (options) => new RoundRobinPolicy(options),
  credit: (options) => new CreditPolicy(options),
};

export function createPolicy(name: string, options: PolicyOptions): SchedulingPolicy {
  const factory = POLICIES[name];
  if (factory === undefined) throw new Error(`unknown scheduling policy '${name}' (known: ${Object.keys(POLICIES).join(', ')})`);
  return factory(options);
}
