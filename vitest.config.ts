import { defineConfig } from 'vitest/config';

// One real Temporal dev server per test run (test/global-setup.ts), shared by every file that needs it.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // 2 cores: integration tests start workers and processes; keep the pool small and timeouts generous.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
