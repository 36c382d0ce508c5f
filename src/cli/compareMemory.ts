/**
 * `vmmsim compare --memory swap,sharing,ballooning,all`: how an overcommitted host reclaims
 * memory, measured. The same scenario (default examples/memory.yaml) runs once on a host with
 * memory for every VM (the reference: no reclaim), then overcommitted with each way of reclaiming:
 *
 *   swap        demand paging, and host swapping of the faulting VM's pages when frames run out
 *   sharing     the same, with page sharing (identical pages merged, copy on write)
 *   ballooning  the same, with the host inflating the balloon drivers' balloons under pressure
 *   all         sharing and ballooning (ESX's order: share, balloon, swap)
 *
 * It prints what the host's memory manager did (pages backed on first touch, swapped out and in,
 * merged, copy-on-write breaks, frames back from balloons) and when each VM finished, against
 * the reference.
 */
import { Simulation } from '../actors/simulation.js';
import type { BallooningSpec, PageSharingSpec, Scenario } from '../core/scenario/schema.js';
import { parseList } from './compareArch.js';
import { alignColumns, formatCount, formatNs } from './format.js';
import { PACKAGE_ROOT, loadScenarioFile, withGuestErrors } from './scenarioFile.js';
import { join } from 'node:path';

export const MEMORY_MODES = ['swap', 'sharing', 'ballooning', 'all'] as const;
export type MemoryMode = (typeof MEMORY_MODES)[number];

/** Used when the scenario does not set them (the figures of docs/architectures.md). */
const DEFAULT_SHARING: PageSharingSpec = { intervalNs: 500_000, pagesPerScan: 64 };
const DEFAULT_BALLOONING: BallooningSpec = { belowFraction: 0.1, stepPages: 32, intervalNs: 500_000 };

export interface MemoryRow {
  /** `enough memory` (the reference), or the mode. */
  readonly config: string;
  readonly frames: number;
  readonly demandPages: number;
  readonly swapOuts: number;
  readonly swapIns: number;
  readonly merges: number;
  readonly cowBreaks: number;
  readonly balloonedFrames: number;
  /** Virtual time each VM ended at (null: it did not end in the run), by name. */
  readonly ended: Readonly<Record<string, number | null>>;
  /** Each VM's state at the end of the run. */
  readonly states: Readonly<Record<string, string>>;
}

const MiB = 1024 * 1024;

function configure(base: Scenario, mode: MemoryMode | 'reference'): Scenario {
  const { pageSharing, ballooning, overcommit: _overcommit, ...host } = base.host;
  if (mode === 'reference') {
    const needed = base.vms.reduce((sum, vm) => sum + vm.memoryBytes, 0);
    return { ...base, host: { ...host, memoryBytes: Math.max(base.host.memoryBytes, Math.ceil(needed / MiB) * MiB) } };
  }
  const sharing = mode === 'sharing' || mode === 'all';
  const balloons = mode === 'ballooning' || mode === 'all';
  return {
    ...base,
    host: {
      ...host,
      overcommit: true,
      ...(sharing ? { pageSharing: pageSharing ?? DEFAULT_SHARING } : {}),
      ...(balloons ? { ballooning: ballooning ?? DEFAULT_BALLOONING } : {}),
    },
  };
}

export function compareMemory(path: string | undefined, modesList: string): MemoryRow[] {
  const modes = parseList(modesList, MEMORY_MODES, '--memory', [], 'mode ');
  const loaded = loadScenarioFile(path ?? join(PACKAGE_ROOT, 'examples', 'memory.yaml'));
  const configs: (MemoryMode | 'reference')[] = ['reference', ...modes];
  return configs.map((mode) => {
    const scenario = configure(loaded.scenario, mode);
    const ended: Record<string, number | null> = Object.fromEntries(scenario.vms.map((vm) => [vm.name, null]));
    const simulation = withGuestErrors(
      () =>
        new Simulation({
          scenario,
          readProgram: loaded.readProgram,
          scenarioFile: loaded.file,
          sink: (event) => {
            if (event.type === 'vm.stopped' || event.type === 'vm.crashed') ended[event.src.slice(3)] = event.t;
          },
        }),
    );
    const summary = simulation.run();
    const memory = summary.memory;
    return {
      config: mode === 'reference' ? 'enough memory' : mode,
      frames: simulation.host.memory.frameCount,
      demandPages: memory?.demandPages ?? 0,
      swapOuts: memory?.swapOuts ?? 0,
      swapIns: memory?.swapIns ?? 0,
      merges: memory?.merges ?? 0,
      cowBreaks: memory?.cowBreaks ?? 0,
      balloonedFrames: memory?.balloonedFrames ?? 0,
      ended,
      states: Object.fromEntries(summary.vms.map((vm) => [vm.name, vm.state])),
    };
  });
}

/** A table whose first column is left-aligned and the others right-aligned. */
function table(rows: readonly string[][]): string {
  const [header, ...body] = rows;
  const aligned = alignColumns(header, body, new Set(header.map((_, column) => column).filter((column) => column > 0)));
  return [aligned.header, aligned.rule, ...aligned.rows].join('\n');
}

export function memoryTable(rows: readonly MemoryRow[]): string {
  const reference = rows[0];
  const vms = Object.keys(reference.ended);
  const host = [
    ['config', 'frames', 'backed on first touch', 'swapped out', 'swapped in', 'merged', 'copy-on-write', 'from balloons'],
    ...rows.map((row) => [
      row.config,
      formatCount(row.frames),
      row.config === 'enough memory' ? '-' : formatCount(row.demandPages),
      formatCount(row.swapOuts),
      formatCount(row.swapIns),
      formatCount(row.merges),
      formatCount(row.cowBreaks),
      formatCount(row.balloonedFrames),
    ]),
  ];
  // When each VM ended, and how much later than with memory enough.
  const ended = [
    ['config', ...vms.map((name) => `${name} ended`)],
    ...rows.map((row) => [
      row.config,
      ...vms.map((name) => {
        const at = row.ended[name];
        if (at === null) return row.states[name];
        const ref = reference.ended[name];
        const ratio = ref === null || ref === 0 ? '' : ` (${(at / ref).toFixed(2)}x)`;
        return `${formatNs(at)}${ratio}${row.states[name] === 'crashed' ? ' crashed' : ''}`;
      }),
    ]),
  ];
  return `${table(host)}\n\n${table(ended)}`;
}

export function memoryCompareCommand(path: string | undefined, modes: string, json: boolean, out: { write(text: string): void }): MemoryRow[] {
  const rows = compareMemory(path, modes);
  out.write(json ? JSON.stringify(rows, null, 2) + '\n' : memoryTable(rows) + '\n');
  return rows;
}
