/**
 * The interpreter: one Temporal workflow that runs a spec (run-spec.ts), with the status query and the approval
 * signal and update of its session. Any Temporal client may start it, so it trusts nothing it is given: the worker
 * checks the whole argument (a local activity, with the worker's own tools and saved specs) before any step, and an
 * invalid run fails at once with every problem.
 */
import * as wf from '@temporalio/workflow';
import type { RunArgs, RunCheck, RunResult } from '../engine/messages.js';
import { runSpec } from './run-spec.js';
import { RunSession } from './session.js';
import { refuse, settle } from './settle.js';
import { inRunSpan } from '../telemetry/workflow-spans.js';
import type { Activities } from './step-context.js';

const check = wf.proxyLocalActivities<Activities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 3 } });

export async function trellisRun(args: RunArgs): Promise<RunResult> {
  return inRunSpan(nameOf(args), () => interpret(args));
}

async function interpret(args: RunArgs): Promise<RunResult> {
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
