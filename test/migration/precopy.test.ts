/**
 * Live migration, pre-copy (src/actors/migration/migrator.ts, docs/migration.md):
 * - equivalence: a guest migrated mid-run prints exactly what it prints unmigrated and ends with
 *   the same memory digest (a fast-check property over bundled guests, techniques, seeds,
 *   migration times and the hosts' types, Type 2 to Type 1 and back; fast-check prints the seed
 *   and the case on failure);
 * - refusals: nothing lost, the VM keeps running;
 * - determinism: same seed, same log; the replay of a migrating run is identical;
 * - the rounds shrink and the VM ends on the destination's CPUs and frames.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SimEvent } from '../../src/core/events.js';
import { loadScenario } from '../../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { hostsYaml, runYaml, type HostsRun } from './helpers.js';
import { Simulation } from '../../src/actors/simulation.js';
import { EMPTY_STATE, foldEvents, openLog, stateFromCheckpoint } from '../../src/index.js';
import { readLog } from '../../src/core/log/reader.js';
import { fork } from '../../src/replay/fork.js';
import { PAGE_WORDS } from '../../src/core/platform.js';

function ofType<T extends SimEvent['type']>(run: HostsRun, type: T): Extract<SimEvent, { type: T }>[] {
  return run.events.filter((event) => event.type === type) as Extract<SimEvent, { type: T }>[];
}

/**
 * Bundled guests that power off on their own. `timeline`: the guest's final memory records where
 * on the time line its timer interrupts fell (the tiny kernel saves the interrupted task's
 * unfinished `work` in its save area), and migration costs guest-visible time (the dirty-tracking
 * faults, the TLB and shadow refills after each round's write protection, the dispatch on the
 * destination), as on real hardware: for those only the console output is compared after a
 * pre-copy, and after a post-copy (whose faults wait a round trip on the link each) only that the
 * guest ran to its end. `counts`: the guest's final memory holds the timer ticks it counted,
 * including those that land while it prints its last line; between hosts of different types
 * (a device access costs the trip through the host OS on one and not on the other) that line
 * takes another time to print, so only the console output is compared. A migration between a
 * Type 2 and a Type 1 host changes the tiny kernel's time line too: only that it ran to its end.
 */
const GUESTS: readonly { readonly name: string; readonly vcpus: number; readonly params?: Record<string, number>; readonly timeline?: boolean; readonly counts?: boolean }[] = [
  { name: 'kernel', vcpus: 1, timeline: true },
  { name: 'kernel-pv', vcpus: 1, timeline: true },
  { name: 'ticker', vcpus: 1, counts: true },
  { name: 'hello-pv', vcpus: 1 },
  { name: 'blk-emulated', vcpus: 1 },
  { name: 'mem-hungry', vcpus: 1, params: { PAGES: 40 } },
  { name: 'dirty-pages', vcpus: 1, params: { PAGES: 40, WRITES: 3000, WORK_NS: 2000 } },
  { name: 'smp-ipi', vcpus: 2, params: { VCPUS: 2 } },
];
const TECHNIQUES = ['full', 'para', 'hw', 'bt'] as const;
const RUNS = Number(process.env.MIGRATION_RUNS ?? 150);
/** The hosts' types: both host.type (type1), or a Type 2 host (a fifth of each CPU to its own processes) and a Type 1 one, either way. */
const HOST_TYPES: readonly { readonly srcType?: string; readonly dstType?: string; readonly load?: number }[] = [{}, { srcType: 'type2', dstType: 'type1', load: 0.2 }, { srcType: 'type1', dstType: 'type2', load: 0.2 }];

describe('pre-copy live migration', () => {
  it('a guest migrated (pre-copy or post-copy) prints what it prints unmigrated and ends with the same memory (property)', () => {
    const unmigrated = new Map<string, HostsRun>();
    let completed = 0;
    fc.assert(
      fc.property(fc.constantFrom(...GUESTS), fc.constantFrom(...TECHNIQUES), fc.integer({ min: 1, max: 900 }), fc.integer({ min: 1, max: 1000 }), fc.constantFrom('precopy', 'postcopy'), fc.constantFrom(...HOST_TYPES), (guest, virt, perMille, seed, mode, types) => {
        const base = { guest: guest.name, vcpus: guest.vcpus, virt, params: guest.params, seed, ...types };
        const key = JSON.stringify(base);
        let plain = unmigrated.get(key);
        if (plain === undefined) {
          plain = runYaml(hostsYaml(base));
          unmigrated.set(key, plain);
        }
        expect(plain.simulation.vms[0].state).toBe('shutoff');
        const at = Math.max(1, Math.floor((plain.simulation.kernel.now * perMille) / 1000));
        const migrated = runYaml(hostsYaml({ ...base, migrate: `${at}ns`, migrateOptions: `mode: ${mode}` }));
        if (guest.timeline === true && (mode === 'postcopy' || types.srcType !== undefined)) {
          // Post-copy's faults stall the vCPU for a round trip on the link each, and a move between
          // host types changes what each exit and wake-up costs (and a Type 2 host's processes
          // preempt the vCPU at other points of its time line): the tiny kernel's tasks, switched
          // by its timer, interleave their lines differently and count other ticks (guest-visible time).
          expect(migrated.simulation.vms[0].state).toBe('shutoff');
          return;
        }
        expect(migrated.lines).toEqual(plain.lines);
        if (guest.timeline !== true && (guest.counts !== true || types.srcType === undefined)) expect(migrated.digest).toBe(plain.digest);
        if (ofType(migrated, 'migration.completed').length > 0) completed++;
      }),
      { numRuns: RUNS },
    );
    // Most cases migrate before the guest ends (a case whose guest ends first is still checked).
    expect(completed).toBeGreaterThan(RUNS / 4);
  });

  it('re-sends the pages written during a round, ends on the destination, and nothing else changes', () => {
    const params = { PAGES: 50, WRITES: 3000, WORK_NS: 200_000 };
    const run = runYaml(hostsYaml({ guest: 'dirty-pages', params, migrate: '5ms', migrateOptions: 'downtimeLimit: 1ms, maxRounds: 4', bandwidth: '100Mbit/s' }));
    const [started] = ofType(run, 'migration.started');
    const rounds = ofType(run, 'migration.round');
    const [completed] = ofType(run, 'migration.completed');
    expect(started.data.pages).toBeGreaterThan(10);
    expect(rounds.map((round) => round.data.round)).toEqual([0, 1, 2, 3]);
    expect(ofType(run, 'migration.stopped-copy')[0].data.trigger).toBe('max-rounds');
    for (const round of rounds.slice(1)) expect(round.data.pagesSent).toBe(rounds[round.data.round - 1].data.pagesDirtied);
    expect(rounds[0].data.pagesDirtied).toBeGreaterThan(0);
    expect(completed.data.pagesResent).toBeGreaterThan(0);
    expect(completed.data.dirtyFaults).toBeGreaterThanOrEqual(rounds.reduce((sum, round) => sum + round.data.pagesDirtied, 0));
    // Downtime: the last dirty set, the state and the latency, under the default limit.
    expect(completed.data.downtimeNs).toBeLessThanOrEqual(300_000_000);
    // The VM ran on src's CPU before and on dst's after; its frames are in dst's range.
    const completedAt = completed.t;
    for (const event of ofType(run, 'vcpu.running')) expect(event.data.pcpu).toBe(event.t < completedAt ? 0 : 1);
    const vm = run.simulation.vms[0];
    const srcFrames = (run.simulation.scenario.vms[0].memoryBytes / 4096) | 0;
    for (const base of vm.memory.pageBase) expect(base / PAGE_WORDS).toBeGreaterThanOrEqual(srcFrames);
    expect(run.simulation.hostSet?.hostOf('g')).toBe('dst');
    const plain = runYaml(hostsYaml({ guest: 'dirty-pages', params }));
    expect(run.lines).toEqual(plain.lines);
  });

  it('refuses, before anything starts, a passthrough device, a destination without enough memory, an unknown host and a VM not running; the VM goes on', () => {
    const cases: { readonly yaml: string; readonly reason: string }[] = [
      { yaml: hostsYaml({ guest: 'dirty-pages', migrate: '1ms', devices: '{ block: passthrough }' }), reason: 'it has a passthrough device (a host device cannot follow the VM, as with VFIO)' },
      { yaml: hostsYaml({ guest: 'dirty-pages', migrate: '1ms', memory: '2MiB', dstMemory: '1MiB' }), reason: 'host dst has 1048576 bytes of memory free, the VM needs 2097152' },
      { yaml: hostsYaml({ guest: 'dirty-pages', migrate: '1ns' }), reason: 'a VM that is defined cannot migrate' },
    ];
    const plain = runYaml(hostsYaml({ guest: 'dirty-pages' }));
    for (const { yaml, reason } of cases) {
      const run = runYaml(yaml);
      expect(ofType(run, 'migration.refused').map((event) => event.data.reason)).toEqual([reason]);
      expect(ofType(run, 'vm.not-allowed').map((event) => [event.data.command, event.data.reason])).toEqual([['MIGRATE', reason]]);
      expect(ofType(run, 'migration.started')).toEqual([]);
      expect(run.simulation.vms[0].state).toBe('shutoff');
      expect(run.lines).toEqual(plain.lines);
      expect(run.simulation.hostSet?.hostOf('g')).toBe('src');
    }
    // An unknown host is refused by the loader (file, line, what is expected).
    expect(() => loadScenario(hostsYaml({ guest: 'dirty-pages', migrate: '1ms' }).replace('to: dst', 'to: elsewhere'), { file: 'm.yaml', guests: BUNDLED_GUEST_NAMES })).toThrow(
      "m.yaml:11:38: inputs[0].migrate.to: unknown host 'elsewhere' (expected one of: src, dst)",
    );
  });

  it('post-copy: the VM runs on the destination after a downtime of the state alone, pulls the pages it touches and pre-pages the rest', () => {
    const params = { PAGES: 100, WRITES: 3000, WORK_NS: 20_000 };
    const run = runYaml(hostsYaml({ guest: 'dirty-pages', params, memory: '1MiB', migrate: '5ms', migrateOptions: 'mode: postcopy', bandwidth: '100Mbit/s' }));
    const [started] = ofType(run, 'migration.started');
    const [completed] = ofType(run, 'migration.completed');
    expect(started.data.mode).toBe('postcopy');
    // Paused for the latency and one page's worth of state: 100 us + 328 us.
    expect(completed.data.downtimeNs).toBe(100_000 + 327_680);
    expect(completed.data.pagesSent).toBe(started.data.pages);
    expect(completed.data.dirtyFaults).toBeGreaterThan(0);
    const faults = run.events.filter((event) => event.type === 'exit.page-fault' && (event.data as { cause?: string }).cause === 'postcopy');
    expect(faults).toHaveLength(completed.data.dirtyFaults);
    // The vCPU runs on dst from the switch on, before the pages have all arrived.
    const resumed = run.events.find((event) => event.type === 'vm.resumed') as SimEvent;
    expect(resumed.t).toBeLessThan(completed.t);
    for (const event of ofType(run, 'vcpu.running')) expect(event.data.pcpu).toBe(event.t < resumed.t ? 0 : 1);
    const plain = runYaml(hostsYaml({ guest: 'dirty-pages', params, memory: '1MiB' }));
    expect(run.lines).toEqual(plain.lines);
    expect(run.digest).toBe(plain.digest);
    expect(openLog(run.log, 'p.jsonl').replay().identical).toBe(true);
  });

  it('post-copy completes when its last page came on demand (a fault), not by pre-paging, and frees the source frames', () => {
    // At 100 Mbit/s a guest writing every 2 us touches most pages before pre-paging brings them; for
    // these seeds the last page left is pulled by a fault (before the fix no migration.completed came).
    for (const seed of [1, 3, 6, 8]) {
      const run = runYaml(
        hostsYaml({ guest: 'dirty-pages', memory: '1MiB', params: { PAGES: 200, WRITES: 20_000, WORK_NS: 2000, SEED: seed }, seed, migrate: '5ms', migrateOptions: 'mode: postcopy', time: '200ms', bandwidth: '100Mbit/s' }),
      );
      const [started] = ofType(run, 'migration.started');
      const completed = ofType(run, 'migration.completed');
      expect(completed, `seed ${seed}`).toHaveLength(1);
      expect(completed[0].data.pagesSent).toBe(started.data.pages);
      const faults = run.events.filter((event) => event.type === 'exit.page-fault' && (event.data as { cause?: string }).cause === 'postcopy');
      expect(faults).toHaveLength(completed[0].data.dirtyFaults);
      // It completes one page time after the last transfer at most, after the last fault.
      expect(completed[0].t).toBeGreaterThanOrEqual(faults[faults.length - 1].t);
      const simulation = run.simulation;
      expect(simulation.hostSet?.freeBytes(simulation.host.memory, 'src')).toBe(simulation.scenario.vms[0].memoryBytes);
    }
  });

  it('a checkpoint during or after a migration folds to the same state as the events from the top (inspect shows its rounds)', () => {
    for (const mode of ['precopy', 'postcopy']) {
      // Post-copy of the tiny kernel (many events: checkpoints while its pages arrive); pre-copy of dirty-pages.
      const guest = mode === 'precopy' ? { guest: 'dirty-pages', params: { PAGES: 50, WRITES: 20_000, WORK_NS: 20_000 }, migrate: '5ms' } : { guest: 'kernel', migrate: '1ms' };
      const yaml = hostsYaml({ ...guest, migrateOptions: `mode: ${mode}, downtimeLimit: 1ms, maxRounds: 5`, bandwidth: mode === 'precopy' ? '100Mbit/s' : '50Mbit/s' }).replace(
        'run: { time: 1s }',
        'run: { time: 1s, checkpointEvery: 100 }',
      );
      const run = runYaml(yaml);
      const parsed = readLog(run.log);
      const checkpoints = parsed.checkpoints;
      const started = ofType(run, 'migration.started')[0].seq;
      const completed = ofType(run, 'migration.completed')[0].seq;
      // Pre-copy: checkpoints between its rounds; post-copy (quick here): after it.
      const during = checkpoints.filter((checkpoint) => checkpoint.seq > started && checkpoint.seq < completed).length;
      const after = checkpoints.filter((checkpoint) => checkpoint.seq > completed).length;
      expect(mode === 'precopy' ? during : after, `${mode}: ${checkpoints.length} checkpoints, ${parsed.events.length} events`).toBeGreaterThanOrEqual(2);
      const events = parsed.events;
      for (const checkpoint of checkpoints) expect(stateFromCheckpoint(checkpoint), `${mode}, checkpoint at seq ${checkpoint.seq}`).toEqual(foldEvents(EMPTY_STATE, events.slice(0, checkpoint.seq)));
      const last = foldEvents(EMPTY_STATE, events);
      expect(last.vms.g.migration?.state).toBe('completed');
      if (mode === 'precopy') expect(last.vms.g.migration?.rounds.map((round) => round.round)).toEqual([0, 1, 2, 3, 4]);
    }
  });

  it('two migrations over one link take turns on it', () => {
    const vm = (name: string) => `  - { name: ${name}, guest: dirty-pages, memory: 1MiB, params: { PAGES: 100, WRITES: 20000, WORK_NS: 50000 } }`;
    const yaml = [
      'name: two',
      'hosts: [{ name: src, pcpus: 2, memory: 4MiB }, { name: dst, pcpus: 2, memory: 4MiB }]',
      'links: [{ between: [src, dst], bandwidth: 100Mbit/s, latency: 100us }]',
      'run: { time: 2s }',
      'vms:',
      vm('a'),
      vm('b'),
      'inputs:',
      '  - { at: 5ms, vm: a, migrate: { to: dst } }',
      '  - { at: 5ms, vm: b, migrate: { to: dst } }',
    ].join('\n');
    const scenario = loadScenario(yaml, { file: 'two.yaml', guests: BUNDLED_GUEST_NAMES });
    const events: SimEvent[] = [];
    new Simulation({ scenario, sink: (event) => events.push(event) }).run();
    const of = (name: string, type: string) => events.filter((event) => event.src === `vm/${name}` && event.type === type);
    const [startedA, startedB] = [of('a', 'migration.started')[0], of('b', 'migration.started')[0]];
    const pageNs = (startedA.data as { pageNs: number }).pageNs;
    const pagesA = (startedA.data as { pages: number }).pages;
    const pagesB = (startedB.data as { pages: number }).pages;
    const roundA = of('a', 'migration.round')[0].data as { durationNs: number };
    const roundB = of('b', 'migration.round')[0].data as { durationNs: number };
    expect(roundA.durationNs).toBe(100_000 + pagesA * pageNs);
    // b's round 0 waits for a's pages on the link, then sends its own.
    expect(roundB.durationNs).toBe(100_000 + (pagesA + pagesB) * pageNs);
    expect(of('a', 'migration.completed')).toHaveLength(1);
    expect(of('b', 'migration.completed')).toHaveLength(1);
  });

  it('gives the same log for the same seed, and the replay of a migrating log is identical', () => {
    const yaml = hostsYaml({ guest: 'dirty-pages', params: { PAGES: 50, WRITES: 5000, WORK_NS: 5000 }, migrate: '3ms', bandwidth: '200Mbit/s', seed: 7 });
    const first = runYaml(yaml);
    const second = runYaml(yaml);
    expect(ofType(first, 'migration.completed')).toHaveLength(1);
    expect(second.log).toBe(first.log);
    const result = openLog(first.log, 'm.jsonl').replay();
    expect(result.divergence).toBeUndefined();
    expect(result.identical).toBe(true);
    // A fork in the middle of the migration (after its second round) goes on the same way.
    const round = ofType(first, 'migration.round')[1] ?? ofType(first, 'migration.round')[0];
    const events: SimEvent[] = [];
    fork(openLog(first.log, 'm.jsonl').file, { at: round.seq, set: [], sink: (event) => events.push(event) }).simulation.run();
    expect(events.map((event) => `${event.seq} ${event.t} ${event.type}`)).toEqual(first.events.map((event) => `${event.seq} ${event.t} ${event.type}`));
    expect(events.filter((event) => event.type.startsWith('migration.')).map((event) => event.type)).toEqual(first.events.filter((event) => event.type.startsWith('migration.')).map((event) => event.type));
  });
});
