/**
 * vmmsim's public library API: build and run simulations, read logs, assemble guests, load
 * scenarios. The CLI is built on exactly these.
 */
export { Simulation, type SimulationOptions, type GuestImage } from './actors/simulation.js';
export type { RunSummary, VmSummary, VcpuSummary } from './actors/summary.js';
export { Monitor, type EndReason } from './actors/monitor/monitor.js';
export { Vm } from './actors/vm.js';
export { Vcpu } from './actors/vcpu/vcpu.js';
export { POLICIES, createPolicy, RoundRobinPolicy, type SchedulingPolicy, type SchedEntity, type Pick, type PolicyOptions } from './actors/scheduler/index.js';
export { EventBus } from './core/bus.js';
export { Kernel } from './core/kernel.js';
export { RandomSource, RandomStream } from './core/prng.js';
export { DEFAULT_COSTS, COST_NAMES, resolveCosts, type CostModel, type CostName } from './core/costs.js';
export { EVENT_TYPES, EXIT_REASONS, type SimEvent, type EventType, type EventOf, type EventDataMap, type ExitReason, type VmState, type VcpuState } from './core/events.js';
export { LogWriter, readLog, LogError, LOG_FORMAT, LOG_VERSION, type ParsedLog, type LogHeader, type LogPolicyModule, type LogCheckpoint, type LogEnd } from './core/log/index.js';
export { assemble, AssemblyError, AsmError, disassemble, disassembleInstruction } from './core/isa/index.js';
export { loadScenario, resolveScenarioObject, scenarioToSource, withPolicy, POLICY_NAMES, ScenarioError, type Scenario, type VmSpec, type PolicyName } from './core/scenario/index.js';
export { BUNDLED_GUESTS, BUNDLED_GUEST_NAMES, bundledGuest, type BundledGuest } from './guests/index.js';
export { ENGINE_VERSION } from './core/version.js';
export {
  openLog,
  restore,
  ReplayLog,
  loadPolicyModule,
  policyModuleOf,
  PolicyModuleError,
  LogCursor,
  LogFile,
  fileSource,
  memorySource,
  replay,
  queryEvents,
  eventStats,
  stateAtSeq,
  stateAtTime,
  foldEvents,
  reduce,
  stateFromCheckpoint,
  projectSimulation,
  vcpuRegisters,
  registersOf,
  EMPTY_STATE,
  PointError,
  FilterError,
  type RestoreOptions,
  type ByteSource,
  type ReplayResult,
  type Divergence,
  type EventFilter,
  type EventStats,
  type Point,
  type StateAt,
  type InspectState,
  type VmView,
  type VcpuView,
  type PcpuView,
  type LastExit,
  type FoldEngine,
  type VcpuRegisters,
  type RegistersAt,
} from './replay/index.js';
