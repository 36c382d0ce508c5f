/**
 * Metrics as flat (name, value) pairs, for tables, CSV and comparisons: the system metrics
 * first, then each VM's as `<vm>.<metric>`. Names carry their units (`_us`, `_ms`).
 */
import type { RunMetrics } from './collector.js';

export interface MetricInfo {
  readonly name: string;
  readonly description: string;
  /** Whether a larger value is better (for the study's reading; undefined: neither). */
  readonly higherIsBetter?: boolean;
}

export const SYSTEM_METRICS: readonly MetricInfo[] = [
  { name: 'utilisation', description: 'physical CPU busy time over capacity', higherIsBetter: true },
  { name: 'jain', description: "Jain's fairness index of share / entitlement over VMs", higherIsBetter: true },
  { name: 'wake_p50_us', description: 'wake-up latency, median (us)', higherIsBetter: false },
  { name: 'wake_p95_us', description: 'wake-up latency, 95th percentile (us)', higherIsBetter: false },
  { name: 'wake_p99_us', description: 'wake-up latency, 99th percentile (us)', higherIsBetter: false },
  { name: 'wake_max_us', description: 'wake-up latency, maximum (us)', higherIsBetter: false },
  { name: 'deadline_misses', description: 'real-time jobs that missed their deadline', higherIsBetter: false },
  { name: 'deadline_miss_ratio', description: 'missed / all real-time jobs', higherIsBetter: false },
  { name: 'rtds_misses', description: 'RTDS: vCPU periods that ended before the vCPU had its budget', higherIsBetter: false },
  { name: 'steal', description: 'time runnable but not running, over vCPU time', higherIsBetter: false },
  { name: 'context_switches', description: 'dispatches of vCPUs', higherIsBetter: undefined },
  { name: 'migrations', description: 'dispatches on another physical CPU than the last', higherIsBetter: false },
  { name: 'work_units', description: 'units of work reported by the guests (requests, bursts, critical sections)', higherIsBetter: true },
  { name: 'work_ms', description: "guest 'work' retired (ms)", higherIsBetter: true },
];

export const VM_METRICS: readonly MetricInfo[] = [
  { name: 'share', description: 'CPU time over run time (physical CPUs)' },
  { name: 'entitlement', description: 'weight-proportional share of the host (physical CPUs)' },
  { name: 'wake_p99_us', description: 'wake-up latency, 99th percentile (us)', higherIsBetter: false },
  { name: 'steal', description: 'time runnable but not running, over the VM vCPU time', higherIsBetter: false },
  { name: 'deadline_misses', description: 'missed real-time jobs', higherIsBetter: false },
  { name: 'rtds_misses', description: 'RTDS: periods of its vCPUs that ended before they had their budget', higherIsBetter: false },
  { name: 'work_units', description: 'units of work reported', higherIsBetter: true },
  { name: 'work_ms', description: "guest 'work' retired (ms)", higherIsBetter: true },
];

export function flattenMetrics(metrics: RunMetrics): Record<string, number> {
  const system = metrics.system;
  const out: Record<string, number> = {
    utilisation: system.utilisation,
    jain: system.jainIndex,
    wake_p50_us: system.wakeLatency.p50Us,
    wake_p95_us: system.wakeLatency.p95Us,
    wake_p99_us: system.wakeLatency.p99Us,
    wake_max_us: system.wakeLatency.maxUs,
    deadline_misses: system.deadlineMisses,
    deadline_miss_ratio: system.deadlineMissRatio,
    rtds_misses: system.serverMisses,
    steal: system.stealFraction,
    context_switches: system.contextSwitches,
    migrations: system.migrations,
    work_units: system.workUnits,
    work_ms: system.workNs / 1e6,
  };
  for (const vm of metrics.vms) {
    out[`${vm.name}.share`] = vm.share;
    out[`${vm.name}.entitlement`] = vm.entitlement;
    out[`${vm.name}.wake_p99_us`] = vm.wakeLatency.p99Us;
    out[`${vm.name}.steal`] = vm.stealFraction;
    out[`${vm.name}.deadline_misses`] = vm.deadlineMisses;
    out[`${vm.name}.rtds_misses`] = vm.serverMisses;
    out[`${vm.name}.work_units`] = vm.workUnits;
    out[`${vm.name}.work_ms`] = vm.workNs / 1e6;
  }
  return out;
}
