/**
 * What one workflow execution keeps while it runs specs: the steps' states, the people it waits for, the
 * tokens, step executions and history it has used against its budget, its status; and the signal, update and
 * query handlers that read and answer them. The interpreter (trellisRun) runs one spec in a session; a goal run
 * (trellisGoal) plans and runs one or more specs in the same session, so its status and approvals keep the
 * same contract.
 */
import * as wf from '@temporalio/workflow';
import { readDecision, refusalFor, type AnswerContext, type Refusal } from '../engine/decision.js';
import type {
  ApprovalDecision,
  ApprovalResult,
  EarlierPlan,
  GoalRecord,
  NotifyEvent,
  PendingApproval,
  RefusedAnswer,
  RunOptions,
  RunEventType,
  RunProblem,
  RunView,
  WorkerFacts,
} from '../engine/messages.js';
import { DEFAULT_PAYLOAD_LIMITS, fitView, jsonBytes } from '../engine/payload.js';
import { ENDED_RUN, type RunStatus, type StepState, type TokenUsage } from '../engine/state.js';
import type { Cost } from '../pricing/cost.js';
import { TrellisError } from '../errors.js';
import type { CostMeter } from '../spec/expression.js';
import { formatDuration } from '../spec/duration.js';
import { EXPRESSION_LIMITS } from '../spec/limits.js';
import type { Budget, Spec } from '../spec/schema.js';
import { oneLine } from '../spec/text.js';
import { RunBudget } from './budget.js';
import { refusedDetails, usageDetails, waitingDetails } from './current-details.js';
import { workerDecisionKey } from './decision-key.js';
import { approveSignal, decideUpdate, eventsQuery, FINAL_VIEW_MEMO, PENDING_MEMO, statusQuery, USAGE_MEMO } from './definitions.js';
import { RunMetrics } from './metrics.js';
import { EventLog } from './run-events.js';
import { inApprovalSpan } from '../telemetry/workflow-spans.js';
import type { Activities } from './step-context.js';

// Temporal replaces Date inside workflows with the deterministic workflow clock, and this is the one clock read
// workflow code has (the determinism lint rule points everything else here).
// eslint-disable-next-line no-restricted-syntax
export const workflowClockMs = (): number => Date.now(); // replay-safe: the workflow clock
export const workflowNow = (): string => new Date(workflowClockMs()).toISOString();

export interface Gate extends PendingApproval {
  decision?: ApprovalResult;
  /** An approval step's `remind`: run.waiting is sent again after this long without an answer. */
  remindMs?: number;
}

/** A person asked for a new plan: what had not started yet, or waited for a person, is withdrawn. */
export class Withdrawn extends TrellisError {
  constructor() {
    super('WITHDRAWN', 'withdrawn: a person asked for a new plan');
  }
}

/** Refused signals kept for the status view and the UI's current details. */
const MAX_REFUSED = 20;

/** The view of a cancelled run kept in its memo (so its status needs no worker), at most this big. */
const FINAL_VIEW_BYTES = 64 * 1024;

export class RunSession {
  status: RunStatus = 'running';
  steps: Record<string, StepState> = {};
  readonly gates = new Map<string, Gate>();
  output: unknown = null;
  error: string | undefined;
  /** Set when the worker refused the run's argument. */
  problems: RunProblem[] | undefined;
  readonly refused: RefusedAnswer[] = [];
  name: string;
  /** Bumped on every change a waiting loop must look at. */
  version = 0;
  options: RunOptions = {};
  /** What the worker said before the first step: its limits, whether the status search attribute exists. */
  worker: WorkerFacts = { limits: DEFAULT_PAYLOAD_LIMITS };
  /** What the run may use and has used: LLM tokens, step executions, history. */
  readonly budget = new RunBudget(() => this.worker);
  /** What the run's expressions may cost together (every plan's, in a goal run): deterministic, so replay-safe. */
  readonly expressions: CostMeter = { spent: 0, limit: EXPRESSION_LIMITS.maxRunCost, name: "the run's expression budget" };
  /** Set by a goal run: the goal, the plan being reviewed or run, and the plans replaced before it. */
  goal: { goal: string; spec?: Spec; earlier: EarlierPlan[] } | undefined;
  /** Called with every answer a person gives (after it is recorded). */
  onAnswer: ((gate: Gate) => void) | undefined;
  /** True once a person asked for a new plan (goal runs): nothing new starts, waits for people are withdrawn. */
  stopping: () => boolean = () => false;
  private announced = false;
  /** Gated calls of one step wait for a person one after the other (an agent may ask for several at once). */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly people = wf.proxyActivities<Activities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 3 } });
  /** What the events query answers. */
  readonly events = new EventLog();
  /** Trellis's metrics of the run, read off its events. */
  private readonly metrics = new RunMetrics();
  /** Notifications not yet delivered; the run's end waits for them. */
  private readonly sending = new Set<Promise<unknown>>();
  private notified = 0;
  /** The pending list last written to the memo, as JSON. */
  private pendingMemo = '[]';

  constructor(name: string) {
    this.name = name;
  }

  /** The run's own options and the worker's facts, once the worker has checked the argument. */
  configure(options: RunOptions | undefined, worker: WorkerFacts): void {
    this.options = options ?? {};
    this.worker = worker;
  }

  /** The spec's budget with the run's own caps and the worker's limits: the smaller of each applies. */
  useBudget(spec: Budget | undefined): void {
    this.budget.use(this.options.budget, spec);
  }

  /** The status query, the approve signal and the decide update. */
  install(): void {
    wf.setHandler(statusQuery, () => this.fittedView(this.answerBytes()));
    wf.setHandler(eventsQuery, (arg) => this.events.after(arg?.after, this.answerBytes()));
    wf.setHandler(approveSignal, (raw) => {
      const checked = this.check(raw);
      if ('refusal' in checked) this.recordRefusal(raw, checked.refusal);
      else this.answer(checked.decision);
    });
    wf.setHandler(
      decideUpdate,
      (raw) => {
        // Validators do not run on replay: the handler reads the answer again rather than trusting the validator.
        const checked = this.check(raw);
        if ('refusal' in checked) throw refusedFailure(checked.refusal);
        return this.answer(checked.decision);
      },
      {
        validator: (raw) => {
          const checked = this.check(raw);
          if ('refusal' in checked) throw refusedFailure(checked.refusal);
        },
      },
    );
  }

  view(): RunView {
    const info = wf.workflowInfo();
    const ended = ENDED_RUN.has(this.status);
    return {
      runId: info.workflowId,
      temporalRunId: info.runId,
      name: this.name,
      status: this.status,
      steps: this.steps,
      pending: ended ? [] : [...this.gates.values()].filter((g) => !g.decision).map(({ decision: _d, ...g }) => g),
      output: this.output,
      ...(this.error !== undefined && { error: this.error }),
      ...(this.problems !== undefined && { problems: this.problems }),
      ...(this.refused.length > 0 && { refused: this.refused }),
      tokens: this.budget.tokens,
      ...(this.budget.cost && { cost: this.budget.cost }),
      executed: this.budget.executed,
      ...this.goalRecord(),
    };
  }

  /** A goal run's goal, plan and replaced plans (nothing for other runs). */
  goalRecord(): GoalRecord {
    if (!this.goal) return {};
    return {
      goal: this.goal.goal,
      ...(this.goal.spec && { spec: this.goal.spec }),
      ...(this.goal.earlier.length > 0 && { earlierPlans: this.goal.earlier }),
    };
  }

  /**
   * The most a query's answer holds: the payload limit, or with a blob store a little under its threshold, so a
   * status or an event page is never a blob to fetch (the outputs it leaves out say their sizes; the result has them).
   */
  answerBytes(): number {
    const { payloadBytes, storedAboveBytes } = this.worker.limits;
    return storedAboveBytes === undefined ? payloadBytes : Math.min(payloadBytes, Math.max(1024, storedAboveBytes - 512));
  }

  /**
   * The view within `maxBytes` (default: the payload limit): the largest step outputs are left out first (each
   * saying its size), then replaced plans and the plan itself, then the output.
   */
  fittedView(maxBytes = this.worker.limits.payloadBytes): RunView {
    return fitView(this.view(), maxBytes);
  }

  /**
   * The first status, written to the search attribute once (later changes go through setStatus), and the run's name
   * in its memo when the client that started it did not put it there (a raw Temporal client, say).
   */
  announce(): void {
    if (this.announced) return;
    this.announced = true;
    const attribute = this.worker.statusSearchAttribute;
    if (attribute) wf.upsertSearchAttributes({ [attribute]: [this.status] });
    if (typeof wf.workflowInfo().memo?.name !== 'string') wf.upsertMemo({ name: this.name });
  }

  setStatus(next: RunStatus): void {
    if (next === this.status) return;
    this.status = next;
    const attribute = this.worker.statusSearchAttribute;
    if (attribute && this.announced) wf.upsertSearchAttributes({ [attribute]: [next] });
  }

  /** Running, or waiting while anyone is asked; the UI's current details say what is asked, and of whom. */
  refreshStatus(running = `Running ${this.name}`): void {
    const waiting = [...this.gates.values()].filter((g) => !g.decision);
    this.setStatus(waiting.length > 0 ? 'waiting' : 'running');
    const parts = [waiting.length === 0 ? running : waitingDetails(wf.workflowInfo().workflowId, waiting, workerDecisionKey() !== undefined)];
    if (this.refused.length > 0) parts.push(refusedDetails(this.refused));
    wf.setCurrentDetails(parts.join('\n\n'));
    this.memoPending(waiting);
  }

  /** What the run waits for, in its memo when it changes (runs started before this existed keep their history as it was). */
  private memoPending(waiting: readonly Gate[]): void {
    const pending = pendingMemo(waiting);
    const text = JSON.stringify(pending);
    if (text === this.pendingMemo || !wf.patched(PENDING_MEMO)) return;
    this.pendingMemo = text;
    wf.upsertMemo({ [PENDING_MEMO]: pending });
  }

  /**
   * The run has ended: what still ran or waited is cancelled, what had not started is skipped, nobody is asked any
   * more, and the UI's current details say how it ended. A cancelled run keeps its final view in its memo, since a
   * cancellation carries no details of its own: its status needs no worker.
   */
  end(status: Extract<RunStatus, 'completed' | 'failed' | 'cancelled'>): void {
    const why = status === 'cancelled' ? 'the run was cancelled' : `the run ${status}`;
    for (const s of Object.values(this.steps)) {
      if (s.status === 'running' || s.status === 'waiting') Object.assign(s, { status: 'cancelled', reason: why });
      else if (s.status === 'pending') Object.assign(s, { status: 'skipped', reason: why });
    }
    this.setStatus(status);
    this.memoPending([]);
    wf.setCurrentDetails(
      `${status === 'completed' ? `Completed ${this.name}` : `${status === 'failed' ? 'Failed' : 'Cancelled'}: ${this.error ?? this.name}`}\n\n${usageDetails(this.usage())}`,
    );
    // What the run used, for `list` (runs started before this existed keep their history as it was).
    if (wf.patched(USAGE_MEMO)) wf.upsertMemo({ [USAGE_MEMO]: this.usage() });
    if (status === 'cancelled') {
      const { runId: _r, temporalRunId: _t, name: _n, status: _s, pending: _p, output: _o, ...kept } = this.fittedView(FINAL_VIEW_BYTES);
      wf.upsertMemo({ [FINAL_VIEW_MEMO]: kept });
    }
    this.event('run.ended', undefined, {
      status,
      ...(status !== 'completed' && this.error !== undefined && { error: oneLine(this.error, 2000) }),
      usage: this.usage(),
    });
    this.notify({ type: `run.${status}`, ...(status !== 'completed' && this.error !== undefined && { error: oneLine(this.error, 2000) }) });
  }

  /** The run's tokens and their cost so far, as its events carry them. */
  usage(): { tokens: TokenUsage; cost?: Cost } {
    return { tokens: this.budget.tokens, ...(this.budget.cost && { cost: this.budget.cost }) };
  }

  /** A step's end, for its event: what it says, with the step's tokens and cost when it called a model, and the run's usage. */
  stepEnded(type: 'step.completed' | 'step.failed', id: string, data: Record<string, unknown>): void {
    const state = this.steps[id];
    this.event(type, id, {
      ...data,
      ...(state?.tokens && { tokens: state.tokens }),
      ...(state?.cost && { cost: state.cost }),
      usage: this.usage(),
    });
  }

  /** Records an event of the run (the events query, `trellis serve`'s stream). */
  event(type: RunEventType, step?: string, data?: Record<string, unknown>): void {
    const atMs = workflowClockMs();
    this.events.add(type, new Date(atMs).toISOString(), step, data);
    this.metrics.observe(type, atMs, step, data);
  }

  /**
   * Sends a notification through the notify activity when the worker has webhooks: retried by Temporal, never
   * awaited here (a wait for a person starts at once), not cancelled with the run (a cancelled run still says so).
   */
  private notify(event: Omit<NotifyEvent, 'id' | 'at' | 'run'>): void {
    if (!this.worker.notify) return;
    const info = wf.workflowInfo();
    // Temporal's run id is unique to this execution: the id is the same on every retry and replay, and no other event has it.
    const full: NotifyEvent = {
      id: `msg_${info.runId}_${++this.notified}`,
      at: workflowNow(),
      run: { id: info.workflowId, name: this.name },
      ...event,
    };
    const sent = wf.CancellationScope.nonCancellable(() =>
      this.people.notify.executeWithOptions(
        {
          startToCloseTimeout: '30s',
          retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 8 },
          summary: summary(`notify ${event.type}${event.pending ? `: ${event.pending.step}` : ''}`),
        },
        [full],
      ),
    ).catch(() => undefined);
    this.sending.add(sent);
    void sent.then(() => this.sending.delete(sent));
  }

  /** Waits until every notification is delivered or out of retries; a cancelled run waits too. */
  async delivered(): Promise<void> {
    if (this.sending.size === 0) return;
    await wf.CancellationScope.nonCancellable(() => Promise.all([...this.sending]));
  }

  /**
   * Opens a gate and waits for its answer or its timeout; undefined when the timeout fails the step. Throws
   * Withdrawn when a new plan is asked for before the answer.
   */
  waitForPerson(gate: Gate, timeoutMs: number | undefined, onTimeout: 'deny' | 'approve' | 'fail'): Promise<ApprovalResult | undefined> {
    const before = this.queues.get(gate.step);
    const ask = () => inApprovalSpan(gate.step, gate.source, () => this.ask(gate, timeoutMs, onTimeout));
    // Only a second gate of the same step waits for the first: the usual path stays one direct call.
    const next = before ? before.then(ask, ask) : ask();
    this.queues.set(gate.step, next);
    const done = () => {
      if (this.queues.get(gate.step) === next) this.queues.delete(gate.step);
    };
    next.then(done, done); // the caller gets `next` itself: no extra turns before it goes on
    return next;
  }

  private async ask(gate: Gate, timeoutMs: number | undefined, onTimeout: 'deny' | 'approve' | 'fail'): Promise<ApprovalResult | undefined> {
    if (this.stopping()) throw new Withdrawn();
    gate.askedAt = workflowNow();
    this.gates.set(gate.step, gate);
    const state = this.steps[gate.step];
    if (state) state.status = 'waiting';
    this.refreshStatus();
    // The wait is an event of its own in the history and the UI's timeline, with what is asked; it never delays the wait.
    const { decision: _d, remindMs, ...asked } = gate;
    this.event('step.waiting', gate.step, { ...asked });
    this.notify({ type: 'run.waiting', pending: asked });
    this.people.askPerson
      .executeWithOptions(
        { startToCloseTimeout: '30s', retry: { maximumAttempts: 3 }, summary: summary(`waiting for a person: ${gate.step}: ${gate.title}`) },
        [{ run: wf.workflowInfo().workflowId, ...asked }],
      )
      .catch(() => undefined);
    const over = () => gate.decision !== undefined || this.stopping();
    if (remindMs !== undefined && this.worker.notify) {
      const reminder = { summary: summary(`reminder of ${gate.step}: ${gate.title}`) };
      void wf.condition(over, remindMs, reminder).then(
        (answered) => answered || this.notify({ type: 'run.waiting', pending: asked, reminder: true }),
        () => undefined, // the run was cancelled: nobody is reminded
      );
    }
    const deadline = { summary: summary(`deadline of ${gate.step} (then ${onTimeout}): ${gate.title}`) };
    const answered = timeoutMs === undefined ? (await wf.condition(over), true) : await wf.condition(over, timeoutMs, deadline);
    if (gate.decision === undefined && this.stopping()) {
      this.gates.delete(gate.step);
      if (state) state.status = 'running';
      this.refreshStatus();
      throw new Withdrawn();
    }
    if (!answered) {
      if (onTimeout === 'fail') return undefined;
      gate.decision = { approved: onTimeout === 'approve', by: null, comment: `no answer within ${formatDuration(timeoutMs!)}`, at: workflowNow() };
      this.decided(gate, gate.decision);
    }
    if (state) state.status = 'running';
    this.refreshStatus();
    return gate.decision;
  }

  /** The answer in `raw`, or why it is refused. */
  private check(raw: unknown): { decision: ApprovalDecision } | { refusal: Refusal } {
    const read = readDecision(raw);
    const refusal = read.ok ? this.refusal(read.decision) : read.refusal;
    if (read.ok && refusal === undefined) return { decision: read.decision };
    this.metrics.refusedAnswer(refusal!.code);
    return { refusal: refusal! };
  }

  private refusal(d: ApprovalDecision): Refusal | undefined {
    const gate = this.gates.get(d.step);
    const key = workerDecisionKey();
    const at: AnswerContext = { status: this.status, gate, decision: gate?.decision, steps: this.steps };
    if (key !== undefined) at.signing = { key, run: wf.workflowInfo().workflowId };
    return refusalFor(d, at);
  }

  /** A refused signal changes nothing but is kept, newest last, for the status view and the UI. */
  private recordRefusal(raw: unknown, refusal: Refusal): void {
    const o = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
    const text = (v: unknown) => (typeof v === 'string' ? oneLine(v, 80) : undefined);
    const step = text(Object.hasOwn(o, 'step') ? o.step : undefined);
    const by = text(Object.hasOwn(o, 'by') ? o.by : undefined);
    this.refused.push({ at: workflowNow(), via: 'signal', ...(step !== undefined && { step }), ...(by !== undefined && { by }), ...refusal });
    if (this.refused.length > MAX_REFUSED) this.refused.shift();
    if (!ENDED_RUN.has(this.status)) this.refreshStatus();
    this.version++; // wakes the run, which checks its history budget: a flood of refused signals still ends cleanly
  }

  private answer(d: ApprovalDecision): ApprovalResult {
    const gate = this.gates.get(d.step)!;
    const result: ApprovalResult = { approved: d.approved, by: d.by ?? null, comment: d.comment ?? null, at: workflowNow() };
    gate.decision = result;
    this.decided(gate, result);
    this.version++;
    this.onAnswer?.(gate);
    return result;
  }

  /** A gate was answered, by a person or its timeout: the event, and the notification. */
  private decided(gate: Gate, result: ApprovalResult): void {
    const { decision: _d, remindMs: _r, ...pending } = gate;
    this.event('step.decided', gate.step, { ...result });
    this.notify({ type: 'run.decided', pending, decision: result });
  }
}

/** A refusal is an answer to the caller, not a bug: non-retryable, typed, with its code, and no stack trace. */
function refusedFailure(refusal: Refusal): wf.ApplicationFailure {
  const failure = wf.ApplicationFailure.create({ type: 'TrellisDecisionRefused', message: refusal.message, nonRetryable: true, details: [refusal] });
  failure.stack = '';
  return failure;
}

/** The pending memo's most bytes: past them, details and then args are left out. */
const PENDING_MEMO_BYTES = 16 * 1024;

function pendingMemo(waiting: readonly Gate[]): PendingApproval[] {
  const full = waiting.map(({ decision: _d, remindMs: _r, ...g }) => g);
  if (jsonBytes(full) <= PENDING_MEMO_BYTES) return full;
  const lean = full.map(({ details: _d, ...g }) => g);
  if (jsonBytes(lean) <= PENDING_MEMO_BYTES) return lean;
  return lean.map(({ args: _a, ...g }) => ({ ...g, title: oneLine(g.title, 300) })).slice(0, 40);
}

const MAX_SUMMARY = 200;
const summary = (text: string) => oneLine(text, MAX_SUMMARY);
