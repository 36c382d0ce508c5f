/**
 * The metrics of a run, measured from outside the scheduler (docs/scheduling.md, "Metrics"):
 * a collector listens to the bus (wake-ups, dispatches, probe writes) and, at the end, reads
 * the actors' counters (CPU time, wait time, work done, busy time per physical CPU). Policies
 * report nothing themselves, so every policy is measured by the same ruler.
 *
 * - share: the VM's CPU time over the run time, in physical CPUs (1 = one whole CPU);
 * - entitlement: the VM's weight-proportional part of the host, water-filled so that no VM
 *   gets more than its vCPUs, its cap or its demand (the time its vCPUs were running or
 *   runnable) and what it leaves goes to the others by weight (max-min fairness);
 * - fairness: Jain's index over the VMs of share / entitlement (1 = perfectly proportional);
 * - wake-up latency: from `vcpu.runnable` (reason wake) to the next `vcpu.running` of that vCPU,
 *   streamed into an HDR histogram per VM (3 significant digits: percentiles within 0.1%, the
 *   maximum exact), so a run ten times longer keeps the same memory (no sample arrays);
 * - steal time: time runnable but not running (the vCPU's wait counter), as Linux guests report it;
 * - context switches: dispatches; migrations: dispatches on another CPU than the previous one;
 * - deadline misses and work units: probe writes of the workloads (src/guests/workloads.ts);
 * - work completed: ns of `work` the guests retired.
 */
import { build, type Histogram } from 'hdr-histogram-js';
import type { EventBus } from '../../core/bus.js';
import { PROBE_DONE, PROBE_MET, PROBE_MISSED, PROBE_PORT } from '../../guests/workloads.js';
import type { Simulation } from '../simulation.js';

interface VcpuTrack {
  wokeAt: number;
  lastPcpu: number;
}

interface VmTrack {
  readonly latencies: Histogram;
  switches: number;
  migrations: number;
  jobs: number;
  misses: number;
  units: number;
}

export interface LatencyStats {
  readonly count: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p95Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
}

/**
 * A streaming latency histogram (ns): HDR, 3 significant digits, 32-bit counts, resized to the
 * largest value seen. Its size depends on the range of the values (a few tens of KiB up to
 * seconds), never on how many were recorded.
 */
export function latencyHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 2, numberOfSignificantValueDigits: 3, autoResize: true, bitBucketSize: 32, useWebAssembly: false });
}

export interface VmMetrics {
  readonly name: string;
  readonly vcpus: number;
  readonly weight: number;
  readonly cap: number;
  /** CPU time / run time, in physical CPUs. */
  readonly share: number;
  readonly entitlement: number;
  readonly wakeLatency: LatencyStats;
  readonly stealNs: number;
  readonly stealFraction: number;
  readonly contextSwitches: number;
  readonly migrations: number;
  readonly deadlineJobs: number;
  readonly deadlineMisses: number;
  /** RTDS: the periods of the VM's vCPUs that ended before they had their budget (0 under other policies). */
  readonly serverMisses: number;
  readonly workUnits: number;
  readonly workNs: number;
}

export interface SystemMetrics {
  readonly timeNs: number;
  readonly pcpus: number;
  readonly utilisation: number;
  readonly jainIndex: number;
  readonly wakeLatency: LatencyStats;
  readonly contextSwitches: number;
  readonly migrations: number;
  readonly deadlineJobs: number;
  readonly deadlineMisses: number;
  readonly deadlineMissRatio: number;
  /** RTDS: missed vCPU deadlines (periods that ended before the vCPU had its budget), all VMs. */
  readonly serverMisses: number;
  readonly stealFraction: number;
  readonly workUnits: number;
  readonly workNs: number;
}

export interface RunMetrics {
  readonly policy: string;
  readonly seed: number;
  readonly system: SystemMetrics;
  readonly vms: readonly VmMetrics[];
}

export class MetricsCollector {
  private readonly vcpus = new Map<string, VcpuTrack>();
  private readonly vms = new Map<string, VmTrack>();
  private readonly vmOfVcpu = new Map<string, VmTrack>();

  constructor(bus: EventBus, vmNames: readonly string[]) {
    for (const name of vmNames) this.vms.set(name, { latencies: latencyHistogram(), switches: 0, migrations: 0, jobs: 0, misses: 0, units: 0 });
    bus.on('vcpu.runnable', (event) => {
      if (event.data.reason === 'wake') this.track(event.src).wokeAt = event.t;
    });
    bus.on('vcpu.running', (event) => {
      const track = this.track(event.src);
      const vm = this.vmOf(event.src);
      if (track.wokeAt >= 0) {
        vm.latencies.recordValue(event.t - track.wokeAt);
        track.wokeAt = -1;
      }
      vm.switches++;
      if (track.lastPcpu >= 0 && track.lastPcpu !== event.data.pcpu) vm.migrations++;
      track.lastPcpu = event.data.pcpu;
    });
    bus.on('exit.io', (event) => {
      if (event.data.port !== PROBE_PORT || event.data.dir !== 'out') return;
      const vm = this.vmOf(event.src);
      if (event.data.value === PROBE_DONE) vm.units++;
      else if (event.data.value === PROBE_MET) vm.jobs++;
      else if (event.data.value === PROBE_MISSED) {
        vm.jobs++;
        vm.misses++;
      }
    });
  }

  private track(id: string): VcpuTrack {
    let track = this.vcpus.get(id);
    if (track === undefined) {
      track = { wokeAt: -1, lastPcpu: -1 };
      this.vcpus.set(id, track);
    }
    return track;
  }

  private vmOf(vcpuId: string): VmTrack {
    let vm = this.vmOfVcpu.get(vcpuId);
    if (vm === undefined) {
      const name = vcpuId.split('/')[1];
      vm = this.vms.get(name) as VmTrack;
      this.vmOfVcpu.set(vcpuId, vm);
    }
    return vm;
  }

  /** The metrics of the finished run. */
  finish(simulation: Simulation): RunMetrics {
    const timeNs = simulation.kernel.now;
    const pcpus = simulation.scenario.host.pcpus;
    const specs = simulation.scenario.vms;
    const policy = simulation.monitor.policy;
    // Demand: the time the VM's vCPUs wanted a CPU (running or runnable), in physical CPUs.
    const demands = simulation.vms.map((vm) => (timeNs > 0 ? vm.vcpus.reduce((sum, vcpu) => sum + vcpu.counters.cpuNs + vcpu.counters.waitNs, 0) / timeNs : 0));
    const entitlements = waterFill(
      pcpus,
      specs.map((spec, index) => ({
        weight: spec.sched.weight,
        limit: Math.min(spec.vcpus, spec.sched.cap > 0 ? spec.sched.cap / 100 : Number.POSITIVE_INFINITY, demands[index]),
      })),
    );
    const vms: VmMetrics[] = simulation.vms.map((vm, index) => {
      const spec = specs[index];
      const track = this.vms.get(vm.name) as VmTrack;
      let cpuNs = 0;
      let waitNs = 0;
      let workNs = 0;
      let serverMisses = 0;
      for (const vcpu of vm.vcpus) {
        serverMisses += policy.deadlineMisses?.(vcpu) ?? 0;
        cpuNs += vcpu.counters.cpuNs;
        waitNs += vcpu.counters.waitNs;
        workNs += vcpu.cpu.workNs;
      }
      return {
        name: vm.name,
        vcpus: spec.vcpus,
        weight: spec.sched.weight,
        cap: spec.sched.cap,
        share: timeNs > 0 ? cpuNs / timeNs : 0,
        entitlement: entitlements[index],
        wakeLatency: histogramStats(track.latencies),
        stealNs: waitNs,
        stealFraction: timeNs > 0 ? waitNs / (timeNs * spec.vcpus) : 0,
        contextSwitches: track.switches,
        migrations: track.migrations,
        deadlineJobs: track.jobs,
        deadlineMisses: track.misses,
        serverMisses,
        workUnits: track.units,
        workNs,
      };
    });
    const busyNs = simulation.monitor.pcpus.reduce((sum, pcpu) => sum + pcpu.busyNs, 0);
    const all = latencyHistogram();
    for (const track of this.vms.values()) all.add(track.latencies);
    const sum = (pick: (vm: VmMetrics) => number): number => vms.reduce((total, vm) => total + pick(vm), 0);
    const jobs = sum((vm) => vm.deadlineJobs);
    const misses = sum((vm) => vm.deadlineMisses);
    const vcpuCount = sum((vm) => vm.vcpus);
    return {
      policy: simulation.monitor.policy.name,
      seed: simulation.seed,
      system: {
        timeNs,
        pcpus,
        utilisation: timeNs > 0 ? busyNs / (timeNs * pcpus) : 0,
        jainIndex: jain(vms.map((vm) => (vm.entitlement > 0 ? vm.share / vm.entitlement : 0))),
        wakeLatency: histogramStats(all),
        contextSwitches: sum((vm) => vm.contextSwitches),
        migrations: sum((vm) => vm.migrations),
        deadlineJobs: jobs,
        deadlineMisses: misses,
        deadlineMissRatio: jobs > 0 ? misses / jobs : 0,
        serverMisses: sum((vm) => vm.serverMisses),
        stealFraction: timeNs > 0 && vcpuCount > 0 ? sum((vm) => vm.stealNs) / (timeNs * vcpuCount) : 0,
        workUnits: sum((vm) => vm.workUnits),
        workNs: sum((vm) => vm.workNs),
      },
      vms,
    };
  }
}

/** Jain's fairness index: (Σx)² / (n Σx²); 1 when all equal, 1/n when one takes all. */
export function jain(values: readonly number[]): number {
  if (values.length === 0) return 1;
  let sum = 0;
  let squares = 0;
  for (const value of values) {
    sum += value;
    squares += value * value;
  }
  return squares === 0 ? 1 : (sum * sum) / (values.length * squares);
}

/** Nearest-rank percentile of sorted values (0 for none). */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

/** The statistics of a set of latencies (ns), through the same histogram the collector streams into. */
export function latencyStats(latenciesNs: readonly number[]): LatencyStats {
  const histogram = latencyHistogram();
  for (const latency of latenciesNs) histogram.recordValue(latency);
  return histogramStats(histogram);
}

/**
 * Percentiles of a latency histogram in µs. HDR reports the highest value equivalent to the
 * percentile's bucket; it is clamped to the exact maximum, so a percentile never exceeds max.
 */
export function histogramStats(histogram: Histogram): LatencyStats {
  const count = histogram.totalCount;
  const max = count === 0 ? 0 : histogram.maxValue;
  const at = (percent: number): number => (count === 0 ? 0 : Math.min(histogram.getValueAtPercentile(percent), max) / 1000);
  return { count, p50Us: at(50), p90Us: at(90), p95Us: at(95), p99Us: at(99), p999Us: at(99.9), maxUs: max / 1000 };
}

/**
 * Shares `capacity` among claimants in proportion to weight, none above its limit; what a
 * limited claimant cannot take goes to the others (water-filling).
 */
export function waterFill(capacity: number, claimants: readonly { weight: number; limit: number }[]): number[] {
  const result = claimants.map(() => 0);
  let open = claimants.map((_, index) => index);
  let left = capacity;
  while (open.length > 0 && left > 1e-12) {
    const weight = open.reduce((sum, index) => sum + claimants[index].weight, 0);
    const saturated = open.filter((index) => result[index] + (left * claimants[index].weight) / weight >= claimants[index].limit);
    if (saturated.length === 0) {
      for (const index of open) result[index] += (left * claimants[index].weight) / weight;
      break;
    }
    for (const index of saturated) {
      left -= claimants[index].limit - result[index];
      result[index] = claimants[index].limit;
    }
    open = open.filter((index) => !saturated.includes(index));
  }
  return result;
}
