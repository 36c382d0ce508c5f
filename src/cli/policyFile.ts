/**
 * `--policy NAME|FILE`: a policy of the registry by name, or a user's policy from a JavaScript
 * module (a path, recognised by a `/` or a `.js`/`.mjs`/`.cjs` ending). The module's default
 * export (or its `createPolicy` export) is a factory `(options) => SchedulingPolicy`
 * (docs/scheduling.md, "Writing a policy"), loaded by src/replay/policyModule.ts, which also
 * gives what a log's header records about it (path and sha256) so the run replays.
 */
import { POLICIES } from '../actors/scheduler/index.js';
import type { PolicyFactory } from '../actors/scheduler/policy.js';
import type { LogPolicyModule } from '../core/log/format.js';
import { POLICY_NAMES, withPolicy as withRegistryPolicy, type PolicyName, type Scenario } from '../core/scenario/schema.js';
import { loadPolicyModule, PolicyModuleError } from '../replay/policyModule.js';
import { InputError } from './errors.js';

export function isPolicyPath(spec: string): boolean {
  return spec.includes('/') || /\.(c|m)?js$/.test(spec);
}

export interface ResolvedPolicy {
  /** The name to report: the registry name, or the file's path as given. */
  readonly label: string;
  readonly factory: PolicyFactory;
  /** The registry policy's name; undefined for a policy from a file. */
  readonly registryName: PolicyName | undefined;
  /** A policy from a file: what the log's header records about the module (its path as given and sha256). */
  readonly module: Omit<LogPolicyModule, 'label'> | undefined;
}

export function resolvePolicy(spec: string, flag = '--policy'): ResolvedPolicy {
  if (!isPolicyPath(spec)) {
    const factory = POLICIES[spec];
    if (factory === undefined || !(POLICY_NAMES as readonly string[]).includes(spec)) {
      throw new InputError(`${flag}: unknown policy '${spec}' (known: ${Object.keys(POLICIES).join(', ')}; or a path to a .js module)`);
    }
    return { label: spec, factory, registryName: spec as PolicyName, module: undefined };
  }
  const loaded = asInputError(() => loadPolicyModule(spec, { flag }));
  return { label: spec, factory: loaded.factory, registryName: undefined, module: loaded.record };
}

/**
 * The `--policy` of a command that rebuilds a logged run (replay, inspect, run --from): only the
 * path of a moved copy of the policy module the run used, never a registry name.
 */
export function moduleCopyOf(spec: string | undefined, instead: string): string | undefined {
  if (spec !== undefined && !isPolicyPath(spec)) {
    throw new InputError(`--policy ${spec}: here --policy names a moved copy of the policy module the log's run used (a path to a .js file); ${instead}`);
  }
  return spec;
}

/** Runs `action`, turning a PolicyModuleError into bad input (exit 2). */
export function asInputError<T>(action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof PolicyModuleError) throw new InputError(error.message);
    throw error;
  }
}

/**
 * The scenario with another registry policy (re-resolved: that policy's parameters take their
 * defaults unless the scenario sets them; src/core/scenario/schema.ts withPolicy), and optionally
 * another run time. A policy from a file leaves the scenario as it is (the factory is passed to
 * the Simulation, and the module recorded in the log's header).
 */
export function withPolicy(scenario: Scenario, policy: ResolvedPolicy, timeNs?: number): Scenario {
  const chosen = policy.registryName === undefined ? scenario : withRegistryPolicy(scenario, policy.registryName);
  return timeNs === undefined ? chosen : { ...chosen, run: { ...chosen.run, timeNs } };
}
