/**
 * Several hosts in one scenario (issue 16): `hosts:` names physical machines, each with its own
 * physical CPUs, memory and scheduler, and `links:` joins two of them with a bandwidth and a
 * latency (what a live migration's pages cross). A VM names its host with `host:`.
 *
 * How it is modelled (docs/migration.md): the hosts are partitions of one simulated machine, as
 * Xen's cpupools are (src/actors/scheduler/cpupool.ts). Each host owns a consecutive range of the
 * physical CPUs (host 0 the first ones) and runs its own scheduler on them, and each host owns a
 * range of the host frames; a VM leaves its host only by migration. The loader folds `hosts:` into
 * the cpupool form (one pool per host, a VM's pool its host) so the existing machinery runs it,
 * and keeps `hosts`/`links` in the resolved scenario for migration and the log's header.
 *
 * Each host has its own type (`hosts[].type`, default host.type) and Type 2 host load
 * (`hosts[].load`, default host.load): a Type 2 host's CPUs pay the host OS's costs and a Type 1
 * host's do not, in the same run (src/actors/monitor/hostOs.ts). The resolved entry carries
 * `type` and `load` only where they differ from host.type and host.load, so a scenario whose hosts
 * all have the scenario's type resolves (and logs) as before these keys.
 *
 * Each host may have its own topology (`hosts[].topology`: sockets, cores, threads over its own
 * pCPUs numbered from 0): its scheduler sees it as a single host's does (credit's SMT-aware pick,
 * credit2's run queues by socket, core scheduling by `hosts[].scheduler.granularity`).
 *
 * What is not available with several hosts yet, and refused by the loader with the reason:
 * host.topology (each host gives its own), NUMA nodes, page sharing, overcommit, a driver domain,
 * cpupools, cpupool moves (`pool:` inputs), and a host type under host.type bare (a bare machine
 * has no hypervisor).
 */
import { z } from 'zod';
import type { TopologySpec } from './schema.js';

/** One host of a several-host scenario, resolved. */
export interface HostEntrySpec {
  readonly name: string;
  /** Its physical CPUs, global indices (a consecutive range: host 0 the first ones). */
  readonly pcpus: readonly number[];
  readonly memoryBytes: number;
  /** Its hypervisor type, when it is not the scenario's host.type (absent: host.type). */
  readonly type?: 'type1' | 'type2';
  /** Type 2: the share of each of its CPUs the host OS's processes take, when it is not host.load (absent: host.load). */
  readonly load?: number;
  /** Its sockets, cores and threads over its own pCPUs numbered from 0 (no NUMA nodes); absent: one socket of single-thread cores. */
  readonly topology?: TopologySpec;
}

/** A link between two hosts, resolved. */
export interface LinkSpec {
  readonly between: readonly [string, string];
  readonly bandwidthBytesPerSecond: number;
  readonly latencyNs: number;
}

export const LINK_DEFAULTS = Object.freeze({ bandwidthBytesPerSecond: 125_000_000, latencyNs: 100_000 });
export const BANDWIDTH_LIMITS = Object.freeze({ min: 1_000, max: 1_000_000_000_000 });
export const HOST_NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

const BANDWIDTH_UNITS: Readonly<Record<string, number>> = {
  'bit/s': 1 / 8,
  'kbit/s': 1_000 / 8,
  'mbit/s': 1_000_000 / 8,
  'gbit/s': 1_000_000_000 / 8,
  'b/s': 1,
  'kb/s': 1_000,
  'mb/s': 1_000_000,
  'gb/s': 1_000_000_000,
  'kib/s': 1_024,
  'mib/s': 1_048_576,
  'gib/s': 1_073_741_824,
};

/** Why a value is not a bandwidth within the limits. */
function bandwidthMessage(value: unknown): string {
  return `expected a bandwidth from 1000 B/s to 1000000000000 B/s: bytes per second as an integer, or a number with a unit such as 1Gbit/s, 100Mbit/s, 125MB/s, 64MiB/s; got ${JSON.stringify(value)}`;
}

/** Bytes per second of a bandwidth written as an integer (bytes/s) or with a unit; undefined when it is not one. */
export function parseBandwidth(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+\/s)\s*$/.exec(value);
  if (match === null) return undefined;
  const unit = BANDWIDTH_UNITS[match[2].toLowerCase()];
  if (unit === undefined) return undefined;
  // Bytes per second are kept whole: 1 bit/s is not a unit a migration crosses.
  return Math.round(Number(match[1]) * unit);
}

/** The zod schema of a bandwidth (bytes per second out). */
export function bandwidthSchema() {
  const { min, max } = BANDWIDTH_LIMITS;
  return z.union([z.number(), z.string()], { error: (issue) => bandwidthMessage(issue.input) }).transform((value, ctx) => {
    const bytes = parseBandwidth(value);
    if (bytes === undefined || bytes < min || bytes > max) {
      ctx.addIssue({ code: 'custom', message: bandwidthMessage(value), input: value });
      return z.NEVER;
    }
    return bytes;
  });
}

/** The parsed form of one host and one link (what the source schema outputs). */
export interface ParsedHost {
  readonly name: string;
  readonly pcpus: number;
  readonly memory: number;
  readonly type?: string | undefined;
  readonly load?: number | undefined;
  readonly scheduler?: unknown;
  readonly topology?: TopologySpec | undefined;
}
export interface ParsedLink {
  readonly between: readonly string[];
  readonly bandwidth: number;
  readonly latency: number;
}

export interface HostsIssue {
  readonly path: (string | number)[];
  readonly message: string;
  readonly at: 'key' | 'value';
}

/** Keys of `host:` that are per host with several hosts, or not available with them. */
const HOST_KEYS_REFUSED: Readonly<Record<string, string>> = {
  pcpus: 'each host names its own pcpus under hosts:',
  memory: 'each host names its own memory under hosts:',
  topology: 'each host gives its own topology under hosts: (hosts[].topology)',
  pageSharing: 'page sharing is not available with several hosts yet',
  overcommit: 'memory overcommit is not available with several hosts yet',
  ballooning: 'host-driven ballooning is not available with several hosts yet',
  driverDomain: 'a driver domain is not available with several hosts yet',
};

/**
 * Checks of a raw scenario with `hosts:` (or a VM with `host:` without them), by path: what the
 * several-host model refuses, unknown and duplicate hosts, links between declared hosts.
 */
export function checkHosts(raw: Record<string, unknown>, hostType: string): HostsIssue[] {
  const issues: HostsIssue[] = [];
  const hosts = raw.hosts;
  const vms = Array.isArray(raw.vms) ? (raw.vms as unknown[]) : [];
  const names: string[] = Array.isArray(hosts) ? hosts.map((host) => (isRecord(host) && typeof host.name === 'string' ? host.name : '')) : [];
  if (hosts === undefined) {
    vms.forEach((vm, i) => {
      if (isRecord(vm) && Object.hasOwn(vm, 'host')) issues.push({ path: ['vms', i, 'host'], message: 'the scenario declares no hosts: add a hosts: section naming this host, or leave host out', at: 'key' });
    });
    if (Object.hasOwn(raw, 'links')) issues.push({ path: ['links'], message: 'links: join hosts declared under hosts:, and the scenario declares none', at: 'key' });
    const inputs = Array.isArray(raw.inputs) ? (raw.inputs as unknown[]) : [];
    inputs.forEach((input, i) => {
      if (isRecord(input) && Object.hasOwn(input, 'migrate')) issues.push({ path: ['inputs', i, 'migrate'], message: 'a migration needs several hosts: declare them under hosts:', at: 'key' });
    });
    return issues;
  }
  if (!Array.isArray(hosts)) return issues;
  if (Object.hasOwn(raw, 'cpupools')) issues.push({ path: ['cpupools'], message: 'cpupools are not available with several hosts yet: each host is one pool of its own CPUs', at: 'key' });
  const host = raw.host;
  if (isRecord(host)) {
    for (const [key, why] of Object.entries(HOST_KEYS_REFUSED)) if (Object.hasOwn(host, key)) issues.push({ path: ['host', key], message: `with hosts:, ${why}`, at: 'key' });
  }
  const granularity = isRecord(raw.scheduler) ? raw.scheduler.granularity : undefined;
  if (granularity === 'core' || granularity === 'socket') {
    issues.push({ path: ['scheduler', 'granularity'], message: `with hosts:, each host's scheduler gives its granularity with its topology (hosts[].scheduler.granularity, hosts[].topology)`, at: 'value' });
  }
  hosts.forEach((entry, i) => {
    if (!isRecord(entry)) return;
    const first = names.indexOf(names[i]);
    if (names[i] !== '' && first !== i) issues.push({ path: ['hosts', i, 'name'], message: `duplicate host name '${names[i]}' (already used by hosts[${first}])`, at: 'value' });
    const topology = entry.topology;
    const granularity = isRecord(entry.scheduler) ? entry.scheduler.granularity : undefined;
    if ((granularity === 'core' || granularity === 'socket') && !isRecord(topology)) {
      issues.push({ path: ['hosts', i, 'scheduler', 'granularity'], message: `granularity ${granularity} needs the host's topology (hosts[].topology: which threads share a core, which cores a socket)`, at: 'value' });
    }
    if (isRecord(topology)) {
      for (const key of ['nodes', 'remoteSlowdown']) {
        if (Object.hasOwn(topology, key)) issues.push({ path: ['hosts', i, 'topology', key], message: 'NUMA nodes are not available with several hosts yet: give sockets, coresPerSocket and threadsPerCore alone', at: 'key' });
      }
      const { sockets, coresPerSocket, threadsPerCore } = topology;
      if (typeof sockets === 'number' && typeof coresPerSocket === 'number' && typeof threadsPerCore === 'number' && typeof entry.pcpus === 'number' && sockets * coresPerSocket * threadsPerCore !== entry.pcpus) {
        issues.push({
          path: ['hosts', i, 'topology'],
          message: `sockets x coresPerSocket x threadsPerCore is ${sockets} x ${coresPerSocket} x ${threadsPerCore} = ${sockets * coresPerSocket * threadsPerCore}, but the host's pcpus is ${entry.pcpus}: they must be equal`,
          at: 'key',
        });
      }
    }
    for (const key of ['type', 'load']) {
      if (hostType === 'bare' && Object.hasOwn(entry, key)) {
        issues.push({ path: ['hosts', i, key], message: `host.type is bare (no hypervisor on any host): leave ${key} out, or set host.type to type1 or type2`, at: 'key' });
      }
    }
  });
  const unknownHost = (name: unknown) => `unknown host '${String(name)}' (expected one of: ${names.join(', ')})`;
  vms.forEach((vm, i) => {
    if (!isRecord(vm)) return;
    if (Object.hasOwn(vm, 'pool')) issues.push({ path: ['vms', i, 'pool'], message: 'with hosts:, a VM names its host (host:), not a cpupool', at: 'key' });
    if (Object.hasOwn(vm, 'host') && !names.includes(vm.host as string)) issues.push({ path: ['vms', i, 'host'], message: unknownHost(vm.host), at: 'value' });
  });
  const inputs = Array.isArray(raw.inputs) ? (raw.inputs as unknown[]) : [];
  inputs.forEach((input, i) => {
    if (isRecord(input) && Object.hasOwn(input, 'pool')) issues.push({ path: ['inputs', i, 'pool'], message: 'with hosts:, a VM changes host only by migration (migrate:), not by a cpupool move', at: 'key' });
    const migrate = isRecord(input) ? input.migrate : undefined;
    if (isRecord(migrate) && !names.includes(migrate.to as string)) issues.push({ path: ['inputs', i, 'migrate', 'to'], message: unknownHost(migrate.to), at: 'value' });
  });
  const links = Array.isArray(raw.links) ? (raw.links as unknown[]) : [];
  const seen = new Map<string, number>();
  links.forEach((link, i) => {
    if (!isRecord(link) || !Array.isArray(link.between)) return;
    const [a, b] = link.between as unknown[];
    for (const [j, end] of [a, b].entries()) if (!names.includes(end as string)) issues.push({ path: ['links', i, 'between', j], message: unknownHost(end), at: 'value' });
    if (a === b) issues.push({ path: ['links', i, 'between'], message: `a link joins two different hosts, got '${String(a)}' twice`, at: 'value' });
    const key = [String(a), String(b)].sort().join('\u0000');
    const first = seen.get(key);
    if (first !== undefined) issues.push({ path: ['links', i, 'between'], message: `hosts '${String(a)}' and '${String(b)}' are already linked by links[${first}]`, at: 'value' });
    else seen.set(key, i);
  });
  return issues;
}

/** Each host's physical CPUs: consecutive global indices, host 0 first. */
export function hostPcpus(hosts: readonly { readonly pcpus: number }[]): number[][] {
  let next = 0;
  return hosts.map((host) => {
    const pcpus = Array.from({ length: host.pcpus }, (_, index) => next + index);
    next += host.pcpus;
    return pcpus;
  });
}

/** The link between two hosts, if any (either direction). */
export function linkBetween(links: readonly LinkSpec[] | undefined, a: string, b: string): LinkSpec | undefined {
  return links?.find((link) => (link.between[0] === a && link.between[1] === b) || (link.between[0] === b && link.between[1] === a));
}

export function linksToSource(links: readonly LinkSpec[]): Record<string, unknown>[] {
  return links.map((link) => ({ between: [...link.between], bandwidth: link.bandwidthBytesPerSecond, latency: link.latencyNs }));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
