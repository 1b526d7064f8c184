/**
 * GET /v1/runs/{id}/events over real HTTP: a client sees the run's steps in order as Server-Sent Events, goes away,
 * comes back with Last-Event-ID and gets only what came after, to run.ended, where the stream ends.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import tools from '../fixtures/hostile-tools.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { sseEvents, startApi, type Api, type SseEvent } from '../helpers/server.js';

const KEY = 'events-key-0123456789abcdef';

let h: Harness;
let api: Api;
beforeAll(async () => {
  h = await startHarness({ tools });
  api = await startApi(h.client, { TRELLIS_API_KEYS: `ops:${KEY}` });
});
afterAll(async () => {
  await api?.close();
  await h?.stop();
});

const spec = {
  version: 1,
  name: 'http-events',
  steps: [
    { id: 'look', kind: 'tool', tool: 'lookup_order', args: { orderId: 'A-1' } },
    { id: 'ok', kind: 'approval', title: 'Go on?', after: ['look'] },
    { id: 'say', kind: 'tool', tool: 'echo', args: { text: 'done' }, after: ['ok'] },
  ],
};

/** Opens the stream; `until` says when to stop reading (and disconnect); without it, reads to the stream's end. */
async function read(runId: string, headers: Record<string, string> = {}, until?: (e: SseEvent) => boolean, query = '') {
  const abort = new AbortController();
  const res = await fetch(`${api.url}/v1/runs/${runId}/events${query}`, {
    headers: { authorization: `Bearer ${KEY}`, ...headers },
    signal: abort.signal,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const seen: SseEvent[] = [];
  for await (const e of sseEvents(res)) {
    seen.push(e);
    if (until?.(e)) {
      abort.abort();
      break;
    }
  }
  return seen;
}

const data = (e: SseEvent) => e.data as { seq: number; type: string; step?: string; data?: Record<string, unknown> };

/** Each event's id is its seq, its name its type, and the seqs follow each other from `after` + 1. */
function expectInOrder(events: SseEvent[], after: number) {
  events.forEach((e, i) => {
    expect(data(e).seq).toBe(after + i + 1);
    expect(e.id).toBe(String(data(e).seq));
    expect(e.event).toBe(data(e).type);
  });
}

it('streams the steps in order, resumes after Last-Event-ID with only later events, and ends with run.ended', async () => {
  const started = await api.call('POST', '/v1/runs', { token: KEY, body: { spec } });
  expect(started.status).toBe(201);
  const { runId } = started.body as { runId: string };

  const first = await read(runId, {}, (e) => e.event === 'step.waiting');
  expectInOrder(first, 0);
  const steps = first.map((e) => `${e.event} ${data(e).step}`);
  expect(steps[0]).toBe('step.started look');
  expect(steps.indexOf('step.completed look')).toBeLessThan(steps.indexOf('step.waiting ok'));
  expect(data(first.at(-1)!).data).toMatchObject({ step: 'ok', title: 'Go on?', source: 'approval' });
  const lastSeen = data(first.at(-1)!).seq;

  // Gone: answered meanwhile, by another caller.
  const decided = await api.call('POST', `/v1/runs/${runId}/decisions`, { token: KEY, body: { step: 'ok', approved: true } });
  expect(decided.status).toBe(200);

  const rest = await read(runId, { 'last-event-id': String(lastSeen) });
  expectInOrder(rest, lastSeen);
  const after = rest.map((e) => `${e.event} ${data(e).step ?? ''}`.trim());
  expect(after).toContain('step.decided ok');
  expect(after.indexOf('step.decided ok')).toBeLessThan(after.indexOf('step.started say'));
  expect(after.indexOf('step.started say')).toBeLessThan(after.indexOf('step.completed say'));
  expect(rest.at(-1)!.event).toBe('run.ended');
  expect(data(rest.at(-1)!).data).toMatchObject({ status: 'completed' });

  // A client without EventSource resumes with the query; from 0 it gets the whole run again.
  const whole = await read(runId, {}, undefined, '?lastEventId=0');
  expectInOrder(whole, 0);
  expect(whole.map((e) => e.data)).toEqual([...first, ...rest].map((e) => e.data));
  // Resumed after the end: 204, so an EventSource stops reconnecting.
  const end = data(rest.at(-1)!).seq;
  const done = await fetch(`${api.url}/v1/runs/${runId}/events?lastEventId=${end}`, { headers: { authorization: `Bearer ${KEY}` } });
  expect(done.status).toBe(204);
});

it('refuses a Last-Event-ID that is not an event id, and an unknown run', async () => {
  const bad = await api.call('GET', '/v1/runs/whatever/events', { token: KEY, headers: { 'last-event-id': 'abc' } });
  expect(bad.status).toBe(422);
  expect(bad.body).toMatchObject({
    code: 'malformed',
    problems: [{ path: 'header["last-event-id"]', message: 'must be an event id: the whole number of the last event seen' }],
  });
  const unknown = await api.call('GET', '/v1/runs/no-such-run/events', { token: KEY });
  expect(unknown.status).toBe(404);
  expect(unknown.body).toMatchObject({ code: 'RUN_NOT_FOUND' });
});

it('ends an open stream cleanly when the server closes', async () => {
  const server = await startApi(h.client, { TRELLIS_API_KEYS: `ops:${KEY}` });
  const { runId } = (await server.call('POST', '/v1/runs', { token: KEY, body: { spec } })).body as { runId: string };
  const res = await fetch(`${server.url}/v1/runs/${runId}/events`, { headers: { authorization: `Bearer ${KEY}` } });
  const events = sseEvents(res);
  // Read by hand: a for-await that breaks would end the generator, and the stream with it.
  while ((await events.next()).value?.event !== 'step.waiting');
  const closed = server.close();
  // The stream ends as a stream does (the generator returns), not by a dropped connection (it would throw).
  const next = await events.next().catch((e: unknown) => e);
  expect(next).toEqual({ value: undefined, done: true });
  await closed;
  await h.client.cancel(runId);
});
