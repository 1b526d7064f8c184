/**
 * The typed client that services use: start a run (validated first: an invalid spec starts nothing), answer
 * approvals, read a run's status, list runs, cancel, wait for the result.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { connectionOptions, temporalConfigFromEnv, type TemporalConfig } from '../config.js';
import type { ApprovalResult, GoalArgs, GoalResult, RunArgs, RunOptions, RunResult, RunView } from '../engine/messages.js';
import type { RunStatus } from '../engine/state.js';
import type { ToolCatalog } from '../spec/catalog.js';
import type { Problem } from '../spec/problems.js';
import { formatProblem } from '../spec/problems.js';
import { inputProblems } from '../spec/input.js';
import type { Budget, Spec } from '../spec/schema.js';
import { validateSpec } from '../spec/validate.js';
import { hasStatusAttribute, STATUS_SEARCH_ATTRIBUTE } from '../temporal/status-attribute.js';
import { decideUpdate, GOAL_WORKFLOW_TYPE, statusQuery, WORKFLOW_TYPE } from '../workflows/definitions.js';
import { slug } from './run-id.js';

export { STATUS_SEARCH_ATTRIBUTE };

export type ClientErrorCode =
  'SPEC_INVALID' | 'INPUT_INVALID' | 'RUN_EXISTS' | 'RUN_NOT_FOUND' | 'APPROVAL_REFUSED' | 'NO_CONNECTION' | 'LIST_UNSUPPORTED';

export class TrellisClientError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
    this.name = 'TrellisClientError';
  }
}

export interface StartOptions {
  input?: unknown;
  /** The run id (the Temporal workflow id). Default: the spec's name and a random suffix. */
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

  /** Validates the spec and the input, then starts the run. Returns its id. */
  async start(spec: unknown, options: StartOptions = {}): Promise<string> {
    const valid = validateSpec(spec, options.tools ? { tools: options.tools } : {});
    if (!valid.ok) {
      throw new TrellisClientError('SPEC_INVALID', `invalid spec:\n${valid.problems.map(formatProblem).join('\n')}`, valid.problems);
    }
    const input = options.input ?? null;
    checkInput(valid.spec, input);
    const runId = options.id ?? `${slug(valid.spec.name)}-${randomUUID().slice(0, 8)}`;
    const args: RunArgs = { spec: valid.spec, input, options: await this.runOptions(options) };
    await this.startWorkflow(WORKFLOW_TYPE, runId, args, {
      name: valid.spec.name,
      summary: `${valid.spec.name}${valid.spec.description ? `: ${valid.spec.description}` : ''}`,
      details: `**Input**\n\n\`\`\`json\n${JSON.stringify(input, null, 2).slice(0, 4000)}\n\`\`\`\n\n**Steps**: ${valid.spec.steps.map((s) => `${s.id} (${s.kind})`).join(', ')}`,
    });
    return runId;
  }

  /**
   * Starts a goal run: the worker's planner writes a spec for the goal from its tools, it is validated, a
   * person approves it first with `review`, then it runs, all in one durable run. Returns its id.
   */
  async startGoal(goal: string, options: StartGoalOptions = {}): Promise<string> {
    if (goal.trim() === '') throw new TrellisClientError('SPEC_INVALID', 'the goal is empty: say what the run should achieve');
    const runId = options.id ?? `goal-${randomUUID().slice(0, 8)}`;
    const args: GoalArgs = {
      goal,
      ...(options.input !== undefined && { input: options.input }),
      ...(options.review && { review: true }),
      ...(options.maxPlans !== undefined && { maxPlans: options.maxPlans }),
      options: await this.runOptions(options),
    };
    await this.startWorkflow(GOAL_WORKFLOW_TYPE, runId, args, {
      name: `goal: ${goal}`.slice(0, 200),
      summary: `goal: ${goal}`,
      details: `**Goal**\n\n${goal}\n\n**Input**\n\n\`\`\`json\n${JSON.stringify(options.input ?? null, null, 2).slice(0, 4000)}\n\`\`\`${options.review ? '\n\nThe plan waits for a review (step `plan`).' : ''}`,
    });
    return runId;
  }

  private async runOptions(options: { maxParallel?: number; budget?: Budget }): Promise<RunOptions> {
    const hasAttribute = await this.hasStatusAttribute();
    return {
      ...(options.maxParallel !== undefined && { maxParallel: options.maxParallel }),
      ...(options.budget !== undefined && { budget: options.budget }),
      ...(hasAttribute && { statusSearchAttribute: STATUS_SEARCH_ATTRIBUTE }),
    };
  }

  private async startWorkflow(type: string, runId: string, args: RunArgs | GoalArgs, shown: { name: string; summary: string; details: string }) {
    const hasAttribute = await this.hasStatusAttribute();
    try {
      await this.temporal.workflow.start(type, {
        taskQueue: this.config.taskQueue,
        workflowId: runId,
        args: [args],
        staticSummary: shown.summary.slice(0, 400),
        staticDetails: shown.details,
        memo: { name: shown.name },
        ...(hasAttribute && { searchAttributes: { [STATUS_SEARCH_ATTRIBUTE]: ['running'] } }),
      });
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) throw new TrellisClientError('RUN_EXISTS', `a run with id "${runId}" already exists`);
      throw e;
    }
  }

  /** Answers a waiting step; refused (APPROVAL_REFUSED, with the reason) when the step is not waiting or the person may not answer. */
  async approve(runId: string, step: string, answer: { by?: string; comment?: string } = {}): Promise<ApprovalResult> {
    return this.decide(runId, step, true, answer);
  }

  async deny(runId: string, step: string, answer: { by?: string; comment?: string } = {}): Promise<ApprovalResult> {
    return this.decide(runId, step, false, answer);
  }

  private async decide(runId: string, step: string, approved: boolean, answer: { by?: string; comment?: string }): Promise<ApprovalResult> {
    const handle = this.temporal.workflow.getHandle(runId);
    try {
      return await handle.executeUpdate(decideUpdate, { args: [{ step, approved, ...answer }] });
    } catch (e) {
      if (e instanceof WorkflowUpdateFailedError)
        throw new TrellisClientError('APPROVAL_REFUSED', (e.cause as Error | undefined)?.message ?? e.message);
      // An update to a run that has ended reads as "not found": say which it is.
      const ended = await handle.describe().then(
        (d) => (d.status.name === 'RUNNING' ? undefined : d.status.name.toLowerCase()),
        () => undefined,
      );
      if (ended) throw new TrellisClientError('APPROVAL_REFUSED', `run "${runId}" has ended (${ended}); step "${step}" takes no answer`);
      throw this.notFound(e, runId);
    }
  }

  /** The run's status, each step's status and output, the pending approvals. Works for ended runs too. */
  async status(runId: string): Promise<RunView> {
    const handle = this.temporal.workflow.getHandle(runId);
    try {
      const view = await handle.query(statusQuery);
      return view;
    } catch (e) {
      throw this.notFound(e, runId);
    }
  }

  /** Waits for the run to end; a failed run throws with the step and the cause. */
  async result(runId: string): Promise<RunResult | GoalResult> {
    try {
      return (await this.temporal.workflow.getHandle(runId).result()) as RunResult | GoalResult;
    } catch (e) {
      if (e instanceof WorkflowFailedError) throw new Error((e.cause as Error | undefined)?.message ?? e.message, { cause: e });
      throw this.notFound(e, runId);
    }
  }

  async cancel(runId: string): Promise<void> {
    try {
      await this.temporal.workflow.getHandle(runId).cancel();
    } catch (e) {
      throw this.notFound(e, runId);
    }
  }

  /** Runs, newest first; a status filter is a visibility query on the TrellisStatus search attribute. */
  async list(options: { status?: RunStatus; limit?: number } = {}): Promise<RunSummary[]> {
    let query = `WorkflowType IN ('${WORKFLOW_TYPE}', '${GOAL_WORKFLOW_TYPE}')`;
    if (options.status) {
      if (!(await this.hasStatusAttribute())) {
        throw new TrellisClientError(
          'LIST_UNSUPPORTED',
          `this server has no ${STATUS_SEARCH_ATTRIBUTE} search attribute; \`trellis dev\` registers it (or: temporal operator search-attribute create --name ${STATUS_SEARCH_ATTRIBUTE} --type Keyword)`,
        );
      }
      query += ` AND ${STATUS_SEARCH_ATTRIBUTE} = '${options.status}'`;
    }
    const out: RunSummary[] = [];
    for await (const w of this.temporal.workflow.list({ query })) {
      const attr = w.searchAttributes?.[STATUS_SEARCH_ATTRIBUTE];
      const status = (Array.isArray(attr) ? attr[0] : undefined) as RunStatus | undefined;
      const name = typeof w.memo?.name === 'string' ? w.memo.name : w.workflowId;
      out.push({ runId: w.workflowId, name, status: status ?? executionStatus(w.status.name), startedAt: w.startTime.toISOString() });
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

function checkInput(spec: Spec, input: unknown): void {
  const problems = inputProblems(spec.input, input);
  if (problems.length > 0) throw new TrellisClientError('INPUT_INVALID', `invalid input:\n${problems.map(formatProblem).join('\n')}`, problems);
}

function executionStatus(name: string): RunStatus {
  switch (name) {
    case 'COMPLETED':
      return 'completed';
    case 'CANCELLED':
      return 'cancelled';
    case 'RUNNING':
      return 'running';
    default:
      return 'failed';
  }
}
