/**
 * A run that cannot make progress fails; it never slows or kills its worker or other runs. The reproduction: a
 * dev server's database holds runs whose expressions used to take seconds per workflow task (a catastrophic regex,
 * seven nested comprehensions, a string built to gigabytes) when a worker starts on it. That worker, and one
 * restarted on the same database, end those runs quickly, with reasons, while a good run beside them completes;
 * no workflow task fails or times out.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TrellisClient, TrellisRunError } from '../../src/client/index.js';
import { startDevServer, type DevServer } from '../../src/temporal/index.js';
import { bundleWorkflows, createTrellisWorker } from '../../src/worker.js';
import tools from '../fixtures/hostile-tools.js';
import { testLogger } from '../helpers/logs.js';
import { connectWorker } from '../helpers/temporal.js';
import { historyEvents, startRaw, type Server } from '../helpers/temporal-cli.js';

let dir: string;
let server: DevServer;
let on: Server;
const taskQueue = `bad-runs-${randomUUID()}`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trellis-bad-runs-'));
  await connectWorker().then((c) => c.close()); // installs the quiet SDK runtime before the first worker
  server = await startDevServer({ port: 'auto', ui: false, dbFile: path.join(dir, 'dev.db'), searchAttributes: { TrellisStatus: 'Keyword' } });
  on = { address: server.address, namespace: server.namespace };
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const spec = (name: string, steps: unknown[]) => ({ version: 1, name, steps });
const tenTimes = (inner: string, v: string) => `[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(${v}, ${inner})`;
const nested = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].reduce((inner, v) => tenTimes(inner, v), '1');

const BAD: Array<{ id: string; arg: unknown; ends: RegExp }> = [
  {
    // RE2 answers at once: no match, so the step is skipped and the run completes.
    id: 'regex',
    arg: { spec: spec('regex', [{ id: 'r', kind: 'tool', tool: 'echo', when: `'${'a'.repeat(34)}!'.matches('(a+)+$')`, args: { text: 'x' } }]) },
    ends: /^completed$/,
  },
  {
    id: 'nested',
    arg: { spec: spec('nested', [{ id: 'n', kind: 'tool', tool: 'echo', args: { text: `\${string(size(${nested}))}` } }]) },
    ends: /cost limit/,
  },
  {
    id: 'gigabytes',
    arg: {
      spec: spec('gigabytes', [
        {
          id: 'g',
          kind: 'tool',
          tool: 'echo',
          args: { text: '${[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(x, input.big + input.big + input.big).join()}' },
        },
      ]),
      input: { big: 'z'.repeat(200_000) },
    },
    ends: /limit/,
  },
];

async function startWorker(connection: NativeConnection, bundle: { code: string }) {
  const { worker } = await createTrellisWorker({
    tools,
    temporal: { ...on, taskQueue },
    connection,
    workflowBundle: bundle,
    logger: testLogger('error'),
    llm: { baseURL: 'http://127.0.0.1:9/v1', model: 'none' },
  });
  return { worker, done: worker.run() };
}

/** How a run ended: 'completed', or its failure's message. */
async function ending(client: TrellisClient, id: string): Promise<string> {
  try {
    await client.result(id);
    return 'completed';
  } catch (e) {
    if (e instanceof TrellisRunError) return e.message;
    throw e;
  }
}

it('a worker started on a database holding runs that cannot progress ends them with a reason, and keeps serving', { timeout: 180_000 }, async () => {
  const client = await TrellisClient.connect({ ...on, taskQueue });
  const connection = await NativeConnection.connect({ address: on.address });
  const bundle = await bundleWorkflows();
  try {
    // The runs are in the database before any worker is: as after a restart of `trellis dev` on the same db.
    for (const bad of BAD) await startRaw('trellisRun', bad.id, taskQueue, bad.arg, on);
    const first = await startWorker(connection, bundle);
    const good = await client.start(spec('good', [{ id: 'e', kind: 'tool', tool: 'echo', args: { text: 'fine' } }]), { id: 'good-1' });
    const t = Date.now();
    for (const bad of BAD) expect(await ending(client, bad.id), bad.id).toMatch(bad.ends);
    expect((await good.result()).output).toEqual({ e: { text: 'fine' } });
    expect(Date.now() - t, 'every run ended within a few seconds').toBeLessThan(30_000);

    // Restarted on the same database: the ended runs stay ended, and new work goes on.
    first.worker.shutdown();
    await first.done;
    const second = await startWorker(connection, bundle);
    const again = await client.start(spec('good', [{ id: 'e', kind: 'tool', tool: 'echo', args: { text: 'still fine' } }]), { id: 'good-2' });
    expect((await again.result()).output).toEqual({ e: { text: 'still fine' } });
    for (const id of [...BAD.map((b) => b.id), 'good-1', 'good-2']) {
      const types = (await historyEvents(id, on)).map((e) => e.eventType);
      expect(
        types.filter((x) => /WORKFLOW_TASK_(FAILED|TIMED_OUT)/.test(x)),
        id,
      ).toEqual([]);
    }
    second.worker.shutdown();
    await second.done;
  } finally {
    await client.close();
    await connection.close();
  }
});
