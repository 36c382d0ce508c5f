// The test set of `npm run mutate` (StrykerJS, stryker.config.json): the isolation property tests.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/testing/properties.test.ts', 'test/testing/mutants.test.ts', 'test/testing/dma.test.ts', 'test/devices/attach.test.ts', 'test/sim/inputs.test.ts', 'test/devices/ioBus.test.ts'],
    testTimeout: 120_000,
  },
});
