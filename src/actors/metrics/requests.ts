/**
 * Request metrics (docs/workloads.md, "Metrics"): measured from outside, from the bus, per
 * request kind, per VM and in total. A request's life is three events: its arrival (the input
 * record `input.request`), the start of its service (`req.started`) and its completion
 * (`req.done`) or refusal (`req.refused`). From them:
 *
 * - response time (arrival to completion; the sojourn time of a job), waiting time (arrival to
 *   start of service), service time as observed (start to completion: the demand plus what the
 *   server spent on others meanwhile under processor sharing, plus virtualization overhead);
 * - slowdown: response time over the request's demand (its size in work, or its disk time);
 * - throughput: completions per second of the run; refusals counted apart;
 * - number in system, waiting and in service over time, time-weighted (mean and maximum), and
 *   utilisation: the time-average of min(in service, servers) / servers;
 * - percentiles p50, p90, p99, p99.9 and the maximum from HDR histograms (hdr-histogram-js, 3
 *   significant digits: a percentile is within 0.1% of the exact order statistic); means and
 *   standard deviations from exact running sums.
 *
 * Memory is bounded: histograms have a fixed size, and only requests in flight are remembered
 * (at most the queues' depths plus those in service), so a run of any number of requests keeps
 * a flat footprint.
 */
import * as hdr from 'hdr-histogram-js';
import type { EventBus } from '../../core/bus.js';
import type { EventOf } from '../../core/events.js';

/** Values above an hour (in ns) are clamped (counted at the histogram's top). */
const HIGHEST_NS = 3_600_000_000_000;
/** Slowdowns are recorded in thousandths. */
const SLOWDOWN_SCALE = 1000;

export interface Distribution {
  readonly count: number;
  readonly mean: number;
  readonly sd: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export interface RequestStats {
  readonly arrivals: number;
  readonly completed: number;
  readonly refused: number;
  /** Arrived and neither completed nor refused when the run ended. */
  readonly inFlight: number;
  /** Completions per second of virtual time. */
  readonly throughputPerS: number;
  /** Arrivals per second of virtual time (offered load, refused included). */
  readonly arrivalRatePerS: number;
  readonly responseUs: Distribution;
  readonly waitingUs: Distribution;
  readonly serviceUs: Distribution;
  readonly slowdown: Distribution;
  /** Time-weighted mean number in the system (waiting or in service), in the queue, and in service. */
  readonly meanInSystem: number;
  readonly meanWaiting: number;
  readonly meanInService: number;
  readonly maxInSystem: number;
  /** Servers assumed for the utilisation (workers for cpu jobs, 1 for a disk). */
  readonly servers: number;
  readonly utilisation: number;
}

export interface VmRequestStats {
  readonly total: RequestStats;
  readonly kinds: Readonly<Record<string, RequestStats>>;
}

export interface RequestMetricsReport {
  readonly timeNs: number;
  readonly total: RequestStats;
  readonly vms: Readonly<Record<string, VmRequestStats>>;
}

class Sums {
  count = 0;
  sum = 0;
  squares = 0;
  readonly histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_NS, numberOfSignificantValueDigits: 3, useWebAssembly: false });

  add(value: number, recorded: number): void {
    this.count++;
    this.sum += value;
    this.squares += value * value;
    this.histogram.recordValue(Math.min(HIGHEST_NS, Math.max(1, Math.round(recorded))));
  }

  distribution(scale: number): Distribution {
    const n = this.count;
    if (n === 0) return { count: 0, mean: 0, sd: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
    const mean = this.sum / n;
    const variance = n > 1 ? Math.max(0, (this.squares - n * mean * mean) / (n - 1)) : 0;
    const h = this.histogram;
    return {
      count: n,
      mean: mean / scale,
      sd: Math.sqrt(variance) / scale,
      p50: h.getValueAtPercentile(50) / scale,
      p90: h.getValueAtPercentile(90) / scale,
      p99: h.getValueAtPercentile(99) / scale,
      p999: h.getValueAtPercentile(99.9) / scale,
      max: h.maxValue / scale,
    };
  }
}

/** One population of requests (a kind of a VM, a VM, all): counts, distributions, time-weighted areas. */
class Track {
  arrivals = 0;
  completed = 0;
  refused = 0;
  readonly response = new Sums();
  readonly waiting = new Sums();
  readonly service = new Sums();
  readonly slowdown = new Sums();
  inSystem = 0;
  inService = 0;
  maxInSystem = 0;
  private last = 0;
  private areaSystem = 0;
  private areaService = 0;
  private areaBusy = 0;

  constructor(readonly servers: number) {}

  advance(t: number): void {
    const dt = t - this.last;
    if (dt > 0) {
      this.areaSystem += this.inSystem * dt;
      this.areaService += this.inService * dt;
      this.areaBusy += Math.min(this.inService, this.servers) * dt;
    }
    this.last = t;
  }

  stats(timeNs: number): RequestStats {
    this.advance(timeNs);
    const seconds = timeNs / 1e9;
    const per = (value: number) => (timeNs > 0 ? value / timeNs : 0);
    return {
      arrivals: this.arrivals,
      completed: this.completed,
      refused: this.refused,
      inFlight: this.inSystem,
      throughputPerS: seconds > 0 ? this.completed / seconds : 0,
      arrivalRatePerS: seconds > 0 ? this.arrivals / seconds : 0,
      responseUs: this.response.distribution(1000),
      waitingUs: this.waiting.distribution(1000),
      serviceUs: this.service.distribution(1000),
      slowdown: this.slowdown.distribution(SLOWDOWN_SCALE),
      meanInSystem: per(this.areaSystem),
      meanWaiting: per(this.areaSystem - this.areaService),
      meanInService: per(this.areaService),
      maxInSystem: this.maxInSystem,
      servers: this.servers,
      utilisation: per(this.areaBusy) / this.servers,
    };
  }
}

interface InFlight {
  readonly tracks: readonly Track[];
  readonly arrivalNs: number;
  startNs: number;
  demandNs: number;
}

interface VmTracks {
  readonly total: Track;
  readonly kinds: Map<string, Track>;
  readonly inFlight: Map<number, InFlight>;
}

/** How many servers serve a VM's requests of a kind (for the utilisation). */
export type ServerCount = (vm: string, kind: string) => number;

export class RequestMetrics {
  private readonly total: Track;
  private readonly vms = new Map<string, VmTracks>();

  constructor(
    bus: EventBus,
    private readonly servers: ServerCount = () => 1,
  ) {
    this.total = new Track(1);
    bus.on('input.request', (event) => this.onArrival(event));
    bus.on('req.started', (event) => this.onStarted(event));
    bus.on('req.done', (event) => this.onDone(event));
    bus.on('req.refused', (event) => this.onRefused(event));
  }

  private vm(name: string): VmTracks {
    let tracks = this.vms.get(name);
    if (tracks === undefined) {
      tracks = { total: new Track(1), kinds: new Map(), inFlight: new Map() };
      this.vms.set(name, tracks);
    }
    return tracks;
  }

  private onArrival(event: EventOf<'input.request'>): void {
    const name = vmName(event.src);
    const vm = this.vm(name);
    let kind = vm.kinds.get(event.data.kind);
    if (kind === undefined) {
      kind = new Track(Math.max(1, this.servers(name, event.data.kind)));
      vm.kinds.set(event.data.kind, kind);
    }
    const tracks = [kind, vm.total, this.total];
    for (const track of tracks) {
      track.advance(event.t);
      track.arrivals++;
      track.inSystem++;
      if (track.inSystem > track.maxInSystem) track.maxInSystem = track.inSystem;
    }
    vm.inFlight.set(event.data.id, { tracks, arrivalNs: event.t, startNs: -1, demandNs: event.data.size });
  }

  private onStarted(event: EventOf<'req.started'>): void {
    const request = this.vm(vmName(event.src)).inFlight.get(event.data.id);
    if (request === undefined || request.startNs >= 0) return;
    request.startNs = event.t;
    request.demandNs = event.data.serviceNs;
    for (const track of request.tracks) {
      track.advance(event.t);
      track.inService++;
    }
  }

  private onDone(event: EventOf<'req.done'>): void {
    const vm = this.vm(vmName(event.src));
    const request = vm.inFlight.get(event.data.id);
    if (request === undefined) return;
    vm.inFlight.delete(event.data.id);
    const t = event.t;
    const start = request.startNs >= 0 ? request.startNs : t;
    const response = t - request.arrivalNs;
    const slowdown = request.demandNs > 0 ? response / request.demandNs : 1;
    for (const track of request.tracks) {
      track.advance(t);
      track.inSystem--;
      if (request.startNs >= 0) track.inService--;
      track.completed++;
      track.response.add(response, response);
      track.waiting.add(start - request.arrivalNs, start - request.arrivalNs);
      track.service.add(t - start, t - start);
      track.slowdown.add(slowdown * SLOWDOWN_SCALE, slowdown * SLOWDOWN_SCALE);
    }
  }

  private onRefused(event: EventOf<'req.refused'>): void {
    const vm = this.vm(vmName(event.src));
    const request = vm.inFlight.get(event.data.id);
    if (request === undefined) return;
    vm.inFlight.delete(event.data.id);
    for (const track of request.tracks) {
      track.advance(event.t);
      track.inSystem--;
      if (request.startNs >= 0) track.inService--;
      track.refused++;
    }
  }

  /** Requests remembered now (in flight): bounded by the queues. */
  get inFlight(): number {
    let count = 0;
    for (const vm of this.vms.values()) count += vm.inFlight.size;
    return count;
  }

  /** The metrics at virtual time `timeNs` (the end of the run). */
  finish(timeNs: number): RequestMetricsReport {
    const vms: Record<string, VmRequestStats> = {};
    for (const name of [...this.vms.keys()].sort()) {
      const vm = this.vms.get(name) as VmTracks;
      const kinds: Record<string, RequestStats> = {};
      for (const kind of [...vm.kinds.keys()].sort()) kinds[kind] = (vm.kinds.get(kind) as Track).stats(timeNs);
      vms[name] = { total: vm.total.stats(timeNs), kinds };
    }
    return { timeNs, total: this.total.stats(timeNs), vms };
  }
}

function vmName(src: string): string {
  return src.split('/')[1];
}

/** Request metrics as flat columns for compare, sweep and CSV: `req_*` in total, `<vm>.req_*`, `<vm>.<kind>.req_*`. */
export function flattenRequestMetrics(report: RequestMetricsReport | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (report === undefined || report.total.arrivals === 0) return out;
  const put = (prefix: string, stats: RequestStats) => {
    out[`${prefix}req_throughput_per_s`] = stats.throughputPerS;
    out[`${prefix}req_refused`] = stats.refused;
    for (const [name, distribution] of [
      ['response', stats.responseUs],
      ['waiting', stats.waitingUs],
      ['service', stats.serviceUs],
    ] as const) {
      out[`${prefix}req_${name}_mean_us`] = distribution.mean;
      out[`${prefix}req_${name}_p50_us`] = distribution.p50;
      out[`${prefix}req_${name}_p90_us`] = distribution.p90;
      out[`${prefix}req_${name}_p99_us`] = distribution.p99;
      out[`${prefix}req_${name}_p999_us`] = distribution.p999;
      out[`${prefix}req_${name}_max_us`] = distribution.max;
    }
    out[`${prefix}req_slowdown_mean`] = stats.slowdown.mean;
    out[`${prefix}req_slowdown_p99`] = stats.slowdown.p99;
    out[`${prefix}req_in_system_mean`] = stats.meanInSystem;
    out[`${prefix}req_waiting_mean`] = stats.meanWaiting;
    out[`${prefix}req_in_system_max`] = stats.maxInSystem;
    out[`${prefix}req_utilisation`] = stats.utilisation;
  };
  put('', report.total);
  for (const [name, vm] of Object.entries(report.vms)) {
    put(`${name}.`, vm.total);
    const kinds = Object.entries(vm.kinds);
    if (kinds.length > 1) for (const [kind, stats] of kinds) put(`${name}.${kind}.`, stats);
  }
  return out;
}

/**
 * The servers of each VM's requests under the bundled `server` guest: for cpu jobs its workers
 * (min(vcpus, WORKERS)), or 1 under processor sharing (QUANTUM_NS > 0, vCPU 0 serves); 1 for a disk.
 */
export function scenarioServers(vms: readonly { readonly name: string; readonly vcpus: number; readonly params: Readonly<Record<string, number>> }[]): ServerCount {
  const byName = new Map(vms.map((vm) => [vm.name, vm]));
  return (name, kind) => {
    const vm = byName.get(name);
    if (vm === undefined || kind !== 'cpu') return 1;
    if ((vm.params.QUANTUM_NS ?? 0) > 0) return 1;
    return Math.max(1, Math.min(vm.vcpus, vm.params.WORKERS ?? vm.vcpus));
  };
}
