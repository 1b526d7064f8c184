/**
 * What crosses the workflow boundary: the run's input and result, a person's answer, the status view, and the
 * activities' inputs and outputs. Plain JSON types shared by the workflow, the activities and the client.
 */
import type { Budget, Retry, Spec } from '../spec/schema.js';
import type { RefusalCode } from './decision.js';
import type { FailureCode } from './failures.js';
import type { RunStatus, StepState, TokenUsage } from './state.js';

/** The argument of `trellisRun`. The worker checks all of it before any step (src/contract/run-args.ts). */
export interface RunArgs {
  spec: Spec;
  input?: unknown;
  options?: RunOptions;
  /** How deep in `call` steps this run is (0 for a run started by a client). */
  callDepth?: number;
}

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
}

/** Limits Trellis meets before Temporal's own (2 MB a payload, 50 MB and 51,200 events a history). */
export interface PayloadLimits {
  /** Largest payload (an activity's input or output, a child's input, the status answer, the result), in bytes. */
  payloadBytes: number;
  /** The history budget a run stops at, in bytes and in events (a run's budget may lower them). */
  historyBytes: number;
  historyEvents: number;
}

/** A problem with a run's argument, found by the worker: `spec.steps[0].tool: unknown tool "x"`. */
export interface RunProblem {
  path: string;
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
  goal: string;
  input?: unknown;
  /** Wait for a person to approve each plan (the step "plan") before any of its steps runs. */
  review?: boolean;
  /** Plans in all, the first included, when a person denies with a comment. Default 3. */
  maxPlans?: number;
  options?: RunOptions;
}

/** What a goal run records of its planning, in its status, its result and its failure's details. */
export interface GoalRecord {
  goal?: string;
  /** The plan being reviewed or run; in a result, the plan that ran. */
  spec?: Spec;
  /** The plans a person replaced, oldest first, with what their steps did. */
  earlierPlans?: EarlierPlan[];
}

export interface GoalResult extends RunResult, GoalRecord {
  goal: string;
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

export type PlanCallResult =
  | { ok: true; spec: Spec; attempts: number; tokens: TokenUsage }
  | { ok: false; problems: string[]; attempts: number; tokens: TokenUsage; outOfTokens?: boolean };

/** What a run used against its budget; a failed run's failure carries it too (details[0].usage). */
export interface RunUsage {
  tokens: TokenUsage;
  /** Step executions, as the maxSteps budget counts them. */
  executed: number;
}

/** A completed run's result. `steps` may leave out large outputs (StepState.omitted) to fit the payload limit. */
export interface RunResult extends RunUsage {
  output: unknown;
  steps: Record<string, StepState>;
}

/** details[0] of a run's failure: why, and what the run did and used (its steps, trimmed like a result's). */
export interface RunFailureDetails extends GoalRecord {
  code: FailureCode;
  /** The step that failed, and why. */
  step?: string;
  reason?: string;
  /** A run the worker refused (RUN_INVALID) or a plan that stayed invalid (PLAN_INVALID). */
  problems?: RunProblem[];
  usage: RunUsage;
  steps: Record<string, StepState>;
}

/**
 * A person's answer to an approval (or to the policy gate in front of a tool), addressed by step id: the argument of
 * the decide update and the approve signal. Checked before it is accepted (decision.ts); `by` is required.
 */
export interface ApprovalDecision {
  step: string;
  approved: boolean;
  by?: string;
  comment?: string;
}

/** The output of an approval step. A denial is an answer too. */
export interface ApprovalResult {
  approved: boolean;
  by: string | null;
  comment: string | null;
  at: string;
}

export interface PendingApproval {
  step: string;
  title: string;
  /** What is asked, for the person: a gated tool's args as JSON, an approval's details, a plan's steps. */
  details?: string;
  approvers?: string[];
  /** When the timeout answers, as an ISO timestamp. */
  deadline?: string;
  /**
   * 'approval': an approval step; 'policy': the gate a tool's policy put in front of a tool step (or a tool call
   * of an agent step, addressed by the agent step's id); 'plan': a goal run's plan, waiting for review.
   */
  source: 'approval' | 'policy' | 'plan';
}

/** An answer that was refused; the approve signal's refusals are kept in the status view (the newest 20). */
export interface RefusedAnswer {
  at: string;
  via: 'signal';
  step?: string;
  by?: string;
  code: RefusalCode;
  message: string;
}

/** The status query's answer, and what the client builds for an ended run from its history. */
export interface RunView extends GoalRecord {
  /** The run's id: the one a client passed or was given (Temporal's workflow id). */
  runId: string;
  /** Temporal's id of this execution; not needed to address the run. */
  temporalRunId: string;
  name: string;
  status: RunStatus;
  steps: Record<string, StepState>;
  /** What waits for a person now; empty once the run has ended. */
  pending: PendingApproval[];
  output: unknown;
  error?: string;
  /** A run the worker refused: each problem with its argument. */
  problems?: RunProblem[];
  /** Answers sent by signal that were refused (an update's refusal goes back to its caller instead). */
  refused?: RefusedAnswer[];
  tokens: TokenUsage;
  /** Step executions so far, as the maxSteps budget counts them. */
  executed: number;
}

/** A plan of a goal run that a person replaced: the spec, why, and its steps' states when it stopped. */
export interface EarlierPlan {
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
  attempt: number;
  /** A final answer (no tool calls): its value (parsed JSON with an output schema, else the text)... */
  output?: unknown;
  /** ...or what is wrong with it, to tell the model on the next turn. */
  problem?: string;
}

/** What the workflow learns of the worker's tools before it starts: defaults and policy, by tool name. */
export type ToolInfo = Record<string, { timeout?: string; retry?: Retry; approval: 'never' | 'required' | 'conditional' }>;
