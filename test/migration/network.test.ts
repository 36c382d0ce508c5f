/**
 * VM traffic between hosts crosses their link (issue 16; src/actors/vswitch.ts): a packet from a
 * VM on one host to a VM on another takes the switch's time, then waits for the link, takes its
 * length at the link's bandwidth and the link's latency; a live migration's round holds the link,
 * so packets sent during it wait for it; hosts with no link between them exchange nothing. The
 * reference for each delay is the formula computed here from the scenario's figures, and the same
 * pair of VMs on one host.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_COSTS } from '../../src/core/costs.js';
import type { SimEvent } from '../../src/core/events.js';
import { runYaml } from './helpers.js';

const WORDS = 16;
const COUNT = 4;
const LATENCY_NS = 100_000;
const BYTES_PER_SECOND = 125_000_000; // 1 Gbit/s

function pingPong(hosts: 'one' | 'two' | 'unlinked', extra = ''): string {
  const placement = hosts === 'one' ? ['one', 'one'] : ['one', 'two'];
  return [
    'name: net',
    'seed: 3',
    'hosts:',
    '  - { name: one, pcpus: 2, memory: 4MiB }',
    '  - { name: two, pcpus: 2, memory: 4MiB }',
    ...(hosts === 'unlinked' ? [] : ['links:', `  - { between: [one, two], bandwidth: 1Gbit/s, latency: ${LATENCY_NS / 1000}us }`]),
    'run: { time: 20ms }',
    'vms:',
    `  - { name: a, host: ${placement[0]}, guest: net-ping, params: { PEER: 2, COUNT: ${COUNT}, WORDS: ${WORDS} }, start: 200us }`,
    `  - { name: b, host: ${placement[1]}, guest: net-pong, params: { PEER: 1, COUNT: ${COUNT}, WORDS: ${WORDS} } }`,
    extra,
  ].join('\n');
}

function delays(events: readonly SimEvent[]): number[] {
  const sent = events.filter((event) => event.type === 'net.sent');
  const delivered = events.filter((event) => event.type === 'net.delivered');
  expect(delivered).toHaveLength(sent.length);
  return sent.map((event, index) => delivered[index].t - event.t);
}

function consoleOf(events: readonly SimEvent[], vm: string): string[] {
  return events.flatMap((event) => (event.type === 'console.output' && event.src === `vm/${vm}/console` ? [(event.data as { text: string }).text] : []));
}

describe('VM traffic between hosts', () => {
  const switchNs = DEFAULT_COSTS.netLatencyNs + WORDS * DEFAULT_COSTS.netWordNs;
  const linkNs = Math.ceil((WORDS * 4 * 1e9) / BYTES_PER_SECOND) + LATENCY_NS;

  it("crosses the link: each packet's delay is the switch's plus the link's transmission and latency", () => {
    const local = runYaml(pingPong('one'));
    const remote = runYaml(pingPong('two'));
    for (const run of [local, remote]) {
      expect(consoleOf(run.events, 'a')).toEqual([`net-ping: ${COUNT} packets, 0 errors`]);
      expect(consoleOf(run.events, 'b')).toEqual([`net-pong: ${COUNT} packets, 0 errors`]);
    }
    expect(delays(local.events)).toEqual(Array(2 * COUNT).fill(switchNs));
    expect(delays(remote.events)).toEqual(Array(2 * COUNT).fill(switchNs + linkNs));
  });

  it('waits behind a migration round that holds the link, and goes at once after it', () => {
    // A third VM on host one migrates to host two at 1 ms: its first round holds the link while the ping-pong goes on.
    const migrating = `  - { name: m, host: one, memory: 1MiB, guest: dirty-pages, params: { PAGES: 200, WRITES: 100000, WORK_NS: 40000 } }
inputs:
  - { at: 1ms, vm: m, migrate: { to: two } }`;
    const run = runYaml(pingPong('two', migrating));
    expect(consoleOf(run.events, 'a')).toEqual([`net-ping: ${COUNT} packets, 0 errors`]);
    const started = run.events.find((event) => event.type === 'migration.started');
    const completed = run.events.find((event) => event.type === 'migration.completed');
    expect(started).toBeDefined();
    expect(completed).toBeDefined();
    const pageNs = (started?.data as { pageNs: number }).pageNs;
    // Each round holds the link for its pages, ending `latency` before its migration.round event.
    const held = run.events
      .filter((event) => event.type === 'migration.round')
      .map((event) => {
        const end = event.t - LATENCY_NS;
        return { start: end - (event.data as { pagesSent: number }).pagesSent * pageNs, end };
      });
    expect(held.length).toBeGreaterThan(0);
    const sent = run.events.filter((event) => event.type === 'net.sent');
    const delivered = run.events.filter((event) => event.type === 'net.delivered');
    let waited = 0;
    let checked = 0;
    sent.forEach((event, index) => {
      const ready = event.t + switchNs;
      const round = held.find((interval) => ready >= interval.start && ready < interval.end);
      if (round !== undefined) {
        // Sent while a round holds the link: it starts when the round's transfer ends.
        waited++;
        expect(delivered[index].t, `packet ${index}`).toBe(round.end + linkNs);
      } else if (ready < (started as SimEvent).t || ready > (completed as SimEvent).t) {
        checked++;
        expect(delivered[index].t, `packet ${index}`).toBe(ready + linkNs);
      }
    });
    expect(checked).toBeGreaterThan(0);
    expect(waited).toBeGreaterThan(0);
  });

  it('is dropped, saying so, between hosts with no link', () => {
    const run = runYaml(pingPong('unlinked'));
    const dropped = run.events.filter((event) => event.type === 'net.dropped');
    expect(dropped.length).toBeGreaterThan(0);
    expect((dropped[0].data as { reason: string }).reason).toBe('no link between hosts one and two');
    expect(run.events.some((event) => event.type === 'net.delivered')).toBe(false);
  });
});

describe('post-copy on the link', () => {
  it('never moves pages faster than the link: a page pulled on a fault takes its turn behind the pages pushed', () => {
    // examples/hosts.yaml's VM at 100,000 pages/s, post-copy: every touched page crosses once,
    // pulled or pushed; with the vCPU state first, the link needs (pages + 1) x pageNs at least.
    for (const seed of [16, 17, 18]) {
      const text = [
        'name: pc',
        `seed: ${seed}`,
        'hosts:',
        '  - { name: src, pcpus: 2, memory: 4MiB }',
        '  - { name: dst, pcpus: 2, memory: 4MiB }',
        'links:',
        `  - { between: [src, dst], bandwidth: 1Gbit/s, latency: ${LATENCY_NS / 1000}us }`,
        'run: { time: 60ms }',
        'vms:',
        '  - { name: web, host: src, memory: 1MiB, guest: dirty-pages, params: { PAGES: 200, WRITES: 6000, WORK_NS: 10000 } }',
        'inputs:',
        '  - { at: 30ms, vm: web, migrate: { to: dst, mode: postcopy } }',
      ].join('\n');
      const run = runYaml(text);
      const started = run.events.find((event) => event.type === 'migration.started')?.data as { pageNs: number } | undefined;
      const completed = run.events.find((event) => event.type === 'migration.completed')?.data as { totalNs: number; pagesSent: number; dirtyFaults: number } | undefined;
      expect(started).toBeDefined();
      expect(completed).toBeDefined();
      const { pageNs } = started as { pageNs: number };
      const { totalNs, pagesSent, dirtyFaults } = completed as { totalNs: number; pagesSent: number; dirtyFaults: number };
      expect(dirtyFaults, `seed ${seed}`).toBeGreaterThan(5);
      expect(totalNs, `seed ${seed}`).toBeGreaterThanOrEqual((pagesSent + 1) * pageNs + LATENCY_NS);
    }
  });
});
