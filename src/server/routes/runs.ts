/** The runs: start one (a spec, a saved spec, a goal), list them, read one, wait for its result, cancel it. */
import { createRoute } from '@hono/zod-openapi';
import { TrellisRunError } from '../../client/errors.js';
import type { RunView } from '../../engine/messages.js';
import { ENDED_RUN } from '../../engine/state.js';
import { DEFAULT_SPECS_DIR, readSavedSpec } from '../../library/saved-specs.js';
import { formatDuration, parseDuration } from '../../spec/duration.js';
import { mayAnswer, requireScope, type Principal } from '../auth.js';
import type { ServerDeps } from '../deps.js';
import { withPending } from '../pending.js';
import { HttpProblem } from '../problem.js';
import {
  CancelRequested,
  ListQuery,
  ResultQuery,
  RunIdParams,
  RunList,
  RunOutcome,
  RunStarted,
  RunView as RunViewBody,
  StartGoalBody,
  StartRunBody,
} from '../schemas.js';
import { BEARER, errors, json, routesApp } from './common.js';

/** The longest a result request waits for the run to end: past it, proxies and clients give up on a request. */
export const MAX_WAIT_MS = 60_000;
/** Runs listed when the request does not say. */
const DEFAULT_LIMIT = 100;

const startRun = createRoute({
  method: 'post',
  path: '/v1/runs',
  summary: 'Start a run of a spec',
  description: 'Validates the spec (or reads the saved spec `specName`) and the input, then starts the run. An id that has a run is refused.',
  security: BEARER,
  middleware: [requireScope('start')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: StartRunBody } } } },
  responses: { 201: json(RunStarted, 'started'), ...errors(403, 409, 422, 503) },
});

const startGoal = createRoute({
  method: 'post',
  path: '/v1/goals',
  summary: 'Start a goal run',
  description: "The worker's planner writes a spec for the goal from its tools; with `review`, a person approves the plan (step `plan`) first.",
  security: BEARER,
  middleware: [requireScope('start')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: StartGoalBody } } } },
  responses: { 201: json(RunStarted, 'started'), ...errors(403, 409, 422, 503) },
});

const listRuns = createRoute({
  method: 'get',
  path: '/v1/runs',
  summary: 'List runs, newest first, with what each waits for',
  security: BEARER,
  middleware: [requireScope('read')] as const,
  request: { query: ListQuery },
  responses: { 200: json(RunList, 'the runs'), ...errors(403, 422, 503) },
});

const getRun = createRoute({
  method: 'get',
  path: '/v1/runs/{id}',
  summary: "A run's status view",
  security: BEARER,
  middleware: [requireScope('read')] as const,
  request: { params: RunIdParams },
  responses: { 200: json(RunViewBody, "the run's status, steps and what it waits for"), ...errors(403, 404, 503) },
});

const getResult = createRoute({
  method: 'get',
  path: '/v1/runs/{id}/result',
  summary: "Wait for a run's result (long poll)",
  description: `Waits up to \`wait\` (at most ${MAX_WAIT_MS / 1000}s) for the run to end. 200 once it has ended, however it ended: \`status\` says how, with \`result\` (completed) or \`error\`. 202 with the status view while it runs: ask again.`,
  security: BEARER,
  middleware: [requireScope('read')] as const,
  request: { params: RunIdParams, query: ResultQuery },
  responses: {
    200: json(RunOutcome, 'the run has ended'),
    202: json(RunViewBody, 'the run has not ended yet: its status view'),
    ...errors(403, 404, 422, 503),
  },
});

const cancelRun = createRoute({
  method: 'post',
  path: '/v1/runs/{id}/cancel',
  summary: 'Ask a run to cancel',
  description: 'Returns without waiting for the run to end; it then ends `cancelled`. A run that has ended is 409 RUN_ENDED.',
  security: BEARER,
  middleware: [requireScope('admin')] as const,
  request: { params: RunIdParams },
  responses: { 202: json(CancelRequested, 'the run was asked to cancel'), ...errors(403, 404, 409, 503) },
});

/** POST /v1/runs, /v1/goals; GET /v1/runs, /v1/runs/{id}, /v1/runs/{id}/result; POST /v1/runs/{id}/cancel. */
export function runRoutes(deps: ServerDeps) {
  const { client } = deps;
  const app = routesApp();

  app.openapi(startRun, async (c) => {
    const body = c.req.valid('json');
    const spec = body.specName !== undefined ? await readSavedSpec(deps.specsDir ?? DEFAULT_SPECS_DIR, body.specName, deps.tools) : body.spec;
    const { runId } = await client.start(spec, {
      ...(body.input !== undefined && { input: body.input }),
      ...(body.id !== undefined && { id: body.id }),
      ...(body.budget !== undefined && { budget: body.budget }),
      ...(deps.tools && { tools: deps.tools }),
    });
    c.header('location', `/v1/runs/${encodeURIComponent(runId)}`);
    return c.json({ runId }, 201);
  });

  app.openapi(startGoal, async (c) => {
    const { goal, ...body } = c.req.valid('json');
    const { runId } = await client.startGoal(goal, body);
    c.header('location', `/v1/runs/${encodeURIComponent(runId)}`);
    return c.json({ runId }, 201);
  });

  app.openapi(listRuns, async (c) => {
    const query = c.req.valid('query');
    const runs = await waitingFor(deps, c.get('principal'), query);
    return c.json({ runs }, 200);
  });

  app.openapi(getRun, async (c) => c.json(await client.status(c.req.valid('param').id), 200));

  app.openapi(getResult, async (c) => {
    const { id } = c.req.valid('param');
    const waitMs = waitOf(c.req.valid('query').wait);
    const view = await client.status(id);
    if (!ENDED_RUN.has(view.status)) {
      const stop = AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(waitMs), ...(deps.signal ? [deps.signal] : [])]);
      const ended = waitMs > 0 && (await endedWithin(deps, id, stop));
      if (!ended) return c.json((await client.status(id)) as RunView, 202);
    }
    return c.json(await outcome(deps, id), 200);
  });

  app.openapi(cancelRun, async (c) => {
    const { id } = c.req.valid('param');
    const { status } = await client.status(id);
    if (ENDED_RUN.has(status)) throw new HttpProblem(409, 'RUN_ENDED', `the run "${id}" has ended (${status}): there is nothing to cancel`);
    await client.cancel(id);
    return c.json({ runId: id, status: 'cancelling' as const }, 202);
  });

  return app;
}

/** The `wait` of a result request, in ms: a duration of at most MAX_WAIT_MS; none is 0 (answer at once). */
function waitOf(text: string | undefined): number {
  if (text === undefined) return 0;
  const ms = parseDuration(text);
  if (ms === undefined || ms > MAX_WAIT_MS) {
    const message = `expected a duration up to ${formatDuration(MAX_WAIT_MS)} (500ms, 30s, 1m), got ${JSON.stringify(text.slice(0, 40))}`;
    throw new HttpProblem(422, 'malformed', `query.wait: ${message}`, [{ path: 'query.wait', code: 'DURATION', message }]);
  }
  return ms;
}

/**
 * Whether the run ends before `stop`: the client's result() long-polls Temporal, on a signal that aborts the
 * poll itself when the wait is over (or the caller goes, or the server closes), so no poll outlives its request.
 */
async function endedWithin({ client }: ServerDeps, id: string, stop: AbortSignal): Promise<boolean> {
  try {
    await client.temporal.connection.withAbortSignal(stop, () => client.result(id));
    return true;
  } catch (e) {
    if (e instanceof TrellisRunError) return true;
    if (stop.aborted) return false;
    throw e;
  }
}

/** An ended run's answer: its result, or how and why it did not complete. */
async function outcome({ client }: ServerDeps, id: string) {
  try {
    return { runId: id, status: 'completed' as const, result: await client.result(id) };
  } catch (e) {
    if (!(e instanceof TrellisRunError)) throw e;
    const { status, step, reason, problems, usage } = e.run;
    const error = {
      code: e.code,
      message: e.message,
      ...(step !== undefined && { step }),
      ...(reason !== undefined && { reason }),
      ...(problems.length > 0 && { problems }),
      ...(usage && { usage }),
    };
    return { runId: id, status, error };
  }
}

/**
 * The list: runs newest first, each with what it waits for (a waiting run's pending gates, from its memo). With
 * `approver=me`, only runs with a gate the caller may answer; those are waiting runs, so only those are looked at.
 */
async function waitingFor(deps: ServerDeps, principal: Principal, query: { status?: RunView['status']; approver?: 'me'; limit?: number }) {
  const limit = query.limit ?? DEFAULT_LIMIT;
  const mine = query.approver === 'me';
  if (mine && query.status !== undefined && query.status !== 'waiting') return [];
  const status = mine ? 'waiting' : query.status;
  // With approver=me the filter comes after the list: look at as many runs as the list may give.
  const summaries = await deps.client.list({ ...(status && { status }), limit: mine ? 1000 : limit });
  const runs = await withPending(deps.client, summaries);
  return (mine ? runs.filter((r) => r.pending.some((p) => mayAnswer(principal, p.approvers))) : runs).slice(0, limit);
}
