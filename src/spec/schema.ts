/**
 * Spec v1 as zod schemas: the shape a spec must have. The checks that need more than one field
 * (references, cycles, expressions, tools, types) live in validate/; these schemas also export the
 * JSON Schema that editors and the planner use (json-schema.ts), so every field carries a description.
 */
import { z } from 'zod';
import { DURATION_HELP, durationProblem } from './duration.js';

/** What a step id must match: a lower case letter, then lower case letters, digits and `_` (`check_order`). */
export const STEP_ID_PATTERN = /^[a-z][a-z0-9_]*$/;

const duration = z
  .string()
  .refine((s) => durationProblem(s) === undefined, {
    params: { code: 'DURATION' },
    error: (issue) => durationProblem(issue.input as string)!,
  })
  .meta({ description: DURATION_HELP });

const jsonSchema = z.record(z.string(), z.unknown()).meta({ description: 'a JSON Schema (draft 2020-12 or 07)' });

const expression = z.string().min(1).meta({
  description: 'a CEL expression over input, steps (id to output) and run; no ${...} around it',
});

const template = z.string().meta({
  description: 'text; each ${expr} inside is replaced by the value of the CEL expression expr',
});

/**
 * How a failed activity is retried: `maxAttempts` (the first included; default 3), `initialInterval`,
 * `backoffCoefficient` and `maximumInterval`; a field left out is Temporal's default.
 */
export const RetrySchema = z
  .strictObject({
    maxAttempts: z.int().min(1).max(100).optional().meta({ description: 'attempts in all, the first included' }),
    initialInterval: duration.optional(),
    backoffCoefficient: z.number().min(1).max(100).optional(),
    maximumInterval: duration.optional(),
  })
  .meta({ description: 'how a failed activity is retried' });

/** Fields every step kind has. */
const common = {
  id: z.string().regex(STEP_ID_PATTERN).meta({
    description: 'unique step id: lower case letters, digits and _, starting with a letter',
  }),
  description: z.string().optional().meta({ description: 'what the step is for, shown to people' }),
  when: expression.optional().meta({ description: 'a boolean CEL expression; false skips the step' }),
  after: z.array(z.string()).optional().meta({ description: 'ids of steps this one waits for, beyond those it references' }),
  timeout: duration.optional(),
  retry: RetrySchema.optional(),
  onError: z.enum(['fail', 'continue']).optional().meta({
    description: 'fail (default): the run fails, naming the step; continue: the step output is null',
  }),
};

/** Fields of a model call, shared by llm and agent steps and by a map's llm sub-step. */
const modelCall = {
  prompt: template.min(1),
  system: template.optional(),
  output: jsonSchema.optional().meta({
    description: 'JSON Schema (an object) of the structured reply; without it the output is the reply text',
  }),
  model: z.string().min(1).optional().meta({ description: 'model name; default from TRELLIS_MODEL' }),
  temperature: z.number().min(0).max(2).optional(),
};

export const ToolStepSchema = z.strictObject({
  ...common,
  kind: z.literal('tool'),
  tool: z.string().min(1).meta({ description: 'the name of a tool in the catalog' }),
  args: z
    .record(z.string(), z.unknown())
    .optional()
    .meta({ description: 'the tool input; strings may hold ${expr}; a string that is exactly ${expr} keeps its type' }),
});

export const ApprovalStepSchema = z.strictObject({
  ...common,
  kind: z.literal('approval'),
  title: template.min(1),
  details: template.optional(),
  onTimeout: z.enum(['deny', 'approve', 'fail']).optional().meta({
    description: 'what a timeout means: deny (default), approve, or fail the run',
  }),
  approvers: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .meta({ description: 'who may answer, by name or as group:NAME (anyone in the group); anyone when absent' }),
  remind: duration.optional().meta({
    description: "send run.waiting again (a reminder) after this long without an answer; shorter than the step's timeout",
  }),
});

export const WaitStepSchema = z.strictObject({
  ...common,
  kind: z.literal('wait'),
  duration,
});

export const LlmStepSchema = z.strictObject({
  ...common,
  kind: z.literal('llm'),
  ...modelCall,
});

export const AgentStepSchema = z.strictObject({
  ...common,
  kind: z.literal('agent'),
  ...modelCall,
  tools: z.array(z.string().min(1)).min(1).meta({ description: 'names of catalog tools the agent may call; gated tools still need a person' }),
  maxTurns: z.int().min(1).max(50).meta({
    description: 'model calls at most; an agent still calling tools after this many turns fails the step',
  }),
});

/** What a map runs per item: a tool call or a model call, without the fields of a whole step. */
export const MapSubStepSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('tool'), tool: ToolStepSchema.shape.tool, args: ToolStepSchema.shape.args }),
  z.strictObject({ kind: z.literal('llm'), ...modelCall }),
]);

export const MapStepSchema = z.strictObject({
  ...common,
  kind: z.literal('map'),
  items: expression.meta({ description: 'a CEL expression whose value is a list: one sub-step runs per item' }),
  step: MapSubStepSchema.meta({
    description: 'the sub-step run for each item; its expressions can also use item (the item) and index (from 0)',
  }),
  maxParallel: z.int().min(1).max(100).optional().meta({ description: 'items running at once; default 4' }),
  onItemError: z.enum(['fail', 'continue']).optional().meta({
    description: "fail (default): a failed item fails the step, naming it; continue: that item's output is null",
  }),
});

/** What a saved spec's name (a call step's `spec`) must match: lower case letters, digits, `_` and `-`, starting with a letter or digit. */
export const SPEC_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

export const CallStepSchema = z.strictObject({
  ...common,
  kind: z.literal('call'),
  spec: z.string().regex(SPEC_NAME_PATTERN).meta({
    description: "the name of a saved spec in the worker's spec library (specs/NAME.json or .yaml): run as a child run",
  }),
  input: z.unknown().optional().meta({ description: "the called spec's input; strings may hold ${expr}" }),
});

export const STEP_SCHEMAS = {
  tool: ToolStepSchema,
  llm: LlmStepSchema,
  approval: ApprovalStepSchema,
  wait: WaitStepSchema,
  agent: AgentStepSchema,
  map: MapStepSchema,
  call: CallStepSchema,
} as const;

/** A step's `kind`: tool, llm, approval, wait, agent, map or call. */
export type StepKind = keyof typeof STEP_SCHEMAS;
/** Every step kind, in that order. */
export const STEP_KINDS = Object.keys(STEP_SCHEMAS) as StepKind[];

/** One step of any kind: a union on `kind`, each kind a strict object (an unknown field is a problem). */
export const StepSchema = z.discriminatedUnion('kind', [
  ToolStepSchema,
  LlmStepSchema,
  ApprovalStepSchema,
  WaitStepSchema,
  AgentStepSchema,
  MapStepSchema,
  CallStepSchema,
]);

/** A run's caps: tokens, money, step executions, history. A run past one fails with BUDGET_EXCEEDED. */
export const BudgetSchema = z
  .strictObject({
    maxTokens: z.int().min(1).optional().meta({ description: 'LLM tokens (prompt and completion) the whole run may use' }),
    maxCost: z.number().gt(0).optional().meta({
      description: "USD the whole run's model calls may cost, by the worker's price table (TRELLIS_PRICES); a model with no price stops the run",
    }),
    maxSteps: z.int().min(1).optional().meta({
      description: 'step executions the run may make: every step started, every map item, every tool call of an agent',
    }),
    // Temporal ends a run whose history reaches 50 MB or 51,200 events; a budget at or past that would never apply.
    maxHistoryBytes: z
      .int()
      .min(1)
      .max(50 * 1024 * 1024 - 1)
      .optional()
      .meta({ description: "bytes of Temporal history the run may grow to before it stops (default: the worker's, 40 MiB)" }),
    maxHistoryEvents: z
      .int()
      .min(1)
      .max(51_199)
      .optional()
      .meta({ description: "events of Temporal history the run may grow to before it stops (default: the worker's, 40,960)" }),
  })
  .meta({ description: 'caps that stop a run with a clear failure instead of letting it run away' });

/**
 * A whole spec's shape, the validator's first check: references, expressions, cycles, tools and types are checked
 * after it. Call validateSpec rather than `SpecSchema.parse`: it reports every problem with a path and a stable
 * code, and never throws. Every field carries a description, which specJsonSchema() gives editors.
 */
export const SpecSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: "the spec's JSON Schema, for editors; ignored by Trellis" }),
    version: z.literal(1),
    name: z.string().min(1).max(200).meta({ description: 'a short name, shown as the run summary' }),
    description: z.string().optional(),
    input: jsonSchema.optional().meta({ description: 'JSON Schema of the run input' }),
    budget: BudgetSchema.optional(),
    steps: z.array(StepSchema).min(1),
    output: z.unknown().optional().meta({
      description: 'the run output: any JSON value; strings may hold ${expr}, evaluated when the run ends',
    }),
  })
  .meta({ title: 'Trellis workflow spec v1' });

/** A `tool` step: calls a catalog tool with `args`. Its output is what the tool returns. */
export type ToolStep = z.infer<typeof ToolStepSchema>;
/** An `llm` step: one model call. Its output is the reply checked against `output` when it has one, else the reply text. */
export type LlmStep = z.infer<typeof LlmStepSchema>;
/** An `approval` step: waits for a person. Its output is the answer, `{ approved, by, comment, at }` (a denial too). */
export type ApprovalStep = z.infer<typeof ApprovalStepSchema>;
/** A `wait` step: a durable timer. Its output is `{ at }`, when it ended. */
export type WaitStep = z.infer<typeof WaitStepSchema>;
/** An `agent` step: model calls that may call `tools`, for at most `maxTurns` turns. Its output is the final answer. */
export type AgentStep = z.infer<typeof AgentStepSchema>;
/** A `map` step: one sub-step per item of `items` (at most `maxParallel` at once, default 4). Its output is their outputs, in item order. */
export type MapStep = z.infer<typeof MapStepSchema>;
/** What a map runs per item: a tool call or a model call; its expressions can also read `item` and `index`. */
export type MapSubStep = z.infer<typeof MapSubStepSchema>;
/** A `call` step: runs a saved spec of the worker's library by name, as a child run. Its output is the child run's output. */
export type CallStep = z.infer<typeof CallStepSchema>;
/** A run's caps (BudgetSchema); with a run's own budget too, the smaller cap of each kind applies. */
export type Budget = z.infer<typeof BudgetSchema>;
/** One step of a spec, any kind: switch on `kind`. */
export type Step = z.infer<typeof StepSchema>;
/**
 * A workflow spec (version 1), as validateSpec gives it back when it is valid. docs/spec.md describes every field;
 * so do the descriptions in specJsonSchema().
 */
export type Spec = z.infer<typeof SpecSchema>;
/** How a step's activity is retried (RetrySchema). */
export type Retry = z.infer<typeof RetrySchema>;
