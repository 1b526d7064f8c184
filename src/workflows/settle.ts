/**
 * How a run ends, for both workflows (trellisRun and trellisGoal): completed with its result, failed with a typed,
 * non-retryable failure whose details keep what the run did and used, or cancelled; and the failure of a run whose
 * argument the worker refused.
 */
import * as wf from '@temporalio/workflow';
import { failureCode, type FailureType } from '../engine/failures.js';
import type { GoalRecord, RunFailureDetails, RunProblem, RunResult, RunUsage } from '../engine/messages.js';
import { jsonBytes } from '../engine/payload.js';
import { BudgetExceeded } from './budget.js';
import { type RunSession } from './session.js';
import { describeError } from './step-context.js';

/** Fails a run whose argument the worker refused, with every problem as `path: message`. */
export function refuse(session: RunSession, problems: RunProblem[]): never {
  session.problems = problems;
  const shown = problems.slice(0, 20).map((p) => `${p.path}: ${p.message}`);
  if (problems.length > shown.length) shown.push(`... and ${problems.length - shown.length} more`);
  session.error = `the run is invalid:\n${shown.join('\n')}`;
  throw wf.ApplicationFailure.nonRetryable(session.error, 'TrellisRunInvalid', { problems });
}

/**
 * Runs `body` to the run's output and records how the run ended: completed, failed or cancelled. The result keeps
 * the steps (largest outputs left out when they would not fit the payload limit); a failure's details[0] keep the
 * steps and what the run used, so a parent counts a failed call step against its budget and `status` of an ended run
 * needs no worker. `extra` adds fields to the result (a goal run's plan). The run waits for its notifications to be
 * delivered (or out of retries) before it ends: a run that ends drops its activities.
 */
export async function settle<E extends object = object>(session: RunSession, body: () => Promise<unknown>, extra?: () => E): Promise<RunResult & E> {
  // Read when needed, never before `body`: the worker's limits arrive with its check of the run, inside it.
  const limit = () => session.worker.limits.payloadBytes;
  try {
    const output = await body();
    const more = extra?.() ?? ({} as E);
    const fixed = jsonBytes(output) + jsonBytes(more) + 200;
    if (fixed > limit()) {
      session.error =
        `the run's result is ${count(fixed)} bytes, over the payload limit of ${count(limit())} bytes: give the spec an ` +
        '"output" that keeps what the caller needs (without one, the output is every step\'s output)';
      throw wf.ApplicationFailure.nonRetryable(session.error, 'TrellisResultTooLarge');
    }
    session.output = output;
    session.end('completed');
    await session.delivered();
    const record = fitRecord(session, limit() - fixed);
    const { cost } = session.budget;
    return { output, ...record, tokens: session.budget.tokens, ...(cost && { cost }), executed: session.budget.executed, ...more };
  } catch (e) {
    if (wf.isCancellation(e)) {
      session.error = 'cancelled';
      session.end('cancelled');
      await session.delivered();
      throw e;
    }
    // Plain errors other than a budget are bugs: Temporal retries them as a workflow task.
    if (!(e instanceof BudgetExceeded || e instanceof wf.TemporalFailure)) throw e;
    session.error ??= describeError(e);
    session.end('failed');
    await session.delivered();
    const usage: RunUsage = { ...session.usage(), executed: session.budget.executed };
    const own = e instanceof wf.ApplicationFailure ? e : undefined;
    const type: FailureType =
      e instanceof BudgetExceeded ? 'TrellisBudgetExceeded' : failureCode(own?.type) ? (own!.type as FailureType) : 'TrellisRunFailed';
    const details: RunFailureDetails = {
      ...(own?.details?.[0] as object | undefined),
      code: failureCode(type)!,
      usage,
      ...fitRecord(session, limit() / 2),
    };
    const failure = wf.ApplicationFailure.create({
      message: own?.message ?? session.error,
      type,
      nonRetryable: true,
      details: [details],
      ...(own?.cause && { cause: own.cause }),
    });
    failure.stack = ''; // the reason is the message; a workflow's stack means nothing to the person who reads it
    throw failure;
  }
}

const count = (n: number) => n.toLocaleString('en-US');

/** The steps (and a goal run's plans) within `maxBytes`, as the status view fits them. */
function fitRecord(session: RunSession, maxBytes: number): GoalRecord & { steps: RunResult['steps'] } {
  const { steps, goal, spec, earlierPlans } = session.fittedView(maxBytes);
  return { steps, ...(goal !== undefined && { goal }), ...(spec && { spec }), ...(earlierPlans && { earlierPlans }) };
}
