/**
 * What tracing costs a run, end to end on a real Temporal dev server of its own: the same chain of steps (an echo tool
 * step and an llm step against the mock LLM, in turn) on a worker process without tracing and on one that traces
 * (OTEL_EXPORTER_OTLP_ENDPOINT, http/protobuf) to an OTLP receiver in this process, which counts what it is sent. The
 * two workers run side by side and take runs in turn, one at a time: ms per step (median), the worker's CPU per step,
 * the on/off ratios, and what one traced run exported. The client, in this process, does not trace.
 *
 *   npm run build && node --expose-gc bench/run.mjs tracing
 *
 * Figures come from one run and are printed, never asserted.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { TrellisClient } from '../dist/client/index.js';
import { startMockLlm } from '../dist/testing.js';
import { cpuOf, spawnWorker, startServer } from './lib/stack.mjs';
import { gc, median, ms, ratio, table } from './lib/stats.mjs';

export const name = 'tracing';

const STEPS = 20; // steps per run: echo and llm in turn
const WARMUP = 2; // runs of each mode before timing
const RUNS = 7; // timed runs of each mode, interleaved
const TOOLS_MODULE = fileURLToPath(new URL('./fixtures/tools.mjs', import.meta.url));

class BenchmarkFailure extends Error {}

/** A chain of `steps` steps, each taking the previous one's number: echo adds one, llm says it back. */
function chain(steps) {
  return {
    version: 1,
    name: 'bench-tracing-chain',
    steps: Array.from({ length: steps }, (_, i) => {
      const previous = i === 0 ? '0' : `\${steps.s${i}.n}`;
      return i % 2 === 0
        ? { id: `s${i + 1}`, kind: 'tool', tool: 'echo', args: { n: i === 0 ? 0 : previous } }
        : {
            id: `s${i + 1}`,
            kind: 'llm',
            prompt: `Bench: repeat ${previous}`,
            output: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] },
          };
    }),
    output: { last: `\${steps.s${steps}.n}` },
  };
}

/** An OTLP HTTP receiver that answers 200 and counts requests and bytes: the exporter's work is all real. */
async function startReceiver() {
  const got = { requests: 0, bytes: 0 };
  const server = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk) => (bytes += chunk.length));
    req.on('end', () => {
      got.requests++;
      got.bytes += bytes;
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' }).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${server.address().port}`, got, close: () => new Promise((resolve) => server.close(resolve)) };
}

export default async function run() {
  console.log(`tracing: a dev server of its own; ${STEPS}-step chains (echo tool and llm steps in turn, the mock LLM),`);
  console.log(`${WARMUP} warm-up runs then ${RUNS} of each mode, interleaved; each mode's worker in a process of its own.`);
  console.log('');
  const server = await startServer();
  const receiver = await startReceiver();
  // Every second step asks the model: it answers with a number, so the chain's value goes on.
  const mock = await startMockLlm({ rules: [{ match: 'Bench: repeat', reply: { n: 1 } }] });
  const workers = {};
  try {
    const quiet = { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_TRACES_EXPORTER: '' };
    const llm = { OPENAI_BASE_URL: mock.baseUrl, OPENAI_API_KEY: 'bench', TRELLIS_MODEL: 'mock-model' };
    const traced = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_SDK_DISABLED: '',
      OTEL_TRACES_EXPORTER: '',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    };
    for (const [mode, env] of [
      ['off', quiet],
      ['on', traced],
    ]) {
      const taskQueue = `bench-tracing-${mode}-${randomUUID()}`;
      const worker = await spawnWorker({ address: server.address, taskQueue, tools: TOOLS_MODULE, env: { ...llm, ...env } });
      const client = await TrellisClient.connect({ address: server.address, namespace: server.namespace, taskQueue }, { encryption: null });
      workers[mode] = { worker, client };
    }
    const spec = chain(STEPS);
    const figures = { off: { wall: [], cpu: [] }, on: { wall: [], cpu: [] } };
    let exported;
    for (let i = 0; i < WARMUP + RUNS; i++) {
      for (const mode of i % 2 === 0 ? ['off', 'on'] : ['on', 'off']) {
        const { worker, client } = workers[mode];
        gc();
        const cpu = await cpuOf(worker.pid);
        const before = { ...receiver.got };
        const t = performance.now();
        const { runId } = await client.start(spec);
        const result = await client.result(runId);
        const wall = performance.now() - t;
        if (result.output?.last !== 1) throw new BenchmarkFailure(`a ${mode} run ended with ${JSON.stringify(result.output)}`);
        if (i >= WARMUP) {
          figures[mode].wall.push(wall / STEPS);
          figures[mode].cpu.push((((await cpuOf(worker.pid)) - cpu) * 1000) / STEPS);
        }
        if (mode === 'on' && i === WARMUP + RUNS - 1) exported = before;
      }
    }
    // The last traced run's spans, once its worker's batch has gone out.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const sent = { requests: receiver.got.requests - exported.requests, bytes: receiver.got.bytes - exported.bytes };
    const m = (mode, what) => median(figures[mode][what]);
    const rows = [['tracing', 'ms/step', 'worker CPU ms/step']];
    for (const mode of ['off', 'on']) rows.push([mode, ms(m(mode, 'wall')), ms(m(mode, 'cpu'))]);
    rows.push(['on/off', ratio(m('on', 'wall') / m('off', 'wall')), ratio(m('on', 'cpu') / m('off', 'cpu'))]);
    console.log(`1. cost per step: ${STEPS} steps, one run at a time (median of ${RUNS}; CPU: the worker's process)`);
    console.log(indent(table(rows)));
    console.log(
      `   exported for the last traced run (and anything else the batch held): ${sent.requests} request(s), ${(sent.bytes / 1024).toFixed(1)} KiB`,
    );
    console.log('');
  } finally {
    for (const { worker, client } of Object.values(workers)) {
      await client.close();
      await worker.stop();
    }
    await mock.close();
    await receiver.close();
    await server.stop();
  }
}

function indent(text) {
  return text
    .split('\n')
    .map((line) => `   ${line}`)
    .join('\n');
}
