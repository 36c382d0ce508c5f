/** Two-host scenarios for the migration tests: one VM on host src, optionally migrated to dst. */
import { Simulation } from '../../src/actors/simulation.js';
import type { SimEvent } from '../../src/core/events.js';
import { loadScenario } from '../../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { LogWriter } from '../../src/core/log/writer.js';

export interface HostsRun {
  readonly simulation: Simulation;
  readonly events: SimEvent[];
  readonly lines: string[];
  readonly digest: string;
  readonly log: string;
}

/** A two-host scenario (src, dst) with one VM on src, optionally migrated at `migrateAt`. */
export function hostsYaml(options: {
  readonly guest: string;
  readonly vcpus?: number;
  readonly virt?: string;
  readonly params?: Record<string, number>;
  readonly memory?: string;
  readonly seed?: number;
  readonly migrate?: string;
  /** More keys of the migrate: map, as YAML (`downtimeLimit: 1ms, ...`). */
  readonly migrateOptions?: string;
  readonly bandwidth?: string;
  readonly latency?: string;
  readonly dstMemory?: string;
  readonly devices?: string;
  readonly time?: string;
  /** The hosts' types and loads (hosts[].type, hosts[].load); absent: host.type, type1. */
  readonly srcType?: string;
  readonly dstType?: string;
  readonly load?: number;
}): string {
  const vcpus = options.vcpus ?? 1;
  const params = Object.entries(options.params ?? {})
    .map(([key, value]) => `${key}: ${value}`)
    .join(', ');
  return [
    'name: m',
    `seed: ${options.seed ?? 1}`,
    'hosts:',
    `  - { name: src, pcpus: ${vcpus}, memory: 4MiB${hostKeys(options.srcType, options.load)} }`,
    `  - { name: dst, pcpus: ${vcpus}, memory: ${options.dstMemory ?? '4MiB'}${hostKeys(options.dstType, options.load)} }`,
    `links: [{ between: [src, dst], bandwidth: ${options.bandwidth ?? '1Gbit/s'}, latency: ${options.latency ?? '100us'} }]`,
    `run: { time: ${options.time ?? '1s'} }`,
    'vms:',
    `  - { name: g, guest: ${options.guest}, vcpus: ${vcpus}, memory: ${options.memory ?? '256KiB'}, virt: ${options.virt ?? 'full'}, params: { ${params} }${options.devices === undefined ? '' : `, devices: ${options.devices}`} }`,
    ...(options.migrate === undefined ? [] : ['inputs:', `  - { at: ${options.migrate}, vm: g, migrate: { to: dst${options.migrateOptions === undefined ? '' : `, ${options.migrateOptions}`} } }`]),
  ].join('\n');
}

function hostKeys(type: string | undefined, load: number | undefined): string {
  return `${type === undefined ? '' : `, type: ${type}`}${type === 'type2' && load !== undefined ? `, load: ${load}` : ''}`;
}

export function runYaml(text: string, sink?: (event: SimEvent, simulation: Simulation) => void): HostsRun {
  const scenario = loadScenario(text, { file: 'm.yaml', guests: BUNDLED_GUEST_NAMES });
  const events: SimEvent[] = [];
  let log = '';
  const built: { simulation?: Simulation } = {};
  const simulation = new Simulation({
    scenario,
    sink: (event) => {
      events.push(event);
      if (sink !== undefined && built.simulation !== undefined) sink(event, built.simulation);
    },
    log: new LogWriter((chunk) => (log += chunk)),
  });
  built.simulation = simulation;
  simulation.run();
  const vm = simulation.vms[0];
  const lines = events.filter((event) => event.type === 'console.output' && event.src === `${vm.id}/console`).map((event) => (event.data as { text: string }).text);
  return { simulation, events, lines, digest: vm.memoryDigest(), log };
}

