/**
 * `npm run bench`: builds, then runs every benchmark below in turn; each prints its own tables.
 *
 *   node --expose-gc bench/run.mjs [NAME...]     only the benchmarks named (after npm run build)
 *
 * A benchmark is a module exporting `name` and a default async function that prints its figures. It
 * measures the BUILT package (../dist/index.js), as users run it. It reports goals as figures and never
 * fails on a slow result; it throws only when it could not measure (for example, a generated spec that
 * does not validate), and then the run stops with exit code 1.
 */
import { existsSync } from 'node:fs';
import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { hasGc } from './lib/stats.mjs';

/** The registry: add a benchmark here. */
const BENCHMARKS = [
  () => import('./validate.mjs'),
  () => import('./interpreter.mjs'),
  () => import('./plan-vs-react.mjs'),
  () => import('./estimate.mjs'),
  () => import('./api.mjs'),
  () => import('./codec.mjs'),
  () => import('./encryption.mjs'),
  () => import('./claim-check.mjs'),
  () => import('./tracing.mjs'),
];

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
if (!existsSync(dist)) {
  console.error('bench: dist/index.js is missing; run `npm run bench` (it builds first) or `npm run build`.');
  process.exit(2);
}

const wanted = process.argv.slice(2);
const cpu = cpus();
console.log(
  `trellis benchmarks: node ${process.version}, ${platform()} ${arch()}, ${cpu.length} x ${cpu[0]?.model ?? 'unknown cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
);
const busy = () => {
  const load = loadavg()[0];
  return load > cpu.length * 0.75
    ? `load average ${load.toFixed(1)} on ${cpu.length} cores: other work is running, so the figures may be inflated`
    : undefined;
};
if (busy()) console.log(`warning: ${busy()}`);
if (!hasGc) console.log('note: run with --expose-gc (npm run bench does) to collect garbage between timed runs');
console.log('');

const started = performance.now();
let ran = 0;
for (const load of BENCHMARKS) {
  const mod = await load();
  if (wanted.length > 0 && !wanted.includes(mod.name)) continue;
  const t = performance.now();
  console.log(`== ${mod.name} ==`);
  try {
    await mod.default();
  } catch (e) {
    console.error(`bench ${mod.name}: ${e instanceof Error ? e.message : String(e)}`);
    if (!(e instanceof Error && e.constructor.name === 'BenchmarkFailure')) console.error(e);
    process.exit(1);
  }
  console.log(`(${mod.name}: ${((performance.now() - t) / 1000).toFixed(1)} s)`);
  console.log('');
  ran++;
}
if (ran === 0) {
  console.error(`bench: no benchmark named ${wanted.join(', ')}`);
  process.exit(2);
}
console.log(
  `all benchmarks: ${((performance.now() - started) / 1000).toFixed(1)} s; 1-minute load average now ${loadavg()[0].toFixed(1)} on ${cpu.length} cores`,
);
if (busy()) console.log(`warning: ${busy()}`);
