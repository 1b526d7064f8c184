/**
 * What payload encryption costs a run, end to end on a real Temporal dev server of its own (bench/codec.mjs has the
 * codec alone):
 *
 *   1. cost per step: the same chain of tool steps, each taking the previous step's record of a few KiB and returning
 *      a new one, on a worker and a client without keys and on a worker and a client with keys (the `encryption`
 *      option), interleaved, one run at a time: ms per step (median), this process's CPU per step (the worker and the
 *      client both encode and decode), the history's size, and the on/off ratios.
 *   2. parked runs: runs waiting for an approval, every one in the worker's cache, without keys and with them, each
 *      pass in a fresh process (this file, run as a child) so that no pass inherits another's heap: heap (after a
 *      collection) and RSS growth per parked run, and the on/off ratio. The worker runs its workflows in the main
 *      thread (the SDK's debugMode), so that the heap figure includes the cached runs' workflow state.
 *
 *   npm run build && node --expose-gc bench/run.mjs encryption
 *
 * Figures come from one run and are printed, never asserted.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import proto from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';
import { pino } from 'pino';
import { z } from 'zod';
import { defineTool } from '../dist/index.js';
import { TrellisClient, WORKFLOW_TYPE } from '../dist/client/index.js';
import { createTrellisWorker, parseEncryptionKeys } from '../dist/worker.js';
import { output as orderOfSize } from './codec.mjs';
import { installBenchRuntime, memoryOf, pool, sleep, startServer } from './lib/stack.mjs';
import { gc, hasGc, int, median, ms, ratio, table } from './lib/stats.mjs';

export const name = 'encryption';

const STEPS = 20; // tool steps per run (part 1)
const RECORD_BYTES = 4 * 1024; // each step's output, and the next step's input
const WARMUP = 2; // runs of each mode before timing
const RUNS = 7; // timed runs of each mode, interleaved
const PARKED = 200; // runs waiting for an approval (part 2)
const WARM_RUNS = 5; // parked-spec runs completed before the "warm" memory figure
const CONCURRENCY = 20;
const PHASE_TIMEOUT_MS = 120_000;

const { History } = proto.temporal.api.history.v1;
const SELF = fileURLToPath(import.meta.url);

class BenchmarkFailure extends Error {}

const record = defineTool({
  name: 'record',
  description: 'Returns record n + 1 of about `bytes` characters; takes the previous one, as a step passes data on.',
  input: z.object({ n: z.number(), bytes: z.number(), previous: z.unknown().optional() }),
  output: z.object({ n: z.number(), order: z.unknown() }),
  run: ({ n, bytes }) => ({ n: n + 1, order: { ...orderOfSize(bytes), orderId: `A-${1000 + n}` } }),
});
const TOOLS = [record];

/** A chain of `steps` record steps: each takes the previous step's record and number. */
function chain(steps) {
  return {
    version: 1,
    name: 'bench-encryption-chain',
    steps: Array.from({ length: steps }, (_, i) => ({
      id: `s${i + 1}`,
      kind: 'tool',
      tool: 'record',
      args: i === 0 ? { n: 0, bytes: RECORD_BYTES } : { n: `\${steps.s${i}.n}`, bytes: RECORD_BYTES, previous: `\${steps.s${i}.order}` },
    })),
    output: { n: `\${steps.s${steps}.n}` },
  };
}

const PARKED_SPEC = {
  version: 1,
  name: 'bench-encryption-parked',
  steps: [
    { id: 'before', kind: 'tool', tool: 'record', args: { n: 0, bytes: RECORD_BYTES } },
    { id: 'ok', kind: 'approval', title: 'Go on with order ${steps.before.order.orderId}?', timeout: '24h', onTimeout: 'deny' },
    {
      id: 'after',
      kind: 'tool',
      tool: 'record',
      when: 'steps.ok.approved',
      args: { n: '${steps.before.n}', bytes: RECORD_BYTES, previous: '${steps.before.order}' },
    },
  ],
  output: { n: '${steps.after.n}' },
};

const newKeys = () => parseEncryptionKeys(`bench:${randomBytes(32).toString('base64')}`, 'bench');

/** A worker (in this process) and a client on a task queue of their own, both with `keys` or both without. */
async function stack(server, connection, keys, workerOptions) {
  const temporal = { address: server.address, namespace: server.namespace, taskQueue: `bench-encryption-${randomUUID()}` };
  const { worker } = await createTrellisWorker({
    tools: TOOLS,
    temporal,
    connection,
    logger: pino({ level: 'warn' }),
    encryption: keys,
    ...(workerOptions && { workerOptions }),
  });
  const running = worker.run();
  const client = await TrellisClient.connect(temporal, { encryption: keys });
  return {
    client,
    taskQueue: temporal.taskQueue,
    async stop() {
      await client.close();
      worker.shutdown();
      await running.catch(() => undefined);
    },
  };
}

export default async function run() {
  console.log(`encryption: a dev server of its own; ${STEPS}-step tool chains (${RECORD_BYTES / 1024} KiB records in and out of each step),`);
  console.log(
    `${WARMUP} warm-up runs then ${RUNS} of each mode, interleaved; then ${PARKED} runs parked on an approval per mode, each in a fresh process.`,
  );
  if (!hasGc) console.log('note: without --expose-gc the heap figures include garbage');
  console.log('');
  const server = await startServer();
  try {
    installBenchRuntime();
    const connection = await NativeConnection.connect({ address: server.address });
    try {
      await perStep(server, connection);
    } finally {
      await connection.close();
    }
    await parked(server);
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------
// 1. Cost per step

async function perStep(server, connection) {
  const modes = { off: await stack(server, connection, null), on: await stack(server, connection, newKeys()) };
  try {
    const spec = chain(STEPS);
    const figures = { off: { wall: [], cpu: [] }, on: { wall: [], cpu: [] } };
    const lastRun = {};
    for (let i = 0; i < WARMUP + RUNS; i++) {
      for (const mode of i % 2 === 0 ? ['off', 'on'] : ['on', 'off']) {
        gc();
        const cpu = process.cpuUsage();
        const t = performance.now();
        const { runId } = await modes[mode].client.start(spec);
        const result = await modes[mode].client.result(runId);
        const wall = performance.now() - t;
        const used = process.cpuUsage(cpu);
        if (result.output?.n !== STEPS) throw new BenchmarkFailure(`a ${mode} run ended with ${JSON.stringify(result.output)}, not { n: ${STEPS} }`);
        if (i >= WARMUP) {
          figures[mode].wall.push(wall / STEPS);
          figures[mode].cpu.push((used.user + used.system) / 1000 / STEPS);
        }
        lastRun[mode] = runId;
      }
    }
    const historyKb = {};
    for (const mode of ['off', 'on']) {
      const history = await modes[mode].client.temporal.workflow.getHandle(lastRun[mode]).fetchHistory();
      historyKb[mode] = History.encode(history).finish().length / 1024;
    }
    const m = (mode, what) => median(figures[mode][what]);
    const rows = [['encryption', 'ms/step', 'CPU ms/step', 'history KB']];
    for (const mode of ['off', 'on']) rows.push([mode, ms(m(mode, 'wall')), ms(m(mode, 'cpu')), historyKb[mode].toFixed(0)]);
    rows.push(['on/off', ratio(m('on', 'wall') / m('off', 'wall')), ratio(m('on', 'cpu') / m('off', 'cpu')), ratio(historyKb.on / historyKb.off)]);
    console.log(
      `1. cost per step: ${STEPS} tool steps, one run at a time (median of ${RUNS}; CPU: this process, which holds the worker and the client)`,
    );
    console.log(indent(table(rows)));
    console.log('');
  } finally {
    await modes.off.stop();
    await modes.on.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------
// 2. Parked runs, each mode in a fresh process

async function parked(server) {
  const passes = {};
  for (const mode of ['off', 'on']) passes[mode] = await parkedInChild(server, mode);
  const kb = (v) => (v * 1024).toFixed(1);
  const rows = [['encryption', 'heap warm MB', 'heap parked MB', 'heap KB/run', 'RSS warm MB', 'RSS parked MB', 'RSS KB/run', 'completed']];
  const perRun = (p, what) => (p[what].parked - p[what].warm) / PARKED;
  for (const mode of ['off', 'on']) {
    const p = passes[mode];
    rows.push([
      mode,
      p.heap.warm.toFixed(1),
      p.heap.parked.toFixed(1),
      kb(perRun(p, 'heap')),
      p.rss.warm.toFixed(0),
      p.rss.parked.toFixed(0),
      kb(perRun(p, 'rss')),
      `${int(p.completed)} of ${int(PARKED)}`,
    ]);
  }
  rows.push([
    'on/off',
    '',
    '',
    ratio(perRun(passes.on, 'heap') / perRun(passes.off, 'heap')),
    '',
    '',
    ratio(perRun(passes.on, 'rss') / perRun(passes.off, 'rss')),
    '',
  ]);
  console.log(
    `2. ${PARKED} runs parked on an approval (tool, approval, tool), all in the worker's cache; worker and client in a fresh process per mode`,
  );
  console.log(`   (warm: after ${WARM_RUNS} runs went through; heap after a collection; growth per run is (parked - warm) / ${PARKED})`);
  console.log(indent(table(rows)));
  console.log('');
}

/** Runs one parked pass in a child process (this file) and returns what it measured. */
function parkedInChild(server, mode) {
  const child = spawn(process.execPath, ['--expose-gc', SELF, 'parked', mode, server.address, server.namespace], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new BenchmarkFailure(`the parked pass with encryption ${mode} ended with code ${code}: ${out.slice(-2000)}`));
      resolve(JSON.parse(last));
    });
  });
}

/** The parked pass itself, in this (child) process: prints its figures as one line of JSON. */
async function parkedPass(address, namespace, mode) {
  installBenchRuntime();
  const connection = await NativeConnection.connect({ address });
  // debugMode: the workflows run in the main thread, whose heap process.memoryUsage() reports and gc() collects.
  const s = await stack({ address, namespace }, connection, mode === 'on' ? newKeys() : null, { debugMode: true, maxCachedWorkflows: PARKED * 2 });
  const memory = async () => {
    gc();
    gc();
    return { heap: process.memoryUsage().heapUsed / 2 ** 20, rss: (await memoryOf(process.pid)).rss };
  };
  try {
    const approveAndFinish = async (ids) => {
      await pool(ids, CONCURRENCY, (id) => s.client.approve(id, 'ok', { by: 'bench' }));
      const results = await pool(ids, CONCURRENCY * 5, (id) => s.client.result(id).catch(() => undefined));
      return results.filter((r) => r?.output?.n === 2).length;
    };
    const start = () => pool(Array.from({ length: PARKED }), CONCURRENCY, () => s.client.start(PARKED_SPEC).then((h) => h.runId));
    const warmIds = await pool(Array.from({ length: WARM_RUNS }), CONCURRENCY, () => s.client.start(PARKED_SPEC).then((h) => h.runId));
    await allWaiting(s, WARM_RUNS);
    await approveAndFinish(warmIds);
    await sleep(500);
    const warm = await memory();

    const ids = await start();
    await allWaiting(s, PARKED);
    await sleep(500);
    const parkedMem = await memory();
    const completed = await approveAndFinish(ids);
    console.log(JSON.stringify({ heap: { warm: warm.heap, parked: parkedMem.heap }, rss: { warm: warm.rss, parked: parkedMem.rss }, completed }));
  } finally {
    await s.stop();
    await connection.close();
  }
}

/** Until the status search attribute says `count` runs of the task queue wait. */
async function allWaiting(s, count) {
  const query = `WorkflowType = '${WORKFLOW_TYPE}' AND TaskQueue = '${s.taskQueue}' AND TrellisStatus = 'waiting'`;
  const end = performance.now() + PHASE_TIMEOUT_MS;
  for (;;) {
    const { count: waiting } = await s.client.temporal.workflow.count(query);
    if (waiting >= count) return;
    if (performance.now() > end) throw new BenchmarkFailure(`only ${waiting} of ${count} runs waited within ${PHASE_TIMEOUT_MS / 1000} s`);
    await sleep(250);
  }
}

function indent(text) {
  return text
    .split('\n')
    .map((l) => `   ${l}`)
    .join('\n');
}

// As a child of the benchmark: node --expose-gc bench/encryption.mjs parked on|off ADDRESS NAMESPACE
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === 'parked') {
  await parkedPass(process.argv[4], process.argv[5], process.argv[3]);
  process.exit(0);
}
