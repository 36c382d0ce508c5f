/** What an isolation property is, and how it says it does not hold (properties.ts has the ready-made ones). */
import type fc from 'fast-check';
import type { Scenario } from '../core/scenario/schema.js';
import type { Mutation } from './mutants/index.js';

/** A property does not hold for a case: the message says what was seen. */
export class PropertyViolation extends Error {
  constructor(
    readonly property: string,
    message: string,
  ) {
    super(`${property}: ${message}`);
    this.name = 'PropertyViolation';
  }
}

export interface IsolationProperty<Case> {
  readonly name: string;
  readonly description: string;
  readonly arbitrary: fc.Arbitrary<Case>;
  /** Runs that find every mutant this property is expected to catch (docs/testing.md). */
  readonly numRuns: number;
  /** Throws a PropertyViolation when `value` breaks the property under `mutation`. */
  check(value: Case, mutation?: Mutation): void;
  /** The one run that shows a failure (what the fuzzer writes out as a scenario and a log). */
  reproduce(value: Case): { readonly scenario: Scenario; readonly seed: number };
}

/** A property of any case type (the registry and the fuzzer handle them alike). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyIsolationProperty = IsolationProperty<any>;

