/**
 * Encrypted runs on the real dev server: no plaintext of the input, a tool's args and result, or an approver's comment
 * in the raw history (`temporal workflow show -o json`), while the client reads everything; key rotation across a
 * worker restart; clear errors without the key; and the codec endpoint of trellis serve, for its callers only.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEncryptionKeys } from '../../src/codec/keys.js';
import { TrellisClient } from '../../src/client/index.js';
import { authConfigFromEnv } from '../../src/server/auth.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { bundleWorkflows, createTrellisWorker } from '../../src/worker.js';
import tools from '../fixtures/hostile-tools.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { testLogger } from '../helpers/logs.js';
import { connectWorker } from '../helpers/temporal.js';
import { plaintextIn, rawHistory } from '../helpers/temporal-cli.js';
import { waitFor } from '../helpers/wait.js';

const entry = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const K1 = entry('k1');
const K2 = entry('k2');
const keys1 = parseEncryptionKeys(K1, 'test');
const rotated = parseEncryptionKeys(`${K2},${K1}`, 'test');
const UI = 'http://localhost:8233';
const READER = 'ui-reader-secret-0123456789';
const STARTER = 'starter-only-secret-0123456789';

let h: Harness;
let api: RunningServer;
beforeAll(async () => {
  h = await startHarness({ tools, encryption: keys1 });
  const auth = authConfigFromEnv({ TRELLIS_API_KEYS: `ui:${READER}:read,ci:${STARTER}:start` });
  api = await startServer({ port: 0, deps: { client: h.client, auth, encryption: keys1, temporalUiUrl: UI, logger: testLogger('warn') } });
});
afterAll(async () => {
  await api?.close();
  await h?.stop();
});

let counter = 0;
const newId = (what: string) => `enc-${what}-${Date.now().toString(36)}-${++counter}`;
const spec = {
  version: 1,
  name: 'encrypted',
  input: { type: 'object' },
  steps: [
    { id: 'a', kind: 'tool', tool: 'echo', args: { text: 'SECRET7F3A-TOOL ${input.note}' } },
    { id: 'ok', kind: 'approval', title: 'Approve the refund?', after: ['a'] },
  ],
};
const SECRETS = ['SECRET7F3A-INPUT', 'SECRET7F3A-TOOL', 'SECRET7F3A-COMMENT', 'Approve the refund'];
const leaks = async (id: string) => plaintextIn(await rawHistory(id), SECRETS);
const waiting = (client: TrellisClient, id: string) =>
  waitFor(
    () => client.status(id),
    (v) => v.status === 'waiting',
  );

describe('an encrypted run', () => {
  it('keeps no plaintext in its history, and the client reads all of it', async () => {
    const runId = newId('plain');
    await h.client.start(spec, { id: runId, input: { note: 'SECRET7F3A-INPUT' } });
    await waiting(h.client, runId);
    await h.client.approve(runId, 'ok', { by: 'alice', comment: 'SECRET7F3A-COMMENT' });
    const result = await h.client.getHandle(runId).result();
    expect(result.steps.a!.output).toEqual({ text: 'SECRET7F3A-TOOL SECRET7F3A-INPUT' });
    expect(result.steps.ok!.output).toMatchObject({ by: 'alice', comment: 'SECRET7F3A-COMMENT' });
    expect(await h.client.input(runId)).toEqual({ note: 'SECRET7F3A-INPUT' });
    expect(await rawHistory(runId)).toContain('YmluYXJ5L2VuY3J5cHRlZA=='); // binary/encrypted
    expect(await leaks(runId)).toEqual([]);
  });

  it('(the check can fail: the same run without encryption leaks every secret)', async () => {
    const plain = await startHarness({ tools });
    try {
      const runId = newId('control');
      await plain.client.start(spec, { id: runId, input: { note: 'SECRET7F3A-INPUT' } });
      await waiting(plain.client, runId);
      await plain.client.approve(runId, 'ok', { by: 'alice', comment: 'SECRET7F3A-COMMENT' });
      await plain.client.getHandle(runId).result();
      expect(await leaks(runId)).toEqual(SECRETS);
    } finally {
      await plain.stop();
    }
  });

  it('finishes on a worker whose current key is new, and reads what the old key wrote', async () => {
    const runId = newId('rotate');
    await h.client.start(spec, { id: runId, input: { note: 'before' } });
    await waiting(h.client, runId);
    h.worker.shutdown();
    await waitFor(
      () => h.worker.getState(),
      (s) => s === 'STOPPED',
    );
    const connection = await connectWorker();
    const { worker } = await createTrellisWorker({
      tools,
      temporal: { ...h.client.config },
      connection,
      workflowBundle: await bundleWorkflows(),
      logger: testLogger('warn'),
      encryption: rotated,
      notify: { targets: [], links: { publicUrl: 'http://127.0.0.1:8080', temporalUiUrl: UI, namespace: 'default' } },
    });
    const done = worker.run();
    const client = await TrellisClient.connect(h.client.config, { encryption: rotated });
    try {
      await client.approve(runId, 'ok', { by: 'alice' });
      expect((await client.getHandle(runId).result()).steps.ok!.output).toMatchObject({ approved: true, by: 'alice' });
      const history = await rawHistory(runId);
      expect(history).toContain('azE='); // k1
      expect(history).toContain('azI='); // k2
      // A reader with the old key alone cannot read what the new one wrote, and says why.
      await expect(h.client.getHandle(runId).result()).rejects.toThrow(/encrypted with the key "k2", which this process does not have/);
    } finally {
      worker.shutdown();
      await done;
      await client.close();
      await connection.close();
    }
  });

  it('without the key, a client says the run is encrypted, never garbage', async () => {
    const runId = newId('nokey');
    // It need not run (the rotation test stopped the first worker), only exist.
    await h.client.start(spec, { id: runId, input: { note: 'x' } });
    const plain = await TrellisClient.connect(h.client.config, { encryption: null });
    try {
      await expect(plain.input(runId)).rejects.toThrow(/this run is encrypted, and this process has no key: set TRELLIS_ENCRYPTION_KEYS/);
      // Listing decodes every run's memo: the encrypted one is listed by its id, and hides no other run.
      const listed = await waitFor(
        () => plain.list({ limit: 10_000 }),
        (runs) => runs.some((r) => r.runId === runId),
      );
      expect(listed.find((r) => r.runId === runId)).toMatchObject({ runId, name: runId });
    } finally {
      await plain.close();
    }
  });
});

describe('the codec endpoint of trellis serve', () => {
  const call = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${api.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('encodes and decodes for a caller with the read scope, and refuses anyone else', async () => {
    const plain = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"SECRET7F3A-UI"').toString('base64') };
    const reader = { authorization: `Bearer ${READER}` };
    const encoded = await call('/codec/encode', { payloads: [plain] }, reader);
    expect(encoded.status).toBe(200);
    const sealed = ((await encoded.json()) as { payloads: unknown[] }).payloads;
    expect(JSON.stringify(sealed)).not.toContain(plain.data);
    const decoded = await call('/codec/decode', { payloads: sealed }, reader);
    expect(await decoded.json()).toEqual({ payloads: [plain] });

    expect((await call('/codec/decode', { payloads: sealed })).status).toBe(401);
    const starter = await call('/codec/decode', { payloads: sealed }, { authorization: `Bearer ${STARTER}` });
    expect(starter.status).toBe(403);
    const bad = await call('/codec/decode', { payloads: [{ data: '!!' }] }, reader);
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ code: 'malformed', detail: 'payloads[0]: data must be base64' });
  });

  it("answers CORS for the Temporal UI's origin only, with credentials", async () => {
    const preflight = (origin: string) =>
      fetch(`${api.url}/codec/decode`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
      });
    const ui = await preflight(UI);
    expect(ui.headers.get('access-control-allow-origin')).toBe(UI);
    expect(ui.headers.get('access-control-allow-credentials')).toBe('true');
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
