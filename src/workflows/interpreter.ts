/**
 * The interpreter: one Temporal workflow that runs a validated spec (run-spec.ts), with the status query and
 * the approval signal and update of its session.
 */
import * as wf from '@temporalio/workflow';
import type { RunArgs, RunResult } from '../engine/messages.js';
import { runSpec } from './run-spec.js';
import { BudgetExceeded, RunSession } from './session.js';

export async function trellisRun(args: RunArgs): Promise<RunResult> {
  const session = new RunSession(args.spec.name, args.options);
  session.install();
  return settle(session, async () => {
    const end = await runSpec({ session, spec: args.spec, input: args.input, callDepth: args.callDepth ?? 0 });
    if (end.stopped) throw wf.ApplicationFailure.nonRetryable('the run stopped before its end');
    return end.output;
  });
}

/** Runs `body` to the run's output and records how the run ended: completed, failed or cancelled. */
export async function settle(session: RunSession, body: () => Promise<unknown>): Promise<RunResult> {
  try {
    session.output = await body();
    session.setStatus('completed');
    return { output: session.output, steps: session.steps, tokens: session.tokens, executed: session.executed };
  } catch (e) {
    if (wf.isCancellation(e)) {
      session.error = 'cancelled';
      session.setStatus('cancelled');
    } else if (session.status !== 'failed') {
      session.error = describe(e);
      session.setStatus('failed');
    }
    // A budget spent outside any step (a goal run's planning) fails the run; other plain errors are bugs, which
    // Temporal retries as a workflow task.
    if (e instanceof BudgetExceeded) throw wf.ApplicationFailure.nonRetryable(e.message, 'TrellisBudgetExceeded');
    throw e;
  }
}

function describe(e: unknown): string {
  return (e as Error)?.message ?? String(e);
}
