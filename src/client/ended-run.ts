/**
 * A run that has ended, read from its history with no worker: its result, its failure's details, or a cancelled
 * run's memo, and Temporal's own status and reason for one it terminated or timed out.
 */
import {
  ApplicationFailure,
  CancelledFailure,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowFailedError,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { REFUSAL_CODES, type Refusal, type RefusalCode } from '../engine/decision.js';
import { failureCode } from '../engine/failures.js';
import type { GoalRecord, GoalResult, RunFailureDetails, RunResult, RunView } from '../engine/messages.js';
import type { RunStatus } from '../engine/state.js';
import { FINAL_VIEW_MEMO } from '../workflows/definitions.js';
import { TrellisRunError, type RunErrorCode } from './errors.js';

/** The view of an ended run; throws the handle's error when it is not a run's end (the run does not exist, say). */
export async function endedRunView(handle: WorkflowHandle, d: WorkflowExecutionDescription): Promise<RunView> {
  const base = baseView(handle.workflowId, d);
  try {
    const result = (await handle.result()) as RunResult & Partial<GoalResult>;
    return {
      ...base,
      status: 'completed',
      steps: result.steps ?? {},
      output: result.output ?? null,
      tokens: result.tokens ?? base.tokens,
      ...(result.cost && { cost: result.cost }),
      executed: result.executed ?? 0,
      ...goalRecord(result),
    };
  } catch (e) {
    const error = e instanceof TrellisRunError ? e : runError(e, handle.workflowId);
    if (!error) throw e;
    // A failure's details keep what the run did; a cancelled run keeps it in its memo.
    const kept = (error.details ?? d.memo?.[FINAL_VIEW_MEMO] ?? {}) as Partial<RunView & RunFailureDetails>;
    const { run } = error;
    return {
      ...base,
      status: run.status,
      steps: kept.steps ?? {},
      error: error.message,
      ...(run.problems.length > 0 && { problems: run.problems }),
      ...(kept.refused && { refused: kept.refused }),
      tokens: kept.usage?.tokens ?? kept.tokens ?? base.tokens,
      ...((kept.usage?.cost ?? kept.cost) && { cost: (kept.usage?.cost ?? kept.cost)! }),
      executed: kept.usage?.executed ?? kept.executed ?? 0,
      ...goalRecord(kept),
    };
  }
}

function goalRecord(r: GoalRecord): GoalRecord {
  return { ...(r.goal !== undefined && { goal: r.goal }), ...(r.spec && { spec: r.spec }), ...(r.earlierPlans && { earlierPlans: r.earlierPlans }) };
}

/** The fields every view of a run has, from Temporal's description of it. */
export function baseView(runId: string, d: WorkflowExecutionDescription): RunView {
  return {
    runId,
    temporalRunId: d.runId,
    name: typeof d.memo?.name === 'string' ? d.memo.name : runId,
    status: 'running',
    steps: {},
    pending: [],
    output: null,
    tokens: { prompt: 0, completion: 0, total: 0 },
    executed: 0,
  };
}

export const TEMPORAL_STATUS: Record<Exclude<RunStatus, 'running' | 'waiting'>, string> = {
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  terminated: 'Terminated',
  timed_out: 'TimedOut',
};

/** A closed execution's Temporal status as a run status. */
export function statusOf(name: string): Exclude<RunStatus, 'running' | 'waiting'> {
  switch (name) {
    case 'COMPLETED':
      return 'completed';
    case 'CANCELLED':
      return 'cancelled';
    case 'TERMINATED':
      return 'terminated';
    case 'TIMED_OUT':
      return 'timed_out';
    default:
      return 'failed';
  }
}

/** How a run that did not complete ended, from its WorkflowFailedError; undefined for any other error. */
export function runError(e: unknown, runId: string): TrellisRunError | undefined {
  if (!(e instanceof WorkflowFailedError)) return undefined;
  const cause = e.cause;
  const ended = (code: RunErrorCode, status: 'cancelled' | 'terminated' | 'timed_out', message: string) =>
    new TrellisRunError(code, message, { runId, status, problems: [] }, undefined, { cause: e });
  if (cause instanceof CancelledFailure) return ended('CANCELLED', 'cancelled', 'the run was cancelled');
  if (cause instanceof TerminatedFailure) return ended('TERMINATED', 'terminated', `the run was terminated: ${cause.message || 'no reason given'}`);
  if (cause instanceof TimeoutFailure) return ended('TIMED_OUT', 'timed_out', 'the run timed out (its workflow execution timeout passed)');
  const details = (cause instanceof ApplicationFailure ? cause.details?.[0] : undefined) as Partial<RunFailureDetails> | undefined;
  const code = details?.code ?? failureCode(cause instanceof ApplicationFailure ? cause.type : undefined) ?? 'RUN_FAILED';
  return new TrellisRunError(
    code,
    cause?.message ?? e.message,
    {
      runId,
      status: 'failed',
      ...(details?.step !== undefined && { step: details.step }),
      ...(details?.reason !== undefined && { reason: details.reason }),
      problems: details?.problems ?? [],
      ...(details?.usage && { usage: details.usage }),
      ...(details?.steps && { steps: details.steps }),
    },
    details as RunFailureDetails | undefined,
    { cause: e },
  );
}

/** The workflow's refusal in an update's failure: { code, message } from its details. */
export function refusalOf(cause: Error | undefined): Refusal | undefined {
  if (!(cause instanceof ApplicationFailure) || cause.type !== 'TrellisDecisionRefused') return undefined;
  const d = cause.details?.[0] as { code?: unknown } | undefined;
  const code = REFUSAL_CODES.includes(d?.code as RefusalCode) ? (d!.code as RefusalCode) : 'malformed';
  return { code, message: cause.message };
}
