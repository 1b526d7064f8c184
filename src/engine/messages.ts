/**
 * What crosses the workflow boundary: the run's input and result, a person's answer, the status view, and the
 * activities' inputs and outputs. Plain JSON types shared by the workflow, the activities and the client.
 */
import type { Cost, PriceTable } from '../pricing/cost.js';
import type { Budget, Retry, Spec } from '../spec/schema.js';
import type { RefusalCode } from './decision.js';
import type { FailureCode } from './failures.js';
import type { RunStatus, StepState, TokenUsage } from './state.js';

/** The argument of `trellisRun`. The worker checks all of it before any step (src/contract/run-args.ts). */
export interface RunArgs {
  /** The spec to run; the worker validates it again, with its own tools and saved specs. */
  spec: Spec;
  /** The run input, checked against the spec's input schema. Default null. */
  input?: unknown;
  options?: RunOptions;
  /** How deep in `call` steps this run is (0 for a run started by a client). */
  callDepth?: number;
}

/** Options of one run, beside its spec (StartOptions and StartGoalOptions set them). */
export interface RunOptions {
  /** How many steps that call activities or start child runs run at once. Default 8. */
  maxParallel?: number;
  /** Caps for this run; with a spec budget too, the smaller cap of each kind applies. */
  budget?: Budget;
}

/** What the worker tells a run before its first step: its limits and whether the status search attribute exists. */
export interface WorkerFacts {
  /** The Keyword search attribute that mirrors the run status; absent when the server does not have it. */
  statusSearchAttribute?: string;
  limits: PayloadLimits;
  /** The worker has webhooks (TRELLIS_WEBHOOKS): the run sends its notifications through the notify activity. */
  notify?: boolean;
  /** The worker's price table (TRELLIS_PRICES): the run prices its model calls with it. Absent (older workers): no prices. */
  prices?: PriceTable;
  /** The model a call that names none goes to (TRELLIS_MODEL): what a maxCost budget prices before the call. */
  model?: string;
}

/** Limits Trellis meets before Temporal's own (2 MB a payload, 50 MB and 51,200 events a history). */
export interface PayloadLimits {
  /**
   * Largest payload (an activity's input or output, a child's input, the status answer, the result), in bytes.
   * The worker's default: TRELLIS_MAX_PAYLOAD_BYTES, else 512 KiB.
   */
  payloadBytes: number;
  /**
   * The history budget a run stops at, in bytes and in events (a run's budget may lower them). The worker's default:
   * TRELLIS_MAX_HISTORY_BYTES, else 40 MiB.
   */
  historyBytes: number;
  /** The worker's default: TRELLIS_MAX_HISTORY_EVENTS, else 40,960. */
  historyEvents: number;
  /**
   * Payloads larger than this go to the blob store, outside the history (TRELLIS_BLOB_THRESHOLD); absent without a
   * store. The status answer and the event stream stay under it, giving the sizes of the outputs they leave out.
   */
  storedAboveBytes?: number;
}

/** A problem with a run's argument, found by the worker: `spec.steps[0].tool: unknown tool "x"`. */
export interface RunProblem {
  /** Where, from the argument's root: `spec.steps[0].tool`, `input.orderId`. */
  path: string;
  /** A ProblemCode, such as UNKNOWN_TOOL or TYPE. */
  code: string;
  message: string;
}

/** The worker's verdict on a goal run's argument (no problems: a good one). */
export interface GoalCheck {
  problems: RunProblem[];
  worker: WorkerFacts;
}

/** The worker's verdict on a run's argument, with what the run needs to know of the worker. */
export type RunCheck =
  { ok: true; toolInfo: ToolInfo; library: Record<string, Spec>; worker: WorkerFacts } | { ok: false; problems: RunProblem[]; worker: WorkerFacts };

/** The argument of `trellisGoal`: plan in an activity, optionally wait for a person to approve the plan, then run it. */
export interface GoalArgs {
  /** What the run should achieve; the worker's planner writes a spec for it from the worker's tools. */
  goal: string;
  /** The run input: shown to the planner, and checked against the plan's input schema. */
  input?: unknown;
  /** Wait for a person to approve each plan (the step "plan") before any of its steps runs. */
  review?: boolean;
  /** Plans in all, the first included, when a person denies with a comment. Default 3. */
  maxPlans?: number;
  /** Options of the run; its budget covers the planning too. */
  options?: RunOptions;
}

/** What a goal run records of its planning, in its status, its result and its failure's details. */
export interface GoalRecord {
  /** The goal, as given. */
  goal?: string;
  /** The plan being reviewed or run; in a result, the plan that ran. */
  spec?: Spec;
  /** The plans a person replaced, oldest first, with what their steps did. */
  earlierPlans?: EarlierPlan[];
}

/** A completed goal run's result: the run's result, the goal, and the plan that ran. */
export interface GoalResult extends RunResult, GoalRecord {
  goal: string;
  /** The plan that ran. */
  spec: Spec;
  /** How many plans were made (more than 1 after a denial with a comment). */
  plans: number;
}

/** The planner activity's input. */
export interface PlanCall {
  goal: string;
  /** The run's input (null when it has none): shown to the model, and checked against the plan's input schema. */
  input?: unknown;
  /** Tokens the run has left: the planner makes no repair call once it has used them. */
  maxTokens?: number;
  /** Set when replanning: what the person said, the plan they saw, and outputs of steps that already ran. */
  feedback?: { comment: string; previous: Spec; done: Record<string, unknown> };
}

/** `model`: the planner's model, which the tokens are priced as (absent from older workers). */
export type PlanCallResult =
  | { ok: true; spec: Spec; attempts: number; tokens: TokenUsage; model?: string }
  | { ok: false; problems: string[]; attempts: number; tokens: TokenUsage; outOfTokens?: boolean; model?: string };

/** What a run used against its budget; a failed run's failure carries it too (details[0].usage). */
export interface RunUsage {
  /** Model tokens of every step (and, in a goal run, of the planning). */
  tokens: TokenUsage;
  /** What those tokens cost, by the worker's price table; absent before the first model call. */
  cost?: Cost;
  /** Step executions, as the maxSteps budget counts them. */
  executed: number;
}

/** A completed run's result. `steps` may leave out large outputs (StepState.omitted) to fit the payload limit. */
export interface RunResult extends RunUsage {
  /** The spec's `output`, rendered when the run ended; without one, every step's output by id. */
  output: unknown;
  /** Every step's final state, by id. */
  steps: Record<string, StepState>;
}

/** details[0] of a run's failure: why, and what the run did and used (its steps, trimmed like a result's). */
export interface RunFailureDetails extends GoalRecord {
  /** Why the run failed: the code of its failure type (FAILURES). */
  code: FailureCode;
  /** The step that failed, and why. */
  step?: string;
  /** Why that step failed. */
  reason?: string;
  /** A run the worker refused (RUN_INVALID) or a plan that stayed invalid (PLAN_INVALID). */
  problems?: RunProblem[];
  /** What the run used until it failed. */
  usage: RunUsage;
  /** Every step's state when it failed, by id. */
  steps: Record<string, StepState>;
}

/**
 * A person's answer to an approval (or to the policy gate in front of a tool), addressed by step id: the argument of
 * the decide update and the approve signal. Checked before it is accepted (decision.ts); `by` is required.
 */
export interface ApprovalDecision {
  /** The id of the step that waits (for a policy gate: the tool, agent or map step). */
  step: string;
  /** true approves, false denies. */
  approved: boolean;
  /** Who answers; checked against the step's approvers. An answer without it is refused (anonymous). */
  by?: string;
  /** Kept with the answer. A denial with a comment asks a goal run for a new plan. */
  comment?: string;
  /** The answerer's groups (from their token): `group:NAME` in approvers lets them answer. */
  groups?: string[];
  /** When it was signed, ISO 8601; with `signature`, required by a worker that has a decision key. */
  at?: string;
  /** HMAC-SHA256 (hex) of the answer with the decision key (src/engine/decision-signature.ts). */
  signature?: string;
}

/** The output of an approval step. A denial is an answer too. */
export interface ApprovalResult {
  approved: boolean;
  /** Who answered; null when the timeout answered (onTimeout). */
  by: string | null;
  comment: string | null;
  /** When it was answered, as an ISO 8601 timestamp. */
  at: string;
}

/** A question that waits for a person: what to answer with approve or deny. */
export interface PendingApproval {
  /** The step id to answer (ApprovalDecision.step). */
  step: string;
  /** What is asked, in one line. */
  title: string;
  /** What is asked, for the person: a gated tool's args as JSON, an approval's details, a plan's steps. */
  details?: string;
  /** A policy gate's tool args, as the tool would get them. */
  args?: Record<string, unknown>;
  /** Who may answer (`by`), by name or as `group:NAME`; anyone when absent. */
  approvers?: string[];
  /** When the timeout answers, as an ISO timestamp. */
  deadline?: string;
  /** When the wait began, as an ISO timestamp. */
  askedAt?: string;
  /**
   * 'approval': an approval step; 'policy': the gate a tool's policy put in front of a tool step (or a tool call
   * of an agent step, addressed by the agent step's id); 'plan': a goal run's plan, waiting for review.
   */
  source: 'approval' | 'policy' | 'plan';
}

/** An answer that was refused; the approve signal's refusals are kept in the status view (the newest 20). */
export interface RefusedAnswer {
  /** When it came, as an ISO 8601 timestamp. */
  at: string;
  /** How it came: only the signal's refusals are kept here. */
  via: 'signal';
  /** The step it answered, and who sent it, when the answer said. */
  step?: string;
  by?: string;
  /** Why it was refused. */
  code: RefusalCode;
  message: string;
}

/** The status query's answer, and what the client builds for an ended run from its history. */
export interface RunView extends GoalRecord {
  /** The run's id: the one a client passed or was given (Temporal's workflow id). */
  runId: string;
  /** Temporal's id of this execution; not needed to address the run. */
  temporalRunId: string;
  /** The spec's name (a goal run's: `goal: ...`). */
  name: string;
  status: RunStatus;
  /** Every step's state, by id (a goal run's include its `plan` step). */
  steps: Record<string, StepState>;
  /** What waits for a person now; empty once the run has ended. */
  pending: PendingApproval[];
  /** The run's output once it completed; null before. */
  output: unknown;
  /** Why the run did not complete; or, for a running run, that no worker answered the status query. */
  error?: string;
  /** A run the worker refused: each problem with its argument. */
  problems?: RunProblem[];
  /** Answers sent by signal that were refused (an update's refusal goes back to its caller instead). */
  refused?: RefusedAnswer[];
  /** Model tokens used so far. */
  tokens: TokenUsage;
  /** What they cost so far, by the worker's price table; absent before the first model call. */
  cost?: Cost;
  /** Step executions so far, as the maxSteps budget counts them. */
  executed: number;
}

/** A plan of a goal run that a person replaced: the spec, why, and its steps' states when it stopped. */
export interface EarlierPlan {
  /** Which plan it was, from 1. */
  plan: number;
  spec: Spec;
  /** The step a person denied and what they said. */
  replacedBecause: { step: string; comment: string };
  /** Its steps, when it stopped (none when it was denied at review). */
  steps: Record<string, StepState>;
}

export interface ToolCall {
  step: string;
  tool: string;
  args: Record<string, unknown>;
  /** Same on every attempt of this step in this run. */
  idempotencyKey: string;
  /** Set once a person approved this call; without it a gated tool does not run. */
  approvedBy?: string | null;
}

/**
 * `attempt`: which attempt of the activity gave this result (1 on the first try). A policy that threw asks a person
 * (it fails closed): `policyError` says what it threw, for the gate's details.
 */
export type ToolCallResult =
  { ran: true; output: unknown; attempt: number } | { ran: false; needsApproval: true; attempt: number; policyError?: string };

export interface LlmCall {
  step: string;
  prompt: string;
  system?: string;
  output?: Record<string, unknown>;
  model?: string;
  temperature?: number;
}

export interface LlmCallResult {
  output: unknown;
  attempt: number;
  tokens: TokenUsage;
  model: string;
}

/** One message of an agent's conversation, as the agent activity sends it to the model. */
export type AgentMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls?: AgentToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

export interface AgentToolCall {
  id: string;
  name: string;
  /** The arguments as the model wrote them (JSON text that may not parse). */
  arguments: string;
}

/** One model turn of an agent step. */
export interface AgentTurnCall {
  step: string;
  messages: AgentMessage[];
  /** Tool names offered to the model (the step's tools). */
  tools: string[];
  output?: Record<string, unknown>;
  model?: string;
  temperature?: number;
}

export interface AgentTurnResult {
  content: string | null;
  toolCalls: AgentToolCall[];
  tokens: TokenUsage;
  /** The model that answered, as the endpoint names it (absent from older workers). */
  model?: string;
  attempt: number;
  /** A final answer (no tool calls): its value (parsed JSON with an output schema, else the text)... */
  output?: unknown;
  /** ...or what is wrong with it, to tell the model on the next turn. */
  problem?: string;
}

/** What the workflow learns of the worker's tools before it starts: defaults and policy, by tool name. */
export type ToolInfo = Record<
  string,
  {
    timeout?: string;
    retry?: Retry;
    approval: 'never' | 'required' | 'conditional';
    /** Who may answer the tool's policy gate (the tool definition's `approvers`); anyone when absent. */
    approvers?: string[];
  }
>;

/** What a run's event stream names: a step's progress, a person's wait and answer, the run's end. */
export type RunEventType = 'step.started' | 'step.completed' | 'step.failed' | 'step.waiting' | 'step.decided' | 'run.ended';

/** One event of a run, as the events query answers it and `trellis serve` streams it (Server-Sent Events). */
export interface RunEvent {
  /** From 1, one more for each event of the run; the same on every replay, so a reader resumes after the last it saw. */
  seq: number;
  type: RunEventType;
  /** Workflow time, ISO 8601. */
  at: string;
  step?: string;
  /**
   * step.started: `{ kind }`; step.completed: `{ status }` (completed, or skipped after a denial); step.failed:
   * `{ reason }`; step.waiting: the PendingApproval; step.decided: the ApprovalResult; run.ended: `{ status, error? }`.
   * step.completed and step.failed add the step's `tokens` and `cost` when it called a model, and the run's
   * `usage: { tokens, cost? }` so far; run.ended adds `usage` too.
   */
  data?: Record<string, unknown>;
}

/** The events query's answer: the events after the one asked for, at most 500 (fewer to fit the payload limit). */
export interface RunEvents {
  events: RunEvent[];
  /** The seq to ask after next time (the last one given, or the one asked after when none). */
  next: number;
  /** The run has ended and `events` holds its last event. */
  ended: boolean;
}

/**
 * The notify activity's input: one notification, for the webhooks of the worker (TRELLIS_WEBHOOKS). The same event
 * is given on every retry, so every delivery carries the same webhook-id and body.
 */
export interface NotifyEvent {
  /** Unique per event, stable across retries and replays: the webhook-id. */
  id: string;
  type: 'run.waiting' | 'run.decided' | 'run.completed' | 'run.failed' | 'run.cancelled';
  /** When it happened (workflow time, ISO 8601). */
  at: string;
  run: { id: string; name: string };
  /** run.waiting and run.decided: the gate. */
  pending?: PendingApproval;
  /** run.waiting sent again, as a reminder (an approval step's `remind`). */
  reminder?: boolean;
  /** run.decided: the answer. */
  decision?: ApprovalResult;
  /** run.failed and run.cancelled: why. */
  error?: string;
}
