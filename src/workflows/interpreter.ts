/**
 * The interpreter: one Temporal workflow that runs a validated spec (run-spec.ts), with the status query and
 * the approval signal and update of its session.
 */
import * as wf from '@temporalio/workflow';
import type { RunArgs, RunResult, RunUsage } from '../engine/messages.js';
import { runSpec } from './run-spec.js';
import { BudgetExceeded, RunSession } from './session.js';
import { describeError } from './step-context.js';

export async function trellisRun(args: RunArgs): Promise<RunResult> {
  const session = new RunSession(args.spec.name, args.options);
  session.install();
  return settle(session, async () => {
    const end = await runSpec({ session, spec: args.spec, input: args.input, callDepth: args.callDepth ?? 0 });
    if (end.stopped) throw wf.ApplicationFailure.nonRetryable('the run stopped before its end');
    return end.output;
  });
}

/**
 * Runs `body` to the run's output and records how the run ended: completed, failed or cancelled. A failed run's
 * failure carries what it used (details[0].usage), so a parent run counts a failed call step against its budget.
 */
export async function settle(session: RunSession, body: () => Promise<unknown>): Promise<RunResult> {
  try {
    session.output = await body();
    session.setStatus('completed');
    return { output: session.output, steps: session.steps, tokens: session.tokens, executed: session.executed };
  } catch (e) {
    if (wf.isCancellation(e)) {
      session.error = 'cancelled';
      session.setStatus('cancelled');
      throw e;
    }
    // Plain errors other than a budget are bugs: Temporal retries them as a workflow task.
    if (!(e instanceof BudgetExceeded || e instanceof wf.TemporalFailure)) throw e;
    if (session.status !== 'failed') {
      session.error = describeError(e);
      session.setStatus('failed');
    }
    const usage: RunUsage = { tokens: session.tokens, executed: session.executed };
    const own = e instanceof wf.ApplicationFailure ? e : undefined;
    throw wf.ApplicationFailure.create({
      message: own?.message ?? session.error ?? describeError(e),
      type: e instanceof BudgetExceeded ? 'TrellisBudgetExceeded' : (own?.type ?? 'TrellisRunFailed'),
      nonRetryable: true,
      details: [{ ...(own?.details?.[0] as object | undefined), usage }],
      ...(own?.cause && { cause: own.cause }),
    });
  }
}
