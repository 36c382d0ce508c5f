import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // fast-check draws lengths up to an explicit maxLength (test/setup/fastCheck.ts says why).
    setupFiles: ['test/setup/fastCheck.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
