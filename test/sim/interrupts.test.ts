import { describe, expect, it } from 'vitest';
import { loadScenario, ScenarioError } from '../../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { consoleOf, runScenario, scenario, vmSpec, type TestRun } from '../helpers.js';

/** The tiny kernel: two user tasks compute while its timer interrupts them (virt: hw). */
function kernelRun(postedInterrupts: boolean, pcpus = 1): TestRun {
  return runScenario(
    scenario([vmSpec('k', { kind: 'bundled', name: 'kernel' }, { virt: 'hw', postedInterrupts })], { host: { pcpus, memoryBytes: 64 * 1024 * 1024 } }),
    7,
  );
}

function count(run: TestRun, type: string): number {
  return run.events.filter((event) => event.type === type).length;
}

describe('interrupts for a running vCPU', () => {
  it('exit without posted interrupts: one external-interrupt exit for each interrupt that arrives while the guest runs', () => {
    const run = kernelRun(false);
    const vcpu = run.summary.vms[0].vcpus[0];
    const exits = count(run, 'exit.interrupt');
    expect(exits).toBeGreaterThan(0);
    expect(vcpu.exits.interrupt).toBe(exits);
    expect(count(run, 'irq.posted')).toBe(0);
    // Each such exit is followed, on the same vCPU, by the injection of the line it carried.
    const types = run.events.filter((event) => event.src === 'vm/k/vcpu/0').map((event) => event.type);
    for (let index = 0; index < types.length; index++) {
      if (types[index] === 'exit.interrupt') expect(types[index + 1]).toBe('irq.inject');
    }
  });

  it('need no exit with posted interrupts, nor does the end of interrupt, and the guest does the same work sooner', () => {
    const exiting = kernelRun(false);
    const posted = kernelRun(true);
    const vcpu = posted.summary.vms[0].vcpus[0];
    expect(vcpu.exits.interrupt).toBe(0);
    expect(count(posted, 'exit.interrupt')).toBe(0);
    expect(count(posted, 'irq.posted')).toBeGreaterThan(0);
    // Every interrupt posted to the running vCPU is delivered to it.
    const injected = (run: TestRun) => run.events.filter((event) => event.type === 'irq.inject').length;
    expect(injected(posted)).toBeGreaterThanOrEqual(count(posted, 'irq.posted'));
    // APIC virtualization comes with posted interrupts: the end-of-interrupt writes do not exit either.
    const eoiExits = (run: TestRun) => run.events.filter((event) => event.type === 'exit.io' && (event.data as { port: number }).port === 0x20).length;
    expect(eoiExits(exiting)).toBeGreaterThan(0);
    expect(eoiExits(posted)).toBe(0);
    // The same work, done sooner: the last line counts the timer ticks it took.
    // (The two tasks' lines come out whole, in an order that depends on timing.)
    const lines = (run: TestRun) => consoleOf(run, 'k').slice(0, -1).sort();
    expect(lines(posted)).toEqual(lines(exiting));
    const ticks = (run: TestRun) => Number(/after (\d+) timer ticks/.exec(consoleOf(run, 'k').at(-1) ?? '')?.[1]);
    expect(ticks(posted)).toBeLessThanOrEqual(ticks(exiting));
    expect(posted.summary.vms[0].state).toBe('shutoff');
    // Fewer exits, less monitor time, and the VM finishes sooner.
    const exitingVcpu = exiting.summary.vms[0].vcpus[0];
    expect(vcpu.exitsTotal).toBeLessThan(exitingVcpu.exitsTotal);
    expect(vcpu.overheadNs).toBeLessThan(exitingVcpu.overheadNs);
  });

  it('are logged byte for byte the same on a second run (both modes)', () => {
    expect(kernelRun(true).log).toBe(kernelRun(true).log);
    expect(kernelRun(false).log).toBe(kernelRun(false).log);
  });

  it('do not exit when the vCPU waits in hlt: the interrupt wakes it instead', () => {
    const run = runScenario(scenario([vmSpec('t', { kind: 'bundled', name: 'ticker' }, { virt: 'hw', params: { TICKS: 5 } })]), 3);
    expect(run.summary.vms[0].vcpus[0].exits.interrupt).toBe(0);
    expect(count(run, 'irq.inject')).toBeGreaterThanOrEqual(5);
  });

  it('are refused in a scenario whose VM is not hardware-assisted, with the line and the fix', () => {
    const text = ['name: posted', 'vms:', '  - name: a', '    guest: kernel', '    virt: full', '    postedInterrupts: true', ''].join('\n');
    let error: unknown;
    try {
      loadScenario(text, { file: 'posted.yaml', guests: BUNDLED_GUEST_NAMES });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ScenarioError);
    expect(String((error as Error).message)).toMatch(/posted\.yaml:6:\d+.*posted interrupts need hardware assistance: give this VM virt: hw/s);
  });
});
