/**
 * The workflow bundle: what a worker evaluates for every run. The determinism lint rule keeps Node APIs, zod, ajv,
 * yaml and the model client out of workflow code's imports; this checks the bundle webpack actually makes, where
 * an indirect import would show (measured once: zod and ajv in it made a run's first workflow task 71 ms instead of
 * 45, and the bundle 5.5 MB instead of 2.4).
 */
import { expect, it } from 'vitest';
import { bundleWorkflows } from '../../src/worker.js';

it('holds workflow code and its pure modules, not the validator, the parser or the model client', async () => {
  const { code } = await bundleWorkflows();
  for (const heavy of ['node_modules/zod/', 'node_modules/ajv/', 'node_modules/yaml/', 'node_modules/openai/', 'node_modules/pino/']) {
    expect(code.includes(heavy), heavy).toBe(false);
  }
  // What it needs is there: the interpreter and the expression language with its RE2.
  for (const needed of ['trellisRun', 'trellisGoal', 'node_modules/re2js/', 'node_modules/@marcbachmann/cel-js/'])
    expect(code, needed).toContain(needed);
  // 3.4 MB, and 1.7 more of the OpenTelemetry SDK: bundled, but required (evaluated) only by a worker that traces.
  expect(code.length / 2 ** 20, 'MB').toBeLessThan(5.5);
}, 120_000);
