/**
 * The typed client that services use: start a run (validated first: an invalid spec starts nothing, and an id
 * that already has a run starts nothing either), answer approvals, read a run's status (an ended run's from its
 * history, with no worker), list runs, cancel, wait for the result.
 */
import { randomUUID } from 'node:crypto';
import {
  CancelledFailure,
  Client,
  Connection,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  ApplicationFailure,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { connectionOptions, temporalConfigFromEnv, type TemporalConfig } from '../config.js';
import { REFUSAL_CODES, type Refusal, type RefusalCode } from '../engine/decision.js';
import { failureCode } from '../engine/failures.js';
import type {
  ApprovalResult,
  GoalArgs,
  GoalRecord,
  GoalResult,
  RunArgs,
  RunFailureDetails,
  RunOptions,
  RunResult,
  RunView,
} from '../engine/messages.js';
import type { RunStatus } from '../engine/state.js';
import type { ToolCatalog } from '../spec/catalog.js';
import { describe } from '../spec/describe.js';
import { nonFiniteNumbers } from '../spec/parse.js';
import { compareProblems, formatProblem, problem, type PathSegment } from '../spec/problems.js';
import { inputProblems } from '../spec/input.js';
import type { Budget, Spec } from '../spec/schema.js';
import { validateSpec } from '../spec/validate/index.js';
import { hasStatusAttribute, STATUS_SEARCH_ATTRIBUTE } from '../temporal/status-attribute.js';
import { decideUpdate, FINAL_VIEW_MEMO, GOAL_WORKFLOW_TYPE, statusQuery, WORKFLOW_TYPE } from '../workflows/definitions.js';
import { TrellisClientError, TrellisRunError, type RunErrorCode } from './errors.js';
import { slug } from './run-id.js';

export { STATUS_SEARCH_ATTRIBUTE };

export interface StartOptions {
  input?: unknown;
  /** The run id (the Temporal workflow id). Default: the spec's name and a random suffix. An id that has a run is refused (RUN_EXISTS). */
  id?: string;
  /** With a catalog the validation also checks tools and types. */
  tools?: ToolCatalog;
  maxParallel?: number;
  /** Caps for this run (with the spec's own budget, the smaller of each applies). */
  budget?: Budget;
}

export interface StartGoalOptions {
  input?: unknown;
  /** The run id. Default: "goal-" and a random suffix. */
  id?: string;
  /** Wait for a person to approve the plan (the step "plan") before any step runs. */
  review?: boolean;
  /** Plans in all when people deny with a comment. Default 3. */
  maxPlans?: number;
  maxParallel?: number;
  /** Caps for the whole run, planning included. */
  budget?: Budget;
}

export interface RunSummary {
  runId: string;
  name: string;
  status: RunStatus;
  startedAt: string;
}

/** Who answers, and why. `by` is required by every step that waits for a person. */
export interface Answer {
  by?: string;
  comment?: string;
}

/** How long status() waits for a worker to answer the status query of a run that has not ended. */
const QUERY_DEADLINE_MS = 10_000;

/** A run, as Temporal's WorkflowHandle is a workflow: what a service does with the run it started. */
export class RunHandle<R extends RunResult = RunResult> {
  constructor(
    private readonly client: TrellisClient,
    /** The run's id. */
    readonly runId: string,
  ) {}

  /** Waits for the run to end; one that did not complete throws a TrellisRunError. */
  result(): Promise<R> {
    return this.client.result(this.runId) as Promise<R>;
  }

  status(): Promise<RunView> {
    return this.client.status(this.runId);
  }

  approve(step: string, answer: Answer = {}): Promise<ApprovalResult> {
    return this.client.approve(this.runId, step, answer);
  }

  deny(step: string, answer: Answer = {}): Promise<ApprovalResult> {
    return this.client.deny(this.runId, step, answer);
  }

  cancel(): Promise<void> {
    return this.client.cancel(this.runId);
  }
}

export class TrellisClient {
  private statusAttribute: Promise<boolean> | undefined;

  private constructor(
    readonly temporal: Client,
    readonly config: TemporalConfig,
    private readonly connection: Connection,
  ) {}

  /** Connects with settings from the environment, overridden by `config`. */
  static async connect(config: Partial<TemporalConfig> = {}): Promise<TrellisClient> {
    const full = { ...temporalConfigFromEnv(), ...config };
    let connection: Connection;
    try {
      connection = await Connection.connect({ ...connectionOptions(full), connectTimeout: 5_000 });
    } catch (e) {
      throw new TrellisClientError(
        'NO_CONNECTION',
        `cannot reach Temporal at ${full.address}: ${(e as Error).message}. Start one with \`trellis dev\` (or \`npm run temporal\`), or set TEMPORAL_ADDRESS.`,
      );
    }
    return new TrellisClient(new Client({ connection, namespace: full.namespace }), full, connection);
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  /** A handle on a run by its id (it need not have been started by this client). */
  getHandle<R extends RunResult = RunResult>(runId: string): RunHandle<R> {
    return new RunHandle<R>(this, runId);
  }

  /** Validates the spec and the input, then starts the run. */
  async start(spec: unknown, options: StartOptions = {}): Promise<RunHandle> {
    const valid = validateSpec(spec, options.tools ? { tools: options.tools } : {});
    if (!valid.ok) {
      throw new TrellisClientError('SPEC_INVALID', `invalid spec:\n${valid.problems.map(formatProblem).join('\n')}`, valid.problems);
    }
    const input = options.input ?? null;
    checkInput(valid.spec, input);
    const runId = options.id ?? `${slug(valid.spec.name)}-${randomUUID().slice(0, 8)}`;
    const args: RunArgs = { spec: valid.spec, input, ...optionsArg(options) };
    await this.startWorkflow(WORKFLOW_TYPE, runId, args, {
      name: valid.spec.name,
      summary: `${valid.spec.name}${valid.spec.description ? `: ${valid.spec.description}` : ''}`,
      details: `**Input**\n\n\`\`\`json\n${JSON.stringify(input, null, 2).slice(0, 4000)}\n\`\`\`\n\n**Steps**: ${valid.spec.steps.map((s) => `${s.id} (${s.kind})`).join(', ')}`,
    });
    return this.getHandle(runId);
  }

  /**
   * Starts a goal run: the worker's planner writes a spec for the goal from its tools, it is validated, a
   * person approves it first with `review`, then it runs, all in one durable run.
   */
  async startGoal(goal: string, options: StartGoalOptions = {}): Promise<RunHandle<GoalResult>> {
    if (goal.trim() === '') throw new TrellisClientError('SPEC_INVALID', 'the goal is empty: say what the run should achieve');
    const runId = options.id ?? `goal-${randomUUID().slice(0, 8)}`;
    const args: GoalArgs = {
      goal,
      ...(options.input !== undefined && { input: options.input }),
      ...(options.review && { review: true }),
      ...(options.maxPlans !== undefined && { maxPlans: options.maxPlans }),
      ...optionsArg(options),
    };
    await this.startWorkflow(GOAL_WORKFLOW_TYPE, runId, args, {
      name: `goal: ${goal}`.slice(0, 200),
      summary: `goal: ${goal}`,
      details: `**Goal**\n\n${goal}\n\n**Input**\n\n\`\`\`json\n${JSON.stringify(options.input ?? null, null, 2).slice(0, 4000)}\n\`\`\`${options.review ? '\n\nThe plan waits for a review (step `plan`).' : ''}`,
    });
    return this.getHandle<GoalResult>(runId);
  }

  private async startWorkflow(type: string, runId: string, args: RunArgs | GoalArgs, shown: { name: string; summary: string; details: string }) {
    const hasAttribute = await this.hasStatusAttribute();
    try {
      await this.temporal.workflow.start(type, {
        taskQueue: this.config.taskQueue,
        workflowId: runId,
        // An id is one run, ever: starting it again (after it ended, too) would repeat its side effects.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        args: [args],
        staticSummary: shown.summary.slice(0, 400),
        staticDetails: shown.details,
        memo: { name: shown.name },
        ...(hasAttribute && { searchAttributes: { [STATUS_SEARCH_ATTRIBUTE]: ['running'] } }),
      });
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) throw await this.runExists(runId);
      throw e;
    }
  }

  private async runExists(runId: string): Promise<TrellisClientError> {
    const existing = await this.temporal.workflow
      .getHandle(runId)
      .describe()
      .then(
        (d) => `${d.status.name === 'RUNNING' ? 'running' : statusOf(d.status.name)}, started ${d.startTime.toISOString()}`,
        () => undefined,
      );
    return new TrellisClientError(
      'RUN_EXISTS',
      `a run with id "${runId}" already exists${existing ? ` (${existing})` : ''}: nothing was started, so no side effect is repeated; choose another id`,
    );
  }

  /** Answers a waiting step; refused (APPROVAL_REFUSED, with the workflow's refusal code) when it may not be answered. */
  async approve(runId: string, step: string, answer: Answer = {}): Promise<ApprovalResult> {
    return this.decide(runId, step, true, answer);
  }

  async deny(runId: string, step: string, answer: Answer = {}): Promise<ApprovalResult> {
    return this.decide(runId, step, false, answer);
  }

  private async decide(runId: string, step: string, approved: boolean, answer: Answer): Promise<ApprovalResult> {
    const handle = this.temporal.workflow.getHandle(runId);
    try {
      return await handle.executeUpdate(decideUpdate, { args: [{ step, approved, ...answer }] });
    } catch (e) {
      if (e instanceof WorkflowUpdateFailedError) {
        const refusal = refusalOf(e.cause);
        throw new TrellisClientError('APPROVAL_REFUSED', refusal?.message ?? e.cause?.message ?? e.message, [], refusal?.code);
      }
      // An update to a run that has ended reads as "not found": say which it is.
      const ended = await handle.describe().then(
        (d) => (d.status.name === 'RUNNING' ? undefined : statusOf(d.status.name)),
        () => undefined,
      );
      if (ended) throw new TrellisClientError('APPROVAL_REFUSED', `the run has ended (${ended}): step "${step}" takes no answer`, [], 'not_waiting');
      throw this.notFound(e, runId);
    }
  }

  /**
   * The run's status, each step's status and output, what it waits for. A run that has ended is read from its
   * history (its result, its failure's details, or a cancelled run's memo): no worker is needed. A running run is
   * asked through the status query; when no worker answers it, the view says so.
   */
  async status(runId: string): Promise<RunView> {
    const handle = this.temporal.workflow.getHandle(runId);
    let described: WorkflowExecutionDescription;
    try {
      described = await handle.describe();
    } catch (e) {
      throw this.notFound(e, runId);
    }
    if (described.status.name !== 'RUNNING') return this.endedView(handle, described);
    try {
      return await this.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(statusQuery));
    } catch (e) {
      const attribute = described.searchAttributes?.[STATUS_SEARCH_ATTRIBUTE];
      const status = Array.isArray(attribute) && attribute[0] === 'waiting' ? 'waiting' : 'running';
      return {
        ...baseView(runId, described),
        status,
        error: `no worker answered the status query within ${QUERY_DEADLINE_MS / 1000} s (${(e as Error).message}): is a worker running on task queue ${described.taskQueue}?`,
      };
    }
  }

  private async endedView(handle: WorkflowHandle, d: WorkflowExecutionDescription): Promise<RunView> {
    const base = baseView(handle.workflowId, d);
    try {
      const result = (await handle.result()) as RunResult & Partial<GoalResult>;
      return {
        ...base,
        status: 'completed',
        steps: result.steps ?? {},
        output: result.output ?? null,
        tokens: result.tokens ?? base.tokens,
        executed: result.executed ?? 0,
        ...goalRecord(result),
      };
    } catch (e) {
      const error = e instanceof TrellisRunError ? e : runError(e, handle.workflowId);
      if (!error) throw this.notFound(e, handle.workflowId);
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
        executed: kept.usage?.executed ?? kept.executed ?? 0,
        ...goalRecord(kept),
      };
    }
  }

  /** Waits for the run to end; a run that did not complete throws a TrellisRunError (code, step, problems, usage). */
  async result(runId: string): Promise<RunResult | GoalResult> {
    try {
      return (await this.temporal.workflow.getHandle(runId).result()) as RunResult | GoalResult;
    } catch (e) {
      throw runError(e, runId) ?? this.notFound(e, runId);
    }
  }

  async cancel(runId: string): Promise<void> {
    try {
      await this.temporal.workflow.getHandle(runId).cancel();
    } catch (e) {
      throw this.notFound(e, runId);
    }
  }

  /**
   * Runs, newest first. An ended run's status is Temporal's (completed, failed, cancelled, terminated, timed_out); a
   * running one's is the TrellisStatus search attribute's (running or waiting).
   */
  async list(options: { status?: RunStatus; limit?: number } = {}): Promise<RunSummary[]> {
    let query = `WorkflowType IN ('${WORKFLOW_TYPE}', '${GOAL_WORKFLOW_TYPE}') AND ExecutionStatus != 'ContinuedAsNew'`;
    const wanted = options.status;
    if (wanted === 'waiting' || wanted === 'running') {
      if (!(await this.hasStatusAttribute())) {
        throw new TrellisClientError(
          'LIST_UNSUPPORTED',
          `this server has no ${STATUS_SEARCH_ATTRIBUTE} search attribute; \`trellis dev\` registers it (or: temporal operator search-attribute create --name ${STATUS_SEARCH_ATTRIBUTE} --type Keyword)`,
        );
      }
      query += ` AND ExecutionStatus = 'Running'`;
      if (wanted === 'waiting') query += ` AND ${STATUS_SEARCH_ATTRIBUTE} = 'waiting'`;
    } else if (wanted !== undefined) query += ` AND ExecutionStatus = '${TEMPORAL_STATUS[wanted]}'`;
    const out: RunSummary[] = [];
    for await (const w of this.temporal.workflow.list({ query })) {
      const attr = w.searchAttributes?.[STATUS_SEARCH_ATTRIBUTE];
      const status: RunStatus =
        w.status.name === 'RUNNING' ? (Array.isArray(attr) && attr[0] === 'waiting' ? 'waiting' : 'running') : statusOf(w.status.name);
      if (wanted === 'running' && status !== 'running') continue;
      const name = typeof w.memo?.name === 'string' ? w.memo.name : w.workflowId;
      out.push({ runId: w.workflowId, name, status, startedAt: w.startTime.toISOString() });
      if (out.length >= (options.limit ?? 1000)) break;
    }
    return out;
  }

  /** Whether the server has the status search attribute (asked once per client). */
  private hasStatusAttribute(): Promise<boolean> {
    this.statusAttribute ??= hasStatusAttribute(this.connection.operatorService, this.config.namespace).catch(() => false);
    return this.statusAttribute;
  }

  private notFound(e: unknown, runId: string): unknown {
    const name = (e as Error)?.name;
    if (name === 'WorkflowNotFoundError') return new TrellisClientError('RUN_NOT_FOUND', `no run "${runId}"`);
    return e;
  }
}

function optionsArg(options: { maxParallel?: number; budget?: Budget }): { options?: RunOptions } {
  const o: RunOptions = {
    ...(options.maxParallel !== undefined && { maxParallel: options.maxParallel }),
    ...(options.budget !== undefined && { budget: options.budget }),
  };
  return Object.keys(o).length > 0 ? { options: o } : {};
}

function checkInput(spec: Spec, input: unknown): void {
  // Infinity and NaN would travel as null: they are not JSON.
  const problems = [
    ...nonFiniteNumbers(input).map((p) => problem('TYPE', ['input', ...p], `${describe(pathValue(input, p))}: not a number JSON can hold`)),
    ...inputProblems(spec.input, input),
  ].sort(compareProblems);
  if (problems.length > 0) throw new TrellisClientError('INPUT_INVALID', `invalid input:\n${problems.map(formatProblem).join('\n')}`, problems);
}

function goalRecord(r: GoalRecord): GoalRecord {
  return { ...(r.goal !== undefined && { goal: r.goal }), ...(r.spec && { spec: r.spec }), ...(r.earlierPlans && { earlierPlans: r.earlierPlans }) };
}

function pathValue(value: unknown, path: PathSegment[]): unknown {
  return path.reduce<unknown>((v, key) => (v as Record<PathSegment, unknown>)[key], value);
}

/** The fields every view of a run has, from Temporal's description of it. */
function baseView(runId: string, d: WorkflowExecutionDescription): RunView {
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

const TEMPORAL_STATUS: Record<Exclude<RunStatus, 'running' | 'waiting'>, string> = {
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  terminated: 'Terminated',
  timed_out: 'TimedOut',
};

/** A closed execution's Temporal status as a run status. */
function statusOf(name: string): Exclude<RunStatus, 'running' | 'waiting'> {
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
function runError(e: unknown, runId: string): TrellisRunError | undefined {
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
function refusalOf(cause: Error | undefined): Refusal | undefined {
  if (!(cause instanceof ApplicationFailure) || cause.type !== 'TrellisDecisionRefused') return undefined;
  const d = cause.details?.[0] as { code?: unknown } | undefined;
  const code = REFUSAL_CODES.includes(d?.code as RefusalCode) ? (d!.code as RefusalCode) : 'malformed';
  return { code, message: cause.message };
}
