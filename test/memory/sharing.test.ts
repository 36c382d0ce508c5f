/**
 * Page sharing (KSM, VMware TPS): identical pages merge onto one read-only frame, a write copies
 * the page back (copy on write), and no VM ever sees another's write.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Simulation } from '../../src/actors/simulation.js';
import { LogWriter } from '../../src/core/log/writer.js';
import { PAGE_WORDS } from '../../src/core/platform.js';
import type { Scenario, VmSpec } from '../../src/core/scenario/schema.js';
import { inline, runScenario, scenario, vmSpec } from '../helpers.js';

const KiB = 1024;
const sharing = { intervalNs: 100_000, pagesPerScan: 64 };
const host = (pageSharing: typeof sharing | undefined) => ({ pcpus: 2, memoryBytes: 16 << 20, ...(pageSharing === undefined ? {} : { pageSharing }) });
const run = (timeNs: number) => ({ timeNs, instructions: undefined, checkpointEvery: 10_000 });

/**
 * Writes ITER pseudo-random words (an LCG seeded with SEED) into its data pages (4 to 11), one
 * every 20 us, then powers off. Its final memory depends on SEED and ITER only.
 */
const WRITER = `
    movi r1, SEED
    movi r5, ITER
    movi r6, 0
  loop:
    movi r2, 1103515245
    mul r1, r1, r2
    addi r1, r1, 12345
    movi r3, 8
    shr r2, r1, r3
    movi r3, 8 * PAGE_WORDS - 1
    and r2, r2, r3
    movi r3, 4 * PAGE_WORDS
    add r2, r2, r3
    st r1, [r2]
    ld r4, [r2]
    bne r4, r1, wrong
    work WAIT
    addi r6, r6, 1
    blt r6, r5, loop
    out PORT_POWER, r0
  wrong:
    hlt
`;

const writer = (name: string, seed: number, iterations: number, extra: Partial<VmSpec> = {}): VmSpec =>
  vmSpec(name, inline(WRITER), { memoryBytes: 64 * KiB, params: { SEED: seed, ITER: iterations, WAIT: 20_000 }, ...extra });

describe('page sharing', () => {
  it('merges identical pages across and within VMs onto read-only frames, and frees the duplicates', () => {
    const idle = (name: string) => vmSpec(name, inline('loop: work 1000\n jmp loop'), { memoryBytes: 64 * KiB });
    const result = runScenario(scenario([idle('a'), idle('b'), idle('c')], { host: host(sharing), run: run(2_000_000) }));
    const stats = result.summary.memory;
    expect(stats).toBeDefined();
    // 48 pages: 3 identical code pages and 45 zero pages end as 2 frames.
    expect(stats?.sharedFrames).toBe(2);
    expect(stats?.sharedPages).toBe(48);
    expect(stats?.savedFrames).toBe(46);
    expect(stats?.framesUsed).toBe(2);
    const scans = result.events.filter((event) => event.type === 'memory.scan');
    expect(scans.length).toBeGreaterThan(10);
    expect(scans.reduce((sum, event) => sum + (event.data as { merged: number }).merged, 0)).toBe(46);
    for (const vm of result.simulation.vms) {
      for (let page = 0; page < vm.memory.pageCount; page++) {
        expect(vm.memory.writeBase[page], 'every page read-only').toBe(-1);
        expect(result.simulation.host.memory.readersOf(vm.memory.pageBase[page] / PAGE_WORDS)).toContain(vm.id);
      }
    }
  });

  it('breaks sharing on a write (copy on write: an exit, a fresh frame, the store retried)', () => {
    const result = runScenario(
      scenario([writer('a', 7, 40), writer('b', 9, 40)], { host: host(sharing), run: run(5_000_000) }),
    );
    const alone = (seed: number) => runScenario(scenario([writer('x', seed, 40)], { host: host(undefined), run: run(5_000_000) })).simulation.vms[0].memoryDigest();
    const [a, b] = result.simulation.vms;
    expect(a.state).toBe('shutoff');
    expect(b.state).toBe('shutoff');
    expect(a.memoryDigest()).toBe(alone(7));
    expect(b.memoryDigest()).toBe(alone(9));
    const cow = result.events.filter((event) => event.type === 'exit.page-fault' && (event.data as { cause?: string }).cause === 'cow');
    expect(cow.length).toBeGreaterThan(0);
    expect(result.summary.memory?.cowBreaks).toBe(cow.length);
    expect(cow.every((event) => (event.data as { access: string }).access === 'write')).toBe(true);
  });

  it('is off by default: no scans, no summary', () => {
    const result = runScenario(scenario([writer('a', 7, 3)], { run: run(1_000_000) }));
    expect(result.summary.memory).toBeUndefined();
    expect(result.events.some((event) => event.type === 'memory.scan')).toBe(false);
  });

  it('shares under shadow and nested paging too: a store through the TLB to a shared page is copied first', () => {
    const paged = (name: string, paging: 'shadow' | 'nested') => vmSpec(name, { kind: 'bundled', name: 'tlb-heavy' }, { memoryBytes: 512 * KiB, virt: 'hw', paging, params: { PAGES: 16 } });
    const result = runScenario(scenario([paged('s', 'shadow'), paged('n', 'nested')], { host: host({ intervalNs: 50_000, pagesPerScan: 128 }), run: run(3_000_000) }));
    const causes = (vm: string) => result.events.filter((event) => event.type === 'exit.page-fault' && event.src.startsWith(`vm/${vm}/`)).map((event) => (event.data as { cause?: string }).cause);
    expect(causes('s')).toContain('cow');
    expect(causes('n')).toContain('cow');
    for (const vm of result.simulation.vms) expect(vm.state).toBe('running');
    expect(result.summary.memory?.savedFrames).toBeGreaterThan(100);
  });

  it('gives the same log whatever the batch length', () => {
    const build = (): Scenario => scenario([writer('a', 7, 30), writer('b', 7, 30), writer('c', 8, 30)], { host: host(sharing), run: run(2_000_000) });
    const logWith = (maxBatchNs: number) => {
      let text = '';
      new Simulation({ scenario: build(), maxBatchNs, log: new LogWriter((chunk) => (text += chunk)) }).run();
      return text;
    };
    expect(logWith(100_000)).toBe(logWith(3_000));
  });

  it('never lets a write of one VM be seen by another (property, seed printed on failure)', () => {
    const vmArbitrary = fc.record({ seed: fc.integer({ min: 1, max: 4 }), iterations: fc.integer({ min: 1, max: 40 }), wait: fc.integer({ min: 1_000, max: 40_000 }), start: fc.integer({ min: 0, max: 300_000 }) });
    const digests = new Map<string, string>();
    const alone = (seed: number, iterations: number, wait: number) => {
      const key = `${seed}/${iterations}/${wait}`;
      let digest = digests.get(key);
      if (digest === undefined) {
        const spec = vmSpec('x', inline(WRITER), { memoryBytes: 64 * KiB, params: { SEED: seed, ITER: iterations, WAIT: wait } });
        digest = runScenario(scenario([spec], { host: host(undefined), run: run(20_000_000) })).simulation.vms[0].memoryDigest();
        digests.set(key, digest);
      }
      return digest;
    };
    let cowBreaks = 0;
    let merges = 0;
    fc.assert(
      fc.property(
        fc.array(vmArbitrary, { minLength: 2, maxLength: 4 }),
        fc.integer({ min: 20_000, max: 300_000 }),
        fc.integer({ min: 8, max: 200 }),
        fc.integer({ min: 1, max: 2 }),
        (vms, intervalNs, pagesPerScan, pcpus) => {
          const specs = vms.map((vm, index) =>
            vmSpec(`v${index}`, inline(WRITER), { memoryBytes: 64 * KiB, startNs: vm.start, params: { SEED: vm.seed, ITER: vm.iterations, WAIT: vm.wait } }),
          );
          const result = runScenario(scenario(specs, { host: { ...host({ intervalNs, pagesPerScan }), pcpus }, run: run(20_000_000) }));
          cowBreaks += result.summary.memory?.cowBreaks ?? 0;
          merges += result.summary.memory?.merges ?? 0;
          result.simulation.vms.forEach((vm, index) => {
            expect(vm.state).toBe('shutoff');
            expect(vm.memoryDigest()).toBe(alone(vms[index].seed, vms[index].iterations, vms[index].wait));
          });
        },
      ),
      { numRuns: 40, verbose: true },
    );
    // The runs did share pages and break sharing, so the property was put to the test.
    expect(merges).toBeGreaterThan(100);
    expect(cowBreaks).toBeGreaterThan(40);
  });
});
