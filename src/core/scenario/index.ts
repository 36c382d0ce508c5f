export {
  parseDuration,
  parseBytes,
  formatDuration,
  formatBytes,
  UnitError,
  type UnitErrorReason,
} from './units.js';
export {
  POLICY_NAMES,
  SCENARIO_LIMITS,
  COST_SOURCE_KEYS,
  costSourceKey,
  scenarioSourceSchema,
  scenarioToSource,
  validateScenarioSource,
  withPolicy,
  withChangedPolicy,
  type PolicyName,
  type Scenario,
  type HostSpec,
  type SchedulerSpec,
  type RunSpec,
  type VmSpec,
  type VmSchedSpec,
  type GuestSpec,
  type ScenarioIssue,
  type ValidationResult,
} from './schema.js';
export {
  loadScenario,
  resolveScenarioObject,
  formatDiagnostic,
  formatPath,
  ScenarioError,
  type ScenarioDiagnostic,
  type ScenarioOptions,
} from './load.js';
export { scenarioJsonSchema } from './jsonSchema.js';
