/**
 * One measurement of the validate benchmark, in a process of its own so that no measurement inherits the
 * heap, the caches or the JIT state of another. Prints one JSON line:
 *   { importMs, first, times, heapMB, ok, problems? }
 *
 *   node [--expose-gc] bench/lib/validate-worker.mjs STEPS text|object cold|same|new [RUNS] [WARMUP]
 *
 *   cold   import the package, validate once: what `trellis validate` does (times is empty);
 *   same   validate the same spec WARMUP times, then RUNS timed times: every cache hits;
 *   new    validate a new spec each time (new ids, so new expression texts and new unique schemas).
 *
 * Handy to profile the validator alone: node --cpu-prof bench/lib/validate-worker.mjs 1000 text new
 */
import { performance } from 'node:perf_hooks';
import { generateSpec, specText, TOOLS } from './specs.mjs';
import { time } from './stats.mjs';

const [steps, path, kind] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
const runs = Number(process.argv[5] ?? 15);
const warmup = Number(process.argv[6] ?? 5);
if (!Number.isInteger(steps) || steps < 1 || !['text', 'object'].includes(path) || !['cold', 'same', 'new'].includes(kind)) {
  console.error('usage: node bench/lib/validate-worker.mjs STEPS text|object cold|same|new [RUNS] [WARMUP]');
  process.exit(2);
}

// Inputs are made before the package is loaded and before any timing. The cold and same runs validate
// variant 0; new runs validate variants 1, 2, ... (the parent checks variant 0 validates, each run checks its own).
const count = kind === 'cold' ? 1 : warmup + runs;
const inputs = Array.from({ length: count }, (_, i) => {
  const text = specText(generateSpec(steps, { variant: kind === 'new' ? i + 1 : 0 }));
  return path === 'text' ? text : JSON.parse(text);
});

const t0 = performance.now();
const { catalogOf, validateSpec, validateSpecText } = await import('../../dist/index.js');
const importMs = performance.now() - t0;
const tools = catalogOf(TOOLS);
const validate = path === 'text' ? (text) => validateSpecText(text, { tools, filename: 'spec.json' }) : (doc) => validateSpec(doc, { tools });

let first;
const times = [];
for (let i = 0; i < count; i++) {
  const { ms, value } = time(() => validate(inputs[i]));
  if (!value.ok) {
    console.log(JSON.stringify({ ok: false, run: i, problems: value.problems.slice(0, 20), total: value.problems.length }));
    process.exit(0);
  }
  if (i === 0) first = ms;
  if (kind !== 'cold' && i >= warmup) times.push(ms);
}
console.log(JSON.stringify({ ok: true, importMs, first, times, heapMB: process.memoryUsage().heapUsed / 2 ** 20 }));
