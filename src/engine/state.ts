/**
 * The state of one run, as the interpreter keeps it and the status query returns it. Plain JSON, so it can
 * cross the workflow boundary and be shown as it is.
 */
import type { Cost } from '../pricing/cost.js';

/** A step's status: pending (not started), running, waiting (for a person), then one of completed, skipped, failed, cancelled. */
export type StepStatus = 'pending' | 'running' | 'waiting' | 'completed' | 'skipped' | 'failed' | 'cancelled';

/** Exact strings, in --json output and everywhere; from completed on, the run has ended. */
export const RUN_STATUSES = ['running', 'waiting', 'completed', 'failed', 'cancelled', 'terminated', 'timed_out'] as const;
/** A run's status: running, waiting (for a person), or how it ended. */
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Model tokens, as the endpoint billed them. */
export interface TokenUsage {
  prompt: number;
  completion: number;
  /** The endpoint's total (prompt + completion, as a rule). An endpoint that reports no usage counts as 0. */
  total: number;
}

/** One step's state in a run's status and result. */
export interface StepState {
  status: StepStatus;
  /** The step's output once completed; null otherwise (skipped, failed with onError: continue). */
  output: unknown;
  /** Why it was skipped, or what failed. */
  reason?: string;
  /** Activity attempts the step made, retries included (a map's and an agent's summed); 0 before it ran. */
  attempts: number;
  /** Model tokens the step used. */
  tokens?: TokenUsage;
  /** What they cost, by the worker's price table (present whenever tokens are). */
  cost?: Cost;
  /** A call step's child run (its workflow id): where its own steps and approvals are. */
  run?: string;
  /** Set when this view leaves the output out to stay within the payload limit: the output's size in bytes. */
  omitted?: number;
}

/** `run` in expressions: `id` is the run's id (Temporal's workflow id, also as `workflowId`), not Temporal's run id. */
export interface RunInfo {
  id: string;
  workflowId: string;
  /** Temporal's id of this execution of the run. */
  temporalRunId: string;
  startedAt: string;
}

export const TERMINAL: ReadonlySet<StepStatus> = new Set(['completed', 'skipped', 'failed', 'cancelled']);

export const ENDED_RUN: ReadonlySet<RunStatus> = new Set(['completed', 'failed', 'cancelled', 'terminated', 'timed_out']);

export function initialSteps(ids: readonly string[]): Record<string, StepState> {
  return Object.fromEntries(ids.map((id) => [id, { status: 'pending', output: null, attempts: 0 } satisfies StepState]));
}

export function addTokens(a: TokenUsage | undefined, b: TokenUsage): TokenUsage {
  return { prompt: (a?.prompt ?? 0) + b.prompt, completion: (a?.completion ?? 0) + b.completion, total: (a?.total ?? 0) + b.total };
}
