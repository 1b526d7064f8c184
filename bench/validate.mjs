/**
 * Validation time: how long validateSpecText (the CLI's path: JSON text in) and validateSpec (a parsed
 * object in) take on realistic specs of 10, 100 and 1,000 steps, type-checked against a tool catalog; and
 * how fast a 20,000-step spec is refused. The goal: 1,000 steps validated in under 50 ms.
 *
 * Three figures per size and path, because the validator caches compiled expressions and JSON Schemas by
 * their text (module-level maps in src/spec):
 *   cold      the first validation in a fresh process, as `trellis validate` does it (median of 3 processes);
 *   same      the same spec again and again in a warm process: every cache hits (a lower bound on time);
 *   new       a new spec each run (new ids, so new expression texts, and new unique schemas) in a warm
 *             process: what a long-lived service or the planner's repair loop sees.
 * Every measurement runs in a process of its own (lib/validate-worker.mjs), so none inherits the heap,
 * caches or JIT state of another.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { catalogOf, validateSpec, validateSpecText } from '../dist/index.js';
import { generateSpec, specText, tinySpec, TOOLS, STEPS_PER_GROUP } from './lib/specs.mjs';
import { int, median, ms, percentile, ratio, table, time } from './lib/stats.mjs';

export const name = 'validate';

const SIZES = [10, 100, 1_000];
const WARMUP = 5;
const RUNS = 15;
const COLD_PROCESSES = 3;
const GOAL_STEPS = 1_000;
const GOAL_MS = 50;
const HUGE = 20_000;
const WORKER = fileURLToPath(new URL('./lib/validate-worker.mjs', import.meta.url));

export class BenchmarkFailure extends Error {}

export default async function run() {
  const tools = catalogOf(TOOLS);
  const byText = (text) => validateSpecText(text, { tools, filename: 'spec.json' });
  const byObject = (doc) => validateSpec(doc, { tools });

  console.log(
    `validate: realistic specs (groups of ${STEPS_PER_GROUP} steps: tool, llm with output schemas, approval with when, wait, fan-out and joins),`,
  );
  console.log(
    `type-checked against ${TOOLS.length} tools; each measurement in its own process: ${WARMUP} warm-up runs, then median and p90 of ${RUNS};`,
  );
  console.log(`cold = the first validation in a fresh process (median of ${COLD_PROCESSES} processes).`);
  console.log('');

  // Refusals first, in this process while its heap is small.
  const refusals = measureRefusals(byText, byObject);

  const results = new Map();
  for (const steps of SIZES) {
    const text = specText(generateSpec(steps));
    // A benchmark of a failing validation measures nothing: every spec must validate, by both paths.
    expectValid(`${steps} steps (text)`, byText(text));
    expectValid(`${steps} steps (object)`, byObject(JSON.parse(text)));
    const r = { bytes: Buffer.byteLength(text) };
    for (const path of ['text', 'object']) {
      const cold = Array.from({ length: COLD_PROCESSES }, () => worker(steps, path, 'cold'));
      const same = worker(steps, path, 'same');
      const fresh = worker(steps, path, 'new');
      r[path] = { cold, same: same.times, fresh: fresh.times, heapSame: same.heapMB, heapNew: fresh.heapMB };
    }
    results.set(steps, r);
  }

  // ---- times ----
  const coldMs = (m) => median(m.cold.map((c) => c.first));
  const rows = [
    [
      'steps',
      'path',
      'bytes',
      'import',
      'cold',
      'same med',
      'same p90',
      'new med',
      'new p90',
      'µs/step cold',
      'µs/step same',
      'µs/step new',
      'heap after new',
    ],
  ];
  for (const [steps, r] of results) {
    for (const path of ['text', 'object']) {
      const m = r[path];
      rows.push([
        int(steps),
        path,
        path === 'text' ? int(r.bytes) : '-',
        ms(median(m.cold.map((c) => c.importMs))),
        ms(coldMs(m)),
        ms(median(m.same)),
        ms(percentile(m.same, 90)),
        ms(median(m.fresh)),
        ms(percentile(m.fresh, 90)),
        perStep(coldMs(m), steps),
        perStep(median(m.same), steps),
        perStep(median(m.fresh), steps),
        `${Math.round(m.heapNew)} MB`,
      ]);
    }
  }
  console.log('Validation time (ms; µs per step from the medians; import = loading the package in the cold process;');
  console.log(`heap after new = heap in use after validating ${WARMUP + RUNS} new specs, the validator's caches included)`);
  console.log(table(rows));
  console.log('');

  // ---- linearity ----
  const perStepOf = (steps, path, kind) => {
    const m = results.get(steps)[path];
    return (kind === 'cold' ? coldMs(m) : median(m[kind])) / steps;
  };
  const kinds = [
    ['cold', 'text'],
    ['cold', 'object'],
    ['same', 'text'],
    ['same', 'object'],
    ['fresh', 'text'],
    ['fresh', 'object'],
  ];
  const lin = [['per-step cost ratio', 'cold text', 'cold object', 'same text', 'same object', 'new text', 'new object']];
  for (const [a, b] of [
    [1_000, 100],
    [100, 10],
    [1_000, 10],
  ]) {
    lin.push([`${int(a)} vs ${int(b)} steps`, ...kinds.map(([kind, path]) => ratio(perStepOf(a, path, kind) / perStepOf(b, path, kind)))]);
  }
  console.log(
    'Linearity: cost per step at the larger size / at the smaller (1.00x = linear; below 1 = fixed costs amortised; above 1.5 = superlinear)',
  );
  console.log(table(lin));
  const worst = Math.max(...kinds.map(([kind, path]) => perStepOf(1_000, path, kind) / perStepOf(100, path, kind)));
  console.log(`verdict: ${worst <= 1.5 ? 'linear' : 'NOT linear'} from 100 to 1,000 steps (worst per-step ratio ${ratio(worst)})`);
  console.log('');

  // ---- the goal ----
  const g = results.get(GOAL_STEPS);
  const goal = [[`goal: ${int(GOAL_STEPS)} steps in < ${GOAL_MS} ms`, 'ms', 'result']];
  const add = (label, value) => goal.push([label, ms(value), value < GOAL_MS ? 'goal met' : 'goal missed']);
  add('CLI path: first validateSpecText in a fresh process', coldMs(g.text));
  add('  the same plus importing the package', median(g.text.cold.map((c) => c.first + c.importMs)));
  add('first validateSpec (object) in a fresh process', coldMs(g.object));
  add('warm, new spec each run, text (median)', median(g.text.fresh));
  add('warm, new spec each run, object (median)', median(g.object.fresh));
  add('warm, same spec, text (median; caches hit)', median(g.text.same));
  add('warm, same spec, object (median; caches hit)', median(g.object.same));
  console.log(table(goal));
  console.log('');

  // ---- refusing a spec over the limits ----
  const oneK = median(g.text.same);
  const refuse = [['refusing a 20,000-step spec', 'bytes', 'first', 'median', 'p90', 'vs 1,000 steps', 'at once', 'problem']];
  for (const c of refusals) {
    const share = median(c.times) / oneK;
    // "At once": refused before any per-step work, in far less time than validating the steps the limit allows.
    refuse.push([
      c.label,
      c.bytes === undefined ? '-' : int(c.bytes),
      ms(c.first),
      ms(median(c.times)),
      ms(percentile(c.times, 90)),
      `${(share * 100).toFixed(1)}%`,
      c.refused && share < 0.1 ? 'yes' : 'NO',
      c.what,
    ]);
  }
  console.log('Refusal time (ms); "at once" = one TOO_LARGE problem, in under 10% of the time of a warm 1,000-step validation (same spec, text)');
  console.log(table(refuse));
}

function measureRefusals(byText, byObject) {
  const huge = generateSpec(HUGE);
  const hugeText = specText(huge);
  const tiny = tinySpec(HUGE);
  const tinyText = JSON.stringify(tiny);
  const cases = [
    { label: 'realistic steps, text (validateSpecText)', bytes: Buffer.byteLength(hugeText), fn: () => byText(hugeText) },
    { label: 'realistic steps, object (validateSpec)', fn: () => byObject(huge) },
    { label: 'tiny wait steps, compact text under 1 MiB', bytes: Buffer.byteLength(tinyText), fn: () => byText(tinyText) },
    { label: 'tiny wait steps, object', fn: () => byObject(tiny) },
  ];
  return cases.map(({ label, bytes, fn }) => {
    const times = [];
    let first;
    let outcome;
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const { ms: took, value } = time(fn);
      if (i === 0) [first, outcome] = [took, value];
      if (i >= WARMUP) times.push(took);
    }
    const refused = !outcome.ok && outcome.problems.length === 1 && outcome.problems[0].code === 'TOO_LARGE';
    const what = outcome.ok
      ? 'NOT REFUSED: accepted'
      : refused
        ? outcome.problems[0].message
        : `NOT AT ONCE: ${outcome.problems.length} problems, first ${outcome.problems[0].code}`;
    return { label, bytes, first, times, refused, what };
  });
}

function perStep(totalMs, steps) {
  return ((totalMs * 1000) / steps).toFixed(1);
}

/** One measurement in a fresh process (lib/validate-worker.mjs). */
function worker(steps, path, kind) {
  let out;
  try {
    out = execFileSync(process.execPath, ['--expose-gc', WORKER, String(steps), path, kind, String(RUNS), String(WARMUP)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    throw new BenchmarkFailure(`the ${kind} measurement of ${steps} steps (${path}) failed:\n${e.stderr || e.message}`);
  }
  const r = JSON.parse(out.trim().split('\n').pop());
  expectValid(`${steps} steps, ${kind} run ${r.run ?? ''} (${path})`, r);
  return r;
}

function expectValid(label, result) {
  if (result.ok) return;
  const total = result.total ?? result.problems.length;
  const lines = result.problems.slice(0, 20).map((p) => `  ${formatProblem(p)}`);
  if (total > 20) lines.push(`  ... and ${total - 20} more`);
  throw new BenchmarkFailure(`the generated spec of ${label} does not validate, so there is nothing to measure:\n${lines.join('\n')}`);
}

function formatProblem(p) {
  const path = p.path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('') || '(root)';
  return `${path}: ${p.message} (${p.code})`;
}
