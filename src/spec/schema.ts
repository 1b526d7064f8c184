/**
 * Spec v1 as zod schemas: the shape a spec must have. The checks that need more than one field
 * (references, cycles, expressions, tools, types) live in validate.ts; these schemas also export the
 * JSON Schema that editors and the planner use (json-schema.ts), so every field carries a description.
 */
import { z } from 'zod';
import { DURATION_HELP, durationProblem } from './duration.js';

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
  approvers: z.array(z.string().min(1)).min(1).optional().meta({ description: 'who may answer; anyone when absent' }),
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

export type StepKind = keyof typeof STEP_SCHEMAS;
export const STEP_KINDS = Object.keys(STEP_SCHEMAS) as StepKind[];

export const StepSchema = z.discriminatedUnion('kind', [
  ToolStepSchema,
  LlmStepSchema,
  ApprovalStepSchema,
  WaitStepSchema,
  AgentStepSchema,
  MapStepSchema,
  CallStepSchema,
]);

export const BudgetSchema = z
  .strictObject({
    maxTokens: z.int().min(1).optional().meta({ description: 'LLM tokens (prompt and completion) the whole run may use' }),
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

export type ToolStep = z.infer<typeof ToolStepSchema>;
export type LlmStep = z.infer<typeof LlmStepSchema>;
export type ApprovalStep = z.infer<typeof ApprovalStepSchema>;
export type WaitStep = z.infer<typeof WaitStepSchema>;
export type AgentStep = z.infer<typeof AgentStepSchema>;
export type MapStep = z.infer<typeof MapStepSchema>;
export type MapSubStep = z.infer<typeof MapSubStepSchema>;
export type CallStep = z.infer<typeof CallStepSchema>;
export type Budget = z.infer<typeof BudgetSchema>;
export type Step = z.infer<typeof StepSchema>;
export type Spec = z.infer<typeof SpecSchema>;
export type Retry = z.infer<typeof RetrySchema>;
