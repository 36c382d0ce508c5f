/**
 * Scheduling policies from JavaScript modules (`--policy ./my-policy.js`, docs/scheduling.md
 * "Writing a policy"), and how a run that used one is rebuilt.
 *
 * A run with such a policy records in its log's header the module's path as given and the sha256
 * of its bytes (docs/event-log.md). Whatever rebuilds the run from the log (replay, inspect's
 * re-execution, a fork, `restore`) loads the module again, from the recorded path or from a copy
 * the caller names, and refuses to go on when the file is missing or is not the same module: a
 * different policy would make a different run, reported as a divergence far from its cause.
 *
 * This sits with the replay library because it reads files, which the simulation (src/actors)
 * never does; the CLI's `--policy` loads modules through it too.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { PolicyFactory, PolicyOptions, SchedulingPolicy } from '../actors/scheduler/policy.js';
import type { LogHeader, LogPolicyModule } from '../core/log/format.js';

/** A policy module that cannot be used: missing, not loadable, not a policy, or not the one a log names. */
export class PolicyModuleError extends Error {
  override readonly name = 'PolicyModuleError';
}

/** The methods every policy must have (src/actors/scheduler/policy.ts). */
const REQUIRED_METHODS = ['enqueue', 'remove', 'pick', 'shouldPreempt', 'extend', 'charge', 'snapshot'] as const;

export interface LoadedPolicyModule {
  readonly factory: PolicyFactory;
  /** What a log's header records about it (with the policy's name added by the Simulation). */
  readonly record: Omit<LogPolicyModule, 'label'>;
}

/** The sha256 of a module's bytes, as 64 lowercase hex digits. */
export function policyModuleDigest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Loads a policy module: `path` is read (relative to the current directory), hashed and loaded
 * (require of an ES module, Node >= 20.19, so callers stay synchronous). `recordAs` is the path
 * to record (by default `path` itself). `flag` names the option in error messages.
 * @throws PolicyModuleError
 */
export function loadPolicyModule(path: string, options: { readonly flag?: string; readonly recordAs?: string; readonly expectedSha256?: string } = {}): LoadedPolicyModule {
  const flag = options.flag ?? '--policy';
  const full = resolve(path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(full);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PolicyModuleError(`${flag} ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const sha256 = policyModuleDigest(bytes);
  if (options.expectedSha256 !== undefined && sha256 !== options.expectedSha256) {
    // Checked before loading: a module that is not the expected one never runs.
    throw new PolicyModuleError(`${flag} ${path}: not the expected module (sha256 ${sha256}, expected ${options.expectedSha256})`);
  }
  let loaded: Record<string, unknown>;
  try {
    loaded = createRequire(import.meta.url)(full) as Record<string, unknown>;
  } catch (error) {
    throw new PolicyModuleError(`${flag} ${path}: cannot load the module: ${(error as Error).message.split('\n')[0]}`);
  }
  const factory = (loaded.default ?? loaded.createPolicy) as unknown;
  if (typeof factory !== 'function') {
    throw new PolicyModuleError(`${flag} ${path}: expected a default export (or a 'createPolicy' export) that is a function (options) => policy`);
  }
  const checked = (policyOptions: PolicyOptions): SchedulingPolicy => {
    const policy = (factory as (options: PolicyOptions) => unknown)(policyOptions) as Partial<SchedulingPolicy> | null;
    const missing = REQUIRED_METHODS.filter((method) => typeof policy?.[method] !== 'function');
    if (policy === null || typeof policy !== 'object' || missing.length > 0 || typeof policy.name !== 'string') {
      throw new PolicyModuleError(
        `${flag} ${path}: the factory must return a policy with a name and the methods ${REQUIRED_METHODS.join(', ')}${missing.length > 0 ? ` (missing: ${missing.join(', ')})` : ''}`,
      );
    }
    return policy as SchedulingPolicy;
  };
  return { factory: checked, record: { module: options.recordAs ?? path, sha256 } };
}

/**
 * The policy module a log's run used, loaded again and checked against the header's digest;
 * undefined when the run used the scenario's own policy. `copy` points at a copy of the module
 * (the CLI's `--policy PATH` on replay, inspect and fork; `{ policy }` in the library) when it is
 * no longer at the recorded path. The module is recorded as it was (so a replayed header is the
 * same, byte for byte), unless `recordCopy` asks for the copy's path (a fork writes a new log
 * that must replay from where the module is now).
 * @throws PolicyModuleError saying what was expected and what to pass
 */
export function policyModuleOf(header: LogHeader, logName: string, copy?: string, options: { readonly recordCopy?: boolean; readonly flag?: string } = {}): LoadedPolicyModule | undefined {
  const flag = options.flag ?? '--policy';
  const recorded = header.policy;
  if (recorded === undefined) {
    if (copy !== undefined) {
      throw new PolicyModuleError(`${flag} ${copy}: ${logName} was not run with a policy module (its policy, ${policyNameOf(header)}, is in its scenario); leave ${flag} out`);
    }
    return undefined;
  }
  const path = copy ?? recorded.module;
  const what = `${logName} was run with the policy module ${recorded.module}\n(policy '${recorded.label}', sha256 ${recorded.sha256})`;
  let bytes: Buffer;
  try {
    bytes = readFileSync(resolve(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'there is no such file' : `it cannot be read: ${(error as Error).message}`;
    const where = copy === undefined ? `at ${resolve(path)}` : `given with ${flag} ${copy}`;
    throw new PolicyModuleError(`${what};\n${reason} ${where}: pass ${flag} PATH naming a copy of that module`);
  }
  const sha256 = policyModuleDigest(bytes);
  if (sha256 !== recorded.sha256) {
    const where = copy === undefined ? `${recorded.module} (${resolve(path)})` : `${flag} ${copy}`;
    throw new PolicyModuleError(`${what};\n${where} is a different module (sha256 ${sha256}):\npass ${flag} PATH naming a copy of the module the run used, or put it back`);
  }
  const loaded = loadPolicyModule(path, { flag, expectedSha256: recorded.sha256 });
  return { factory: loaded.factory, record: { module: copy !== undefined && options.recordCopy === true ? copy : recorded.module, sha256: recorded.sha256 } };
}

function policyNameOf(header: LogHeader): string {
  const scheduler = (header.scenario as { scheduler?: { policy?: unknown } } | null)?.scheduler;
  return typeof scheduler?.policy === 'string' ? scheduler.policy : 'unknown';
}
