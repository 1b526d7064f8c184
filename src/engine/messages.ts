/**
 * What crosses the workflow boundary: the run's input and result, a person's answer, the status view, and the
 * activities' inputs and outputs. Plain JSON types shared by the workflow, the activities and the client.
 */
import type { Retry, Spec } from '../spec/schema.js';
import type { RunStatus, StepState, TokenUsage } from './state.js';

export interface RunArgs {
  spec: Spec;
  input?: unknown;
  options?: RunOptions;
}

export interface RunOptions {
  /** How many tool and llm steps run at once. Default 8. */
  maxParallel?: number;
  /** The Keyword search attribute that mirrors the run status, when the server has it registered. */
  statusSearchAttribute?: string;
}

export interface RunResult {
  output: unknown;
  steps: Record<string, StepState>;
  tokens: TokenUsage;
}

/** A person's answer to an approval (or to the policy gate in front of a tool), addressed by step id. */
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
  details?: string;
  approvers?: string[];
  /** When the timeout answers, as an ISO timestamp. */
  deadline?: string;
  /** 'approval': an approval step; 'policy': the gate a tool's policy put in front of a tool step. */
  source: 'approval' | 'policy';
}

export interface RunView {
  runId: string;
  workflowId: string;
  name: string;
  status: RunStatus;
  steps: Record<string, StepState>;
  pending: PendingApproval[];
  output: unknown;
  error?: string;
  tokens: TokenUsage;
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

/** `attempt`: which attempt of the activity gave this result (1 on the first try). */
export type ToolCallResult = { ran: true; output: unknown; attempt: number } | { ran: false; needsApproval: true; attempt: number };

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

/** What the workflow learns of the worker's tools before it starts: defaults and policy, by tool name. */
export type ToolInfo = Record<string, { timeout?: string; retry?: Retry; approval: 'never' | 'required' | 'conditional' }>;
