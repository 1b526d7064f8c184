/**
 * The HTTP API and the people it reaches, on a real Temporal dev server of its own, a worker in this process and
 * `trellis serve` (startServer) in this process:
 *
 *   1. start to first step: POST /v1/runs (an API key, JSON over HTTP, the server's validation, then the client)
 *      against TrellisClient.start, for a one-step tool spec; from the moment the call is made to the first step's
 *      activity being scheduled (the server's event time; same machine, same clock). Interleaved, median.
 *   2. 1,000 runs that wait for a person, each sending run.waiting to a webhook receiver that fails 20% of the
 *      requests at random (503): the time until every event was taken once, how many were lost, how many were
 *      taken twice (a receiver that deduplicates by webhook-id records each once; here we count the 2xx answers per
 *      id), and the deliveries it took.
 *   3. the inbox listing those 1,000 waiting runs for a person who may answer them all (GET /inbox, the HTML page),
 *      and the API's GET /v1/runs?status=waiting&approver=me: the median of 5 each.
 *
 *   npm run build && node --expose-gc bench/api.mjs       (or: node --expose-gc bench/run.mjs api)
 *
 * Figures come from one run and are printed, never asserted.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { NativeConnection } from '@temporalio/worker';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import { TrellisClient } from '../dist/client/index.js';
import { authConfigFromEnv } from '../dist/server/auth.js';
import { startServer as startHttp } from '../dist/server/serve.js';
import { createTrellisWorker } from '../dist/worker.js';
import TOOLS from './fixtures/tools.mjs';
import { installBenchRuntime, pool, sleep, startServer } from './lib/stack.mjs';
import { gc, int, median, ms, ratio, signed, table } from './lib/stats.mjs';

export const name = 'api';

const STARTS = 20; // runs of each way to start, interleaved
const WAITING = 1_000; // runs parked on an approval
const FAIL_RATE = 0.2; // share of webhook requests the receiver fails
const START_CONCURRENCY = 50;
const LISTINGS = 5;
const PHASE_TIMEOUT_MS = 300_000;

const API_KEY = 'bench-api-key-0123456789abcdef';
const JWT_SECRET = 'bench-jwt-secret-0123456789abcdefghij';
const WEBHOOK_SECRET = `whsec_${Buffer.from('the api benchmark webhook secret').toString('base64')}`;
const PERSON = 'approver@example.com';

export default async function run() {
  console.log(`api: a dev server of its own, a worker and trellis serve in this process; ${STARTS} starts each way, then ${int(WAITING)} runs`);
  console.log(`waiting for a person, notified through a receiver that fails ${FAIL_RATE * 100}% of requests, listed by the inbox.`);
  console.log('');
  const server = await startServer();
  const receiver = await startReceiver();
  let http;
  let worker;
  let running;
  let client;
  try {
    installBenchRuntime();
    const taskQueue = `bench-api-${randomUUID()}`;
    const temporal = { address: server.address, namespace: server.namespace, taskQueue };
    const connection = await NativeConnection.connect({ address: server.address });
    ({ worker } = await createTrellisWorker({
      tools: TOOLS,
      temporal,
      connection,
      logger: pino({ level: 'warn' }),
      maxCachedWorkflows: 2_000,
      notify: {
        targets: [{ url: receiver.url, kind: 'webhook', name: receiver.url }],
        secret: WEBHOOK_SECRET,
        links: { publicUrl: 'http://127.0.0.1:8080', temporalUiUrl: 'http://localhost:8233', namespace: server.namespace },
      },
    }));
    running = worker.run();
    client = await TrellisClient.connect(temporal);
    const auth = authConfigFromEnv({ TRELLIS_API_KEYS: `bench:${API_KEY}`, TRELLIS_JWT_SECRET: JWT_SECRET });
    http = await startHttp({ port: 0, deps: { client, auth, logger: pino({ level: 'warn' }) } });

    await startToFirstStep(client, http.url);
    const ids = await parkAndNotify(client, receiver);
    await listings(http.url, ids.length);
    await pool(ids, START_CONCURRENCY, (id) => client.cancel(id).catch(() => undefined));
  } finally {
    await http?.close();
    await client?.close();
    worker?.shutdown();
    await running?.catch(() => undefined);
    receiver.close();
    await server.stop();
  }
}

/** 1: the same one-step spec started through HTTP and through the client, interleaved. */
async function startToFirstStep(client, url) {
  const spec = { version: 1, name: 'api-one-step', steps: [{ id: 'a', kind: 'tool', tool: 'echo', args: { n: 1 } }] };
  const ways = {
    http: async (id) => {
      const res = await fetch(`${url}/v1/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ spec, id }),
      });
      if (res.status !== 201) throw new Error(`POST /v1/runs answered ${res.status}: ${await res.text()}`);
    },
    client: (id) => client.start(spec, { id }),
  };
  const times = { http: [], client: [] };
  for (let i = 0; i < STARTS + 2; i++) {
    for (const way of i % 2 === 0 ? ['http', 'client'] : ['client', 'http']) {
      gc();
      const id = `api-${way}-${randomUUID()}`;
      const t = Date.now();
      await ways[way](id);
      const first = await firstStepAt(client, id);
      if (i >= 2) times[way].push(first - t); // two warm-up rounds
    }
  }
  const [h, c] = [median(times.http), median(times.client)];
  console.log(`1. start to first step (one-step tool spec; median of ${STARTS} each, interleaved, after 2 warm-up rounds)`);
  console.log(
    table([
      ['way', 'median ms', 'min ms', 'max ms'],
      ['POST /v1/runs (API key)', ms(h), ms(Math.min(...times.http)), ms(Math.max(...times.http))],
      ['TrellisClient.start', ms(c), ms(Math.min(...times.client)), ms(Math.max(...times.client))],
    ]),
  );
  console.log(
    `   through HTTP / through the client: ${ratio(h / c)} (${signed(h - c)} ms: the HTTP hop, the key check, the request's own validation)`,
  );
  console.log('');
}

/** When the run's first step was scheduled, by the server's clock (ms since the epoch); waits until it is. */
async function firstStepAt(client, id) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const history = await client.temporal.workflow.getHandle(id).fetchHistory();
    const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runTool');
    if (scheduled) return Number(scheduled.eventTime.seconds) * 1000 + scheduled.eventTime.nanos / 1e6;
    if (Date.now() > deadline) throw new Error(`run ${id} scheduled no runTool activity within 30 s`);
    await sleep(20);
  }
}

/** 2: WAITING runs that wait for PERSON, each notifying the flaky receiver once. */
async function parkAndNotify(client, receiver) {
  const spec = {
    version: 1,
    name: 'api-parked',
    steps: [{ id: 'ok', kind: 'approval', title: 'Approve ${input.n}?', approvers: [PERSON], timeout: '24h' }],
    input: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
  };
  const batch = randomUUID().slice(0, 8);
  const ids = Array.from({ length: WAITING }, (_, n) => `api-parked-${batch}-${n}`);
  const t = performance.now();
  await pool(ids, START_CONCURRENCY, (id, n) => client.start(spec, { id, input: { n } }));
  const started = performance.now() - t;
  const deadline = Date.now() + PHASE_TIMEOUT_MS;
  const mine = () => [...receiver.taken.keys()].filter((runId) => runId.startsWith(`api-parked-${batch}-`));
  while (mine().length < WAITING && Date.now() < deadline) await sleep(250);
  const allTaken = performance.now() - t;
  await sleep(3_000); // late retries would show as a second delivery taken
  const taken = mine();
  const twice = taken.filter((runId) => receiver.taken.get(runId).size > 1 || receiver.takenCount.get(runId) > 1).length;
  const requests = receiver.requests.filter((r) => r.startsWith(`api-parked-${batch}-`)).length;
  console.log(`2. ${int(WAITING)} runs waiting for a person, run.waiting to a receiver that fails ${FAIL_RATE * 100}% of requests (503)`);
  console.log(
    table([
      ['started in s', 'all taken in s', 'taken', 'lost', 'taken twice', 'requests', 'failed requests'],
      [
        (started / 1000).toFixed(1),
        (allTaken / 1000).toFixed(1),
        int(taken.length),
        int(WAITING - taken.length),
        int(twice),
        int(requests),
        int(requests - taken.length),
      ],
    ]),
  );
  console.log("   taken: the receiver answered 2xx for that run's run.waiting; taken twice: a second 2xx for the same event (a webhook-id).");
  console.log('');
  return ids;
}

/** 3: the inbox and the API list the waiting runs for PERSON. */
async function listings(url, expected) {
  const token = await new SignJWT({ email: PERSON })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('approver')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(JWT_SECRET));
  const headers = { authorization: `Bearer ${token}` };
  const measure = async (path, count) => {
    const times = [];
    let n = 0;
    for (let i = 0; i < LISTINGS; i++) {
      const t = performance.now();
      const res = await fetch(`${url}${path}`, { headers });
      const text = await res.text();
      times.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${text.slice(0, 300)}`);
      n = count(text);
    }
    return { ms: median(times), n };
  };
  const inbox = await measure('/inbox', (html) => (html.match(/<li class="card">/g) ?? []).length);
  const api = await measure('/v1/runs?status=waiting&approver=me&limit=1000', (json) => JSON.parse(json).runs?.length ?? 0);
  console.log(`3. listing ${int(expected)} waiting runs for a person who may answer each (median of ${LISTINGS})`);
  console.log(
    table([
      ['listing', 'median ms', 'runs shown'],
      ['GET /inbox (HTML)', ms(inbox.ms), int(inbox.n)],
      ['GET /v1/runs?status=waiting&approver=me', ms(api.ms), int(api.n)],
    ]),
  );
  console.log('');
}

/** A webhook receiver that fails FAIL_RATE of the requests, and remembers the ids it took (2xx) per run. */
async function startReceiver() {
  const taken = new Map(); // run id -> set of webhook-ids answered 2xx
  const takenCount = new Map(); // run id -> how many 2xx answers
  const requests = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const runId = JSON.parse(body).data.run.id;
      requests.push(runId);
      if (Math.random() < FAIL_RATE) return res.writeHead(503).end();
      if (!taken.has(runId)) taken.set(runId, new Set());
      taken.get(runId).add(req.headers['webhook-id']);
      takenCount.set(runId, (takenCount.get(runId) ?? 0) + 1);
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/hook`, taken, takenCount, requests, close: () => server.close() };
}
