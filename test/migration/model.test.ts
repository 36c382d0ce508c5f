/**
 * Pre-copy against its analytical model (Clark et al. 2005; docs/migration.md). The bundled guest
 * dirty-pages writes to one of M pages chosen uniformly at random (its own LCG) every WORK_NS.
 * A round of duration T during which the guest makes n = D x T writes dirties, in expectation,
 * M(1 - (1 - 1/M)^n) distinct pages: the pages the next round sends. The writes of each round are
 * read from the guest's memory (each page's first word counts its writes) when the round ends,
 * so the check is on the dirty tracking, not on the guest's speed (which the dirty-tracking
 * faults themselves slow down). Then the shape: downtime falls as the bandwidth B rises and grows
 * with the dirtying rate D; pre-copy does not converge (it hits maxRounds) when D approaches B,
 * unless auto-converge throttles the guest.
 */
import { describe, expect, it } from 'vitest';
import type { SimEvent } from '../../src/core/events.js';
import type { Simulation } from '../../src/actors/simulation.js';
import { hostsYaml, runYaml } from './helpers.js';

const M = 200;
/** The seeds of the model check: 10 runs, each with a different LCG seed and simulation seed. */
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/** Writes the guest has made so far: the sum of its pages' counters. */
function writesSoFar(simulation: Simulation): number {
  const map = simulation.vms[0].memory;
  const words = map.host.words;
  let total = 0;
  for (let page = 1; page <= M; page++) total += words[map.pageBase[page]];
  return total;
}

interface RoundSample {
  readonly writes: number;
  readonly durationNs: number;
  readonly dirtied: number;
}

function migrate(options: { readonly seed: number; readonly workNs: number; readonly bandwidth: string; readonly migrateOptions: string; readonly writes?: number }) {
  const samples: RoundSample[] = [];
  let before = 0;
  const run = runYaml(
    hostsYaml({
      guest: 'dirty-pages',
      memory: '1MiB',
      params: { PAGES: M, WRITES: options.writes ?? 20_000, WORK_NS: options.workNs, SEED: options.seed },
      seed: options.seed,
      migrate: '20ms',
      migrateOptions: options.migrateOptions,
      bandwidth: options.bandwidth,
      time: '20s',
    }),
    (event: SimEvent, simulation) => {
      if (event.type === 'migration.started') before = writesSoFar(simulation);
      if (event.type === 'migration.round') {
        const now = writesSoFar(simulation);
        samples.push({ writes: now - before, durationNs: event.data.durationNs, dirtied: event.data.pagesDirtied });
        before = now;
      }
    },
  );
  const completed = run.events.find((event) => event.type === 'migration.completed');
  const stopped = run.events.find((event) => event.type === 'migration.stopped-copy');
  if (completed?.type !== 'migration.completed' || stopped?.type !== 'migration.stopped-copy') throw new Error(`seed ${options.seed}: the migration did not complete`);
  return { samples, completed: completed.data, trigger: stopped.data.trigger, rounds: run.events.filter((event) => event.type === 'migration.round') };
}

describe('pre-copy and its analytical model', () => {
  it('dirties M(1 - (1 - 1/M)^(D x T)) distinct pages per round, within 5% over 10 seeds', () => {
    let observed = 0;
    let expected = 0;
    const perSeed: string[] = [];
    for (const seed of SEEDS) {
      const { samples } = migrate({ seed, workNs: 20_000, bandwidth: '200Mbit/s', migrateOptions: 'downtimeLimit: 1ns, maxRounds: 8' });
      expect(samples.length).toBe(8);
      for (const sample of samples) {
        // D x T: the writes made during the round (D measured over the round, times T).
        const model = M * (1 - (1 - 1 / M) ** sample.writes);
        observed += sample.dirtied;
        expected += model;
      }
      perSeed.push(`seed ${seed}: ${samples.map((sample) => `${sample.dirtied}/${(M * (1 - (1 - 1 / M) ** sample.writes)).toFixed(1)}`).join(' ')}`);
    }
    const error = Math.abs(observed - expected) / expected;
    console.log(`model: ${observed} pages dirtied in 80 rounds over ${SEEDS.length} seeds, ${expected.toFixed(1)} expected (${(100 * error).toFixed(2)}% off)`);
    expect(error, perSeed.join('\n')).toBeLessThan(0.05);
  });

  it('downtime falls as the bandwidth rises and grows with the dirtying rate', () => {
    const options = 'downtimeLimit: 5ms, maxRounds: 30';
    const byBandwidth = ['100Mbit/s', '400Mbit/s', '1600Mbit/s'].map((bandwidth) => migrate({ seed: 3, workNs: 400_000, bandwidth, migrateOptions: options, writes: 200_000 }).completed.downtimeNs);
    console.log(`downtime by bandwidth (100, 400, 1600 Mbit/s): ${byBandwidth.join(', ')} ns`);
    expect(byBandwidth[0]).toBeGreaterThan(byBandwidth[1]);
    expect(byBandwidth[1]).toBeGreaterThan(byBandwidth[2]);
    const byRate = [800_000, 400_000, 250_000].map((workNs) => migrate({ seed: 3, workNs, bandwidth: '200Mbit/s', migrateOptions: options, writes: 200_000 }).completed.downtimeNs);
    console.log(`downtime by write interval (800, 400, 250 us): ${byRate.join(', ')} ns`);
    expect(byRate[0]).toBeLessThan(byRate[1]);
    expect(byRate[1]).toBeLessThan(byRate[2]);
  });

  it('does not converge when the dirtying rate approaches the bandwidth, unless auto-converge throttles the guest', () => {
    // 200 Mbit/s: a page every 164 us; the guest writes a page every 150 us or so.
    const plain = migrate({ seed: 5, workNs: 150_000, bandwidth: '200Mbit/s', migrateOptions: 'downtimeLimit: 2ms, maxRounds: 30', writes: 200_000 });
    expect(plain.trigger).toBe('max-rounds');
    expect(plain.rounds).toHaveLength(30);
    const throttled = migrate({ seed: 5, workNs: 150_000, bandwidth: '200Mbit/s', migrateOptions: 'downtimeLimit: 2ms, maxRounds: 30, autoConverge: true', writes: 200_000 });
    console.log(`D near B: ${plain.rounds.length} rounds, downtime ${plain.completed.downtimeNs} ns, total ${plain.completed.totalNs} ns; auto-converge: ${throttled.rounds.length} rounds (throttle ${throttled.rounds.map((round) => (round.type === 'migration.round' ? round.data.throttle : 0)).join(',')}), downtime ${throttled.completed.downtimeNs} ns, total ${throttled.completed.totalNs} ns`);
    expect(throttled.trigger).toBe('converged');
    expect(throttled.rounds.length).toBeLessThan(30);
    expect(throttled.completed.downtimeNs).toBeLessThan(plain.completed.downtimeNs);
  });
});
