/**
 * vmmsim/testing: property-based testing of isolation. Arbitraries for guests, scenarios and
 * input schedules; ready-made properties (checkers from outside the monitor); the mutants they
 * are proven against. docs/testing.md shows how to write a new property.
 */
export { adversarialGuest, adversaryAddress, adversaryPort, hammerGuest, memoryProber, blockProber, quietGuest, trapGuest, victimGuest, GUEST_WORDS, type AdversaryOptions } from './guests.js';
export { costOverrides, inputSchedule, scenarioArbitrary, SCENARIO_POLICIES, type RandomRun, type ScenarioOptions, type ScheduleOptions } from './arbitraries.js';
export { guestVm, runChecked, scenarioYaml, testScenario, type CheckedRun, type RunOptions } from './scenario.js';
export { referenceRun, type ReferenceResult } from './reference.js';
export {
  determinism,
  equivalence,
  memoryIsolation,
  nonInterference,
  PropertyViolation,
  PROPERTIES,
  propertyNamed,
  resourceControl,
  toFastCheck,
  trapCompleteness,
  type AnyIsolationProperty,
  type GuestCase,
  type InterferenceCase,
  type IsolationProperty,
  type MemoryCase,
  type ResourceCase,
  type TrapCase,
} from './properties.js';
export { lifecycleCommands, lifecycleProperty, runLifecycle, type LifecycleModel, type LifecycleReal } from './lifecycle.js';
export { isMutation, MUTATION_INFO, MUTATIONS, mutantParts, partsOf, type Mutant, type Mutation } from './mutants/index.js';
