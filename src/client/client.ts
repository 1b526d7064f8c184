/**
 * The typed client that services use: start a run (validated first: an invalid spec starts nothing, and an id
 * that already has a run starts nothing either), answer approvals, read a run's status (an ended run's from its
 * history, with no worker), list runs, cancel, wait for the result.
 */
import { randomUUID } from 'node:crypto';
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { connectionOptions, temporalConfigFromEnv, type TemporalConfig } from '../config.js';
import type { ApprovalResult, GoalArgs, GoalResult, RunArgs, RunOptions, RunResult, RunView } from '../engine/messages.js';
import type { RunStatus } from '../engine/state.js';
import type { ToolCatalog } from '../spec/catalog.js';
import { describe } from '../spec/describe.js';
import { nonFiniteNumbers } from '../spec/parse.js';
import { compareProblems, formatProblem, problem, type PathSegment } from '../spec/problems.js';
import { inputProblems } from '../spec/input.js';
import type { Budget, Spec } from '../spec/schema.js';
import { validateSpec } from '../spec/validate/index.js';
import { hasStatusAttribute, STATUS_SEARCH_ATTRIBUTE } from '../temporal/status-attribute.js';
import { decideUpdate, GOAL_WORKFLOW_TYPE, statusQuery, WORKFLOW_TYPE } from '../workflows/definitions.js';
import { baseView, endedRunView, refusalOf, runError, statusOf, TEMPORAL_STATUS } from './ended-run.js';
import { TrellisClientError } from './errors.js';
import { RunHandle, type Answer } from './handle.js';
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

/** How long status() waits for a worker to answer the status query of a run that has not ended. */
const QUERY_DEADLINE_MS = 10_000;

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
    if (described.status.name !== 'RUNNING') return endedRunView(handle, described).catch((e: unknown) => Promise.reject(this.notFound(e, runId)));
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

function pathValue(value: unknown, path: PathSegment[]): unknown {
  return path.reduce<unknown>((v, key) => (v as Record<PathSegment, unknown>)[key], value);
}
