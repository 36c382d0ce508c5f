/** Tagged TLBs (VPID/ASID): a switch between vCPUs on a physical CPU no longer flushes. */
import { describe, expect, it } from 'vitest';
import { Mmu } from '../../src/actors/paging.js';
import { runScenario, scenario, vmSpec } from '../helpers.js';

const KiB = 1024;

describe('tagged TLBs', () => {
  it('keeps a vCPU’s entries across a switch on the same physical CPU, and starts cold on another', () => {
    const mmu = new Mmu(8, true);
    mmu.switchedTo(0);
    mmu.kernel.fill(3, 4096);
    mmu.switchedTo(0);
    expect(mmu.kernel.map[3]).toBe(4096);
    mmu.switchedTo(1);
    expect(mmu.kernel.map[3]).toBe(-1);
    const untagged = new Mmu(8);
    untagged.switchedTo(0);
    untagged.kernel.fill(3, 4096);
    untagged.switchedTo(0);
    expect(untagged.kernel.map[3]).toBe(-1);
  });

  it('two TLB-heavy VMs sharing one physical CPU miss far less with tags', () => {
    const misses = (tlbTagged: boolean) => {
      const vm = (name: string) =>
        vmSpec(name, { kind: 'bundled', name: 'tlb-heavy' }, { memoryBytes: 512 * KiB, virt: 'hw', paging: 'nested', params: { PAGES: 40 }, tlbTagged });
      const run = runScenario(
        scenario([vm('a'), vm('b')], {
          host: { pcpus: 1, memoryBytes: 16 << 20 },
          scheduler: { policy: 'round-robin', quantumNs: 20_000 },
          run: { timeNs: 4_000_000, instructions: undefined, checkpointEvery: 10_000 },
        }),
      );
      const vcpus = run.simulation.vms.map((each) => each.bsp);
      expect(vcpus.every((vcpu) => vcpu.counters.dispatches > 50)).toBe(true);
      return vcpus.reduce((sum, vcpu) => sum + (vcpu.mmu?.misses ?? 0), 0);
    };
    const untagged = misses(false);
    const tagged = misses(true);
    expect(untagged).toBeGreaterThan(5_000);
    expect(tagged).toBeLessThan(untagged / 20);
  });
});
