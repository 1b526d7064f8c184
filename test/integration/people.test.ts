/**
 * People in the loop, at the workflow: signed answers (a worker with a decision key takes no forged `by`, from the
 * client, the Temporal CLI or a signal), approvers by group and in a tool's definition, the run's event stream, and
 * its notifications to a real webhook receiver with Standard Webhooks signatures (a reminder included).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TrellisClient } from '../../src/client/index.js';
import { signDecision } from '../../src/engine/decision-signature.js';
import { defineTool } from '../../src/tools/define.js';
import tools from '../fixtures/hostile-tools.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { temporal } from '../helpers/temporal-cli.js';
import { waitFor } from '../helpers/wait.js';

const KEY = 'k'.repeat(16) + 'decision-key-for-tests';
const SECRET = `whsec_${Buffer.from('webhook secret of the people test').toString('base64')}`;

/** A payout every call of which waits for alice or someone in finance (the tool definition names them). */
const payout = defineTool({
  name: 'payout',
  description: 'Pays out an amount',
  input: z.object({ amount: z.number() }),
  output: z.object({ paid: z.number() }),
  approval: 'required',
  approvers: ['alice', 'group:finance'],
  run: ({ amount }) => ({ paid: amount }),
});

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

let receiver: Server;
const received: Received[] = [];
/** Runs whose notifications the receiver fails, and how many more times. */
const failing = new Map<string, number>();
let signed: Harness;
let signingClient: TrellisClient;
let notified: Harness;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      const run = (JSON.parse(body) as { data: { run: { id: string } } }).data.run.id;
      const fails = failing.get(run) ?? 0;
      if (fails > 0) failing.set(run, fails - 1);
      res.writeHead(fails > 0 ? 503 : 204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  signed = await startHarness({ tools: [...tools, payout], decisionKey: KEY });
  signingClient = await TrellisClient.connect(signed.client.config, { decisionKey: KEY });
  notified = await startHarness({
    tools: [...tools, payout],
    notify: {
      targets: [{ url, kind: 'webhook', name: url }],
      secret: SECRET,
      links: { publicUrl: 'http://127.0.0.1:8080', temporalUiUrl: 'http://localhost:8233', namespace: 'default' },
    },
  });
}, 60_000);
afterAll(async () => {
  await signingClient?.close();
  await signed?.stop();
  await notified?.stop();
  receiver?.close();
});

let counter = 0;
const newId = (what: string) => `people-${what}-${Date.now().toString(36)}-${++counter}`;
const spec = (name: string, steps: unknown[]) => ({ version: 1, name, steps });
const approval = (approvers?: string[], extra: Record<string, unknown> = {}) =>
  spec('approve-it', [{ id: 'ok', kind: 'approval', title: 'Approve it?', ...(approvers && { approvers }), ...extra }]);

const waiting = (h: Harness, id: string) =>
  waitFor(
    () => h.client.status(id),
    (v) => v.status === 'waiting',
  );

describe('with a decision key on the worker', () => {
  it('refuses an unsigned answer from a client without the key, and takes a signed one', async () => {
    const runId = newId('unsigned');
    await signed.client.start(approval(['alice']), { id: runId });
    await waiting(signed, runId);
    await expect(signed.client.approve(runId, 'ok', { by: 'alice' })).rejects.toMatchObject({ code: 'APPROVAL_REFUSED', refusal: 'unsigned' });
    const decision = await signingClient.approve(runId, 'ok', { by: 'alice', comment: 'fine' });
    expect(decision).toMatchObject({ approved: true, by: 'alice', comment: 'fine' });
    const result = await signingClient.getHandle(runId).result();
    expect(result.steps.ok!.output).toMatchObject({ approved: true, by: 'alice' });
  });

  it('refuses a raw update with a forged by, a wrong signature, or a signature made for another answer', async () => {
    const runId = newId('forged');
    await signed.client.start(approval(['alice']), { id: runId });
    await waiting(signed, runId);
    const update = (input: unknown) =>
      temporal(['workflow', 'update', 'execute', '--workflow-id', runId, '--name', 'decide', '--input', JSON.stringify(input)]);
    const at = new Date().toISOString();
    const forged = await update({ step: 'ok', approved: true, by: 'alice' });
    expect(forged.code).not.toBe(0);
    expect(forged.stdout + forged.stderr).toMatch(/takes only signed answers/);
    const wrongKey = signDecision('x'.repeat(40), { run: runId, step: 'ok', approved: true, by: 'alice', comment: null, at });
    const bad = await update({ step: 'ok', approved: true, by: 'alice', at, signature: wrongKey });
    expect(bad.stdout + bad.stderr).toMatch(/not signed with the worker's decision key/);
    // A signature for a denial does not carry an approval.
    const forDenial = signDecision(KEY, { run: runId, step: 'ok', approved: false, by: 'alice', comment: null, at });
    const swapped = await update({ step: 'ok', approved: true, by: 'alice', at, signature: forDenial });
    expect(swapped.stdout + swapped.stderr).toMatch(/not signed with the worker's decision key/);
    // The same by the signal: refused, listed, and the run still waits.
    await signed.client.temporal.workflow.getHandle(runId).signal('approve', { step: 'ok', approved: true, by: 'alice' });
    const view = await waitFor(
      () => signed.client.status(runId),
      (v) => (v.refused?.length ?? 0) > 0,
    );
    expect(view.status).toBe('waiting');
    expect(view.refused![0]).toMatchObject({ code: 'unsigned', by: 'alice' });
    // The Temporal UI's current details send people to the inbox: "Send an Update" there cannot sign.
    const metadata = (await signed.client.temporal.workflow.getHandle(runId).query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(metadata.currentDetails).toContain('in the inbox of trellis serve (this worker takes only signed answers');
    // A raw client that signs with the key is taken.
    const good = signDecision(KEY, { run: runId, step: 'ok', approved: false, by: 'alice', comment: 'no', at });
    const taken = await update({ step: 'ok', approved: false, by: 'alice', comment: 'no', at, signature: good });
    expect(taken.code, taken.stderr).toBe(0);
    const result = await signed.client.getHandle(runId).result();
    expect(result.steps.ok!.output).toMatchObject({ approved: false, by: 'alice', comment: 'no' });
  });

  it('lets someone in a listed group answer, and nobody add a group to a signed answer', async () => {
    const runId = newId('group');
    await signed.client.start(approval(['group:finance']), { id: runId });
    await waiting(signed, runId);
    await expect(signingClient.approve(runId, 'ok', { by: 'eve', groups: ['sales'] })).rejects.toMatchObject({ refusal: 'not_an_approver' });
    const at = new Date().toISOString();
    const sig = signDecision(KEY, { run: runId, step: 'ok', approved: true, by: 'eve', comment: null, at, groups: ['sales'] });
    await expect(
      signed.client.temporal.workflow
        .getHandle(runId)
        .executeUpdate('decide', { args: [{ step: 'ok', approved: true, by: 'eve', at, signature: sig, groups: ['sales', 'finance'] }] }),
    ).rejects.toMatchObject({
      cause: { type: 'TrellisDecisionRefused', message: expect.stringMatching(/not signed with the worker's decision key/) },
    });
    expect(await signingClient.approve(runId, 'ok', { by: 'bob', groups: ['finance'] })).toMatchObject({ approved: true, by: 'bob' });
  });

  it("puts the tool definition's approvers on its policy gate, with the args", async () => {
    const runId = newId('tool-approvers');
    await signed.client.start(spec('payout', [{ id: 'pay', kind: 'tool', tool: 'payout', args: { amount: 750 } }]), { id: runId });
    const view = await waiting(signed, runId);
    expect(view.pending[0]).toMatchObject({ step: 'pay', source: 'policy', approvers: ['alice', 'group:finance'], args: { amount: 750 } });
    // The list says what each waiting run waits for, from its memo: no worker is asked.
    const listed = await waitFor(
      () => signed.client.list({ status: 'waiting' }),
      (runs) => runs.some((r) => r.runId === runId && (r.pending?.length ?? 0) > 0),
    );
    expect(listed.find((r) => r.runId === runId)!.pending).toEqual(view.pending);
    await expect(signingClient.approve(runId, 'pay', { by: 'mallory' })).rejects.toMatchObject({ refusal: 'not_an_approver' });
    await signingClient.approve(runId, 'pay', { by: 'carol', groups: ['finance'] });
    expect((await signed.client.getHandle(runId).result()).output).toMatchObject({ pay: { paid: 750 } });
    expect((await signed.client.list({ status: 'completed' })).find((r) => r.runId === runId)!.pending).toEqual([]);
  });
});

describe("a run's events", () => {
  it('lists steps started, waiting, decided and completed in order, and resumes after a seq', async () => {
    const runId = newId('events');
    const s = spec('events', [
      { id: 'a', kind: 'tool', tool: 'echo', args: { text: 'one' } },
      { id: 'ok', kind: 'approval', title: 'Go on?', after: ['a'] },
      { id: 'b', kind: 'tool', tool: 'echo', args: { text: 'two' }, after: ['ok'] },
    ]);
    await notified.client.start(s, { id: runId });
    await waiting(notified, runId);
    const first = await notified.client.events(runId);
    expect(first.events.map((e) => `${e.type} ${e.step}`)).toEqual(['step.started a', 'step.completed a', 'step.started ok', 'step.waiting ok']);
    expect(first.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(first).toMatchObject({ next: 4, ended: false });
    await notified.client.approve(runId, 'ok', { by: 'alice' });
    await notified.client.getHandle(runId).result();
    const rest = await notified.client.events(runId, first.next);
    expect(rest.events.map((e) => `${e.seq} ${e.type} ${e.step ?? ''}`.trim())).toEqual([
      '5 step.decided ok',
      '6 step.completed ok',
      '7 step.started b',
      '8 step.completed b',
      '9 run.ended',
    ]);
    expect(rest.events[0]!.data).toMatchObject({ approved: true, by: 'alice' });
    expect(rest.events.at(-1)!.data).toEqual({ status: 'completed', usage: { tokens: { prompt: 0, completion: 0, total: 0 } } });
    expect(rest).toMatchObject({ next: 9, ended: true });
    expect(await notified.client.events(runId, 9)).toEqual({ events: [], next: 9, ended: true });
  });
});

describe('notifications', () => {
  const eventsOf = (runId: string) =>
    received
      .map((r) => ({ ...r, json: JSON.parse(r.body) as { type: string; data: { run: { id: string } } & Record<string, unknown> } }))
      .filter((r) => r.json.data.run.id === runId);

  it('posts run.waiting with the gated amount, then run.decided and run.completed, each signed and with an id of its own', async () => {
    const runId = newId('notify');
    await notified.client.start(spec('payout', [{ id: 'pay', kind: 'tool', tool: 'payout', args: { amount: 500 } }]), { id: runId });
    await waiting(notified, runId);
    const [asked] = await waitFor(
      () => eventsOf(runId),
      (rs) => rs.length === 1,
    );
    expect(asked!.json.type).toBe('run.waiting');
    expect(JSON.stringify(asked!.json.data)).toContain('"amount":500');
    const wh = new Webhook(SECRET);
    expect(() => wh.verify(asked!.body, asked!.headers as Record<string, string>)).not.toThrow();
    expect(() => wh.verify(asked!.body.replace('500', '5'), asked!.headers as Record<string, string>)).toThrow();
    await notified.client.approve(runId, 'pay', { by: 'alice' });
    await notified.client.getHandle(runId).result();
    const all = await waitFor(
      () => eventsOf(runId),
      (rs) => rs.length === 3,
    );
    expect(all.map((r) => r.json.type)).toEqual(['run.waiting', 'run.decided', 'run.completed']);
    for (const r of all) expect(() => wh.verify(r.body, r.headers as Record<string, string>)).not.toThrow();
    expect(new Set(all.map((r) => r.headers['webhook-id'])).size).toBe(3);
  });

  it('reminds before the deadline, and says a cancelled run was cancelled', async () => {
    const runId = newId('remind');
    await notified.client.start(approval(undefined, { remind: '2s', timeout: '1h', onTimeout: 'fail' }), { id: runId });
    const reminded = await waitFor(
      () => eventsOf(runId),
      (rs) => rs.length === 2,
      { timeoutMs: 30_000 },
    );
    expect(reminded.map((r) => [r.json.type, (r.json.data as { reminder?: boolean }).reminder ?? false])).toEqual([
      ['run.waiting', false],
      ['run.waiting', true],
    ]);
    await notified.client.cancel(runId);
    const ended = await waitFor(
      () => eventsOf(runId),
      (rs) => rs.length === 3,
    );
    expect(ended[2]!.json.type).toBe('run.cancelled');
  });

  it('delivers again with the same id and body after the receiver fails twice: deduplicated by id, one event', async () => {
    const runId = newId('retried');
    failing.set(runId, 2);
    await notified.client.start(approval(), { id: runId });
    const deliveries = await waitFor(
      () => eventsOf(runId),
      (rs) => rs.length === 3,
      { timeoutMs: 30_000 },
    );
    expect(new Set(deliveries.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(new Set(deliveries.map((r) => r.body)).size).toBe(1);
    const byId = new Map(deliveries.map((r) => [r.headers['webhook-id'], r.json]));
    expect([...byId.values()].map((e) => e.type)).toEqual(['run.waiting']);
    await notified.client.cancel(runId);
  });

  it('sends nothing for a run of a worker without webhooks', async () => {
    const runId = newId('quiet');
    await signed.client.start(spec('quiet', [{ id: 'a', kind: 'tool', tool: 'echo', args: { text: 'x' } }]), { id: runId });
    await signed.client.getHandle(runId).result();
    const history = await signed.client.temporal.workflow.getHandle(runId).fetchHistory();
    const types = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    expect(types).not.toContain('notify');
    expect(eventsOf(runId)).toEqual([]);
  });
});

describe('the input of a run', () => {
  it('is read from its history, running or ended; an unknown run is RUN_NOT_FOUND', async () => {
    const runId = newId('input');
    const withInput = {
      ...spec('with-input', [{ id: 'a', kind: 'tool', tool: 'echo', args: { text: '${input.note}' } }]),
      input: { type: 'object' },
    };
    await notified.client.start(withInput, { id: runId, input: { note: 'the glass was shattered', amount: 296 } });
    expect(await notified.client.input(runId)).toEqual({ note: 'the glass was shattered', amount: 296 });
    await notified.client.getHandle(runId).result();
    expect(await notified.client.input(runId)).toEqual({ note: 'the glass was shattered', amount: 296 });
    await expect(notified.client.input('no-such-run-anywhere')).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
  });
});

describe('the events of an ended run with no worker', () => {
  it('give its end once, under the last seq, and nothing after it', async () => {
    const h = await startHarness({ tools });
    try {
      const runId = newId('no-worker');
      await h.client.start(spec('alone', [{ id: 'a', kind: 'tool', tool: 'echo', args: { text: 'x' } }]), { id: runId });
      await h.client.getHandle(runId).result();
      h.worker.shutdown();
      await waitFor(
        () => h.worker.getState(),
        (s) => s === 'STOPPED',
      );
      const end = await h.client.events(runId, 3);
      expect(end).toMatchObject({ next: Number.MAX_SAFE_INTEGER, ended: true });
      expect(end.events).toMatchObject([{ seq: Number.MAX_SAFE_INTEGER, type: 'run.ended', data: { status: 'completed' } }]);
      expect(await h.client.events(runId, end.next)).toEqual({ events: [], next: Number.MAX_SAFE_INTEGER, ended: true });
    } finally {
      await h.stop();
    }
  });
});
