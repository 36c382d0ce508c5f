import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { main } from '../../src/cli/main.js';
import type { RunSummary } from '../../src/actors/summary.js';

const EXAMPLES = resolve(import.meta.dirname, '..', '..', 'examples');

function runJson(file: string): RunSummary & { console: Record<string, string[]> } {
  let stdout = '';
  const code = main(['run', '--json', join(EXAMPLES, file)], { stdout: { write: (text) => (stdout += text) }, stderr: { write: () => {} }, color: false });
  expect(code).toBe(0);
  return JSON.parse(stdout);
}

describe('bundled examples', () => {
  it.each(readdirSync(EXAMPLES).filter((file) => file.endsWith('.yaml')))('%s runs to the end with console output', (file) => {
    const summary = runJson(file);
    expect(summary.timeNs).toBeGreaterThan(0);
    expect(Object.values(summary.console).flat().length).toBeGreaterThan(0);
  });

  it('misbehaving: both rogues crash, each for its own reason, and the good kernel finishes', () => {
    const summary = runJson('misbehaving.yaml');
    const byName = Object.fromEntries(summary.vms.map((vm) => [vm.name, vm]));
    expect(byName.probe.state).toBe('crashed');
    expect(byName.probe.reason).toMatch(/EPT violation/);
    expect(byName.priv.state).toBe('crashed');
    expect(byName.priv.reason).toMatch(/#GP/);
    expect(byName.good.state).toBe('shutoff');
    expect(summary.console.good.at(-1)).toMatch(/both tasks finished/);
  });

  it('contention: the CPU-bound pair is preempted, the ticker blocks in hlt and wakes', () => {
    const summary = runJson('contention.yaml');
    const byName = Object.fromEntries(summary.vms.map((vm) => [vm.name, vm]));
    expect(byName['crunch-a'].vcpus[0].exits.preempt).toBeGreaterThan(3);
    expect(byName.ticker.vcpus[0].exits.hlt).toBeGreaterThan(2);
    expect(byName.ticker.vcpus[0].waitNs).toBeGreaterThan(byName.ticker.vcpus[0].cpuNs);
  });

  it('smp: every vCPU of the SMP VM runs and prints its index', () => {
    const summary = runJson('smp.yaml');
    expect(summary.console.trio).toEqual(['vcpu 0 up', 'vcpu 1 up', 'vcpu 2 up']);
    expect(summary.vms[0].vcpus.map((vcpu) => vcpu.cpuNs > 0)).toEqual([true, true, true]);
    expect(summary.endReason).toBe('time');
    // vCPU 0 of ipi wakes vCPU 1 with inter-processor interrupts; both vCPUs of lock take turns.
    expect(summary.console.ipi.at(-1)).toBe('smp-ipi: done, powering off');
    const lock = summary.vms.find((vm) => vm.name === 'lock');
    expect(lock?.vcpus.every((vcpu) => vcpu.exits.io > 0)).toBe(true);
  });
});
