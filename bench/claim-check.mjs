/**
 * Large payloads outside the history (the claim check), end to end on a real Temporal dev server of its own, with the
 * mock LLM for the agents:
 *
 *   1. the agent history ratio: a 49-turn agent whose tool returns 10 KB each turn (a 50th turn would pass the
 *      conversation cap), run with no blob store (the payload limit raised so it fits) and with a disk store: the
 *      history's bytes and events, and off/on; the bytes the store holds afterwards.
 *   2. the cost of a 1 MB output: a tool step returning 1 MB of random base64, then a step reading it, with the store
 *      and without (payload limit raised): ms per run and per step (from the history's event times), median, and
 *      on/off; and the codec alone (ClaimCheckCodec encode + decode of 1 MiB on the disk store).
 *   3. where the caps bite on long runs, with the store: a map of 5,000 small tool calls and an agent run of 500 turns
 *      (ten agent steps of 50 turns, the most one agent step may take, 1 KB tool results): whether each completes or
 *      stops at a budget, its history events and bytes at the end, and its wall time (about 1.5 and 1 minute on 2
 *      loaded cores).
 *
 *   npm run build && node --expose-gc bench/run.mjs claim-check
 *
 * Figures come from one run and are printed, never asserted.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { NativeConnection } from '@temporalio/worker';
import { pino } from 'pino';
import { z } from 'zod';
import { defineTool, limitsFromEnv } from '../dist/index.js';
import { ClaimCheckCodec, DEFAULT_BLOB_THRESHOLD, DiskBlobStore } from '../dist/blobs/index.js';
import { TrellisClient } from '../dist/client/index.js';
import { parseMockScript, startMockLlm } from '../dist/testing.js';
import { createTrellisWorker } from '../dist/worker.js';
import { installBenchRuntime, startServer } from './lib/stack.mjs';
import { gc, int, median, ms, ratio, table } from './lib/stats.mjs';

export const name = 'claim-check';

const RAISED_PAYLOAD_BYTES = 2 * 1024 * 1024 - 1; // under Temporal's 2 MiB, for the runs with no store
const MAX_TURNS = 50; // the most an agent step may take (the spec's maxTurns)
// Part 1: model calls, the tool called on all but the last. The 50th would fail the step: the model reads 8,000
// characters of each result, and 49 of them pass the 400,000 characters an agent's conversation may hold.
const AGENT_TURNS = 49;
const AGENT_RESULT_BYTES = 10_000;
const BIG_BYTES = 1_000_000; // part 2
const WARMUP = 1;
const RUNS = 5; // part 2: timed runs of each mode, interleaved
const CODEC_RUNS = 20;
const MAP_ITEMS = 5_000; // part 3
const MAP_PARALLEL = 20;
const LONG_AGENT_STEPS = 10; // part 3: 10 agent steps of AGENT_TURNS turns each
const LONG_RESULT_BYTES = 1_000;
const DEFAULT_MAX_STEPS = 5_000; // a run's step executions without a maxSteps (docs/spec.md, budgets)

class BenchmarkFailure extends Error {}

const pad = defineTool({
  name: 'pad',
  description: 'Returns `bytes` characters of random base64',
  input: z.object({ bytes: z.number().int().min(0) }),
  output: z.object({ data: z.string() }),
  run: ({ bytes }) => ({ data: randomText(bytes) }),
});
const measure = defineTool({
  name: 'measure',
  description: 'Returns the length of a text',
  input: z.object({ text: z.string() }),
  output: z.object({ length: z.number() }),
  run: ({ text }) => ({ length: text.length }),
});
const tick = defineTool({
  name: 'tick',
  description: 'Returns its number plus one',
  input: z.object({ n: z.number() }),
  output: z.object({ n: z.number() }),
  run: ({ n }) => ({ n: n + 1 }),
});
const TOOLS = [pad, measure, tick];

/** Incompressible text: random base64. */
function randomText(bytes) {
  return randomBytes(Math.ceil((bytes * 3) / 4))
    .toString('base64')
    .slice(0, bytes);
}

/**
 * The mock's rules for one agent step, told apart by a tag in its prompt: a `pad` call on every turn but the last,
 * then the answer. Tags have one width, so that no tag's pattern matches another's prompt.
 */
const tagOf = (run, step) => `cc-${String(run).padStart(3, '0')}-${String(step).padStart(3, '0')}`;
function agentRules(tag, bytes, turns) {
  return [
    { match: tag, toolCalls: [{ name: 'pad', arguments: { bytes } }], times: turns - 1 },
    { match: tag, reply: `done ${tag}` },
  ];
}
function agentSpec(name, tags) {
  return {
    version: 1,
    name,
    steps: tags.map((tag, i) => ({
      id: `agent${i + 1}`,
      kind: 'agent',
      prompt: `Call pad until you are told to stop (${tag})`,
      tools: ['pad'],
      maxTurns: MAX_TURNS,
      ...(i > 0 && { after: [`agent${i}`] }),
    })),
    output: { answer: `\${steps.agent${tags.length}}` },
  };
}

const BIG_SPEC = {
  version: 1,
  name: 'bench-claim-check-1mb',
  steps: [
    { id: 'big', kind: 'tool', tool: 'pad', args: { bytes: BIG_BYTES } },
    { id: 'read', kind: 'tool', tool: 'measure', args: { text: '${steps.big.data}' }, after: ['big'] },
  ],
  output: { length: '${steps.read.length}' },
};

const MAP_SPEC = {
  version: 1,
  name: 'bench-claim-check-map',
  input: { type: 'object', properties: { items: { type: 'array', items: { type: 'integer' } } } },
  steps: [{ id: 'each', kind: 'map', items: 'input.items', maxParallel: MAP_PARALLEL, step: { kind: 'tool', tool: 'tick', args: { n: '${item}' } } }],
  output: { count: '${size(steps.each)}' },
};

/** A worker (in this process) and a client on a task queue of their own, both with `blobs` (null: no store). */
async function stack(server, connection, mock, blobs, limits) {
  const temporal = { address: server.address, namespace: server.namespace, taskQueue: `bench-claim-check-${randomUUID()}` };
  const { worker } = await createTrellisWorker({
    tools: TOOLS,
    temporal,
    connection,
    llm: { baseURL: mock.baseUrl, apiKey: 'x', model: 'mock-model' },
    logger: pino({ level: 'warn' }),
    blobs,
    ...(limits && { limits }),
  });
  const running = worker.run();
  const client = await TrellisClient.connect(temporal, { blobs });
  return {
    client,
    async stop() {
      await client.close();
      worker.shutdown();
      await running.catch(() => undefined);
    },
  };
}

export default async function run() {
  console.log(`claim-check: a dev server of its own, a worker and a client in this process, the mock LLM (no latency);`);
  console.log(
    `blob store: a folder in a temporary directory, threshold ${int(DEFAULT_BLOB_THRESHOLD / 1024)} KiB; with no store the payload limit is raised to ${int(RAISED_PAYLOAD_BYTES)} bytes.`,
  );
  console.log('');
  // Rules for every agent step this benchmark runs: run 1 is part 1 without a store, run 2 with it, run 3 part 3.
  const rules = [
    ...agentRules(tagOf(1, 1), AGENT_RESULT_BYTES, AGENT_TURNS),
    ...agentRules(tagOf(2, 1), AGENT_RESULT_BYTES, AGENT_TURNS),
    ...Array.from({ length: LONG_AGENT_STEPS }, (_, i) => agentRules(tagOf(3, i + 1), LONG_RESULT_BYTES, MAX_TURNS)).flat(),
  ];
  const mock = await startMockLlm({ rules: parseMockScript(rules) });
  const dir = await mkdtemp(path.join(tmpdir(), 'trellis-bench-blobs-'));
  const server = await startServer();
  try {
    installBenchRuntime();
    const connection = await NativeConnection.connect({ address: server.address });
    const store = new DiskBlobStore(path.join(dir, 'blobs'));
    const modes = {
      off: await stack(server, connection, mock, null, { payloadBytes: RAISED_PAYLOAD_BYTES }),
      on: await stack(server, connection, mock, { store, thresholdBytes: DEFAULT_BLOB_THRESHOLD }),
    };
    try {
      await agentHistory(modes, store);
      await bigOutput(modes);
      await codecCost(path.join(dir, 'codec'));
      await longRuns(modes.on);
      console.log('');
    } finally {
      await modes.off.stop();
      await modes.on.stop();
      await connection.close();
    }
  } finally {
    await server.stop();
    await mock.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The run's history: bytes and events as Temporal counts them. */
async function history(client, runId) {
  const { historySize, historyLength } = await client.temporal.workflow.getHandle(runId).describe();
  return { bytes: historySize, events: historyLength };
}

/** Bytes in the store: every blob's size. */
async function storedBytes(store) {
  let bytes = 0;
  let count = 0;
  for await (const blob of store.list()) {
    bytes += blob.size;
    count++;
  }
  return { bytes, count };
}

// ---------------------------------------------------------------------------------------------------------
// 1. The agent history ratio

async function agentHistory(modes, store) {
  const h = {};
  for (const [mode, run] of [
    ['off', 1],
    ['on', 2],
  ]) {
    const { runId } = await modes[mode].client.start(agentSpec('bench-claim-check-agent', [tagOf(run, 1)]));
    const result = await modes[mode].client.result(runId).catch((e) => {
      throw new BenchmarkFailure(`the ${AGENT_TURNS}-turn agent with the store ${mode} failed: ${e.message}`);
    });
    if (result.output?.answer !== `done ${tagOf(run, 1)}`)
      throw new BenchmarkFailure(`the agent with the store ${mode} answered ${JSON.stringify(result.output)}`);
    h[mode] = await history(modes[mode].client, runId);
  }
  const stored = await storedBytes(store);
  console.log(
    `1. agent history: one agent step of ${AGENT_TURNS} turns, its tool returning ${int(AGENT_RESULT_BYTES)} characters on each but the last (the model reads 8,000 of them)`,
  );
  console.log(`   (${AGENT_TURNS} turns, not ${MAX_TURNS}: a 50th would pass the 400,000 characters an agent's conversation may hold, store or not)`);
  const rows = [['blob store', 'history bytes', 'history events']];
  rows.push(['off', int(h.off.bytes), int(h.off.events)], ['on', int(h.on.bytes), int(h.on.events)]);
  rows.push(['off/on', ratio(h.off.bytes / h.on.bytes), ratio(h.off.events / h.on.events)]);
  console.log(indent(table(rows)));
  console.log(`   the store holds ${int(stored.bytes)} bytes in ${int(stored.count)} blobs after the run with it`);
  console.log('');
}

// ---------------------------------------------------------------------------------------------------------
// 2. The cost of a 1 MB output

async function bigOutput(modes) {
  console.log(`2. a ${int(BIG_BYTES)}-character output (random base64), then a step reading it; median of ${RUNS} runs per mode, interleaved`);
  console.log('   (step: from the activity scheduled to completed in the history, which includes encoding its input and output)');
  console.log('   (the runs with no store make the SDK warn, TMPRL1103: payloads over 512 KiB are near its 2 MiB limit)');
  const figures = { off: { run: [], big: [], read: [], bytes: 0 }, on: { run: [], big: [], read: [], bytes: 0 } };
  for (let i = 0; i < WARMUP + RUNS; i++) {
    for (const mode of i % 2 === 0 ? ['off', 'on'] : ['on', 'off']) {
      gc();
      const { client } = modes[mode];
      const t = performance.now();
      const { runId } = await client.start(BIG_SPEC);
      const result = await client.result(runId);
      const wall = performance.now() - t;
      if (result.output?.length !== BIG_BYTES) throw new BenchmarkFailure(`a ${mode} run ended with ${JSON.stringify(result.output)}`);
      if (i < WARMUP) continue;
      const [big, read] = await activityMs(client, runId);
      figures[mode].run.push(wall);
      figures[mode].big.push(big);
      figures[mode].read.push(read);
      figures[mode].bytes = (await history(client, runId)).bytes;
    }
  }
  const m = (mode, what) => median(figures[mode][what]);
  const rows = [['blob store', 'ms/run', 'ms output step', 'ms reading step', 'history bytes']];
  for (const mode of ['off', 'on']) rows.push([mode, ms(m(mode, 'run')), ms(m(mode, 'big')), ms(m(mode, 'read')), int(figures[mode].bytes)]);
  rows.push([
    'on/off',
    ratio(m('on', 'run') / m('off', 'run')),
    ratio(m('on', 'big') / m('off', 'big')),
    ratio(m('on', 'read') / m('off', 'read')),
    '',
  ]);
  console.log(indent(table(rows)));
  console.log(`   the history without the store is ${ratio(figures.off.bytes / figures.on.bytes)} the one with it`);
  console.log('');
}

/** Each activity's ms from scheduled to completed, from the history's event times, in the order they were scheduled. */
async function activityMs(client, runId) {
  const { events } = await client.temporal.workflow.getHandle(runId).fetchHistory();
  const at = (e) => Number(e.eventTime.seconds) * 1000 + e.eventTime.nanos / 1e6;
  const scheduled = new Map();
  const out = [];
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes) scheduled.set(Number(e.eventId), at(e));
    const done = e.activityTaskCompletedEventAttributes;
    if (done) out.push(at(e) - scheduled.get(Number(done.scheduledEventId)));
  }
  return out;
}

/** The codec alone: encode then decode a fresh 1 MiB payload (so every encode writes a blob), on the disk store. */
async function codecCost(dir) {
  const codec = new ClaimCheckCodec(new DiskBlobStore(dir), DEFAULT_BLOB_THRESHOLD);
  const encoding = new TextEncoder().encode('binary/plain');
  const times = { encode: [], decode: [] };
  for (let i = 0; i < WARMUP + CODEC_RUNS; i++) {
    const payload = { metadata: { encoding }, data: randomBytes(1024 * 1024) };
    gc();
    let t = performance.now();
    const [ref] = await codec.encode([payload]);
    const encode = performance.now() - t;
    t = performance.now();
    const [back] = await codec.decode([ref]);
    const decode = performance.now() - t;
    if (back.data.length !== payload.data.length) throw new BenchmarkFailure('the codec gave back a payload of another size');
    if (i < WARMUP) continue;
    times.encode.push(encode);
    times.decode.push(decode);
  }
  const both = times.encode.map((e, i) => e + times.decode[i]);
  console.log(
    `   the codec alone (ClaimCheckCodec on the disk store, a fresh 1 MiB payload each time, median of ${CODEC_RUNS}): ` +
      `encode ${ms(median(times.encode))} ms, decode ${ms(median(times.decode))} ms, both ${ms(median(both))} ms`,
  );
  console.log('');
}

// ---------------------------------------------------------------------------------------------------------
// 3. Where the caps bite on long runs

async function longRuns(on) {
  const { historyBytes, historyEvents } = limitsFromEnv(process.env, DEFAULT_BLOB_THRESHOLD);
  console.log(
    `3. long runs, with the store: do they complete, or stop at a budget (history ${int(historyBytes / 2 ** 20)} MiB / ${int(historyEvents)} events, ` +
      `${int(DEFAULT_MAX_STEPS)} step executions)?`,
  );
  console.log("   (budget at: the units (items, turns) after which, at this run's events and bytes per unit, the history budget stops a run)");
  const rows = [['run', 'outcome', 'history events', 'history bytes', 'wall s', 'events/unit', 'bytes/unit', 'budget at']];
  const notes = [];
  const run = async (label, units, spec, options, expected) => {
    const r = await long(on.client, spec, options, expected);
    if (r.message) notes.push(`${label}: ${r.message}`);
    const events = r.events / units;
    const bytes = r.bytes / units;
    const done = r.outcome === 'completed';
    const perUnit = done ? [events.toFixed(1), int(bytes), int(Math.min(historyEvents / events, historyBytes / bytes))] : ['-', '-', '-'];
    rows.push([label, r.outcome, int(r.events), int(r.bytes), r.wall.toFixed(1), ...perUnit]);
  };
  const items = Array.from({ length: MAP_ITEMS }, (_, i) => i);
  await run(`map, ${int(MAP_ITEMS)} items, default maxSteps`, MAP_ITEMS, MAP_SPEC, { input: { items } }, '');
  const budget = { maxSteps: MAP_ITEMS + 10 };
  await run(
    `map, ${int(MAP_ITEMS)} items, maxSteps ${int(budget.maxSteps)}`,
    MAP_ITEMS,
    MAP_SPEC,
    { input: { items }, budget },
    `count ${MAP_ITEMS}`,
  );
  const tags = Array.from({ length: LONG_AGENT_STEPS }, (_, i) => tagOf(3, i + 1));
  const label = `agent, ${LONG_AGENT_STEPS} steps x ${MAX_TURNS} turns, ${int(LONG_RESULT_BYTES)} B results`;
  await run(label, LONG_AGENT_STEPS * MAX_TURNS, agentSpec('bench-claim-check-long-agent', tags), {}, `done ${tags.at(-1)}`);
  console.log(indent(table(rows)));
  for (const note of notes) console.log(`   ${note}`);
}

/** One long run: its outcome (completed, or the failure's code and message), history and wall time in seconds. */
async function long(client, spec, options, expected) {
  const t = performance.now();
  const { runId } = await client.start(spec, options);
  let outcome = 'completed';
  let message;
  try {
    const { output } = await client.result(runId);
    const gist = output?.count !== undefined ? `count ${output.count}` : output?.answer;
    if (gist !== expected) throw new BenchmarkFailure(`a long run ended with ${JSON.stringify(output).slice(0, 200)}, not ${expected}`);
  } catch (e) {
    if (e instanceof BenchmarkFailure) throw e;
    outcome = e.code ?? 'failed';
    message = e.message;
  }
  const wall = (performance.now() - t) / 1000;
  return { outcome, message, wall, ...(await history(client, runId)) };
}

function indent(text) {
  return text
    .split('\n')
    .map((l) => `   ${l}`)
    .join('\n');
}
