/**
 * `--policy NAME|FILE`: a policy of the registry by name, or a user's policy from a JavaScript
 * module (a path, recognised by a `/` or a `.js`/`.mjs`/`.cjs` ending). The module's default
 * export (or its `createPolicy` export) is a factory `(options) => SchedulingPolicy`
 * (docs/scheduling.md, "Writing a policy"). Loaded synchronously (require of an ES module,
 * Node >= 20.19), so the CLI stays synchronous.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { POLICIES } from '../actors/scheduler/index.js';
import type { PolicyFactory, PolicyOptions, SchedulingPolicy } from '../actors/scheduler/policy.js';
import type { PolicyName, Scenario } from '../core/scenario/schema.js';
import { InputError } from './errors.js';

const REQUIRED_METHODS = ['enqueue', 'remove', 'pick', 'shouldPreempt', 'extend', 'charge', 'snapshot'] as const;

export function isPolicyPath(spec: string): boolean {
  return spec.includes('/') || /\.(c|m)?js$/.test(spec);
}

export interface ResolvedPolicy {
  /** The name to report: the registry name, or the file's path as given. */
  readonly label: string;
  /** The factory; undefined means the registry policy of `name` (the scenario is changed to it). */
  readonly factory: PolicyFactory;
  readonly registryName: string | undefined;
}

export function resolvePolicy(spec: string, flag = '--policy'): ResolvedPolicy {
  if (!isPolicyPath(spec)) {
    const factory = POLICIES[spec];
    if (factory === undefined) throw new InputError(`${flag}: unknown policy '${spec}' (known: ${Object.keys(POLICIES).join(', ')}; or a path to a .js module)`);
    return { label: spec, factory, registryName: spec };
  }
  return { label: spec, factory: loadPolicyFile(spec, flag), registryName: undefined };
}

export function loadPolicyFile(path: string, flag = '--policy'): PolicyFactory {
  const full = resolve(path);
  if (!existsSync(full)) throw new InputError(`${flag} ${path}: no such file`);
  let loaded: Record<string, unknown>;
  try {
    loaded = createRequire(import.meta.url)(full) as Record<string, unknown>;
  } catch (error) {
    throw new InputError(`${flag} ${path}: cannot load the module: ${(error as Error).message.split('\n')[0]}`);
  }
  const factory = (loaded.default ?? loaded.createPolicy) as unknown;
  if (typeof factory !== 'function') {
    throw new InputError(`${flag} ${path}: expected a default export (or a 'createPolicy' export) that is a function (options) => policy`);
  }
  return (options: PolicyOptions): SchedulingPolicy => {
    const policy = (factory as (options: PolicyOptions) => unknown)(options) as Partial<SchedulingPolicy> | null;
    const missing = REQUIRED_METHODS.filter((method) => typeof policy?.[method] !== 'function');
    if (policy === null || typeof policy !== 'object' || missing.length > 0 || typeof policy.name !== 'string') {
      throw new InputError(`${flag} ${path}: the factory must return a policy with a name and the methods ${REQUIRED_METHODS.join(', ')}${missing.length > 0 ? ` (missing: ${missing.join(', ')})` : ''}`);
    }
    return policy as SchedulingPolicy;
  };
}

/**
 * The scenario with another registry policy (its parameters take that policy's defaults unless
 * the scenario sets them), and optionally another run time. A policy from a file leaves the
 * scenario as it is (the factory is passed to the Simulation).
 */
export function withPolicy(scenario: Scenario, policy: ResolvedPolicy, timeNs?: number): Scenario {
  const scheduler = policy.registryName === undefined ? scenario.scheduler : { ...scenario.scheduler, policy: policy.registryName as PolicyName };
  return { ...scenario, scheduler, run: timeNs === undefined ? scenario.run : { ...scenario.run, timeNs } };
}
