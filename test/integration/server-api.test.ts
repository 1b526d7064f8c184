/**
 * `trellis serve`'s API over real HTTP, on the real dev server and a worker that takes only signed answers (the
 * server's client holds the decision key): who may call what, who may answer, and that every refusal is a
 * problem+json with its code.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrellisClient } from '../../src/client/index.js';
import { issueSession, csrfToken } from '../../src/server/session.js';
import type { Principal } from '../../src/server/auth.js';
import tools from '../fixtures/hostile-tools.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { JWT_SECRET, personToken, startApi, type Api } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const DECISION_KEY = 'decision-key-of-the-server-tests-0123456789';
const OPS = 'ops-secret-0123456789abcdef';
const READER = 'reader-secret-0123456789abcdef';

let h: Harness;
let api: Api;
let specsDir: string;

beforeAll(async () => {
  h = await startHarness({ tools, decisionKey: DECISION_KEY, clientDecisionKey: DECISION_KEY });
  specsDir = await mkdtemp(path.join(tmpdir(), 'trellis-server-specs-'));
  await writeFile(path.join(specsDir, 'saved-approval.json'), JSON.stringify(approvalSpec(['key:ops'])));
  api = await startApi(h.client, { TRELLIS_API_KEYS: `ops:${OPS}, reader:${READER}:read+start`, TRELLIS_JWT_SECRET: JWT_SECRET }, { specsDir });
});
afterAll(async () => {
  await api?.close();
  await h?.stop();
  if (specsDir) await rm(specsDir, { recursive: true, force: true });
});

let counter = 0;
const newId = (what: string) => `http-${what}-${Date.now().toString(36)}-${++counter}`;
function approvalSpec(approvers?: string[]) {
  return { version: 1, name: 'http-approval', steps: [{ id: 'ok', kind: 'approval', title: 'Approve it?', ...(approvers && { approvers }) }] };
}
const FINANCE = ['alice@example.com', 'group:finance'];

/** Starts a run over HTTP as the ops key and waits until it waits for a person. */
async function waitingRun(approvers?: string[], id = newId('run')): Promise<string> {
  const started = await api.call('POST', '/v1/runs', { token: OPS, body: { spec: approvalSpec(approvers), id } });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  await waitFor(
    () => h.client.status(id),
    (v) => v.status === 'waiting',
  );
  return id;
}

const expectProblem = (answer: { status: number; headers: Headers; body: Record<string, unknown> }, status: number, code: string) => {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
  expect(answer.body).toMatchObject({ status, code, type: `urn:trellis:problem:${code}` });
  expect(typeof answer.body.title).toBe('string');
  expect(typeof answer.body.detail).toBe('string');
};

describe('authentication', () => {
  it('answers /healthz and /openapi.json without a token, and 401 for everything else', async () => {
    expect((await api.call('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await api.call('GET', '/openapi.json')).status).toBe(200);
    const none = await api.call('GET', '/v1/runs');
    expectProblem(none, 401, 'unauthenticated');
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expectProblem(await api.call('POST', '/v1/runs', { body: { spec: approvalSpec() } }), 401, 'unauthenticated');
    const wrongKey = await api.call('GET', '/v1/runs', { token: 'not-a-key-0123456789abcdef' });
    expectProblem(wrongKey, 401, 'unauthenticated');
    expect(wrongKey.body.detail).toMatch(/neither a known API key nor a JWT/);
    const otherSecret = await api.call('GET', '/v1/runs', { token: await personToken({ sub: 'mallory' }, 'x'.repeat(40)) });
    expectProblem(otherSecret, 401, 'unauthenticated');
    expect(otherSecret.body.detail).toMatch(/JWT was refused/);
    expectProblem(await api.call('GET', '/v1/runs', { headers: { authorization: `Basic ${OPS}` } }), 401, 'unauthenticated');
  });

  it('is closed, and says how to open it, when no authentication is configured', async () => {
    const closed = await startApi(h.client, {});
    try {
      const answer = await closed.call('GET', '/v1/runs', { token: OPS });
      expectProblem(answer, 401, 'unauthenticated');
      expect(answer.body.detail).toMatch(/no authentication is configured: set TRELLIS_API_KEYS/);
      expect((await closed.call('GET', '/healthz')).status).toBe(200);
    } finally {
      await closed.close();
    }
  });

  it('needs the scope: a key without decide gets 403 forbidden on a decision, without admin on a cancel', async () => {
    const id = await waitingRun();
    expectProblem(await api.call('POST', `/v1/runs/${id}/decisions`, { token: READER, body: { step: 'ok', approved: true } }), 403, 'forbidden');
    expectProblem(await api.call('POST', `/v1/runs/${id}/cancel`, { token: READER }), 403, 'forbidden');
    // A person reads and answers; starting runs is for services.
    const person = await personToken({ sub: 'bob' });
    expectProblem(await api.call('POST', '/v1/runs', { token: person, body: { spec: approvalSpec() } }), 403, 'forbidden');
    expect((await api.call('GET', `/v1/runs/${id}`, { token: person })).status).toBe(200);
    expect((await h.client.status(id)).status).toBe('waiting');
  });

  it('takes the session cookie, and a state change with it only with the CSRF token', async () => {
    const id = await waitingRun(['carol']);
    const carol: Principal = { kind: 'person', sub: 'carol', groups: [], scopes: ['read', 'decide'] };
    const signIn = new Hono().get('/', (c) => {
      issueSession(c, api.auth, carol);
      return c.text('signed in');
    });
    const cookie = (await signIn.request('/')).headers.get('set-cookie')!.split(';')[0]!;
    expect((await api.call('GET', `/v1/runs/${id}`, { headers: { cookie } })).status).toBe(200);
    const tampered = cookie.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A'));
    expectProblem(await api.call('GET', `/v1/runs/${id}`, { headers: { cookie: tampered } }), 401, 'unauthenticated');
    const body = { step: 'ok', approved: true };
    expectProblem(await api.call('POST', `/v1/runs/${id}/decisions`, { headers: { cookie }, body }), 403, 'csrf_invalid');
    expectProblem(await api.call('POST', `/v1/runs/${id}/decisions`, { headers: { cookie, 'x-csrf-token': 'forged' }, body }), 403, 'csrf_invalid');
    const ok = await api.call('POST', `/v1/runs/${id}/decisions`, { headers: { cookie, 'x-csrf-token': csrfToken(api.auth, carol) }, body });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({ approved: true, by: 'carol' });
  });
});

describe('starting runs', () => {
  it('refuses a bad spec with every problem and its path, and nothing starts', async () => {
    const id = newId('bad');
    const bad = {
      version: 1,
      name: 'bad',
      steps: [
        { id: 'a', kind: 'approval' },
        { id: 'a', kind: 'wait', duration: '1 day' },
      ],
    };
    const answer = await api.call('POST', '/v1/runs', { token: OPS, body: { spec: bad, id } });
    expectProblem(answer, 422, 'SPEC_INVALID');
    const paths = (answer.body.problems as { path: string }[]).map((p) => p.path);
    expect(paths.length).toBeGreaterThanOrEqual(2);
    expect(paths.every((p) => p.startsWith('spec.'))).toBe(true);
    expect(paths).toContain('spec.steps[1].duration');
    await expect(h.client.status(id)).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
  });

  it('refuses malformed JSON, a body that does not match, an input its schema refuses, another media type, too large a body', async () => {
    const notJson = await api.call('POST', '/v1/runs', { token: OPS, body: '{"spec": ' });
    expectProblem(notJson, 422, 'malformed');
    expect(notJson.body.detail).toMatch(/not JSON/);
    const both = await api.call('POST', '/v1/runs', { token: OPS, body: { spec: approvalSpec(), specName: 'x', budget: { maxSteps: 0 }, extra: 1 } });
    expectProblem(both, 422, 'malformed');
    expect((both.body.problems as { path: string }[]).map((p) => p.path).sort()).toEqual(['(root)', 'budget.maxSteps', 'extra']);
    const withInput = { ...approvalSpec(), input: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] } };
    expectProblem(await api.call('POST', '/v1/runs', { token: OPS, body: { spec: withInput, input: { n: 'x' } } }), 422, 'INPUT_INVALID');
    expectProblem(await api.call('POST', '/v1/goals', { token: OPS, body: { goal: '' } }), 422, 'malformed');
    const text = await api.call('POST', '/v1/goals', { token: OPS, body: 'goal=x', headers: { 'content-type': 'text/plain' } });
    expectProblem(text, 415, 'unsupported_media_type');
    const huge = await api.call('POST', '/v1/runs', { token: OPS, body: { spec: approvalSpec(), input: 'x'.repeat(3 * 1024 * 1024) } });
    expectProblem(huge, 413, 'too_large');
  });

  it('starts a saved spec by name, and refuses a second start under the same id: 409 RUN_EXISTS', async () => {
    const id = newId('saved');
    const first = await api.call('POST', '/v1/runs', { token: OPS, body: { specName: 'saved-approval', id } });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toEqual({ runId: id });
    expect(first.headers.get('location')).toBe(`/v1/runs/${id}`);
    expectProblem(await api.call('POST', '/v1/runs', { token: OPS, body: { spec: approvalSpec(), id } }), 409, 'RUN_EXISTS');
    const missing = await api.call('POST', '/v1/runs', { token: OPS, body: { specName: 'no-such-spec' } });
    expectProblem(missing, 422, 'SPEC_NOT_FOUND');
    expect(missing.body.problems[0].path).toBe('specName');
    await h.client.cancel(id);
  });
});

describe('answers', () => {
  it('refuses a person who is not an approver nor in a listed group: 403 not_an_approver', async () => {
    const id = await waitingRun(FINANCE);
    const eve = await personToken({ sub: 'eve', email: 'eve@example.com', groups: ['sales'] });
    const answer = await api.call('POST', `/v1/runs/${id}/decisions`, { token: eve, body: { step: 'ok', approved: true } });
    expectProblem(answer, 403, 'not_an_approver');
    expect((await h.client.status(id)).status).toBe('waiting');
  });

  it('takes a person in group:finance, recorded as their sub, signed by the server, and refuses a second answer', async () => {
    const id = newId('finance');
    const spec = {
      ...approvalSpec(FINANCE),
      steps: [...approvalSpec(FINANCE).steps, { id: 'then', kind: 'approval', title: 'And then?', after: ['ok'] }],
    };
    expect((await api.call('POST', '/v1/runs', { token: OPS, body: { spec, id } })).status).toBe(201);
    await waitFor(
      () => h.client.status(id),
      (v) => v.pending.some((p) => p.step === 'ok'),
    );
    const fin = await personToken({ sub: 'u-123', email: 'fin@example.com', groups: ['finance', 7] });
    const answer = await api.call('POST', `/v1/runs/${id}/decisions`, { token: fin, body: { step: 'ok', approved: true, comment: 'within budget' } });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ runId: id, step: 'ok', approved: true, by: 'u-123', comment: 'within budget' });
    const again = await api.call('POST', `/v1/runs/${id}/decisions`, { token: fin, body: { step: 'ok', approved: false } });
    expectProblem(again, 409, 'already_decided');
    await waitFor(
      () => h.client.status(id),
      (v) => v.pending.some((p) => p.step === 'then'),
    );
    expect((await api.call('POST', `/v1/runs/${id}/decisions`, { token: OPS, body: { step: 'then', approved: true } })).status).toBe(200);
    const result = await api.call('GET', `/v1/runs/${id}/result?wait=30s`, { token: fin });
    expect(result.status).toBe(200);
    expect(result.body.result.steps.ok.output).toMatchObject({ approved: true, by: 'u-123' });
  });

  it('records a person listed by email as the email, and a key as key:NAME', async () => {
    const byEmail = await waitingRun(FINANCE);
    const alice = await personToken({ sub: 'a-1', email: 'alice@example.com' });
    const denied = await api.call('POST', `/v1/runs/${byEmail}/decisions`, { token: alice, body: { step: 'ok', approved: false } });
    expect(denied.body).toMatchObject({ approved: false, by: 'alice@example.com' });
    const anyone = await waitingRun();
    const byKey = await api.call('POST', `/v1/runs/${anyone}/decisions`, { token: OPS, body: { step: 'ok', approved: true } });
    expect(byKey.body).toMatchObject({ approved: true, by: 'key:ops' });
  });

  it('refuses a by in the body, an unknown step, and a step that does not wait', async () => {
    const id = await waitingRun();
    const withBy = await api.call('POST', `/v1/runs/${id}/decisions`, { token: OPS, body: { step: 'ok', approved: true, by: 'alice' } });
    expectProblem(withBy, 422, 'malformed');
    expect(withBy.body.detail).toMatch(/takes no "by"/);
    expectProblem(await api.call('POST', `/v1/runs/${id}/decisions`, { token: OPS, body: { step: 'ok', approved: 'yes' } }), 422, 'malformed');
    expectProblem(await api.call('POST', `/v1/runs/${id}/decisions`, { token: OPS, body: { step: 'nope', approved: true } }), 409, 'not_waiting');
    expect((await h.client.status(id)).status).toBe('waiting');
  });

  it('passes on the workflow refusal when the server cannot sign (a worker key the server lacks): 500 unsigned', async () => {
    const unsigned = await TrellisClient.connect(h.client.config, {});
    const server = await startApi(unsigned, { TRELLIS_API_KEYS: `ops:${OPS}` });
    try {
      const id = await waitingRun();
      const answer = await server.call('POST', `/v1/runs/${id}/decisions`, { token: OPS, body: { step: 'ok', approved: true } });
      expectProblem(answer, 500, 'unsigned');
      expect(answer.body.detail).toMatch(/TRELLIS_DECISION_KEY/);
    } finally {
      await server.close();
      await unsigned.close();
    }
  });
});

describe('reading, waiting and cancelling', () => {
  it('lists with approver=me the runs whose gate the caller may answer, each with what it waits for', async () => {
    const forCarol = await waitingRun(['carol']);
    const forFinance = await waitingRun(FINANCE);
    const forAnyone = await waitingRun();
    const mine = async (token: string) => {
      const answer = await api.call('GET', '/v1/runs?status=waiting&approver=me&limit=1000', { token });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      return (answer.body.runs as { runId: string }[]).map((r) => r.runId).filter((r) => [forCarol, forFinance, forAnyone].includes(r));
    };
    expect((await mine(await personToken({ sub: 'carol' }))).sort()).toEqual([forCarol, forAnyone].sort());
    expect((await mine(await personToken({ sub: 'f-9', groups: ['finance'] }))).sort()).toEqual([forFinance, forAnyone].sort());
    expect((await mine(await personToken({ sub: 'x-1', email: 'alice@example.com' }))).sort()).toEqual([forFinance, forAnyone].sort());
    const all = await api.call('GET', '/v1/runs?status=waiting&limit=1000', { token: READER });
    const item = (all.body.runs as { runId: string }[]).find((r) => r.runId === forFinance);
    expect(item).toMatchObject({ name: 'http-approval', status: 'waiting', pending: [{ step: 'ok', title: 'Approve it?', approvers: FINANCE }] });
    expectProblem(await api.call('GET', '/v1/runs?approver=someone', { token: READER }), 422, 'malformed');
  });

  it('long-polls the result: 202 with the status while it runs, 200 with the result once it ended', async () => {
    const id = await waitingRun();
    const early = await api.call('GET', `/v1/runs/${id}/result?wait=200ms`, { token: READER });
    expect(early.status).toBe(202);
    expect(early.body).toMatchObject({ runId: id, status: 'waiting', pending: [{ step: 'ok' }] });
    expect((await api.call('GET', `/v1/runs/${id}/result`, { token: READER })).status).toBe(202);
    const waiting = api.call('GET', `/v1/runs/${id}/result?wait=30s`, { token: READER });
    await api.call('POST', `/v1/runs/${id}/decisions`, { token: OPS, body: { step: 'ok', approved: true } });
    const done = await waiting;
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ runId: id, status: 'completed', result: { steps: { ok: { status: 'completed' } } } });
    expectProblem(await api.call('GET', `/v1/runs/${id}/result?wait=2m`, { token: READER }), 422, 'malformed');
  });

  it('answers a failed run with its error, 200: it has ended', async () => {
    const id = newId('budget');
    const spec = {
      version: 1,
      name: 'two-waits',
      steps: [
        { id: 'a', kind: 'wait', duration: '1ms' },
        { id: 'b', kind: 'wait', duration: '1ms', after: ['a'] },
      ],
    };
    expect((await api.call('POST', '/v1/runs', { token: OPS, body: { spec, id, budget: { maxSteps: 1 } } })).status).toBe(201);
    const ended = await api.call('GET', `/v1/runs/${id}/result?wait=30s`, { token: READER });
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({ runId: id, status: 'failed', error: { code: 'BUDGET_EXCEEDED' } });
  });

  it('cancels a run: 202, then it ends cancelled; a second cancel is 409 RUN_ENDED', async () => {
    const id = await waitingRun();
    const cancel = await api.call('POST', `/v1/runs/${id}/cancel`, { token: OPS });
    expect(cancel.status).toBe(202);
    expect(cancel.body).toEqual({ runId: id, status: 'cancelling' });
    const ended = await api.call('GET', `/v1/runs/${id}/result?wait=30s`, { token: READER });
    expect(ended.body).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
    expectProblem(await api.call('POST', `/v1/runs/${id}/cancel`, { token: OPS }), 409, 'RUN_ENDED');
    expect((await api.call('GET', `/v1/runs/${id}`, { token: READER })).body).toMatchObject({ status: 'cancelled' });
  });

  it('is 404 RUN_NOT_FOUND for an unknown run, on every route', async () => {
    const id = newId('nobody');
    for (const [method, route, body] of [
      ['GET', `/v1/runs/${id}`],
      ['GET', `/v1/runs/${id}/result?wait=1s`],
      ['GET', `/v1/runs/${id}/events`],
      ['POST', `/v1/runs/${id}/cancel`],
      ['POST', `/v1/runs/${id}/decisions`, { step: 'ok', approved: true }],
    ] as const) {
      expectProblem(await api.call(method, route, { token: OPS, ...(body && { body }) }), 404, 'RUN_NOT_FOUND');
    }
    expectProblem(await api.call('GET', '/v1/nothing-here', { token: OPS }), 404, 'not_found');
  });

  it('answers an unexpected error with a 500 problem and no stack', async () => {
    const broken = { status: () => Promise.reject(new Error('the wires are crossed at /srv/secret.ts:12')) } as unknown as TrellisClient;
    const server = await startApi(broken, { TRELLIS_API_KEYS: `ops:${OPS}` });
    try {
      const answer = await server.call('GET', '/v1/runs/x', { token: OPS });
      expectProblem(answer, 500, 'internal');
      expect(JSON.stringify(answer.body)).not.toMatch(/wires|secret\.ts/);
    } finally {
      await server.close();
    }
  });
});
