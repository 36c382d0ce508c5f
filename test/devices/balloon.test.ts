/**
 * Ballooning: the monitor sets a target (an input), the guest's balloon driver gives pages back,
 * the monitor unmaps them and releases their host frames; the guest keeps running.
 */
import { describe, expect, it } from 'vitest';
import { PAGE_WORDS } from '../../src/core/platform.js';
import { loadScenario } from '../../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { guestVm, runChecked, testScenario } from '../../src/testing/index.js';
import { LogFile } from '../../src/replay/logFile.js';
import { replay } from '../../src/replay/replay.js';
import { memorySource } from '../../src/replay/source.js';
import { foldEvents, EMPTY_STATE, projectSimulation } from '../../src/index.js';
import { readLog } from '../../src/core/log/reader.js';

const PAGES = 16; // 64 KiB
const TARGET = 8;

function balloonRun(target: number | undefined) {
  const vm = { ...guestVm('b', ''), guest: { kind: 'bundled' as const, name: 'balloon-guest' } };
  const inputs = target === undefined ? [] : [{ kind: 'balloon' as const, atNs: 3_500_000, vm: 'b', pages: target }];
  return runChecked(testScenario([vm], { run: { timeNs: 30_000_000, instructions: undefined, checkpointEvery: 10_000 }, inputs }));
}

describe('balloon', () => {
  it('shrinks a VM: pages mapped and host frames in use go down, and the guest keeps running and reports', () => {
    const baseline = balloonRun(undefined);
    const run = balloonRun(TARGET);
    const vm = run.simulation.vms[0];
    const host = run.simulation.host.memory;
    const inUse = (r: typeof run) => r.simulation.host.memory.frameCount - r.simulation.host.memory.freeFrameCount;

    const released = run.events.filter((event) => event.type === 'balloon.released');
    expect(released).toHaveLength(TARGET);
    expect(released.map((event) => event.data.page)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(run.events.find((event) => event.type === 'input.balloon')?.data).toEqual({ pages: TARGET });
    expect(run.events.find((event) => event.type === 'balloon.target')?.data).toEqual({ target: TARGET });
    expect(vm.memory.mappedPages).toBe(PAGES - TARGET);
    expect(baseline.simulation.vms[0].memory.mappedPages).toBe(PAGES);
    expect(inUse(run)).toBe(inUse(baseline) - TARGET);
    for (const event of released) {
      expect(host.ownerOf(event.data.frame)).toBe('');
      expect(vm.memory.translate(event.data.page * PAGE_WORDS)).toBe(-1);
    }

    // The workload carried on after the balloon: every tick, then a clean power-off.
    const lines = run.events.flatMap((event) => (event.type === 'console.output' ? [{ t: event.t, text: event.data.text }] : []));
    const balloonAt = released[0].t;
    expect(lines.filter((line) => line.t > balloonAt).map((line) => line.text)).toEqual(
      expect.arrayContaining(['balloon-guest: tick 12, balloon 8 pages', 'balloon-guest: done']),
    );
    expect(lines.map((line) => line.text)).toContain('balloon-guest: tick 2, balloon 0 pages');
    expect(vm.state).toBe('shutoff');
    expect(vm.endReason).toBe('the guest powered off');
  });

  it('an access to a page given back is an EPT violation: the VM crashes, no other VM is touched', () => {
    const source = `
_start:
wait:
  in r1, PORT_BALLOON_TARGET
  jz r1, wait
  movi r1, 5
  out PORT_BALLOON_GIVE, r1
  out PORT_BALLOON_GIVE, r1      ; again: refused, the balloon holds its target
  ld r2, [5 * PAGE_WORDS]
  out PORT_POWER, r0
  hlt
`;
    const run = runChecked(
      testScenario([guestVm('g', source), guestVm('other', 'x:\n  work 1000\n  jmp x\n')], {
        inputs: [{ kind: 'balloon', atNs: 200_000, vm: 'g', pages: 1 }],
        run: { timeNs: 2_000_000, instructions: undefined, checkpointEvery: 10_000 },
      }),
    );
    expect(run.events.filter((event) => event.type === 'balloon.released').map((event) => event.data.page)).toEqual([5]);
    expect(run.events.find((event) => event.type === 'balloon.refused')?.data.reason).toBe('the balloon already holds its target of 1 pages');
    const crashed = run.events.find((event) => event.type === 'vm.crashed');
    expect(crashed?.src).toBe('vm/g');
    expect(crashed?.data.reason).toContain('EPT violation');
    expect(run.simulation.vms[1].state).toBe('running');
  });

  it('a scenario schedules a balloon target under inputs:', () => {
    const scenario = loadScenario(['name: t', 'vms:', '  - name: b', '    guest: balloon-guest', 'inputs:', '  - { at: 3ms, vm: b, balloon: 4 }'].join('\n'), {
      file: 's.yaml',
      guests: BUNDLED_GUEST_NAMES,
    });
    expect(scenario.inputs).toEqual([{ kind: 'balloon', atNs: 3_000_000, vm: 'b', pages: 4 }]);
  });

  it('a run with a balloon input and both block guests replays identically, and its fold matches the simulation', () => {
    const bundled = (name: string, guest: string) => ({ ...guestVm(name, ''), guest: { kind: 'bundled' as const, name: guest } });
    const virtio = { ...bundled('v', 'blk-virtio'), devices: { block: 'paravirtual', nic: 'emulated' } as const };
    const run = runChecked(
      testScenario([bundled('b', 'balloon-guest'), bundled('e', 'blk-emulated'), virtio], {
        host: { pcpus: 2, memoryBytes: 16 * 1024 * 1024 },
        run: { timeNs: 20_000_000, instructions: undefined, checkpointEvery: 200 },
        inputs: [{ kind: 'balloon', atNs: 2_000_000, vm: 'b', pages: 5 }],
      }),
      { log: true, seed: 3 },
    );
    expect(run.events.filter((event) => event.type === 'balloon.released')).toHaveLength(5);
    const result = replay(new LogFile(memorySource(run.log)));
    expect(result.divergence).toBeUndefined();
    expect(result.identical).toBe(true);
    const folded = foldEvents(EMPTY_STATE, readLog(run.log).events, { engine: 'mutable' });
    expect(folded).toEqual(JSON.parse(JSON.stringify(projectSimulation(run.simulation))));
  });
});
