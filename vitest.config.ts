import { defineConfig } from 'vitest/config';

/**
 * Three lanes, as vitest projects of this one config, so that `npm test` stays one run with one report and the
 * integration and e2e lanes share one Temporal dev server:
 *
 *   unit          test/unit/**          pure: no Temporal server, no build          npm run test:unit
 *   integration   test/integration/**   the shared dev server (test/global-setup.ts) npm run test:integration
 *   e2e           test/e2e/**           the server and the built CLI (dist/)        npm run test:e2e
 *   browser       test/browser/**       the server, trellis serve and Debian's chromium npm run test:browser
 *
 * `npx vitest run --project unit` (or integration, e2e) runs one lane; a file path runs that file in its lane.
 * Only the integration, e2e and browser projects name the global setup, so a unit run starts no server. The e2e tests
 * and two integration files (crash, temporal-door) run dist/cli/main.js: `npm test`, `test:integration` and
 * `test:e2e` build it first; after editing src/, so should you before running one of those files alone.
 */
// TRELLIS_TEST_LOGS=1 prints all console output, of passing tests too, as it comes: the logs of the workers the
// tests start (the Temporal SDK's "Workflow failed ..." and "Activity failed ..." warnings for the failures the
// tests provoke, pino lines; test/helpers/logs.ts). Without it a passing test's console output is dropped and a
// failing test, hook or file prints its own after its error. TRELLIS_TEST_LOGS=debug (etc.) also sets their level.
const showLogs = !['', '0', 'false'].includes(process.env.TRELLIS_TEST_LOGS?.trim().toLowerCase() ?? '');
const temporal = ['test/global-setup.ts'];

export default defineConfig({
  test: {
    // Inherited by every project (extends: true). 2 cores: integration tests start workers and processes, so
    // keep the pool small and timeouts generous. The projects run in one pool: maxWorkers is for the whole run.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    silent: showLogs ? false : 'passed-only',
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'], globalSetup: temporal } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], globalSetup: temporal } },
      { extends: true, test: { name: 'browser', include: ['test/browser/**/*.test.ts'], globalSetup: temporal } },
    ],
  },
});
