/**
 * The interpreter: one Temporal workflow that runs a validated spec. The decisions (what is ready, what is
 * skipped, what a step's inputs evaluate to, the output) come from src/engine; this file applies them with
 * Temporal's primitives: activities for tools and model calls, conditions and durable timers for people and
 * waits, a query for the status.
 */
import * as wf from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { ApprovalDecision, ApprovalResult, PendingApproval, RunArgs, RunResult, RunView, ToolCallResult, ToolInfo } from '../engine/messages.js';
import { allEnded, decide, planRun, runOutput, type ResolvedStep } from '../engine/schedule.js';
import { addTokens, initialSteps, type RunInfo, type RunStatus, type StepState, type TokenUsage } from '../engine/state.js';
import { parseDuration } from '../spec/duration.js';
import type { Retry, Step } from '../spec/schema.js';
import { approveSignal, decideUpdate, statusQuery } from './definitions.js';

type Activities = ReturnType<typeof createActivities>;

const DEFAULT_MAX_PARALLEL = 8;
const DEFAULT_ACTIVITY_TIMEOUT = '5m';

// Temporal replaces Date inside workflows with the deterministic workflow clock: this is replay-safe.
const workflowClockMs = (): number => Date.now();
const workflowNow = (): string => new Date(workflowClockMs()).toISOString();

interface Gate extends PendingApproval {
  decision?: ApprovalResult;
}

export async function trellisRun(args: RunArgs): Promise<RunResult> {
  const { spec } = args;
  const input = args.input ?? null;
  const plan = planRun(spec);
  const info = wf.workflowInfo();
  const run: RunInfo = { id: info.runId, workflowId: info.workflowId, startedAt: info.startTime.toISOString() };
  const steps: Record<string, StepState> = initialSteps(plan.order);
  const gates = new Map<string, Gate>();
  const maxParallel = args.options?.maxParallel ?? DEFAULT_MAX_PARALLEL;
  let status: RunStatus = 'running';
  let output: unknown = null;
  let error: string | undefined;
  let tokens: TokenUsage = { prompt: 0, completion: 0, total: 0 };
  let activitiesInFlight = 0;
  let version = 0; // bumped on every change the loop must look at

  const view = (): RunView => ({
    runId: run.id,
    workflowId: run.workflowId,
    name: spec.name,
    status,
    steps,
    pending: [...gates.values()].filter((g) => !g.decision).map(({ decision: _d, ...g }) => g),
    output,
    ...(error !== undefined && { error }),
    tokens,
  });

  const setStatus = (next: RunStatus) => {
    if (next === status) return;
    status = next;
    if (args.options?.statusSearchAttribute) wf.upsertSearchAttributes({ [args.options.statusSearchAttribute]: [next] });
  };
  const refreshStatus = () => {
    const waiting = [...gates.values()].filter((g) => !g.decision);
    setStatus(waiting.length > 0 ? 'waiting' : 'running');
    wf.setCurrentDetails(
      waiting.length > 0 ? `Waiting for a person: ${waiting.map((g) => `${g.step} (${g.title})`).join('; ')}` : `Running ${spec.name}`,
    );
  };

  const refusal = (d: ApprovalDecision): string | undefined => {
    const gate = gates.get(d.step);
    if (!gate) {
      const known = plan.steps.has(d.step);
      return known ? `step "${d.step}" is not waiting for a person` : `unknown step "${d.step}"`;
    }
    if (gate.decision)
      return `step "${d.step}" was already decided (${gate.decision.approved ? 'approved' : 'denied'} by ${gate.decision.by ?? 'the timeout'})`;
    if (gate.approvers && !(d.by !== undefined && gate.approvers.includes(d.by))) {
      return `${d.by === undefined ? 'an anonymous answer' : `"${d.by}"`} may not answer step "${d.step}" (approvers: ${gate.approvers.join(', ')})`;
    }
    return undefined;
  };
  const answer = (d: ApprovalDecision): ApprovalResult => {
    const result: ApprovalResult = { approved: d.approved, by: d.by ?? null, comment: d.comment ?? null, at: workflowNow() };
    gates.get(d.step)!.decision = result;
    version++;
    return result;
  };

  wf.setHandler(statusQuery, view);
  wf.setHandler(approveSignal, (d) => {
    if (refusal(d) === undefined) answer(d);
  });
  wf.setHandler(decideUpdate, answer, {
    validator: (d) => {
      const reason = refusal(d);
      if (reason !== undefined) throw new Error(reason);
    },
  });

  /** Opens a gate, waits for its answer or its timeout; undefined when the timeout fails the step. */
  const waitForPerson = async (
    gate: Gate,
    timeoutMs: number | undefined,
    onTimeout: 'deny' | 'approve' | 'fail',
  ): Promise<ApprovalResult | undefined> => {
    gates.set(gate.step, gate);
    steps[gate.step]!.status = 'waiting';
    refreshStatus();
    const summary = `approval ${gate.step}: ${gate.title}`.slice(0, 200);
    const answered =
      timeoutMs === undefined
        ? (await wf.condition(() => gate.decision !== undefined), true)
        : await wf.condition(() => gate.decision !== undefined, timeoutMs, { summary });
    if (!answered) {
      if (onTimeout === 'fail') return undefined;
      gate.decision = { approved: onTimeout === 'approve', by: null, comment: `no answer within ${formatMs(timeoutMs!)}`, at: workflowNow() };
    }
    steps[gate.step]!.status = 'running';
    refreshStatus();
    return gate.decision;
  };

  const activityOptions = (
    step: Step,
    summary: string,
    defaults: { timeout?: string | undefined; retry?: Retry | undefined } = {},
  ): ActivityOptions => {
    const timeout = step.timeout ?? defaults.timeout ?? DEFAULT_ACTIVITY_TIMEOUT;
    const r = step.retry ?? defaults.retry;
    return {
      startToCloseTimeout: parseDuration(timeout)!,
      summary,
      retry: {
        maximumAttempts: r?.maxAttempts ?? 3,
        ...(r?.initialInterval !== undefined && { initialInterval: parseDuration(r.initialInterval)! }),
        ...(r?.backoffCoefficient !== undefined && { backoffCoefficient: r.backoffCoefficient }),
        ...(r?.maximumInterval !== undefined && { maximumInterval: parseDuration(r.maximumInterval)! }),
      },
    };
  };
  const acts = wf.proxyActivities<Activities>({ startToCloseTimeout: DEFAULT_ACTIVITY_TIMEOUT });
  const local = wf.proxyLocalActivities<Activities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 3 } });
  // The worker's tools, asked once: their default timeout and retry, their approval policy, and whether they
  // exist at all (a run that names a tool this worker lacks fails before any step has a side effect).
  const toolNames = [...new Set(spec.steps.flatMap((s) => (s.kind === 'tool' ? [s.tool] : [])))];
  const toolInfo: ToolInfo = toolNames.length > 0 ? await local.describeTools(toolNames) : {};

  /** Runs one step to its output. Throws to fail it. */
  const execute = async (id: string, resolved: ResolvedStep): Promise<unknown> => {
    const step = plan.steps.get(id)!;
    switch (resolved.kind) {
      case 'tool': {
        const call = { step: id, tool: resolved.tool, args: resolved.args, idempotencyKey: `${run.workflowId}/${run.id}/${id}` };
        const defaults = toolInfo[resolved.tool];
        const options = activityOptions(step, `tool ${resolved.tool}`, defaults);
        // A tool that always needs a person is gated before it is called; a conditional one says so when asked.
        let result: ToolCallResult =
          defaults?.approval === 'required'
            ? { ran: false, needsApproval: true, attempt: 0 }
            : await acts.runTool.executeWithOptions(options, [call]);
        steps[id]!.attempts = result.attempt;
        if (!result.ran) {
          // The tool's policy wants a person for these args: the gate is addressed by the tool step's id.
          const decision = await waitForPerson(
            { step: id, title: `Allow ${resolved.tool} in step ${id}?`, details: JSON.stringify(resolved.args), source: 'policy' },
            undefined,
            'deny',
          );
          if (!decision!.approved)
            throw new GateDenied(
              `${resolved.tool} was not approved${decision!.by ? ` by ${decision!.by}` : ''}${decision!.comment ? `: ${decision!.comment}` : ''}`,
            );
          result = await acts.runTool.executeWithOptions({ ...options, summary: `tool ${resolved.tool} (approved)` }, [
            { ...call, approvedBy: decision!.by },
          ]);
          steps[id]!.attempts += result.attempt;
          if (!result.ran) throw wf.ApplicationFailure.nonRetryable(`${resolved.tool} still needs approval after it was approved`);
        }
        return result.output;
      }
      case 'llm': {
        const { kind: _kind, ...call } = resolved;
        const result = await acts.callLlm.executeWithOptions(activityOptions(step, `llm ${id}`), [{ step: id, ...call }]);
        steps[id]!.attempts = result.attempt;
        steps[id]!.tokens = result.tokens;
        tokens = addTokens(tokens, result.tokens);
        return result.output;
      }
      case 'approval': {
        const decision = await waitForPerson(
          {
            step: id,
            title: resolved.title,
            ...(resolved.details !== undefined && { details: resolved.details }),
            ...(resolved.approvers !== undefined && { approvers: resolved.approvers }),
            ...(resolved.timeoutMs !== undefined && { deadline: new Date(workflowClockMs() + resolved.timeoutMs).toISOString() }),
            source: 'approval',
          },
          resolved.timeoutMs,
          resolved.onTimeout,
        );
        if (!decision) throw wf.ApplicationFailure.nonRetryable(`no answer within ${formatMs(resolved.timeoutMs!)} (onTimeout: fail)`);
        return decision;
      }
      case 'wait':
        await wf.sleep(resolved.durationMs, { summary: `wait ${id} ${formatMs(resolved.durationMs)}` });
        return { at: workflowNow() };
    }
  };

  let failure: { step: string; reason: string } | undefined;
  const fail = (id: string, reason: string) => {
    const step = plan.steps.get(id)!;
    Object.assign(steps[id]!, { status: 'failed', output: null, reason });
    if ((step.onError ?? 'fail') === 'fail' && !failure) failure = { step: id, reason };
  };

  wf.setCurrentDetails(`Running ${spec.name}`);
  if (args.options?.statusSearchAttribute) wf.upsertSearchAttributes({ [args.options.statusSearchAttribute]: ['running'] });
  try {
    while (!failure && !allEnded(plan, steps)) {
      const decisions = decide(plan, steps, input, run, maxParallel - activitiesInFlight);
      for (const d of decisions) {
        const state = steps[d.step]!;
        if (d.type === 'skip') Object.assign(state, { status: 'skipped', reason: d.reason });
        else if (d.type === 'fail') fail(d.step, d.reason);
        else {
          state.status = 'running';
          const isActivity = d.resolved.kind === 'tool' || d.resolved.kind === 'llm';
          if (isActivity) activitiesInFlight++;
          void execute(d.step, d.resolved)
            .then(
              (value) => Object.assign(state, { status: 'completed', output: value }),
              (e: unknown) => {
                if (e instanceof GateDenied) Object.assign(state, { status: 'skipped', output: null, reason: e.message });
                else if (!wf.isCancellation(e)) fail(d.step, describeError(e));
              },
            )
            .finally(() => {
              if (isActivity) activitiesInFlight--;
              version++;
            });
        }
      }
      if (failure || allEnded(plan, steps)) break;
      const seen = version;
      // Rejects with a CancelledFailure when the run is cancelled.
      await wf.condition(() => version !== seen);
    }
    if (failure) {
      error = `step "${failure.step}" failed: ${failure.reason}`;
      setStatus('failed');
      throw wf.ApplicationFailure.nonRetryable(error, 'TrellisStepFailed', { step: failure.step, reason: failure.reason });
    }
    try {
      output = runOutput(plan, steps, input, run);
    } catch (e) {
      error = `output: ${(e as Error).message}`;
      setStatus('failed');
      throw wf.ApplicationFailure.nonRetryable(error, 'TrellisOutputFailed');
    }
    setStatus('completed');
    return { output, steps, tokens };
  } catch (e) {
    if (wf.isCancellation(e)) {
      error = 'cancelled';
      setStatus('cancelled');
    } else if ((status as RunStatus) !== 'failed') {
      error = describeError(e);
      setStatus('failed');
    }
    throw e;
  }
}

/** A person said no to a gated tool: the step is skipped, the run goes on. */
class GateDenied extends Error {}

function describeError(e: unknown): string {
  if (e instanceof wf.ActivityFailure && e.cause) return describeError(e.cause);
  if (e instanceof wf.ApplicationFailure && e.cause) return `${e.message}: ${describeError(e.cause)}`;
  return (e as Error)?.message ?? String(e);
}

function formatMs(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
