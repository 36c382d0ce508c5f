/**
 * Host-driven ballooning (ESX's reclamation order): on an overcommitted host, while free frames
 * are below the threshold, the memory manager raises the balloon targets of the VMs whose guest
 * runs a balloon driver; the frames they give back serve a memory-hungry VM, which would
 * otherwise make the host swap.
 */
import { describe, expect, it } from 'vitest';
import { divideByMinFunding } from '../../src/actors/monitor/hostBalloons.js';
import type { SimEvent } from '../../src/core/events.js';
import { readLog } from '../../src/core/log/reader.js';
import { loadScenario } from '../../src/core/scenario/load.js';
import type { BallooningSpec, Scenario } from '../../src/core/scenario/schema.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { EMPTY_STATE, foldEvents, projectSimulation } from '../../src/index.js';
import { LogFile } from '../../src/replay/logFile.js';
import { replay } from '../../src/replay/replay.js';
import { memorySource } from '../../src/replay/source.js';
import { runChecked } from '../../src/testing/index.js';
import { inline, scenario, vmSpec } from '../helpers.js';

const KiB = 1024;

const BALLOONING: BallooningSpec = { belowFraction: 0.1, stepPages: 32, intervalNs: 500_000 };

/**
 * A 1 MiB host (256 frames): three 256 KiB balloon-guest VMs that touch their memory at boot
 * (about 62 frames each), then, from 2 ms, a 512 KiB VM that touches 120 pages (121 frames with
 * its code): 307 frames wanted of 256.
 */
function pressure(ballooning: BallooningSpec | undefined, extra: Scenario['vms'] = []): Scenario {
  const balloon = (name: string) => vmSpec(name, { kind: 'bundled', name: 'balloon-guest' }, { memoryBytes: 256 * KiB, params: { TOUCH: 1, TICKS: 16 } });
  const hungry = vmSpec('hungry', { kind: 'bundled', name: 'mem-hungry' }, { memoryBytes: 512 * KiB, params: { SEED: 7, PAGES: 120, WORK_NS: 20_000 }, startNs: 2_000_000 });
  return scenario([balloon('b1'), balloon('b2'), balloon('b3'), hungry, ...extra], {
    host: { pcpus: 2, memoryBytes: 1 << 20, overcommit: true, ...(ballooning === undefined ? {} : { ballooning }) },
    run: { timeNs: 100_000_000, instructions: undefined, checkpointEvery: 2_000 },
  });
}

const ofType = (events: readonly SimEvent[], type: string) => events.filter((event) => event.type === type);

describe('host-driven ballooning', () => {
  it('divides a step by min-funding revocation with equal shares: the largest holders first, level, ties in order', () => {
    expect(divideByMinFunding([10, 40, 20], 10)).toEqual([0, 10, 0]);
    expect(divideByMinFunding([10, 40, 20], 30)).toEqual([0, 25, 5]);
    expect(divideByMinFunding([30, 30, 30], 4)).toEqual([2, 1, 1]);
    expect(divideByMinFunding([5, 3], 100)).toEqual([5, 3]);
    expect(divideByMinFunding([], 5)).toEqual([]);
    for (const [frames, pages] of [[[7, 1, 9, 9, 0], 13], [[64, 62, 3], 50], [[1, 1, 1], 2]] as const) {
      const shares = divideByMinFunding(frames, pages);
      expect(shares.reduce((sum, share) => sum + share, 0)).toBe(pages);
      shares.forEach((share, index) => expect(share).toBeLessThanOrEqual(frames[index]));
    }
  });

  it('inflates the drivers\' balloons under pressure: the host swaps far less, every VM completes, and the balloons\' frames served the hungry VM', () => {
    const off = runChecked(pressure(undefined));
    const on = runChecked(pressure(BALLOONING));
    for (const run of [off, on]) for (const vm of run.simulation.vms) expect(vm.state, `${vm.name}: ${vm.endReason}`).toBe('shutoff');
    const offStats = off.summary.memory;
    const onStats = on.summary.memory;
    if (offStats === undefined || onStats === undefined) throw new Error('no memory stats');
    const released = ofType(on.events, 'balloon.released');
    const decisions = ofType(on.events, 'memory.balloon');
    const hungryDone = (run: typeof on) => (ofType(run.events, 'vm.shutdown').find((event) => event.src === 'vm/hungry')?.t ?? Number.NaN) / 1e6;
    console.log(
      `ballooning off: ${offStats.swapOuts} swap-outs, ${offStats.swapIns} swap-ins; hungry done at ${hungryDone(off).toFixed(2)} ms\n` +
        `ballooning on:  ${onStats.swapOuts} swap-outs, ${onStats.swapIns} swap-ins; hungry done at ${hungryDone(on).toFixed(2)} ms; ` +
        `${onStats.demandPages} pages backed on first touch on ${onStats.frames} frames; ` +
        `${onStats.balloonRequested} pages asked in ${onStats.balloonPressured} of ${onStats.balloonChecks} checks, ${onStats.balloonedFrames} frames back from balloons`,
    );
    expect(offStats.swapOuts).toBeGreaterThan(100);
    expect(onStats.swapOuts).toBe(0);
    expect(hungryDone(on)).toBeLessThan(hungryDone(off));
    // Every page the host asked for came back, each with the frame the guest had touched at boot.
    expect(onStats.balloonRequested).toBeGreaterThan(0);
    expect(released).toHaveLength(onStats.balloonRequested);
    expect(released.every((event) => (event.data as { frame: number }).frame >= 0)).toBe(true);
    expect(onStats.balloonedFrames).toBe(onStats.balloonRequested);
    // Frames come from the host's pool, from swapping or from balloons (sharing is off): with no
    // swapping, the pages backed beyond the host's frames were served by the balloons' frames.
    const freed = ofType(on.events, 'memory.freed') as { src: string; data: { frames: number } }[];
    expect(freed.find((event) => event.src === 'vm/hungry')?.data.frames).toBe(121);
    expect(onStats.demandPages).toBeGreaterThan(onStats.frames);
    expect(onStats.demandPages - onStats.frames).toBeLessThanOrEqual(onStats.balloonedFrames);
    // Every frame a page was backed with went back: by a balloon, or when its VM ended.
    expect(freed.reduce((sum, event) => sum + event.data.frames, 0) + onStats.balloonedFrames).toBe(onStats.demandPages);
    expect(onStats.framesUsed).toBe(0);
    // Each decision came while free frames were below the threshold, and asked only drivers.
    for (const decision of decisions) {
      const data = decision.data as { freeFrames: number; thresholdFrames: number };
      expect(data.freeFrames).toBeLessThan(data.thresholdFrames);
    }
    expect(ofType(off.events, 'memory.balloon')).toHaveLength(0);
    expect(ofType(off.events, 'balloon.target')).toHaveLength(0);
  });

  it('never sets a target on a VM whose guest has no balloon driver', () => {
    const quiet = vmSpec('quiet', inline('  movi r1, 1\nfill:\n  movi r4, PAGE_WORDS\n  mul r2, r1, r4\n  st r1, [r2]\n  addi r1, r1, 1\n  movi r4, 60\n  blt r1, r4, fill\nloop:\n  work 100000\n  jmp loop\n'), {
      memoryBytes: 256 * KiB,
    });
    const run = runChecked(pressure(BALLOONING, [quiet]));
    const targets = ofType(run.events, 'balloon.target');
    expect(targets.length).toBeGreaterThan(0);
    expect(new Set(targets.map((event) => event.src))).toEqual(new Set(['vm/b1/balloon', 'vm/b2/balloon', 'vm/b3/balloon']));
    expect(run.simulation.vms.find((vm) => vm.name === 'quiet')?.balloon.driver).toBe(false);
    expect(run.simulation.vms.find((vm) => vm.name === 'hungry')?.balloon.target).toBe(0);
    expect(run.simulation.vms.find((vm) => vm.name === 'quiet')?.state).toBe('running');
  });

  it('logs byte for byte the same twice, replays identically, and its fold matches the simulation', () => {
    const first = runChecked(pressure(BALLOONING), { log: true, seed: 5 });
    const second = runChecked(pressure(BALLOONING), { log: true, seed: 5 });
    expect(first.log).toBe(second.log);
    expect(ofType(first.events, 'memory.balloon').length).toBeGreaterThan(0);
    const result = replay(new LogFile(memorySource(first.log)));
    expect(result.divergence).toBeUndefined();
    expect(result.identical).toBe(true);
    const folded = foldEvents(EMPTY_STATE, readLog(first.log).events, { engine: 'mutable' });
    expect(folded).toEqual(JSON.parse(JSON.stringify(projectSimulation(first.simulation))));
  });

  it('reads host.ballooning from a scenario, with defaults, and refuses it without overcommit', () => {
    const source = (host: string[]) =>
      ['name: t', 'host:', ...host.map((line) => `  ${line}`), 'vms:', '  - name: b', '    guest: balloon-guest'].join('\n');
    const options = { file: 's.yaml', guests: BUNDLED_GUEST_NAMES };
    expect(loadScenario(source(['overcommit: true', 'ballooning: { below: 5%, step: 16, interval: 2ms }']), options).host.ballooning).toEqual({
      belowFraction: 0.05,
      stepPages: 16,
      intervalNs: 2_000_000,
    });
    expect(loadScenario(source(['overcommit: true', 'ballooning: {}']), options).host.ballooning).toEqual({ belowFraction: 0.06, stepPages: 64, intervalNs: 1_000_000 });
    expect(loadScenario(source(['overcommit: true', 'ballooning: { below: 0.25 }']), options).host.ballooning?.belowFraction).toBe(0.25);
    expect(() => loadScenario(source(['ballooning: { below: 5% }']), options)).toThrow(/ballooning needs memory overcommit: set host.overcommit: true/);
    expect(() => loadScenario(source(['overcommit: true', 'ballooning: { below: 150% }']), options)).toThrow(/expected a fraction above 0 and below 1 \(such as 0.06\) or a percentage \(such as 6%\), got '150%'/);
    expect(() => loadScenario(source(['overcommit: true', 'ballooning: { below: 2 }']), options)).toThrow(/expected a fraction above 0 and below 1/);
  });
});
