/**
 * The Temporal contract as zod schemas: what any Temporal client (Python, Go, Java, the Temporal CLI or UI) sends to
 * a Trellis run and gets back. The worker checks run and goal arguments with them; `trellis schema` prints their
 * JSON Schemas; docs/temporal-api.md describes them. Not imported by workflow code (zod stays out of its bundle):
 * the workflow's own checks of an answer (src/engine/decision.ts) agree with DecisionSchema, as a test holds.
 */
import { z } from 'zod';
import { DECISION_LIMITS, ISO_TIME, REFUSAL_CODES } from '../engine/decision.js';
import type {
  ApprovalDecision,
  ApprovalResult,
  GoalResult,
  PendingApproval,
  RefusedAnswer,
  RunFailureDetails,
  RunResult,
  RunView,
} from '../engine/messages.js';
import { FAILURES } from '../engine/failures.js';
import { RUN_STATUSES, type StepState } from '../engine/state.js';
import { BudgetSchema, SpecSchema } from '../spec/schema.js';

export const RunOptionsSchema = z
  .strictObject({
    maxParallel: z.int().min(1).max(100).optional().meta({ description: 'steps that call activities or start child runs at once; default 8' }),
    budget: BudgetSchema.optional().meta({ description: "caps for this run; with the spec's own budget, the smaller of each applies" }),
  })
  .meta({ description: 'options of one run' });

/** The argument of the workflow type trellisRun (a RunArgs), as any Temporal client sends it. */
export const RunArgsSchema = z
  .strictObject({
    spec: SpecSchema.meta({ description: 'the workflow spec; the worker validates it with its own tools and saved specs before any step' }),
    input: z.unknown().optional().meta({ description: "the run input, checked against the spec's input schema; default null" }),
    options: RunOptionsSchema.optional(),
    callDepth: z.int().min(0).max(5).optional().meta({ description: 'set by a call step for its child run; leave it out' }),
  })
  .meta({ title: 'trellisRun argument', description: 'The one argument of the workflow type trellisRun.' });

/** The argument of the workflow type trellisGoal (a GoalArgs). */
export const GoalArgsSchema = z
  .strictObject({
    goal: z.string().min(1).max(10_000).meta({ description: 'what the run should achieve; the worker plans a spec for it from its tools' }),
    input: z.unknown().optional().meta({ description: "the run input, shown to the planner and checked against the plan's input schema" }),
    review: z.boolean().optional().meta({ description: 'wait for a person to approve each plan (the step "plan") before any of its steps runs' }),
    maxPlans: z.int().min(1).max(10).optional().meta({ description: 'plans in all when people deny with a comment; default 3' }),
    options: RunOptionsSchema.optional(),
  })
  .meta({ title: 'trellisGoal argument', description: 'The one argument of the workflow type trellisGoal.' });

/** A person's answer (an ApprovalDecision): the argument of the decide update and the approve signal. */
export const DecisionSchema = z
  .strictObject({
    step: z
      .string()
      .min(1)
      .max(DECISION_LIMITS.step)
      .meta({ description: 'the id of the step that waits (a policy gate: the tool step, or the agent or map step)' }),
    approved: z.boolean(),
    by: z
      .string()
      .max(DECISION_LIMITS.by)
      .regex(/\S/)
      .nullable()
      .optional()
      .meta({ description: "who answers: required (an answer without it is refused as anonymous); checked against the step's approvers" }),
    comment: z
      .string()
      .max(DECISION_LIMITS.comment)
      .nullable()
      .optional()
      .meta({ description: 'kept with the answer; a denial with a comment asks a goal run for a new plan' }),
    groups: z
      .array(z.string().min(1).max(DECISION_LIMITS.group))
      .max(DECISION_LIMITS.groups)
      .nullable()
      .optional()
      .meta({ description: "the answerer's groups: group:NAME in the step's approvers lets them answer" }),
    at: z
      .string()
      .max(DECISION_LIMITS.at)
      .regex(ISO_TIME)
      .nullable()
      .optional()
      .meta({ description: 'when the answer was signed, ISO 8601 (required with a signature)' }),
    signature: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .nullable()
      .optional()
      .meta({
        description:
          'HMAC-SHA256, hex, with the decision key over the canonical JSON of run, step, approved, by, comment, at (and groups when given); ' +
          'required when the worker has TRELLIS_DECISION_KEY',
      }),
  })
  .meta({ title: 'decision', description: 'The argument of the decide update and of the approve signal.' });

export const ApprovalResultSchema = z
  .strictObject({
    approved: z.boolean(),
    by: z.string().nullable().meta({ description: 'null when the timeout answered' }),
    comment: z.string().nullable(),
    at: z.string().meta({ description: 'when it was answered, ISO 8601' }),
  })
  .meta({ title: 'decision result', description: "The decide update's result, and an approval step's output." });

export const RefusalSchema = z
  .strictObject({ code: z.enum(REFUSAL_CODES), message: z.string() })
  .meta({ title: 'refusal', description: 'details[0] of a TrellisDecisionRefused failure' });

const TokensSchema = z.strictObject({ prompt: z.int(), completion: z.int(), total: z.int() });

const CostSchema = z
  .strictObject({
    usd: z.number().meta({ description: 'USD, by the prices known' }),
    unknown: z.array(z.string()).optional().meta({ description: 'models with no price: the cost is then unknown' }),
  })
  .meta({ description: "what the model calls cost, by the worker's price table" });

const StepStateSchema = z
  .strictObject({
    status: z.enum(['pending', 'running', 'waiting', 'completed', 'skipped', 'failed', 'cancelled']),
    output: z.unknown().meta({ description: 'the output once completed; null otherwise' }),
    reason: z.string().optional().meta({ description: 'why it was skipped, failed or cancelled' }),
    attempts: z.int(),
    tokens: TokensSchema.optional(),
    cost: CostSchema.optional(),
    run: z.string().optional().meta({ description: "a call step's child run id" }),
    omitted: z.int().optional().meta({ description: 'the output was left out of this view to fit the payload limit: its size in bytes' }),
  })
  .meta({ description: "one step's state" });

const PendingSchema = z.strictObject({
  step: z.string(),
  title: z.string(),
  details: z.string().optional().meta({ description: "what is asked: a gated tool's args as JSON, an approval's details, a plan's steps" }),
  args: z.record(z.string(), z.unknown()).optional().meta({ description: "a policy gate's tool args" }),
  approvers: z.array(z.string()).optional().meta({ description: 'who may answer, by name or as group:NAME; anyone when absent' }),
  deadline: z.string().optional().meta({ description: 'when the timeout answers, ISO 8601' }),
  askedAt: z.string().optional().meta({ description: 'when the wait began, ISO 8601' }),
  source: z.enum(['approval', 'policy', 'plan']),
});

const ProblemSchema = z.strictObject({ path: z.string(), code: z.string(), message: z.string() });

export const RunViewSchema = z
  .strictObject({
    runId: z.string().meta({ description: "the run's id (the workflow id)" }),
    temporalRunId: z.string().meta({ description: "Temporal's id of this execution" }),
    name: z.string(),
    status: z.enum(RUN_STATUSES),
    steps: z.record(z.string(), StepStateSchema),
    pending: z.array(PendingSchema).meta({ description: 'what waits for a person now; empty once the run has ended' }),
    output: z.unknown(),
    error: z.string().optional(),
    problems: z.array(ProblemSchema).optional().meta({ description: 'a run the worker refused: each problem with its argument' }),
    refused: z
      .array(
        z.strictObject({
          at: z.string(),
          via: z.literal('signal'),
          step: z.string().optional(),
          by: z.string().optional(),
          code: z.enum(REFUSAL_CODES),
          message: z.string(),
        }),
      )
      .optional()
      .meta({ description: 'answers sent by the approve signal that were refused (the newest 20)' }),
    tokens: TokensSchema,
    cost: CostSchema.optional(),
    executed: z.int().meta({ description: 'step executions so far, as maxSteps counts them' }),
    goal: z.string().optional(),
    spec: z.unknown().optional().meta({ description: "a goal run's plan" }),
    earlierPlans: z.array(z.unknown()).optional().meta({ description: "a goal run's replaced plans" }),
  })
  .meta({ title: 'status', description: "The status query's answer (trellis status --json prints it too)." });

const UsageSchema = { tokens: TokensSchema, cost: CostSchema.optional(), executed: z.int() };

/** A goal run's planning, kept in its result and its failure's details. */
const GoalRecordSchema = {
  goal: z.string().optional().meta({ description: 'goal runs: the goal' }),
  spec: z.unknown().optional().meta({ description: 'goal runs: the plan that ran (or was last reviewed)' }),
  earlierPlans: z.array(z.unknown()).optional().meta({ description: 'goal runs: the plans a person replaced' }),
};

export const RunResultSchema = z
  .strictObject({
    output: z.unknown(),
    steps: z.record(z.string(), StepStateSchema),
    ...UsageSchema,
    ...GoalRecordSchema,
    plans: z.int().optional().meta({ description: 'goal runs: how many plans were made' }),
  })
  .meta({ title: 'result', description: "A completed run's result." });

export const RunFailureDetailsSchema = z
  .strictObject({
    code: z.enum(Object.values(FAILURES).map((f) => f.code) as [string, ...string[]]),
    step: z.string().optional(),
    reason: z.string().optional(),
    problems: z.array(ProblemSchema).optional(),
    usage: z.strictObject(UsageSchema),
    steps: z.record(z.string(), StepStateSchema),
    ...GoalRecordSchema,
  })
  .meta({ title: 'failure details', description: "details[0] of a failed run's ApplicationFailure." });

/** The JSON Schemas `trellis schema` prints, by flag. */
export const CONTRACT_SCHEMAS = {
  'run-args': RunArgsSchema,
  'goal-args': GoalArgsSchema,
  decision: DecisionSchema,
  'decision-result': ApprovalResultSchema,
  refusal: RefusalSchema,
  status: RunViewSchema,
  result: RunResultSchema,
  'failure-details': RunFailureDetailsSchema,
} as const;

/** A name of CONTRACT_SCHEMAS: run-args, goal-args, decision, decision-result, refusal, status, result, failure-details. */
export type ContractSchemaName = keyof typeof CONTRACT_SCHEMAS;

/** The JSON Schema (draft 2020-12) of one contract schema, as `trellis schema` prints it; built anew on each call. */
export function contractJsonSchema(name: ContractSchemaName): Record<string, unknown> {
  return z.toJSONSchema(CONTRACT_SCHEMAS[name], { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

// The schemas describe the TypeScript types the code uses: these fail to compile when the two drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree = <T extends true>(): T => true as T;
agree<Same<keyof z.infer<typeof RunViewSchema>, keyof RunView>>();
agree<Same<keyof z.infer<typeof StepStateSchema>, keyof StepState>>();
agree<Same<keyof z.infer<typeof PendingSchema>, keyof PendingApproval>>();
agree<Same<keyof z.infer<typeof ApprovalResultSchema>, keyof ApprovalResult>>();
agree<Same<keyof z.infer<typeof DecisionSchema>, keyof ApprovalDecision>>();
agree<Same<keyof z.infer<typeof RunFailureDetailsSchema>, keyof RunFailureDetails>>();
agree<Same<keyof z.infer<typeof RunResultSchema>, keyof RunResult | keyof GoalResult>>();
agree<Same<keyof z.infer<typeof RefusalSchema>, 'code' | 'message'>>();
agree<Same<z.infer<typeof RefusalSchema>['code'], RefusedAnswer['code']>>();
