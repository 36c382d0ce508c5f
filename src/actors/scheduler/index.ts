/**
 * The registry of scheduling policies, by the name a scenario uses (docs/scheduling.md).
 */
import { Arinc653Policy } from './arinc653.js';
import { CfsPolicy } from './cfs.js';
import { CreditPolicy } from './credit.js';
import { Credit2Policy } from './credit2.js';
import { GangPolicy } from './gang.js';
import { NullPolicy } from './null.js';
import { RtdsPolicy } from './rtds.js';
import type { PolicyFactory, PolicyOptions, SchedulingPolicy } from './policy.js';
import { RoundRobinPolicy } from './roundRobin.js';

export type { EnqueueReason, Pick, PolicyFactory, PolicyHost, PolicyOptions, SchedEntity, SchedulingPolicy } from './policy.js';
export { RoundRobinPolicy } from './roundRobin.js';
export { CreditPolicy } from './credit.js';
export { Credit2Policy } from './credit2.js';
export { CfsPolicy } from './cfs.js';
export { RtdsPolicy } from './rtds.js';
export { NullPolicy } from './null.js';
export { Arinc653Policy } from './arinc653.js';
export { GangPolicy } from './gang.js';

export const POLICIES: Readonly<Record<string, PolicyFactory>> = {
  'round-robin': (options) => new RoundRobinPolicy(options),
  credit: (options) => new CreditPolicy(options),
  credit2: (options) => new Credit2Policy(options),
  cfs: (options) => new CfsPolicy(options),
  rtds: (options) => new RtdsPolicy(options),
  null: (options) => new NullPolicy(options),
  arinc653: (options) => new Arinc653Policy(options),
  gang: (options) => new GangPolicy(options),
};

export function createPolicy(name: string, options: PolicyOptions): SchedulingPolicy {
  const factory = POLICIES[name];
  if (factory === undefined) throw new Error(`unknown scheduling policy '${name}' (known: ${Object.keys(POLICIES).join(', ')})`);
  return factory(options);
}
