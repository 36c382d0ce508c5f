/**
 * Memory overcommit: the VMs' memory exceeds the host's; pages are backed on first touch, and the
 * host reclaims (sharing, swapping the faulting VM's own pages) so that every VM completes.
 */
import { describe, expect, it } from 'vitest';
import { inline, runScenario, scenario, vmSpec } from '../helpers.js';

const KiB = 1024;
const run = (timeNs: number) => ({ timeNs, instructions: undefined, checkpointEvery: 10_000 });

/** Writes a word into pages 1..PAGES (SEED + page), twice over, checks them all, powers off. */
const TOUCHER = `
    movi r7, 2
  pass:
    movi r1, 1
  write:
    movi r4, PAGE_WORDS
    mul r2, r1, r4
    movi r3, SEED
    add r3, r3, r1
    st r3, [r2 + 5]
    work 2000
    addi r1, r1, 1
    movi r4, PAGES + 1
    blt r1, r4, write
    movi r1, 1
  check:
    movi r4, PAGE_WORDS
    mul r2, r1, r4
    ld r3, [r2 + 5]
    movi r5, SEED
    add r5, r5, r1
    bne r3, r5, wrong
    ld r3, [r2 + 6]
    bne r3, r0, wrong
    addi r1, r1, 1
    movi r4, PAGES + 1
    blt r1, r4, check
    addi r7, r7, -1
    bne r7, r0, pass
    out PORT_POWER, r0
  wrong:
    hlt
`;

const toucher = (name: string, seed: number, pages = 120) =>
  vmSpec(name, inline(TOUCHER), { memoryBytes: 512 * KiB, params: { SEED: seed, PAGES: pages } });

describe('memory overcommit', () => {
  it('refuses VMs that do not fit without overcommit, saying how to allow it', () => {
    expect(() => runScenario(scenario([toucher('a', 1), toucher('b', 2), toucher('c', 3)], { host: { pcpus: 2, memoryBytes: 1 << 20 } }))).toThrow(/overcommit: true/);
  });

  it('backs pages on first touch: a VM uses only the frames it touched, and untouched memory reads as zero', () => {
    const result = runScenario(scenario([toucher('a', 1, 10)], { host: { pcpus: 1, memoryBytes: 16 << 20, overcommit: true }, run: run(20_000_000) }));
    const vm = result.simulation.vms[0];
    expect(vm.state).toBe('shutoff');
    // Loading the image backed the code page; the guest's first touches, the other ten (exits).
    expect(result.summary.memory?.demandPages).toBe(11);
    const demand = result.events.filter((event) => event.type === 'exit.page-fault' && (event.data as { cause?: string }).cause === 'demand');
    expect(demand).toHaveLength(10);
    // When it shut off, the host took back its 11 frames (the code page and the ten it wrote).
    const freed = result.events.filter((event) => event.type === 'memory.freed');
    expect(freed.map((event) => event.data)).toEqual([{ frames: 11, swapped: 0 }]);
    expect(result.summary.memory?.framesUsed).toBe(0);
    expect(vm.memory.mappedPages).toBe(0);
  });

  it('runs VMs whose memory exceeds the host to completion: swap does the work, each VM swaps only its own pages', () => {
    const result = runScenario(
      // Three physical CPUs: the three VMs run at once (a VM that ends gives its frames back).
      scenario([toucher('a', 1), toucher('b', 1000), toucher('c', 2000)], { host: { pcpus: 3, memoryBytes: 1 << 20, overcommit: true }, run: run(100_000_000) }),
    );
    for (const vm of result.simulation.vms) expect(vm.state, vm.endReason).toBe('shutoff');
    const stats = result.summary.memory;
    expect(stats?.frames).toBe(256);
    expect(stats?.swapOuts).toBeGreaterThan(0);
    expect(stats?.swapIns).toBeGreaterThan(0);
    const swapOuts = result.events.filter((event) => event.type === 'memory.swap-out');
    expect(swapOuts).toHaveLength(stats?.swapOuts ?? -1);
  });

  it('lets sharing reclaim first: identical VMs whose pages would not fit merge and complete', () => {
    const build = (pageSharing: { intervalNs: number; pagesPerScan: number } | undefined) =>
      runScenario(
        scenario([toucher('a', 1, 100), toucher('b', 1, 100), toucher('c', 1, 100)], {
          host: { pcpus: 3, memoryBytes: 1 << 20, overcommit: true, ...(pageSharing === undefined ? {} : { pageSharing }) },
          run: run(100_000_000),
        }),
      );
    const shared = build({ intervalNs: 1_000_000, pagesPerScan: 64 });
    for (const vm of shared.simulation.vms) expect(vm.state, vm.endReason).toBe('shutoff');
    expect(shared.summary.memory?.merges).toBeGreaterThan(40);
    const swapOnly = build(undefined);
    for (const vm of swapOnly.simulation.vms) expect(vm.state, vm.endReason).toBe('shutoff');
    expect(shared.summary.memory?.swapOuts).toBeLessThan(swapOnly.summary.memory?.swapOuts ?? 0);
  });

  it('crashes only the faulting VM when nothing can be reclaimed ("host out of memory")', () => {
    // quiet, fill and hog each get their code page when built (3 of the host's 256 frames);
    // fill then takes 253 more and keeps them (it runs on). When hog touches a data page there
    // is no free frame, nothing shared, and nothing of hog's own to swap but the code page it
    // runs from: hog crashes, the others carry on.
    const fill = vmSpec('fill', inline(`
        movi r1, 1
      write:
        movi r4, PAGE_WORDS
        mul r2, r1, r4
        st r1, [r2]
        addi r1, r1, 1
        movi r4, 254
        blt r1, r4, write
      loop:
        work 1000
        jmp loop
    `), { memoryBytes: 1024 * KiB });
    const hog = vmSpec('hog', inline(TOUCHER), { memoryBytes: 1024 * KiB, params: { SEED: 5, PAGES: 10 }, startNs: 2_000_000 });
    const quiet = vmSpec('quiet', inline('loop: work 1000\n jmp loop'), { memoryBytes: 1024 * KiB });
    const result = runScenario(scenario([quiet, fill, hog], { host: { pcpus: 2, memoryBytes: 1 << 20, overcommit: true }, run: run(5_000_000) }));
    const [quietVm, fillVm, hogVm] = result.simulation.vms;
    expect(hogVm.state).toBe('crashed');
    expect(hogVm.endReason).toMatch(/^host out of memory: no free frame for guest page 1/);
    expect(quietVm.state).toBe('running');
    expect(fillVm.state).toBe('running');
    expect(fillVm.memory.mappedPages).toBe(254);
  });
});

describe('memory overcommit: the balloon takes pages with no frame', () => {
  /** Gives page 5 (never touched: no frame under overcommit) and page 1 (touched) to the balloon, then reads page 5. */
  const GIVER = `
wait:
    in r1, PORT_BALLOON_TARGET
    jz r1, wait
    movi r2, 7
    st r2, [1 * PAGE_WORDS]
    movi r1, 5
    out PORT_BALLOON_GIVE, r1
    movi r1, 1
    out PORT_BALLOON_GIVE, r1
    movi r1, 5
    out PORT_BALLOON_GIVE, r1      ; page 5 again: the balloon has it already
    ld r3, [5 * PAGE_WORDS]
    out PORT_POWER, r0
    hlt
`;

  it('takes a never-touched page for good (MemoryManager.discard): released with no frame, refused the second time, an access to it an EPT violation', () => {
    const result = runScenario(
      scenario([vmSpec('g', inline(GIVER), { memoryBytes: 64 * KiB })], {
        host: { pcpus: 1, memoryBytes: 16 << 20, overcommit: true },
        inputs: [{ kind: 'balloon', atNs: 100_000, vm: 'g', pages: 2 }],
        run: run(5_000_000),
      }),
    );
    const balloon = result.events.filter((event) => event.type === 'balloon.released' || event.type === 'balloon.refused').map((event) => ({ type: event.type, ...(event.data as object) }));
    expect(balloon[0]).toEqual({ type: 'balloon.released', page: 5, frame: -1, size: 1 });
    expect(balloon[1]).toMatchObject({ type: 'balloon.released', page: 1, size: 2 });
    expect((balloon[1] as unknown as { frame: number }).frame).toBeGreaterThanOrEqual(0);
    expect(balloon[2]).toMatchObject({ type: 'balloon.refused', page: 5 });
    // The page is gone for good: the guest's read of it is not backed on demand but crashes the VM.
    const vm = result.simulation.vms[0];
    expect(vm.state).toBe('crashed');
    expect(result.events.some((event) => event.type === 'exit.page-fault' && (event.data as { cause?: string }).cause === 'demand' && (event.data as { gpa?: number }).gpa === 5 * 1024)).toBe(false);
  });
});
