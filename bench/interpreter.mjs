/**
 * The interpreter on a real Temporal dev server (its own, started here and stopped at the end):
 *
 *   1. overhead per step: a spec of N sequential tool steps (each takes the previous step's output) run by
 *      the Trellis interpreter, against a hand-written Temporal workflow (bench/fixtures/handwritten-workflow.ts)
 *      that calls the same `runTool` activity with the same call shape. The tool returns at once, so the time
 *      is the engine's. One run at a time (median), then 10 at a time (throughput). Goal: at most 1.2x.
 *      A third variant, the hand-written workflow plus what the interpreter adds around the activities (the
 *      describeTools local activity, the status search attribute upserts), attributes the difference; the
 *      server's event times and a replay of each kind's history (worker CPU alone) say where the time goes.
 *      A fourth, the interpreter on a worker whose checkRun skips the validation (only for this figure), gives
 *      start->first step with and without the worker checking every run's argument. Goal: at most 1.2x.
 *   2. parallelism: 8 independent steps of a 200 ms tool against the same 8 in a chain. Goal: at least 6x.
 *   3. 1,000 runs parked on an approval, in a worker process of its own (`trellis worker`, a small workflow
 *      cache): its resident memory before, while parked and after; the start rate; the time until all wait;
 *      the time from the first approval until every run completed, and how many were lost. Then again with a
 *      cache large enough to hold every run, to show what eviction saves.
 *
 *   npm run build && node --expose-gc bench/interpreter.mjs       (or: node --expose-gc bench/run.mjs interpreter)
 *
 * Figures come from one run and are printed, never asserted.
 */
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import proto from '@temporalio/proto';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { limitsFromEnv, toolsUsed, validateSpec } from '../dist/index.js';
import { TrellisClient, WORKFLOW_TYPE } from '../dist/client/index.js';
import { bundleWorkflows, createActivities, createLlmClient, createTrellisWorker } from '../dist/worker.js';
import TOOLS from './fixtures/tools.mjs';
import { cpuOf, installBenchRuntime, memoryOf, pool, sleep, spawnWorker, startServer } from './lib/stack.mjs';
import { gc, int, median, ms, percentile, ratio, signed, table } from './lib/stats.mjs';

export const name = 'interpreter';

const STEPS = 20; // sequential tool steps per run (part 1)
const WARMUP = 2; // runs of each variant before timing
const RUNS = 12; // timed runs of each variant, one at a time
const CONCURRENCY = 10; // runs in flight for the throughput figure
const CONCURRENT_RUNS = 40; // runs of each kind for the throughput figure
const OVERHEAD_GOAL = 1.2;
const CHECK_GOAL = 1.2; // start->first step, with the worker-side check of the run's argument / without it
const REPLAYS = 50; // history replays of each kind (worker CPU without the server)

const FAN = 8; // parallel steps (part 2)
const FAN_MS = 200;
const FAN_RUNS = 4;
const FAN_GOAL = 6;

const PARKED = 1_000; // runs parked on an approval (part 3)
const SMALL_CACHE = 100;
const LARGE_CACHE = 2_000;
const START_CONCURRENCY = 50;
const APPROVE_CONCURRENCY = 50;
const WARM_RUNS = 10; // parked-spec runs completed before the "warm" memory figure
const PHASE_TIMEOUT_MS = 180_000; // bound on waiting for all runs to wait, and for all to complete (a slow machine takes 90 s)
const BUDGET_MS = 250_000; // the large-cache pass runs only if it should end within this (from the first pass's time)

const HANDWRITTEN = fileURLToPath(new URL('./fixtures/handwritten-workflow.ts', import.meta.url));
const TOOLS_MODULE = fileURLToPath(new URL('./fixtures/tools.mjs', import.meta.url));
const STATUS = 'TrellisStatus';
const { EventType } = proto.temporal.api.enums.v1;
const { History } = proto.temporal.api.history.v1;

export class BenchmarkFailure extends Error {}

export default async function run() {
  const started = performance.now();
  console.log(`interpreter: a real Temporal dev server of its own; ${STEPS}-step tool chains (a tool that returns at once), ${WARMUP} warm-up runs,`);
  console.log(`then ${RUNS} runs of each variant one at a time (interleaved), and ${CONCURRENT_RUNS} of each kind ${CONCURRENCY} at a time.`);
  console.log('');

  const server = await startServer();
  try {
    // The SDK logs every worker state change at INFO; a benchmark wants warnings only.
    installBenchRuntime();
    const connection = await NativeConnection.connect({ address: server.address });
    const trellisQueue = `bench-trellis-${randomUUID()}`;
    const uncheckedQueue = `bench-unchecked-${randomUUID()}`;
    const handQueue = `bench-hand-${randomUUID()}`;
    const [trellisBundle, handBundle] = await Promise.all([
      bundleWorkflows(),
      bundleWorkflowCode({ workflowsPath: HANDWRITTEN, logger: quietLogger }),
    ]);
    const trellisOn = async (taskQueue, workerOptions) =>
      (
        await createTrellisWorker({
          tools: TOOLS,
          temporal: { address: server.address, namespace: server.namespace, taskQueue },
          connection,
          workflowBundle: trellisBundle,
          logger: pino({ level: 'warn' }),
          ...(workerOptions && { workerOptions }),
        })
      ).worker;
    const trellisWorker = await trellisOn(trellisQueue);
    // The interpreter again, on a worker whose checkRun trusts the argument: what the check costs a run's start.
    const worker = { limits: limitsFromEnv(), statusSearchAttribute: STATUS };
    const activities = createActivities({ tools: TOOLS, llm: createLlmClient({ model: 'none' }), model: 'none', worker });
    const uncheckedWorker = await trellisOn(uncheckedQueue, {
      activities: {
        ...activities,
        checkRun: async (args) => ({ ok: true, toolInfo: await activities.describeTools(toolsUsed(args.spec)), library: {}, worker }),
      },
    });
    // The same activities, made the same way, under a hand-written workflow; default options on both workers.
    const handWorker = await Worker.create({
      connection,
      namespace: server.namespace,
      taskQueue: handQueue,
      workflowBundle: handBundle,
      activities: createActivities({ tools: TOOLS, llm: createLlmClient({ model: 'none' }), model: 'none' }),
    });
    const running = [trellisWorker.run(), uncheckedWorker.run(), handWorker.run()];
    const client = await TrellisClient.connect({ address: server.address, namespace: server.namespace, taskQueue: trellisQueue });
    const unchecked = await TrellisClient.connect({ address: server.address, namespace: server.namespace, taskQueue: uncheckedQueue });
    try {
      console.log(
        `workflow bundles: interpreter ${(trellisBundle.code.length / 2 ** 20).toFixed(2)} MB, hand-written ${(handBundle.code.length / 2 ** 20).toFixed(2)} MB; Temporal CLI from ${server.source}`,
      );
      console.log('');
      await overhead(client, unchecked, handQueue, { trellis: trellisBundle, hand: handBundle });
      await parallelism(client, handQueue);
    } finally {
      trellisWorker.shutdown();
      uncheckedWorker.shutdown();
      handWorker.shutdown();
      await Promise.allSettled(running);
      await client.close();
      await unchecked.close();
      await connection.close();
    }
    await parked(server, started);
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------
// 1. Overhead per step

function chainSpec(steps) {
  return {
    version: 1,
    name: 'bench-chain',
    steps: Array.from({ length: steps }, (_, i) => ({
      id: `s${i}`,
      kind: 'tool',
      tool: 'echo',
      args: { n: i === 0 ? 0 : `\${steps.s${i - 1}.n}` },
    })),
    output: { n: `\${steps.s${steps - 1}.n}` },
  };
}

async function overhead(client, unchecked, handQueue, bundles) {
  const spec = chainSpec(STEPS);
  const checked = validateSpec(spec);
  if (!checked.ok) throw new BenchmarkFailure(`the chain spec does not validate: ${checked.problems.map((p) => p.message).join('; ')}`);
  const temporal = client.temporal;

  const hand =
    (extra = {}) =>
    async () => {
      const id = `hand-${randomUUID()}`;
      const result = await temporal.workflow.execute('handwrittenChain', {
        taskQueue: handQueue,
        workflowId: id,
        args: [{ steps: STEPS, tool: 'echo', ...extra }],
        ...(extra.statusAttribute && { searchAttributes: { [STATUS]: ['running'] } }),
      });
      expectN(result.output, id);
      return id;
    };
  const variants = [
    { key: 'hand', label: 'hand-written', run: hand() },
    // What the interpreter adds besides the activities, written by hand: describeTools, the status upserts.
    { key: 'hand+extras', label: 'hand-written + describeTools + status upserts', run: hand({ describe: true, statusAttribute: STATUS }) },
    {
      key: 'trellis',
      label: 'interpreter (TrellisClient.start + result)',
      run: async () => {
        const { runId: id } = await client.start(spec);
        expectN((await client.result(id)).output, id);
        return id;
      },
    },
    {
      key: 'unchecked',
      label: "interpreter, the worker's check of the argument skipped",
      run: async () => {
        const { runId: id } = await unchecked.start(spec);
        expectN((await unchecked.result(id)).output, id);
        return id;
      },
    },
  ];

  for (let i = 0; i < WARMUP; i++) for (const v of variants) await v.run();
  const times = new Map(variants.map((v) => [v.key, []]));
  const ids = new Map(variants.map((v) => [v.key, []]));
  for (let i = 0; i < RUNS; i++) {
    // Interleaved, and rotated, so that drift (the server's SQLite file growing, say) is spread evenly.
    for (let j = 0; j < variants.length; j++) {
      const v = variants[(i + j) % variants.length];
      gc();
      const t = performance.now();
      const id = await v.run();
      times.get(v.key).push(performance.now() - t);
      ids.get(v.key).push(id);
    }
  }

  // Where the time goes, from the server's own event times in each run's history.
  const histories = new Map();
  for (const v of variants) histories.set(v.key, await Promise.all(ids.get(v.key).map((id) => historyFigures(temporal, id))));

  const base = median(times.get('hand'));
  const rows = [
    [
      'variant',
      'median ms',
      'p90 ms',
      'ms/step',
      'vs hand-written',
      'events',
      'history KB',
      'WFT',
      'WFT wait',
      'worker ms/run',
      'start->1st step',
      'gap/step',
      'last->done',
    ],
  ];
  for (const v of variants) {
    const t = times.get(v.key);
    const h = histories.get(v.key);
    const med = (f) => median(h.map(f));
    rows.push([
      v.label,
      ms(median(t)),
      ms(percentile(t, 90)),
      ms(median(t) / STEPS),
      ratio(median(t) / base),
      int(med((x) => x.events)),
      (med((x) => x.bytes) / 1024).toFixed(1),
      int(med((x) => x.workflowTasks)),
      ms(med((x) => x.dispatchMs)),
      ms(med((x) => x.workerMs)),
      ms(med((x) => x.firstStep)),
      ms(med((x) => x.gap)),
      ms(med((x) => x.tail)),
    ]);
  }
  console.log(`1. overhead per step: ${STEPS} sequential tool steps, one run at a time (${RUNS} runs each)`);
  console.log(table(rows));
  console.log(
    "   events / history KB / WFT: per run (WFT = workflow tasks); WFT wait: a workflow task's mean scheduled->started time (the server handing it to the worker);",
  );
  console.log(
    "   worker ms/run: the sum of the workflow tasks' started->completed times (the worker's share: the interpreter's own cost lives here);",
  );
  console.log(
    '   start->1st step, gap/step (a step completed -> the next scheduled), last->done: server event times; all figures are medians over the runs.',
  );
  const trellis = median(times.get('trellis'));
  const overheadRatio = trellis / base;
  console.log(
    `   interpreter / hand-written: ${ratio(overheadRatio)} (${ms(trellis / STEPS)} vs ${ms(base / STEPS)} ms per step, ${signed((trellis - base) / STEPS)} ms per step) ` +
      `-> goal <= ${OVERHEAD_GOAL}x: ${overheadRatio <= OVERHEAD_GOAL ? 'goal met' : 'goal missed'}`,
  );
  const workerOf = (key) => median(histories.get(key).map((x) => x.workerMs));
  const firstOf = (key) => median(histories.get(key).map((x) => x.firstStep));
  const checkRatio = firstOf('trellis') / firstOf('unchecked');
  console.log(
    `   start->1st step with the worker's check of the run / without it: ${ratio(checkRatio)} (${ms(firstOf('trellis'))} vs ${ms(firstOf('unchecked'))} ms, ` +
      `${signed(firstOf('trellis') - firstOf('unchecked'))} ms; the whole run ${ratio(median(times.get('trellis')) / median(times.get('unchecked')))}) ` +
      `-> goal <= ${CHECK_GOAL}x: ${checkRatio <= CHECK_GOAL ? 'goal met' : 'goal missed'}`,
  );
  console.log(
    `   worker time per run, interpreter / hand-written: ${ratio(workerOf('trellis') / workerOf('hand'))} ` +
      `(${signed((workerOf('trellis') - workerOf('hand')) / STEPS)} ms per step; hand-written + extras: ${ratio(workerOf('hand+extras') / workerOf('hand'))})`,
  );
  // The same cost without the server: replaying a run's history runs only the worker's code (SDK and workflow).
  const replay = {};
  for (const key of ['hand', 'trellis']) {
    const history = await temporal.workflow.getHandle(ids.get(key)[0]).fetchHistory();
    replay[key] = await replayMs(bundles[key], history, key);
  }
  console.log(
    `   replaying a run's history (worker CPU only, no server; median of ${REPLAYS}): interpreter ${ms(replay.trellis)} ms, hand-written ${ms(replay.hand)} ms per run ` +
      `= ${ratio(replay.trellis / replay.hand)} (${signed((replay.trellis - replay.hand) / STEPS)} ms per step)`,
  );
  const validateMs = medianOf(50, () => validateSpec(spec));
  console.log(`   (TrellisClient.start validates the spec first: ${ms(validateMs)} ms for this ${STEPS}-step spec, inside the interpreter's figure)`);
  console.log('');

  // Throughput: CONCURRENCY runs in flight.
  const rows2 = [['kind', 'runs', 'wall s', 'runs/s', 'steps/s', 'median ms', 'p90 ms']];
  const through = {};
  for (const v of [variants[0], variants[2]]) {
    gc();
    const latencies = [];
    const t = performance.now();
    await pool(Array.from({ length: CONCURRENT_RUNS }), CONCURRENCY, async () => {
      const s = performance.now();
      await v.run();
      latencies.push(performance.now() - s);
    });
    const wall = (performance.now() - t) / 1000;
    through[v.key] = CONCURRENT_RUNS / wall;
    rows2.push([
      v.label,
      int(CONCURRENT_RUNS),
      wall.toFixed(2),
      (CONCURRENT_RUNS / wall).toFixed(1),
      int((CONCURRENT_RUNS * STEPS) / wall),
      ms(median(latencies)),
      ms(percentile(latencies, 90)),
    ]);
  }
  console.log(`   throughput, ${CONCURRENCY} runs in flight:`);
  console.log(indent(table(rows2)));
  console.log(`   hand-written / interpreter throughput: ${ratio(through.hand / through.trellis)}`);
  console.log('');
}

function expectN(output, id) {
  if (output?.n !== STEPS) throw new BenchmarkFailure(`run ${id} returned ${JSON.stringify(output)}, expected { n: ${STEPS} }`);
}

/** A run's history, summed up: event count, size, workflow tasks, worker time, and where the time went. */
async function historyFigures(temporal, workflowId) {
  const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events.map((e) => ({ type: EventType[e.eventType].replace(/^EVENT_TYPE_/, ''), at: timeOf(e.eventTime) }));
  const all = (type) => events.filter((e) => e.type === type);
  const started = all('WORKFLOW_EXECUTION_STARTED')[0].at;
  const done = all('WORKFLOW_EXECUTION_COMPLETED')[0]?.at ?? NaN;
  const scheduled = all('ACTIVITY_TASK_SCHEDULED').map((e) => e.at);
  const completed = all('ACTIVITY_TASK_COMPLETED').map((e) => e.at);
  const wftStarted = all('WORKFLOW_TASK_STARTED').map((e) => e.at);
  const wftCompleted = all('WORKFLOW_TASK_COMPLETED').map((e) => e.at);
  const wftScheduled = all('WORKFLOW_TASK_SCHEDULED').map((e) => e.at);
  const gaps = completed.slice(0, -1).map((c, i) => scheduled[i + 1] - c);
  return {
    events: events.length,
    bytes: History.encode(history).finish().length,
    workflowTasks: wftCompleted.length,
    workerMs: wftCompleted.reduce((sum, c, i) => sum + (c - wftStarted[i]), 0),
    dispatchMs: wftStarted.reduce((sum, s, i) => sum + (s - wftScheduled[i]), 0) / wftStarted.length,
    firstStep: scheduled[0] - started,
    gap: gaps.length > 0 ? gaps.reduce((a, b) => a + b, 0) / gaps.length : NaN,
    tail: done - completed[completed.length - 1],
  };
}

/** Median milliseconds to replay one history, in batches of 10 after a warm-up batch. */
async function replayMs(workflowBundle, history, name) {
  const batch = async (n, tag) => {
    const histories = Array.from({ length: n }, (_, i) => ({ workflowId: `replay-${name}-${tag}-${i}`, history }));
    const t = performance.now();
    for await (const r of Worker.runReplayHistories({ workflowBundle, replayName: `bench-${name}` }, histories)) {
      if (r.error) throw new BenchmarkFailure(`replaying a ${name} run failed: ${r.error.message}`);
    }
    return (performance.now() - t) / n;
  };
  await batch(10, 'warm');
  const times = [];
  for (let i = 0; i < REPLAYS / 10; i++) times.push(await batch(10, i));
  return median(times);
}

function timeOf(t) {
  const seconds = typeof t.seconds === 'object' ? t.seconds.toNumber() : Number(t.seconds);
  return seconds * 1000 + (t.nanos ?? 0) / 1e6;
}

function medianOf(n, fn) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return median(out);
}

// ---------------------------------------------------------------------------------------------------------
// 2. Parallelism

async function parallelism(client, handQueue) {
  const steps = (chained) =>
    Array.from({ length: FAN }, (_, i) => ({
      id: `p${i}`,
      kind: 'tool',
      tool: 'sleep',
      args: { ms: FAN_MS },
      ...(chained && i > 0 && { after: [`p${i - 1}`] }),
    }));
  const fan = { version: 1, name: 'bench-fan', steps: steps(false) };
  const chain = { version: 1, name: 'bench-sleep-chain', steps: steps(true) };
  const timed = async (fn) => {
    const t = performance.now();
    const [id, completed] = await fn();
    if (completed !== FAN) throw new BenchmarkFailure(`run ${id}: ${completed} of ${FAN} steps completed`);
    return { ms: performance.now() - t, id };
  };
  const trellis = (spec) => () =>
    timed(async () => {
      const { runId: id } = await client.start(spec);
      const result = await client.result(id);
      return [id, Object.values(result.steps).filter((s) => s.status === 'completed').length];
    });
  const hand = (parallel) => () =>
    timed(async () => {
      const id = `hand-fan-${randomUUID()}`;
      const result = await client.temporal.workflow.execute('handwrittenFan', {
        taskQueue: handQueue,
        workflowId: id,
        args: [{ steps: FAN, tool: 'sleep', args: { ms: FAN_MS }, parallel }],
      });
      return [id, result.completed];
    });
  const kinds = [
    { label: 'interpreter', fan: trellis(fan), chain: trellis(chain) },
    { label: 'hand-written', fan: hand(true), chain: hand(false) },
  ];
  for (const k of kinds) {
    await k.fan();
    await k.chain();
    k.fanTimes = [];
    k.chainTimes = [];
    k.fanIds = [];
  }
  for (let i = 0; i < FAN_RUNS; i++) {
    for (const k of kinds) {
      const f = await k.fan();
      k.fanTimes.push(f.ms);
      k.fanIds.push(f.id);
      k.chainTimes.push((await k.chain()).ms);
    }
  }
  console.log(`2. parallelism: ${FAN} steps of a ${FAN_MS} ms tool, independent vs chained (after), median of ${FAN_RUNS} runs`);
  const rows = [['workflow', 'shape', 'median ms', 'min ms', 'max ms', 'ideal ms', 'overhead ms', 'chain / independent']];
  for (const k of kinds) {
    const [f, c] = [median(k.fanTimes), median(k.chainTimes)];
    k.ratio = c / f;
    rows.push([k.label, 'independent', ms(f), ms(Math.min(...k.fanTimes)), ms(Math.max(...k.fanTimes)), int(FAN_MS), ms(f - FAN_MS), '']);
    rows.push([
      k.label,
      'chain',
      ms(c),
      ms(Math.min(...k.chainTimes)),
      ms(Math.max(...k.chainTimes)),
      int(FAN * FAN_MS),
      ms(c - FAN * FAN_MS),
      ratio(k.ratio),
    ]);
  }
  console.log(indent(table(rows)));
  const parts = [];
  for (const k of kinds) {
    const h = await Promise.all(k.fanIds.map((id) => historyFigures(client.temporal, id)));
    const med = (f) => median(h.map(f));
    parts.push(
      `${k.label}: start->1st step ${ms(med((x) => x.firstStep))} ms, last->done ${ms(med((x) => x.tail))} ms, ${int(med((x) => x.workflowTasks))} WFT`,
    );
  }
  console.log(`   independent runs (server event times, medians): ${parts.join('; ')}`);
  const r = kinds[0].ratio;
  console.log(
    `   interpreter, chain / independent: ${ratio(r)} (ideal ${FAN}x; the hand-written workflow on the same server: ${ratio(kinds[1].ratio)}) ` +
      `-> goal >= ${FAN_GOAL}x: ${r >= FAN_GOAL ? 'goal met' : 'goal missed'}`,
  );
  console.log('');
}

// ---------------------------------------------------------------------------------------------------------
// 3. Runs parked on an approval

const PARKED_SPEC = {
  version: 1,
  name: 'bench-parked',
  steps: [
    { id: 'before', kind: 'tool', tool: 'echo', args: { n: 1 } },
    { id: 'ok', kind: 'approval', title: 'Go on with ${steps.before.n}?', timeout: '24h', onTimeout: 'deny' },
    { id: 'after', kind: 'tool', tool: 'echo', when: 'steps.ok.approved', args: { n: '${steps.before.n}' } },
  ],
  output: { n: '${steps.after.n}' },
};

async function parked(server, started) {
  console.log(`3. ${int(PARKED)} runs parked on an approval (tool, approval with a 24h timeout, tool), worker in a process of its own`);
  console.log(`   (trellis worker --tools bench/fixtures/tools.mjs); starts and approvals ${START_CONCURRENCY} at a time through TrellisClient`);
  const t = performance.now();
  const passes = [await parkedPass(server, SMALL_CACHE)];
  const expectedEnd = performance.now() - started + (performance.now() - t);
  if (expectedEnd < BUDGET_MS) passes.push(await parkedPass(server, LARGE_CACHE));
  else
    console.log(
      `   (the pass with a cache of ${int(LARGE_CACHE)} is skipped: it would end the benchmark at about ${(expectedEnd / 1000).toFixed(0)} s, over its ${BUDGET_MS / 1000} s budget)`,
    );

  const mb = (v) => (Number.isFinite(v) ? v.toFixed(0) : '-');
  const rows = [['cache', 'RSS idle', 'RSS warm', 'RSS parked', 'RSS end', 'peak', 'parked/warm', 'end/warm', 'server RSS parked']];
  for (const p of passes) {
    rows.push([
      int(p.cache),
      mb(p.rss.idle),
      mb(p.rss.warm),
      mb(p.rss.parked),
      mb(p.rss.end),
      mb(p.rss.peak),
      ratio(p.rss.parked / p.rss.warm),
      ratio(p.rss.end / p.rss.warm),
      mb(p.serverParked),
    ]);
  }
  console.log('   worker memory (MB; idle = ready, no run yet; warm = after ' + WARM_RUNS + ' runs completed; peak = VmHWM):');
  console.log(indent(table(rows)));
  const rows2 = [['cache', 'start s', 'starts/s', 'all waiting s', 'approve s', 'approve->all done s', 'completed', 'lost', 'refused']];
  for (const p of passes) {
    rows2.push([
      int(p.cache),
      (p.startMs / 1000).toFixed(1),
      ((PARKED / p.startMs) * 1000).toFixed(0),
      fixed(p.waitingMs / 1000),
      (p.approveMs / 1000).toFixed(1),
      fixed(p.doneMs / 1000),
      int(p.completed),
      int(p.lost),
      int(p.refused),
    ]);
  }
  console.log('   times (all waiting: from the first start until the status search attribute says every run waits):');
  console.log(indent(table(rows2)));
  const rows3 = [['cache', 'phase', 'wall s', 'worker CPU s', 'server CPU s', 'worker ms/run', 'server ms/run', `busy of ${cpus().length} cores`]];
  for (const p of passes) {
    for (const [phase, c] of [
      ['start -> all waiting', p.cpu.park],
      ['approve -> all done', p.cpu.approve],
    ]) {
      const wall = c.wallMs / 1000;
      rows3.push([
        int(p.cache),
        phase,
        wall.toFixed(1),
        c.worker.toFixed(1),
        fixed(c.server),
        ms((c.worker / PARKED) * 1000),
        ms((c.server / PARKED) * 1000),
        `${(((c.worker + (c.server || 0)) / wall / cpus().length) * 100).toFixed(0)}%`,
      ]);
    }
  }
  console.log('   CPU time of the worker process and of the dev server over each phase (this process, the client, is not counted):');
  console.log(indent(table(rows3)));
  if (passes.length === 2) {
    const [s, l] = passes;
    console.log(
      `   eviction: a cache of ${int(s.cache)} holds ${mb(s.rss.parked)} MB with ${int(PARKED)} runs parked, against ${mb(l.rss.parked)} MB with every run cached ` +
        `(${ratio(l.rss.parked / s.rss.parked)}; ${(((l.rss.parked - l.rss.warm) / PARKED) * 1024).toFixed(0)} KB of RSS per parked run when all are cached, ` +
        `${(((s.rss.parked - s.rss.warm) / PARKED) * 1024).toFixed(0)} KB with eviction); ` +
        `approving evicted runs (replayed) took ${ratio(s.doneMs / l.doneMs)} the time of cached ones`,
    );
  }
  const lost = passes.reduce((n, p) => n + p.lost, 0);
  console.log(`   lost runs: ${lost === 0 ? 'none' : `${lost} (goal: none) -> goal missed`}`);
  console.log('');
}

function fixed(v) {
  return Number.isFinite(v) ? v.toFixed(1) : 'timeout';
}

async function parkedPass(server, cache) {
  const taskQueue = `bench-parked-${cache}-${randomUUID()}`;
  const worker = await spawnWorker({
    address: server.address,
    taskQueue,
    tools: TOOLS_MODULE,
    env: { TRELLIS_MAX_CACHED_WORKFLOWS: String(cache) },
  });
  const client = await TrellisClient.connect({ address: server.address, namespace: server.namespace, taskQueue });
  const serverPid = await server.pid();
  try {
    const rss = {};
    rss.idle = (await memoryOf(worker.pid)).rss;
    // Warm: a few runs through all three steps, so code and the workflow sandbox are loaded.
    await pool(Array.from({ length: WARM_RUNS }), 10, async () => {
      const { runId: id } = await client.start(PARKED_SPEC);
      await untilStatus(client, id, 'waiting', 30_000);
      await client.approve(id, 'ok', { by: 'bench' });
      await client.result(id);
    });
    await sleep(500);
    rss.warm = (await memoryOf(worker.pid)).rss;

    const cpu0 = await cpuTimes(worker.pid, serverPid);
    const t0 = performance.now();
    const ids = await pool(Array.from({ length: PARKED }), START_CONCURRENCY, () => client.start(PARKED_SPEC).then((run) => run.runId));
    const startMs = performance.now() - t0;
    const query = `WorkflowType = '${WORKFLOW_TYPE}' AND TaskQueue = '${taskQueue}' AND ${STATUS} = 'waiting'`;
    let waitingMs = NaN;
    while (performance.now() - t0 < PHASE_TIMEOUT_MS) {
      const { count } = await client.temporal.workflow.count(query);
      if (count >= PARKED + 0) {
        waitingMs = performance.now() - t0;
        break;
      }
      await sleep(250);
    }
    const parkedAt = performance.now();
    // The public way to see them: list --status waiting (visibility), every page.
    const listed = (await client.list({ status: 'waiting', limit: PARKED * 2 })).filter((r) => ids.includes(r.runId)).length;
    rss.parked = (await memoryOf(worker.pid)).rss;
    const cpu1 = await cpuTimes(worker.pid, serverPid);
    const serverParked = serverPid ? (await memoryOf(serverPid)).rss : NaN;

    const t1 = performance.now();
    let refused = 0;
    await pool(ids, APPROVE_CONCURRENCY, (id) =>
      client.approve(id, 'ok', { by: 'bench' }).catch(() => {
        refused++;
      }),
    );
    const approveMs = performance.now() - t1;
    let timer;
    const deadline = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), PHASE_TIMEOUT_MS);
    });
    let completed = 0;
    await pool(ids, 200, async (id) => {
      const r = await Promise.race([client.result(id).catch(() => 'failed'), deadline]);
      if (r?.output?.n === 3) completed++; // echo(1) = 2, then echo(2) = 3
    });
    clearTimeout(timer);
    const doneMs = completed === PARKED ? performance.now() - t1 : NaN;
    const cpu2 = await cpuTimes(worker.pid, serverPid);
    const mem = await memoryOf(worker.pid);
    rss.end = mem.rss;
    rss.peak = mem.peak;
    if (listed !== PARKED) console.log(`   note: client.list({ status: 'waiting' }) found ${listed} of ${PARKED} parked runs (cache ${cache})`);
    const cpu = {
      park: { worker: cpu1.worker - cpu0.worker, server: cpu1.server - cpu0.server, wallMs: parkedAt - t0 },
      approve: { worker: cpu2.worker - cpu1.worker, server: cpu2.server - cpu1.server, wallMs: performance.now() - t1 },
    };
    return { cache, rss, startMs, waitingMs, approveMs, doneMs, completed, lost: PARKED - completed, refused, serverParked, cpu };
  } finally {
    await client.close();
    await worker.stop();
  }
}

async function cpuTimes(workerPid, serverPid) {
  return { worker: await cpuOf(workerPid), server: serverPid ? await cpuOf(serverPid) : NaN };
}

async function untilStatus(client, id, status, timeoutMs) {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const view = await client.status(id).catch(() => undefined);
    if (view?.status === status) return;
    if (performance.now() > end)
      throw new BenchmarkFailure(`run ${id} did not reach "${status}" within ${timeoutMs / 1000} s (it is ${view?.status})`);
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------------------

function indent(text) {
  return text
    .split('\n')
    .map((l) => `   ${l}`)
    .join('\n');
}

const quietLogger = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message, meta) => console.warn(message, meta ?? ''),
  error: (message, meta) => console.error(message, meta ?? ''),
  log: () => {},
};

// Run on its own: node --expose-gc bench/interpreter.mjs
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const t = performance.now();
  try {
    await run();
  } catch (e) {
    console.error(`bench ${name}: ${e instanceof Error ? e.message : String(e)}`);
    if (!(e instanceof BenchmarkFailure)) console.error(e);
    process.exit(1);
  }
  console.log(`(${name}: ${((performance.now() - t) / 1000).toFixed(1)} s)`);
  process.exit(0);
}
