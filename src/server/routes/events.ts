/**
 * A run's events as Server-Sent Events: `id: <seq>`, `event: <type>`, `data: <the event as JSON>`. The stream
 * is the client's watch (the events query, polled while the run is open), resumes after `Last-Event-ID` (or
 * `?lastEventId=`), and ends after `run.ended`; a comment every 15 s keeps proxies from closing a quiet stream.
 */
import { createRoute } from '@hono/zod-openapi';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { requireScope } from '../auth.js';
import type { ServerDeps } from '../deps.js';
import { HttpProblem } from '../problem.js';
import { EventsHeaders, EventsQuery, RunIdParams } from '../schemas.js';
import { BEARER, errors, routesApp } from './common.js';

/** How often an open stream asks the run for new events at first; it asks less often while the run is quiet. */
export const POLL_MS = 300;
/** The longest wait between two asks of a quiet run. */
const MAX_POLL_MS = 2_000;
/** How long a stream may stay silent before a keepalive comment. */
export const KEEPALIVE_MS = 15_000;
/** What an EventSource waits before it reconnects after the stream broke. */
const RETRY_MS = 1_000;

const events = createRoute({
  method: 'get',
  path: '/v1/runs/{id}/events',
  summary: "A run's events, as Server-Sent Events",
  description:
    'Events `step.started`, `step.completed`, `step.failed`, `step.waiting`, `step.decided` and `run.ended`, each with `id:` its per-run sequence number and `data:` the event as JSON (`{ seq, type, at, step?, data? }`). Resume with `Last-Event-ID` (or `lastEventId`): only later events come. The stream ends after `run.ended`; resumed after it, the answer is 204.',
  security: BEARER,
  middleware: [requireScope('read')] as const,
  request: { params: RunIdParams, query: EventsQuery, headers: EventsHeaders },
  responses: {
    200: { description: 'the event stream', content: { 'text/event-stream': { schema: { type: 'string' as const } } } },
    204: { description: 'the run has ended and the caller has seen its last event: nothing more will come' },
    ...errors(403, 404, 422, 503),
  },
});

/** GET /v1/runs/{id}/events. */
export function eventRoutes(deps: ServerDeps) {
  const app = routesApp();
  app.openapi(events, async (c) => {
    const { id } = c.req.valid('param');
    const header = c.req.valid('header')['last-event-id'];
    const after = Number(header ?? c.req.valid('query').lastEventId ?? 0);
    if (!Number.isSafeInteger(after)) throw new HttpProblem(422, 'malformed', 'Last-Event-ID must be an event id: a whole number');
    // Asked before the stream opens, so an unknown run is a 404, not an empty stream.
    const first = await deps.client.events(id, after);
    // Nothing after the end: 204 tells an EventSource to stop reconnecting.
    if (first.ended && first.events.length === 0) return c.body(null, 204);
    return streamSSE(c, (stream) => pump(deps, id, after, stream, c.req.raw.signal));
  });
  return app;
}

/** Writes events until the run has ended and all its events are out, the caller goes, or the server closes. */
async function pump(deps: ServerDeps, runId: string, after: number, stream: SSEStreamingApi, request: AbortSignal): Promise<void> {
  const gone = new AbortController();
  stream.onAbort(() => gone.abort());
  const signal = AbortSignal.any([request, gone.signal, ...(deps.signal ? [deps.signal] : [])]);
  await stream.write(`retry: ${RETRY_MS}\n\n`);
  let quietSince = Date.now();
  // The watch waits quietly between events: the keepalive runs beside it.
  const keepalive = setInterval(() => {
    if (Date.now() - quietSince < KEEPALIVE_MS) return;
    quietSince = Date.now();
    stream.write(': keepalive\n\n').catch(() => gone.abort());
  }, KEEPALIVE_MS / 5);
  try {
    for await (const event of deps.client.watch(runId, { after, signal, minPollMs: POLL_MS, maxPollMs: MAX_POLL_MS })) {
      await stream.writeSSE({ id: String(event.seq), event: event.type, data: JSON.stringify(event) });
      quietSince = Date.now();
    }
  } catch (e) {
    // The stream ends; the caller's EventSource reconnects with Last-Event-ID and misses nothing.
    deps.logger?.warn({ err: e, runId }, 'the events query failed: the event stream ends');
  } finally {
    clearInterval(keepalive);
  }
}
