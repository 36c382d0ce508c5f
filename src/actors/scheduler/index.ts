/**
 * The registry of scheduling policies, by the name a scenario uses.
 */
import type { PolicyOptions, SchedulingPolicy } from './policy.js';
import { RoundRobinPolicy } from './roundRobin.js';

export type { Pick, PolicyOptions, SchedEntity, SchedulingPolicy } from './policy.js';
export { RoundRobinPolicy } from './roundRobin.js';

export const POLICIES: Readonly<Record<string, (options: PolicyOptions) => SchedulingPolicy>> = {
  'round-robin': (options) => new RoundRobinPolicy(options),
};

export function createPolicy(name: string, options: PolicyOptions): SchedulingPolicy {
  const factory = POLICIES[name];
  if (factory === undefined) throw new Error(`unknown scheduling policy '${name}' (known: ${Object.keys(POLICIES).join(', ')})`);
  return factory(options);
}
