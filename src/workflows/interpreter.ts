/**
 * The interpreter: one Temporal workflow that runs a spec (run-spec.ts), with the status query and the approval
 * signal and update of its session. Any Temporal client may start it, so it trusts nothing it is given: the worker
 * checks the whole argument (a local activity, with the worker's own tools and saved specs) before any step, and an
 * invalid run fails at once with every problem.
 */
import * as wf from '@temporalio/workflow';
import { failureCode, type FailureType } from '../engine/failures.js';
import type { GoalRecord, RunArgs, RunCheck, RunFailureDetails, RunProblem, RunResult, RunUsage } from '../engine/messages.js';
import { jsonBytes } from '../engine/payload.js';
import { runSpec } from './run-spec.js';
import { BudgetExceeded, RunSession } from './session.js';
import { describeError, type Activities } from './step-context.js';

const check = wf.proxyLocalActivities<Activities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 3 } });

export async function trellisRun(args: RunArgs): Promise<RunResult> {
  const raw: unknown = args;
  const session = new RunSession(nameOf(raw));
  session.install();
  return settle(session, async () => {
    const checked: RunCheck = await check.checkRun(raw);
    session.configure(checked.ok ? args.options : undefined, checked.worker);
    session.announce();
    if (!checked.ok) refuse(session, checked.problems);
    const end = await runSpec({
      session,
      spec: args.spec,
      input: args.input,
      callDepth: args.callDepth ?? 0,
      prepared: { toolInfo: checked.toolInfo, library: checked.library },
    });
    if (end.stopped) throw wf.ApplicationFailure.nonRetryable('the run stopped before its end');
    return end.output;
  });
}

/** The spec's name when the argument has one (the run's name in the UI and in `list`, even for an invalid run). */
function nameOf(raw: unknown): string {
  const spec = raw !== null && typeof raw === 'object' ? (raw as { spec?: unknown }).spec : undefined;
  const name = spec !== null && typeof spec === 'object' ? (spec as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name.trim() !== '' ? name.slice(0, 200) : 'invalid run';
}

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
 * needs no worker. `extra` adds fields to the result (a goal run's plan).
 */
export async function settle<E extends object = object>(session: RunSession, body: () => Promise<unknown>, extra?: () => E): Promise<RunResult & E> {
  const limit = session.worker.limits.payloadBytes;
  try {
    const output = await body();
    const more = extra?.() ?? ({} as E);
    const fixed = jsonBytes(output) + jsonBytes(more) + 200;
    if (fixed > limit) {
      session.error =
        `the run's result is ${count(fixed)} bytes, over the payload limit of ${count(limit)} bytes: give the spec an ` +
        '"output" that keeps what the caller needs (without one, the output is every step\'s output)';
      throw wf.ApplicationFailure.nonRetryable(session.error, 'TrellisResultTooLarge');
    }
    session.output = output;
    session.end('completed');
    const record = fitRecord(session, limit - fixed);
    return { output, ...record, tokens: session.tokens, executed: session.executed, ...more };
  } catch (e) {
    if (wf.isCancellation(e)) {
      session.error = 'cancelled';
      session.end('cancelled');
      throw e;
    }
    // Plain errors other than a budget are bugs: Temporal retries them as a workflow task.
    if (!(e instanceof BudgetExceeded || e instanceof wf.TemporalFailure)) throw e;
    session.error ??= describeError(e);
    session.end('failed');
    const usage: RunUsage = { tokens: session.tokens, executed: session.executed };
    const own = e instanceof wf.ApplicationFailure ? e : undefined;
    const type: FailureType =
      e instanceof BudgetExceeded ? 'TrellisBudgetExceeded' : failureCode(own?.type) ? (own!.type as FailureType) : 'TrellisRunFailed';
    const details: RunFailureDetails = {
      ...(own?.details?.[0] as object | undefined),
      code: failureCode(type)!,
      usage,
      ...fitRecord(session, limit / 2),
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
