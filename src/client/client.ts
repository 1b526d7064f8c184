/**
 * The typed client that services use: start a run (validated first: an invalid spec starts nothing, and an id
 * that already has a run starts nothing either), answer approvals, read a run's status (an ended run's from its
 * history, with no worker), list runs, cancel, wait for the result.
 */
import { fitView } from '../engine/payload.js';
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { checkDecisionKey, connectionOptions, decisionKeyFromEnv, temporalConfig, type TemporalConfig } from '../config.js';
import { blobSettingsFromEnv, type BlobSettings } from '../blobs/config.js';
import { dataConverterFor, encryptionKeysFromEnv, ForgivingCodec, payloadCodecsFor, type EncryptionKeys } from '../codec/index.js';
import { signDecision } from '../engine/decision-signature.js';
import type {
  ApprovalDecision,
  ApprovalResult,
  GoalResult,
  PendingApproval,
  RunArgs,
  RunEvent,
  RunEvents,
  RunResult,
  RunView,
} from '../engine/messages.js';
import type { Spec } from '../spec/schema.js';
import type { RunStatus, TokenUsage } from '../engine/state.js';
import type { Cost } from '../pricing/cost.js';
import { hasStatusAttribute, STATUS_SEARCH_ATTRIBUTE } from '../temporal/status-attribute.js';
import { decideUpdate, eventsQuery, GOAL_WORKFLOW_TYPE, PENDING_MEMO, statusQuery, USAGE_MEMO, WORKFLOW_TYPE } from '../workflows/definitions.js';
import { baseView, endedRunView, refusalOf, runError, statusOf, TEMPORAL_STATUS } from './ended-run.js';
import { TrellisClientError } from './errors.js';
import { flushTracing, startTracing } from '../telemetry/setup.js';
import { tracingClientInterceptors } from '../telemetry/temporal.js';
import { RunHandle, type Answer } from './handle.js';
import { goalStart, specStart, type StartGoalOptions, type StartOptions, type WorkflowStart } from './start-args.js';
import { watchEvents, type WatchOptions } from './watch.js';

export { STATUS_SEARCH_ATTRIBUTE };

/** gRPC's NOT_FOUND status code. */
const GRPC_NOT_FOUND = 5;

/** The seq of an ended run's end when no worker can give its events. */
const ENDED_SEQ = Number.MAX_SAFE_INTEGER;

/** How the client answers: beside where Temporal is (TemporalConfig). */
export interface ClientOptions {
  /** Signs every answer with this key (at least 32 characters), as a worker with TRELLIS_DECISION_KEY requires. Default: TRELLIS_DECISION_KEY. */
  decisionKey?: string;
  /**
   * Encrypts what it sends and decrypts what it reads with these keys, as the worker does; `null`: none. Default:
   * TRELLIS_ENCRYPTION_KEYS or TRELLIS_ENCRYPTION_KEY_FILE.
   */
  encryption?: EncryptionKeys | null;
  /**
   * The blob store the worker keeps large payloads in, to store what it sends and read what it gets; `null`: none.
   * Default: TRELLIS_BLOB_STORE and TRELLIS_BLOB_THRESHOLD (unset: the folder .trellis/blobs).
   */
  blobs?: BlobSettings | null;
}

/** One run, as list gives it. */
export interface RunSummary {
  /** The run's id (Temporal's workflow id). */
  runId: string;
  /** The spec's name (a goal run's: `goal: ...`); the id when the run has none. */
  name: string;
  status: RunStatus;
  /** When it started, as an ISO 8601 timestamp. */
  startedAt: string;
  /**
   * What a waiting run waits for, from its memo (no worker asked): each gate's step, title, args, approvers, deadline
   * and askedAt (details too, unless they are large); empty for a run that does not wait. Absent for a waiting run
   * that keeps no such memo (one started by an older Trellis): its status() says.
   */
  pending?: PendingApproval[];
  /** What an ended run used, from its memo (no worker asked); absent for a run that has not ended, or ended before Trellis kept it. */
  usage?: { tokens: TokenUsage; cost?: Cost };
}

/** How long status() waits for a worker to answer the status query of a run that has not ended. */
const QUERY_DEADLINE_MS = 10_000;

/**
 * The typed client of Trellis runs, on one namespace and task queue. Make one with TrellisClient.connect, keep it for
 * the life of the process, and close it at the end. Every method addresses a run by its id, so any process may
 * answer or read a run another one started.
 */
export class TrellisClient {
  private statusAttribute: Promise<boolean> | undefined;

  private constructor(
    /** The Temporal client underneath, for what this one does not do. */
    readonly temporal: Client,
    /** The settings it connected with: the environment's, overridden by connect's argument. */
    readonly config: TemporalConfig,
    private readonly connection: Connection,
    private readonly decisionKey: string | undefined,
    /** With a blob store, an ended run's view stays under its threshold, as a running one's status answer does. */
    private readonly viewBytes: number | undefined,
    /** The same, but a run whose memo this process cannot decode is listed without it (list). */
    private readonly listing: Client,
  ) {}

  /**
   * Connects with settings from the environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS,
   * TRELLIS_TASK_QUEUE), overridden by `config`. Gives up after 5 s. With a decision key (`options.decisionKey`, else
   * TRELLIS_DECISION_KEY) it signs every answer it sends, as a worker with that key requires.
   *
   * @throws {TrellisClientError} NO_CONNECTION when Temporal cannot be reached; {@link ConfigError} for a short key.
   * @example
   * ```ts
   * const trellis = await TrellisClient.connect({ address: 'temporal.internal:7233', taskQueue: 'support' });
   * ```
   */
  static async connect(config: Partial<TemporalConfig> = {}, options: ClientOptions = {}): Promise<TrellisClient> {
    const full = temporalConfig(config);
    if (options.decisionKey !== undefined) checkDecisionKey(options.decisionKey, 'decisionKey');
    const decisionKey = options.decisionKey ?? decisionKeyFromEnv();
    const encryption = options.encryption === undefined ? encryptionKeysFromEnv() : (options.encryption ?? undefined);
    let connection: Connection;
    try {
      connection = await Connection.connect({ ...connectionOptions(full), connectTimeout: 5_000 });
    } catch (e) {
      throw new TrellisClientError(
        'NO_CONNECTION',
        `cannot reach Temporal at ${full.address}: ${(e as Error).message}. Start one with \`trellis dev\` (or \`npm run temporal\`), or set TEMPORAL_ADDRESS.`,
      );
    }
    const blobs = options.blobs === undefined ? blobSettingsFromEnv() : (options.blobs ?? undefined);
    // Tracing from the OTEL_* variables: each run started here begins a trace (docs/observability.md).
    const interceptors = await tracingClientInterceptors(await startTracing({ encrypted: encryption !== undefined }));
    const client = new Client({
      connection,
      namespace: full.namespace,
      dataConverter: dataConverterFor(encryption, blobs),
      ...(interceptors && { interceptors }),
    });
    const listing = new Client({
      connection,
      namespace: full.namespace,
      dataConverter: { payloadCodecs: [new ForgivingCodec(payloadCodecsFor(encryption, blobs))] },
    });
    return new TrellisClient(client, full, connection, decisionKey, blobs?.thresholdBytes, listing);
  }

  /** Closes the connection; the client and its handles cannot be used after it. */
  async close(): Promise<void> {
    await flushTracing();
    await this.connection.close();
  }

  /**
   * A handle on a run by its id (it need not have been started by this client). Nothing is asked of Temporal until
   * the handle is used: an id without a run is RUN_NOT_FOUND then. `R` is GoalResult for a goal run.
   *
   * @example
   * ```ts
   * const run = trellis.getHandle(runId);
   * const view = await run.status();
   * ```
   */
  getHandle<R extends RunResult = RunResult>(runId: string): RunHandle<R> {
    return new RunHandle<R>(this, runId);
  }

  /**
   * Validates the spec (with `tools`, against the catalog too) and the input, then starts the run on the client's task
   * queue; it does not wait for the run (the handle's result() does). An id is one run, ever: an id that has a run,
   * running or ended, is refused, so no side effect is repeated.
   *
   * @throws {TrellisClientError} SPEC_INVALID (`problems` lists each), INPUT_INVALID or RUN_EXISTS; nothing starts.
   * @example
   * ```ts
   * const run = await trellis.start(spec, { input: { orderId: 'A-1004' }, tools: toolCatalog(tools) });
   * const { output } = await run.result();
   * ```
   */
  async start(spec: unknown, options: StartOptions = {}): Promise<RunHandle> {
    const start = specStart(spec, options);
    await this.startWorkflow(WORKFLOW_TYPE, start);
    return this.getHandle(start.runId);
  }

  /**
   * Starts a goal run: the worker's planner writes a spec for the goal from its tools, it is validated, a
   * person approves it first with `review`, then it runs, all in one durable run. The plan and the input are
   * checked by the worker, not here: a plan that stays invalid fails the run (PLAN_INVALID).
   *
   * @throws {TrellisClientError} SPEC_INVALID for an empty goal, RUN_EXISTS for an id that has a run.
   * @example
   * ```ts
   * const run = await trellis.startGoal('Refund order A-1004 if it arrived damaged', { input: { orderId: 'A-1004' }, review: true });
   * // ... once status() lists the step "plan" as pending:
   * await run.approve('plan', { by: 'alice' });
   * const { spec, output } = await run.result();
   * ```
   */
  async startGoal(goal: string, options: StartGoalOptions = {}): Promise<RunHandle<GoalResult>> {
    const start = goalStart(goal, options);
    await this.startWorkflow(GOAL_WORKFLOW_TYPE, start);
    return this.getHandle<GoalResult>(start.runId);
  }

  private async startWorkflow(type: string, { runId, args, shown }: WorkflowStart) {
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

  /**
   * Approves a waiting step: an approval step, a tool call its policy gates (addressed by the step's id), or a goal
   * run's plan (step "plan"). Resolves once the run has taken the answer, with the answer as recorded; a worker must
   * be running. `answer.by` is required.
   *
   * @throws {TrellisClientError} APPROVAL_REFUSED when the step may not be answered (`refusal`: not_waiting,
   *   not_an_approver, already_decided, malformed or anonymous); RUN_NOT_FOUND.
   * @example
   * ```ts
   * await trellis.approve(runId, 'ok', { by: 'alice', comment: 'photos confirm it' });
   * ```
   */
  async approve(runId: string, step: string, answer: Answer = {}): Promise<ApprovalResult> {
    return this.decide(runId, step, true, answer);
  }

  /**
   * Denies a waiting step, as approve approves it. A denial is an answer, not a failure: an approval step outputs
   * `approved: false`, a gated tool step is skipped, and a goal run's plan denied with a comment is planned again
   * (without one, the run fails with PLAN_DENIED).
   *
   * @throws {TrellisClientError} APPROVAL_REFUSED (with `refusal`), RUN_NOT_FOUND.
   * @example
   * ```ts
   * await trellis.deny(runId, 'plan', { by: 'alice', comment: 'check the warranty first' });
   * ```
   */
  async deny(runId: string, step: string, answer: Answer = {}): Promise<ApprovalResult> {
    return this.decide(runId, step, false, answer);
  }

  private async decide(runId: string, step: string, approved: boolean, answer: Answer): Promise<ApprovalResult> {
    const handle = this.temporal.workflow.getHandle(runId);
    try {
      return await handle.executeUpdate(decideUpdate, { args: [this.signed(runId, { step, approved, ...answer })] });
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

  /** The answer, signed when this client holds a decision key (an answer without `by` stays unsigned: it is refused anyway). */
  private signed(runId: string, d: ApprovalDecision): ApprovalDecision {
    if (this.decisionKey === undefined || d.by === undefined) return d;
    const at = new Date().toISOString();
    const fields = {
      run: runId,
      step: d.step,
      approved: d.approved,
      by: d.by,
      comment: d.comment ?? null,
      at,
      ...(d.groups && { groups: d.groups }),
    };
    return { ...d, at, signature: signDecision(this.decisionKey, fields) };
  }

  /**
   * The run's events after `after` (a seq; default 0): steps started, completed, failed, waiting and decided, and
   * the run's end, at most 500 at a time (`next` is where to go on). A run that has ended with no worker to answer
   * gives its end only, with the seq Number.MAX_SAFE_INTEGER (after it: nothing, and `ended`).
   *
   * @throws {TrellisClientError} RUN_NOT_FOUND.
   * @example
   * ```ts
   * let after = 0;
   * for (;;) { const { events, next, ended } = await trellis.events(runId, after); after = next; if (ended) break; }
   * ```
   */
  async events(runId: string, after = 0): Promise<RunEvents> {
    const { handle, described } = await this.described(runId);
    try {
      return await this.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(eventsQuery, { after }));
    } catch (e) {
      if (described.status.name === 'RUNNING')
        throw new TrellisClientError('NO_WORKER', `no worker answered the events query of ${runId}: ${(e as Error).message}`);
      // Its end alone, under the last seq there is: a reader that resumes after it is told the run has ended, once.
      if (after >= ENDED_SEQ) return { events: [], next: after, ended: true };
      const view = await this.status(runId);
      const at = (described.closeTime ?? new Date()).toISOString();
      const data = { status: view.status, ...(view.error !== undefined && { error: view.error }) };
      return { events: [{ seq: ENDED_SEQ, type: 'run.ended', at, data }], next: ENDED_SEQ, ended: true };
    }
  }

  /**
   * The run's events as they happen, in order and each once, from after `options.after` (default: the first) to
   * `run.ended`, where the iteration ends. Read through the events query alone, so watching adds nothing to the
   * run's history; while the run is quiet it asks less often (every 250 ms, doubling up to 2 s). A run that has
   * ended gives the events its worker still answers with, or, with no worker, its `run.ended` alone (seq
   * Number.MAX_SAFE_INTEGER). `options.signal` ends the iteration early.
   *
   * @throws {TrellisClientError} RUN_NOT_FOUND; NO_WORKER when no worker answers for a run that has not ended.
   * @example
   * ```ts
   * for await (const e of trellis.watch(runId)) console.log(e.seq, e.type, e.step ?? '');
   * ```
   */
  watch(runId: string, options: WatchOptions = {}): AsyncIterableIterator<RunEvent> {
    return watchEvents((id, after) => this.events(id, after), runId, options);
  }

  /**
   * The input the run was started with (null when it has none), from the first event of its history: what a person
   * deciding on it wants to see, running or ended, with no worker asked.
   *
   * @throws {TrellisClientError} RUN_NOT_FOUND.
   */
  async input(runId: string): Promise<unknown> {
    const args = await this.startArgs(runId);
    return args !== null && typeof args === 'object' && Object.hasOwn(args, 'input') ? ((args as { input?: unknown }).input ?? null) : null;
  }

  /**
   * The spec the run runs: a spec run's, from the first event of its history; a goal run's plan, from its status
   * (undefined before it has one).
   *
   * @throws {TrellisClientError} RUN_NOT_FOUND.
   */
  async spec(runId: string): Promise<Spec | undefined> {
    const args = (await this.startArgs(runId)) as Partial<RunArgs> | null;
    if (args !== null && typeof args === 'object' && args.spec) return args.spec;
    return (await this.status(runId)).spec;
  }

  /** The argument the run was started with (RunArgs or GoalArgs), decoded; null when it has none. */
  private async startArgs(runId: string): Promise<unknown> {
    let response;
    try {
      response = await this.temporal.workflowService.getWorkflowExecutionHistory({
        namespace: this.config.namespace,
        execution: { workflowId: runId },
        maximumPageSize: 1,
      });
    } catch (e) {
      if ((e as { code?: number }).code === GRPC_NOT_FOUND) throw new TrellisClientError('RUN_NOT_FOUND', `no run "${runId}"`);
      throw e;
    }
    const payload = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    if (!payload) return null;
    const { payloadCodecs, payloadConverter } = this.temporal.options.loadedDataConverter;
    let decoded = [payload];
    for (const codec of [...payloadCodecs].reverse()) decoded = await codec.decode(decoded);
    return payloadConverter.fromPayload(decoded[0]!);
  }

  /**
   * The run's status, each step's status and output, what it waits for. A run that has ended is read from its
   * history (its result, its failure's details, or a cancelled run's memo): no worker is needed. A running run is
   * asked through the status query; when no worker answers it within 10 s, the view says so in `error`. With a blob
   * store, outputs too large for its threshold are left out of the view, each with its size (`omitted`): result() has them.
   *
   * @throws {TrellisClientError} RUN_NOT_FOUND.
   * @example
   * ```ts
   * const view = await trellis.status(runId);
   * for (const p of view.pending) console.log(`${p.step}: ${p.title}`);
   * ```
   */
  async status(runId: string): Promise<RunView> {
    const { handle, described } = await this.described(runId);
    if (described.status.name !== 'RUNNING') {
      const view = await endedRunView(handle, described).catch((e: unknown) => Promise.reject(this.notFound(e, runId)));
      return this.viewBytes === undefined ? view : fitView(view, this.viewBytes);
    }
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

  /**
   * Waits for the run to end and gives its result (a GoalResult for a goal run).
   *
   * @throws {TrellisRunError} for a run that did not complete: `code` is its failure's (STEP_FAILED,
   *   BUDGET_EXCEEDED, ...) or CANCELLED, TERMINATED, TIMED_OUT; `run` has the step, the reason, the problems and the
   *   usage. {@link TrellisClientError} RUN_NOT_FOUND.
   * @example
   * ```ts
   * try {
   *   const { output } = await trellis.result(runId);
   * } catch (e) {
   *   if (e instanceof TrellisRunError) console.error(e.code, e.run.step, e.run.reason);
   *   else throw e;
   * }
   * ```
   */
  async result(runId: string): Promise<RunResult | GoalResult> {
    try {
      return (await this.temporal.workflow.getHandle(runId).result()) as RunResult | GoalResult;
    } catch (e) {
      throw runError(e, runId) ?? this.notFound(e, runId);
    }
  }

  /**
   * Asks the run to cancel, and returns without waiting for it to end; it then ends `cancelled`, and result() throws a
   * TrellisRunError with code CANCELLED.
   *
   * @throws {TrellisClientError} RUN_NOT_FOUND.
   * @example
   * ```ts
   * await trellis.cancel(runId);
   * ```
   */
  async cancel(runId: string): Promise<void> {
    try {
      await this.temporal.workflow.getHandle(runId).cancel();
    } catch (e) {
      throw this.notFound(e, runId);
    }
  }

  /**
   * Runs, newest first. An ended run's status is Temporal's (completed, failed, cancelled, terminated, timed_out); a
   * running one's is the TrellisStatus search attribute's (running or waiting). `limit` defaults to 1,000.
   *
   * @throws {TrellisClientError} LIST_UNSUPPORTED for `status: 'running'` or `'waiting'` on a server without the
   *   TrellisStatus search attribute.
   * @example
   * ```ts
   * const waiting = await trellis.list({ status: 'waiting', limit: 20 });
   * ```
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
    for await (const w of this.listing.workflow.list({ query })) {
      const attr = w.searchAttributes?.[STATUS_SEARCH_ATTRIBUTE];
      const status: RunStatus =
        w.status.name === 'RUNNING' ? (Array.isArray(attr) && attr[0] === 'waiting' ? 'waiting' : 'running') : statusOf(w.status.name);
      if (wanted === 'running' && status !== 'running') continue;
      const name = typeof w.memo?.name === 'string' ? w.memo.name : w.workflowId;
      const pending = w.memo?.[PENDING_MEMO];
      const usage = w.memo?.[USAGE_MEMO] as RunSummary['usage'] | undefined;
      out.push({
        runId: w.workflowId,
        name,
        status,
        startedAt: w.startTime.toISOString(),
        // Only a waiting run waits for anyone; a waiting run without the memo (an older Trellis's) leaves it unsaid.
        ...(status !== 'waiting' ? { pending: [] } : Array.isArray(pending) && { pending: pending as PendingApproval[] }),
        ...(usage !== null && typeof usage === 'object' && { usage }),
      });
      if (out.length >= (options.limit ?? 1000)) break;
    }
    return out;
  }

  /** Whether the server has the status search attribute (asked once per client). */
  private hasStatusAttribute(): Promise<boolean> {
    this.statusAttribute ??= hasStatusAttribute(this.connection.operatorService, this.config.namespace).catch(() => false);
    return this.statusAttribute;
  }

  /** The run's handle and its description; RUN_NOT_FOUND for an id without a run. */
  private async described(runId: string): Promise<{ handle: WorkflowHandle; described: WorkflowExecutionDescription }> {
    const handle = this.temporal.workflow.getHandle(runId);
    try {
      return { handle, described: await handle.describe() };
    } catch (e) {
      throw this.notFound(e, runId);
    }
  }

  private notFound(e: unknown, runId: string): unknown {
    const name = (e as Error)?.name;
    if (name === 'WorkflowNotFoundError') return new TrellisClientError('RUN_NOT_FOUND', `no run "${runId}"`);
    return e;
  }
}
