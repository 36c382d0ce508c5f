// The test set of `npm run mutate` (StrykerJS, stryker.config.json): the isolation property tests,
// and the contract tests of the modules mutated (I/O bus, DMA, attach, inputs, interrupt routing, guest memory and its maps, the host memory manager,
// the schedulers' caps, paging and the TLB, the world switch).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/testing/properties.test.ts', 'test/testing/mutants.test.ts', 'test/testing/dma.test.ts', 'test/devices/attach.test.ts', 'test/sim/inputs.test.ts', 'test/devices/ioBus.test.ts', 'test/sim/interrupts.test.ts', 'test/sim/interruptRouting.test.ts', 'test/sim/smp.test.ts', 'test/sim/monitor.test.ts', 'test/memory/sharing.test.ts', 'test/memory/overcommit.test.ts', 'test/memory/ballooning.test.ts', 'test/memory/tlb.test.ts', 'test/memory/memoryMap.test.ts', 'test/memory/hostBalloons.test.ts', 'test/memory/hostMemory.test.ts', 'test/scheduler/caps.test.ts', 'test/sim/pagingWalk.test.ts', 'test/sim/paging.test.ts', 'test/vcpu/tlb.test.ts', 'test/vcpu/worldSwitch.test.ts', 'test/vcpu/mmu.test.ts', 'test/scheduler/driverDomain.test.ts'],
    setupFiles: ['test/setup/fastCheck.ts'],
    testTimeout: 120_000,
  },
});
