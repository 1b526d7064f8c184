/**
 * The HTTP API's bodies and answers as zod schemas: the routes check requests with them, and GET /openapi.json is
 * generated from them. The run's own payloads (the status view, a result, a decision) are the Temporal contract's
 * schemas (src/contract/schemas.ts): the API answers what Temporal clients get.
 */
import { z } from '@hono/zod-openapi';
import { ApprovalResultSchema, RunResultSchema, RunViewSchema } from '../contract/schemas.js';
import { DECISION_LIMITS } from '../engine/decision.js';
import { RUN_STATUSES } from '../engine/state.js';
import { BudgetSchema, SPEC_NAME_PATTERN } from '../spec/schema.js';

/** Longest run id the API takes: Temporal allows more, but an id is something people read and type. */
const RUN_ID_MAX = 200;

export const RunIdParams = z.object({
  id: z
    .string()
    .min(1)
    .max(RUN_ID_MAX)
    .openapi({ param: { name: 'id', in: 'path' }, description: "the run's id", example: 'refund-damaged-order-1a2b3c4d' }),
});

const runId = z.string().min(1).max(RUN_ID_MAX).openapi({ description: 'the run id; default: the spec name (or "goal") and a random suffix' });
const input = z.unknown().openapi({ description: "the run input, checked against the spec's input schema" });

export const StartRunBody = z
  .strictObject({
    spec: z.unknown().optional().openapi({
      description: 'a Trellis workflow spec (`trellis schema` prints its JSON Schema); validated before anything starts',
      type: 'object',
    }),
    specName: z
      .string()
      .regex(SPEC_NAME_PATTERN)
      .optional()
      .openapi({ description: "the name of a saved spec in the server's TRELLIS_SPECS folder" }),
    input: input.optional(),
    id: runId.optional(),
    budget: BudgetSchema.optional(),
  })
  .refine((body) => (body.spec === undefined) !== (body.specName === undefined), {
    message: 'give a spec or a specName (one of them)',
    // Checked beside the fields' own problems, so one answer lists them all.
    when: (payload) => payload.value !== null && typeof payload.value === 'object' && !Array.isArray(payload.value),
  })
  .openapi('StartRun', { description: 'Starts a run of a spec, given whole or by its saved name (one of spec and specName).' });

export const StartGoalBody = z
  .strictObject({
    goal: z.string().min(1).max(10_000).openapi({ description: "what the run should achieve; the worker's planner writes a spec for it" }),
    input: input.optional(),
    review: z.boolean().optional().openapi({ description: 'wait for a person to approve the plan (the step "plan") before any step runs' }),
    id: runId.optional(),
    budget: BudgetSchema.optional(),
  })
  .openapi('StartGoal', { description: 'Starts a goal run: plan, optionally review, then run, in one durable run.' });

export const RunStarted = z.object({ runId: z.string() }).openapi('RunStarted');

export const ListQuery = z.object({
  status: z
    .enum(RUN_STATUSES)
    .optional()
    .openapi({ param: { name: 'status', in: 'query' }, description: 'only runs with this status' }),
  approver: z
    .literal('me')
    .optional()
    .openapi({ param: { name: 'approver', in: 'query' }, description: 'only runs with a pending gate the caller may answer' }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .openapi({ param: { name: 'limit', in: 'query' }, description: 'at most this many runs, newest first; default 100' }),
});

const PendingSchema = RunViewSchema.shape.pending.element;

export const RunListItem = z
  .object({
    runId: z.string(),
    name: z.string(),
    status: z.enum(RUN_STATUSES),
    startedAt: z.string().openapi({ description: 'ISO 8601' }),
    pending: z.array(PendingSchema).openapi({ description: 'what the run waits for (a waiting run), as in its status view' }),
  })
  .openapi('RunListItem');

export const RunList = z.object({ runs: z.array(RunListItem) }).openapi('RunList');

export const RunView = RunViewSchema.meta({ id: 'RunView' });

export const ResultQuery = z.object({
  wait: z
    .string()
    .optional()
    .openapi({
      param: { name: 'wait', in: 'query' },
      description: 'how long to wait for the run to end (a duration: 500ms, 30s, 1m), at most 60s; default 0',
      example: '30s',
    }),
});

/** The failure of an ended run that did not complete. */
const RunErrorSchema = z
  .object({
    code: z.string().openapi({ description: "the failure's code (STEP_FAILED, BUDGET_EXCEEDED, ...) or CANCELLED, TERMINATED, TIMED_OUT" }),
    message: z.string(),
    step: z.string().optional().openapi({ description: 'the step that failed' }),
    reason: z.string().optional().openapi({ description: 'why it failed' }),
    problems: z.array(z.object({ path: z.string(), code: z.string(), message: z.string() })).optional(),
    usage: z.object({ tokens: z.object({ prompt: z.int(), completion: z.int(), total: z.int() }), executed: z.int() }).optional(),
  })
  .openapi('RunError');

export const RunOutcome = z
  .object({
    runId: z.string(),
    status: z.enum(['completed', 'failed', 'cancelled', 'terminated', 'timed_out']),
    result: RunResultSchema.optional().openapi({ description: 'a completed run: its result' }),
    error: RunErrorSchema.optional().openapi({ description: 'a run that ended otherwise: why' }),
  })
  .openapi('RunOutcome', { description: 'How an ended run ended: its result, or its error.' });

export const CancelRequested = z.object({ runId: z.string(), status: z.literal('cancelling') }).openapi('CancelRequested');

export const DecisionBody = z
  .strictObject({
    step: z
      .string()
      .min(1)
      .max(DECISION_LIMITS.step)
      .openapi({ description: 'the id of the step that waits (a policy gate: its tool, agent or map step)' }),
    approved: z.boolean(),
    comment: z
      .string()
      .max(DECISION_LIMITS.comment)
      .optional()
      .openapi({ description: 'kept with the answer; a denial with a comment asks a goal run for a new plan' }),
  })
  .openapi('DecisionRequest', { description: 'An answer. Who answers is the caller (the token), never the body: a `by` is refused.' });

export const DecisionRecorded = ApprovalResultSchema.extend({ runId: z.string(), step: z.string() }).openapi('Decision');

export const EventsQuery = z.object({
  lastEventId: z
    .string()
    .regex(/^\d+$/, { error: 'must be an event id: the whole number of the last event seen' })
    .optional()
    .openapi({ param: { name: 'lastEventId', in: 'query' }, description: 'resume after this event (for clients that cannot send Last-Event-ID)' }),
});

export const EventsHeaders = z.object({
  'last-event-id': z
    .string()
    .regex(/^\d+$/, { error: 'must be an event id: the whole number of the last event seen' })
    .optional()
    .openapi({ param: { name: 'last-event-id', in: 'header' }, description: 'resume after this event (EventSource sends it when it reconnects)' }),
});

export const Health = z.object({ status: z.literal('ok') }).openapi('Health');

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:trellis:problem:RUN_NOT_FOUND' }),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z.string().openapi({ description: 'stable: switch on it' }),
    problems: z.array(z.object({ path: z.string(), code: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem', { description: 'An RFC 9457 problem: every error answer.' });
