/**
 * Notifications over real HTTP: a node:http receiver checks each delivery's Standard Webhooks signature, and the
 * notify activity runs on a real worker against the dev server, so the retries (and the heartbeat details that
 * carry what was delivered) are Temporal's own. MockActivityEnvironment runs the retry of a half-done delivery
 * step by step.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NotifyEvent } from '../../src/engine/messages.js';
import {
  createNotifyActivities,
  deliver,
  notifyConfigFromEnv,
  type NotifyConfig,
  type NotifyResult,
  type NotifyTarget,
  type SlackBody,
  type WebhookBody,
} from '../../src/notify/index.js';
import { sdkRuntimeOptions } from '../helpers/logs.js';
import { connectClient, connectWorker, temporalNamespace } from '../helpers/temporal.js';

const secret = `whsec_${Buffer.from('notify-test-secret-0123456789').toString('base64')}`;

const event = (): NotifyEvent => ({
  id: `notify-test-${randomUUID()}`,
  type: 'run.waiting',
  at: new Date().toISOString(),
  run: { id: 'refund-42', name: 'refund' },
  pending: {
    step: 'refund',
    title: 'Run tool "issue_refund"?',
    args: { orderId: 'A-1', amount: 1250 },
    approvers: ['ann@example.com'],
    source: 'policy',
    askedAt: new Date().toISOString(),
  },
});

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The signature checked out (new Webhook(secret).verify). */
  verified: boolean;
}

/** A webhook receiver: records every request, answers each with `answer(n)` (n from 1), dedupes by webhook-id. */
interface Receiver {
  url: string;
  received: Received[];
  /** The events it recorded, deduplicating by webhook-id as the Standard Webhooks spec asks receivers to. */
  events: Map<string, unknown>;
  close(): Promise<void>;
}

const receivers: Receiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function startReceiver(answer: (n: number, res: ServerResponse) => void = (_n, res) => res.writeHead(204).end()): Promise<Receiver> {
  const received: Received[] = [];
  const events = new Map<string, unknown>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let verified = true;
      let payload: unknown;
      try {
        payload = new Webhook(secret).verify(body, req.headers as Record<string, string>);
      } catch {
        verified = false;
      }
      received.push({ headers: req.headers, body, verified });
      answer(received.length, res);
      // Only what it answered 2xx counts as recorded: a failed delivery is the sender's to repeat.
      if (verified && res.statusCode >= 200 && res.statusCode < 300) {
        const id = req.headers['webhook-id'] as string;
        if (!events.has(id)) events.set(id, payload);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiver: Receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    events,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  receivers.push(receiver);
  return receiver;
}

/** Fails (503) the first `n` requests, then accepts. */
const failFirst = (n: number) => (i: number, res: ServerResponse) => res.writeHead(i <= n ? 503 : 200).end();

const configFor = (webhooks: string[]): NotifyConfig => notifyConfigFromEnv({ TRELLIS_WEBHOOKS: webhooks.join(','), TRELLIS_WEBHOOK_SECRET: secret });

describe('deliver', () => {
  const target = (url: string): NotifyTarget => ({ url, kind: 'webhook', name: new URL(url).origin + new URL(url).pathname });

  it('posts the body signed per Standard Webhooks, with the event id as webhook-id', async () => {
    const receiver = await startReceiver();
    const body = JSON.stringify({ type: 'run.completed', timestamp: '2026-01-01T00:00:00.000Z', data: {} });
    expect(await deliver(target(receiver.url), { id: 'evt-1', body, secret })).toEqual({ outcome: 'delivered', status: 204 });
    const [got] = receiver.received;
    expect(got).toMatchObject({ body, verified: true, headers: { 'webhook-id': 'evt-1', 'content-type': 'application/json' } });
    expect(got!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    // Signed with another secret, the receiver refuses it.
    const other = `whsec_${Buffer.from('another secret entirely!').toString('base64')}`;
    await deliver(target(receiver.url), { id: 'evt-2', body, secret: other });
    expect(receiver.received[1]!.verified).toBe(false);
  });

  it('takes 410 as "stop sending this event", and any other answer, or none, as a failure to retry, naming the target', async () => {
    const gone = await startReceiver((_n, res) => res.writeHead(410).end());
    const failing = await startReceiver((_n, res) => res.writeHead(500).end('secret stack trace'));
    const moved = await startReceiver((_n, res) => res.writeHead(302, { location: 'http://127.0.0.1:1/' }).end());
    const silent = await startReceiver(() => {});
    const closed = await startReceiver();
    await closed.close();
    const d = { id: 'evt', body: '{}', secret };

    expect(await deliver(target(gone.url), d)).toEqual({ outcome: 'gone', status: 410 });
    const failed = await deliver({ ...target(`${failing.url}?token=abc`), name: failing.url }, d);
    expect(failed).toEqual({ outcome: 'failed', status: 500, message: `${failing.url}: answered 500 Internal Server Error` });
    expect(await deliver(target(moved.url), d)).toMatchObject({
      outcome: 'failed',
      status: 302,
      message: expect.stringMatching(/302 .*redirects are not followed/),
    });
    expect(await deliver(target(silent.url), { ...d, timeoutMs: 300 })).toEqual({
      outcome: 'failed',
      message: `${target(silent.url).name}: no answer within 0.3 s`,
    });
    expect(await deliver(target(closed.url), d)).toEqual({
      outcome: 'failed',
      message: `${target(closed.url).name}: could not connect (ECONNREFUSED)`,
    });
  });
});

describe('the notify activity on a real worker', () => {
  const workflowsPath = fileURLToPath(new URL('../fixtures/notify-workflow.ts', import.meta.url));
  let workflowBundle: { code: string };
  let temporal: Awaited<ReturnType<typeof connectClient>>;

  beforeAll(async () => {
    workflowBundle = await bundleWorkflowCode({ workflowsPath, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } });
    temporal = await connectClient();
  });
  afterAll(async () => {
    await temporal?.close();
  });

  /** Runs `notifyOnce(e)` on a worker of its own with `config`, through Temporal's retries, and answers with its result. */
  async function notifyThroughTemporal(config: NotifyConfig, e: NotifyEvent): Promise<NotifyResult> {
    const connection = await connectWorker();
    try {
      const taskQueue = `notify-${randomUUID()}`;
      const worker = await Worker.create({
        connection,
        namespace: temporalNamespace(),
        taskQueue,
        workflowBundle,
        activities: createNotifyActivities(config),
      });
      return await worker.runUntil(temporal.client.workflow.execute('notifyOnce', { taskQueue, workflowId: `notify-${randomUUID()}`, args: [e] }));
    } finally {
      await connection.close();
    }
  }

  it('delivers run.waiting with a valid signature and the gated amount', async () => {
    const receiver = await startReceiver();
    const e = event();
    const config = configFor([receiver.url]);
    expect(await notifyThroughTemporal(config, e)).toEqual({ delivered: [config.targets[0]!.name], skipped: [] });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.verified).toBe(true);
    const body = JSON.parse(receiver.received[0]!.body) as WebhookBody;
    expect(body).toMatchObject({ type: 'run.waiting', timestamp: e.at, data: { run: e.run, step: 'refund', args: { amount: 1250 } } });
  });

  it('retries a receiver that fails twice with the same webhook-id and byte-identical body; deduplicating by id, it records one event', async () => {
    const receiver = await startReceiver(failFirst(2));
    const e = event();
    await notifyThroughTemporal(configFor([receiver.url]), e);
    expect(receiver.received).toHaveLength(3);
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(new Set([e.id]));
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    expect([...receiver.events.keys()]).toEqual([e.id]);
  });

  it('does not post again to a target that has the event when another one failed', async () => {
    const good = await startReceiver();
    const flaky = await startReceiver(failFirst(2));
    const config = configFor([good.url, flaky.url]);
    const result = await notifyThroughTemporal(config, event());
    expect(result.delivered).toEqual(config.targets.map((t) => t.name));
    expect(flaky.received).toHaveLength(3);
    expect(good.received).toHaveLength(1);
  });

  it('stops sending the event to a target that answered 410 Gone, and completes', async () => {
    const gone = await startReceiver((_n, res) => res.writeHead(410).end());
    const config = configFor([gone.url]);
    expect(await notifyThroughTemporal(config, event())).toEqual({ delivered: [], skipped: [config.targets[0]!.name] });
    expect(gone.received).toHaveLength(1);
  });

  it('sends a Slack target the Slack message, with Approve and Deny buttons', async () => {
    const slack = await startReceiver();
    const config = { ...configFor([`slack:${slack.url}`]), links: { ...configFor([]).links, linkKey: 'link-key' } };
    await notifyThroughTemporal(config, event());
    const body = JSON.parse(slack.received[0]!.body) as SlackBody;
    expect(body.text).toBe('Approval needed: Run tool "issue_refund"?');
    const actions = body.blocks.find((b) => b.type === 'actions');
    expect(actions?.type === 'actions' && actions.elements.map((b) => b.text.text).slice(0, 2)).toEqual([
      'Approve as ann@example.com',
      'Deny as ann@example.com',
    ]);
  });
});

describe('the notify activity, attempt by attempt', () => {
  /** One attempt in a MockActivityEnvironment, given the heartbeat details the attempt before it left. */
  async function attempt(config: NotifyConfig, e: NotifyEvent, heartbeatDetails?: unknown) {
    const info = heartbeatDetails === undefined ? {} : { heartbeatDetails, attempt: 2 };
    const env = new MockActivityEnvironment(info, { logger: sdkRuntimeOptions().logger! });
    let details: unknown = heartbeatDetails;
    env.on('heartbeat', (d: unknown) => (details = d));
    const { notify } = createNotifyActivities(config);
    try {
      return { result: await env.run(notify, e), details };
    } catch (error) {
      return { error, details };
    }
  }

  it('fails retryably naming the failed target, then posts only to it, with the same id and body', async () => {
    const good = await startReceiver();
    const flaky = await startReceiver(failFirst(1));
    const config = configFor([good.url, flaky.url]);
    const [goodName, flakyName] = config.targets.map((t) => t.name) as [string, string];
    const e = event();

    const first = await attempt(config, e);
    expect(first.error).toBeInstanceOf(ApplicationFailure);
    const failure = first.error as ApplicationFailure;
    expect(failure).toMatchObject({ type: 'TrellisNotifyFailed', nonRetryable: false });
    expect(failure.message).toBe(`run.waiting ${e.id} not delivered to 1 of 2 targets: ${flakyName}: answered 503 Service Unavailable`);
    expect(failure.details).toEqual([{ failed: [flakyName], delivered: [goodName], skipped: [] }]);
    expect(first.details).toEqual({ delivered: [goodName], skipped: [] });

    const second = await attempt(config, e, first.details);
    expect(second.result).toEqual({ delivered: [goodName, flakyName], skipped: [] });
    expect(good.received).toHaveLength(1);
    expect(flaky.received.map((r) => [r.headers['webhook-id'], r.body])).toEqual([
      [e.id, good.received[0]!.body],
      [e.id, good.received[0]!.body],
    ]);

    // A third attempt (one that lost the race with the second's completion, say) posts nothing.
    expect((await attempt(config, e, second.details)).result).toEqual({ delivered: [goodName, flakyName], skipped: [] });
    expect(good.received.length + flaky.received.length).toBe(3);
  });

  it('returns at once with no targets', async () => {
    expect((await attempt(configFor([]), event())).result).toEqual({ delivered: [], skipped: [] });
  });
});
