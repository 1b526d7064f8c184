/**
 * What one workflow execution keeps while it runs specs: the steps' states, the people it waits for, the
 * tokens, step executions and history it has used against its budget, its status; and the signal, update and
 * query handlers that read and answer them. The interpreter (trellisRun) runs one spec in a session; a goal run
 * (trellisGoal) plans and runs one or more specs in the same session, so its status and approvals keep the
 * same contract.
 */
import * as wf from '@temporalio/workflow';
import { readDecision, type Refusal } from '../engine/decision.js';
import type {
  ApprovalDecision,
  ApprovalResult,
  EarlierPlan,
  GoalRecord,
  PendingApproval,
  RefusedAnswer,
  RunOptions,
  RunProblem,
  RunUsage,
  RunView,
  WorkerFacts,
} from '../engine/messages.js';
import { DEFAULT_PAYLOAD_LIMITS, fitSteps, jsonBytes } from '../engine/payload.js';
import { addTokens, ENDED_RUN, type RunStatus, type StepState, type TokenUsage } from '../engine/state.js';
import { TrellisError } from '../errors.js';
import type { CostMeter } from '../spec/expression.js';
import { EXPRESSION_LIMITS } from '../spec/limits.js';
import type { Budget, Spec } from '../spec/schema.js';
import { oneLine } from '../spec/text.js';
import { approveSignal, decideUpdate, FINAL_VIEW_MEMO, statusQuery } from './definitions.js';
import type { Activities } from './step-context.js';

// Temporal replaces Date inside workflows with the deterministic workflow clock: this is replay-safe.
export const workflowClockMs = (): number => Date.now();
export const workflowNow = (): string => new Date(workflowClockMs()).toISOString();

export interface Gate extends PendingApproval {
  decision?: ApprovalResult;
}

/** A budget ran out: the run stops, whatever the step's onError says. */
export class BudgetExceeded extends TrellisError {
  constructor(message: string) {
    super('BUDGET_EXCEEDED', `budget exceeded: ${message}`);
  }
}

/** A person asked for a new plan: what had not started yet, or waited for a person, is withdrawn. */
export class Withdrawn extends TrellisError {
  constructor() {
    super('WITHDRAWN', 'withdrawn: a person asked for a new plan');
  }
}

/**
 * Step executions a run may make when neither its spec nor its caller says: a history holds 51,200 events and
 * an execution takes about 3 to 10 of them, so a run stops with a clear failure well before Temporal would end it
 * half-run.
 */
export const DEFAULT_MAX_STEPS = 5_000;

/** Refused signals kept for the status view and the UI's current details. */
const MAX_REFUSED = 20;

/** The view of a cancelled run kept in its memo (so its status needs no worker), at most this big. */
const FINAL_VIEW_BYTES = 64 * 1024;

export class RunSession {
  status: RunStatus = 'running';
  steps: Record<string, StepState> = {};
  readonly gates = new Map<string, Gate>();
  tokens: TokenUsage = { prompt: 0, completion: 0, total: 0 };
  executed = 0;
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
  budget: Budget = {};
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

  constructor(name: string) {
    this.name = name;
  }

  /** The run's own options and the worker's facts, once the worker has checked the argument. */
  configure(options: RunOptions | undefined, worker: WorkerFacts): void {
    this.options = options ?? {};
    this.worker = worker;
    this.budget = this.options.budget ?? {};
  }

  /** The status query, the approve signal and the decide update. */
  install(): void {
    wf.setHandler(statusQuery, () => this.fittedView());
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
      tokens: this.tokens,
      executed: this.executed,
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
   * The view within `maxBytes` (default: the payload limit): the largest step outputs are left out first (each
   * saying its size), then replaced plans and the plan itself, then the output.
   */
  fittedView(maxBytes = this.worker.limits.payloadBytes): RunView {
    const view = this.view();
    if (jsonBytes(view) <= maxBytes) return view;
    const { steps, ...rest } = view;
    if (rest.earlierPlans && jsonBytes(rest) > maxBytes / 2) rest.earlierPlans = rest.earlierPlans.map((p) => ({ ...p, steps: {} }));
    if (rest.spec && jsonBytes(rest) > maxBytes / 2) delete rest.spec;
    if (jsonBytes(rest) > maxBytes / 2) {
      rest.output = null;
      rest.error ??= `the output (${jsonBytes(view.output)} bytes) is left out of this view: it is over the payload limit`;
    }
    return { ...rest, steps: fitSteps(steps, Math.max(0, maxBytes - jsonBytes(rest))) };
  }

  /** The spec's budget with the run's own caps and the worker's limits: the smaller of each applies. */
  useBudget(spec: Budget | undefined): void {
    const own = this.options.budget ?? {};
    const min = (...xs: Array<number | undefined>) => {
      const set = xs.filter((x): x is number => x !== undefined);
      return set.length === 0 ? undefined : Math.min(...set);
    };
    const maxTokens = min(own.maxTokens, spec?.maxTokens);
    this.budget = {
      ...(maxTokens !== undefined && { maxTokens }),
      maxSteps: min(own.maxSteps, spec?.maxSteps) ?? DEFAULT_MAX_STEPS,
      maxHistoryBytes: min(own.maxHistoryBytes, spec?.maxHistoryBytes, this.worker.limits.historyBytes)!,
      maxHistoryEvents: min(own.maxHistoryEvents, spec?.maxHistoryEvents, this.worker.limits.historyEvents)!,
    };
  }

  /** LLM tokens left in the budget; undefined without a token cap. */
  tokensLeft(): number | undefined {
    return this.budget.maxTokens === undefined ? undefined : this.budget.maxTokens - this.tokens.total;
  }

  /** Step executions left in the budget. */
  executionsLeft(): number {
    return (this.budget.maxSteps ?? DEFAULT_MAX_STEPS) - this.executed;
  }

  /** Counts one step execution; throws BudgetExceeded past maxSteps or the history budget. */
  countExecution(what: string): void {
    this.checkHistory(what);
    if (this.executionsLeft() <= 0) {
      throw new BudgetExceeded(`maxSteps ${this.budget.maxSteps}: ${what} would be step execution ${this.executed + 1}`);
    }
    this.executed++;
  }

  /**
   * Throws BudgetExceeded once the history has passed its budget: the run stops with this reason, while Temporal
   * (which ends a run at 50 MB or 51,200 events, whatever it was doing) still has room for the run to end cleanly.
   */
  checkHistory(what: string): void {
    const { historySize, historyLength } = wf.workflowInfo();
    const maxBytes = this.budget.maxHistoryBytes ?? this.worker.limits.historyBytes;
    const maxEvents = this.budget.maxHistoryEvents ?? this.worker.limits.historyEvents;
    if (historySize > maxBytes) {
      throw new BudgetExceeded(`maxHistoryBytes ${count(maxBytes)}: the run's history is ${count(historySize)} bytes before ${what}`);
    }
    if (historyLength > maxEvents) {
      throw new BudgetExceeded(`maxHistoryEvents ${count(maxEvents)}: the run's history has ${count(historyLength)} events before ${what}`);
    }
  }

  /** Adds what a called spec's run used; throws BudgetExceeded when this run is now over its budget. */
  addUsage(used: RunUsage, what: string): void {
    this.executed += used.executed;
    this.addTokens(used.tokens, what);
    if (this.executionsLeft() < 0) {
      throw new BudgetExceeded(`maxSteps ${this.budget.maxSteps}: ${this.executed} step executions after ${what}`);
    }
  }

  /** Before a model call: throws BudgetExceeded when the tokens (or the history) are spent already. */
  checkTokens(what: string): void {
    this.checkHistory(what);
    const max = this.budget.maxTokens;
    if (max !== undefined && this.tokens.total >= max) {
      throw new BudgetExceeded(`maxTokens ${max}: ${this.tokens.total} LLM tokens used before ${what}`);
    }
  }

  /** After a model call: adds its tokens; throws BudgetExceeded when the run is now over its budget. */
  addTokens(used: TokenUsage, what: string): void {
    this.tokens = addTokens(this.tokens, used);
    const max = this.budget.maxTokens;
    if (max !== undefined && this.tokens.total > max) {
      throw new BudgetExceeded(`maxTokens ${max}: ${this.tokens.total} LLM tokens used after ${what}`);
    }
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
    const parts = [waiting.length === 0 ? running : waitingDetails(wf.workflowInfo().workflowId, waiting)];
    if (this.refused.length > 0) parts.push(refusedDetails(this.refused));
    wf.setCurrentDetails(parts.join('\n\n'));
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
    wf.setCurrentDetails(
      status === 'completed' ? `Completed ${this.name}` : `${status === 'failed' ? 'Failed' : 'Cancelled'}: ${this.error ?? this.name}`,
    );
    if (status === 'cancelled') {
      const { runId: _r, temporalRunId: _t, name: _n, status: _s, pending: _p, output: _o, ...kept } = this.fittedView(FINAL_VIEW_BYTES);
      wf.upsertMemo({ [FINAL_VIEW_MEMO]: kept });
    }
  }

  /**
   * Opens a gate and waits for its answer or its timeout; undefined when the timeout fails the step. Throws
   * Withdrawn when a new plan is asked for before the answer.
   */
  waitForPerson(gate: Gate, timeoutMs: number | undefined, onTimeout: 'deny' | 'approve' | 'fail'): Promise<ApprovalResult | undefined> {
    const before = this.queues.get(gate.step);
    const ask = () => this.ask(gate, timeoutMs, onTimeout);
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
    this.gates.set(gate.step, gate);
    const state = this.steps[gate.step];
    if (state) state.status = 'waiting';
    this.refreshStatus();
    // The wait is an event of its own in the history and the UI's timeline, with what is asked; it never delays the wait.
    const { decision: _d, ...asked } = gate;
    this.people.askPerson
      .executeWithOptions(
        { startToCloseTimeout: '30s', retry: { maximumAttempts: 3 }, summary: summary(`waiting for a person: ${gate.step}: ${gate.title}`) },
        [{ run: wf.workflowInfo().workflowId, ...asked }],
      )
      .catch(() => undefined);
    const over = () => gate.decision !== undefined || this.stopping();
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
      gate.decision = { approved: onTimeout === 'approve', by: null, comment: `no answer within ${formatMs(timeoutMs!)}`, at: workflowNow() };
    }
    if (state) state.status = 'running';
    this.refreshStatus();
    return gate.decision;
  }

  /** The answer in `raw`, or why it is refused. */
  private check(raw: unknown): { decision: ApprovalDecision } | { refusal: Refusal } {
    const read = readDecision(raw);
    if (!read.ok) return { refusal: read.refusal };
    const refusal = this.refusal(read.decision);
    return refusal ? { refusal } : { decision: read.decision };
  }

  private refusal(d: ApprovalDecision): Refusal | undefined {
    if (ENDED_RUN.has(this.status)) return { code: 'not_waiting', message: `the run has ended (${this.status}): step "${d.step}" takes no answer` };
    const gate = this.gates.get(d.step);
    if (!gate) {
      const state = Object.hasOwn(this.steps, d.step) ? this.steps[d.step] : undefined;
      const message = state
        ? `step "${d.step}" is not waiting for a person (it is ${state.status})`
        : `unknown step "${oneLine(d.step, 64)}" (steps: ${oneLine(Object.keys(this.steps).join(', '), 200)})`;
      return { code: 'not_waiting', message };
    }
    if (gate.decision) {
      const { approved, by } = gate.decision;
      return {
        code: 'already_decided',
        message: `step "${d.step}" was already decided (${approved ? 'approved' : 'denied'} by ${by ?? 'the timeout'})`,
      };
    }
    if (d.by === undefined) {
      return { code: 'anonymous', message: `step "${d.step}" takes an answer only with who gives it: set "by" (trellis approve ... --by NAME)` };
    }
    if (gate.approvers && !gate.approvers.includes(d.by)) {
      return { code: 'not_an_approver', message: `"${oneLine(d.by, 80)}" may not answer step "${d.step}" (approvers: ${gate.approvers.join(', ')})` };
    }
    return undefined;
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
    this.version++;
    this.onAnswer?.(gate);
    return result;
  }
}

/** A refusal is an answer to the caller, not a bug: non-retryable, typed, with its code, and no stack trace. */
function refusedFailure(refusal: Refusal): wf.ApplicationFailure {
  const failure = wf.ApplicationFailure.create({ type: 'TrellisDecisionRefused', message: refusal.message, nonRetryable: true, details: [refusal] });
  failure.stack = '';
  return failure;
}

const MAX_SUMMARY = 200;
const summary = (text: string) => oneLine(text, MAX_SUMMARY);
const count = (n: number) => n.toLocaleString('en-US');

/** What each gate asks, of whom, until when, and how to answer, as the Temporal UI's current details (markdown). */
function waitingDetails(runId: string, waiting: readonly Gate[]): string {
  const lines = ['**Waiting for a person**', ''];
  for (const g of waiting) {
    const kind = g.source === 'policy' ? 'a tool that needs approval' : g.source === 'plan' ? 'the plan' : 'approval';
    lines.push(`- **${g.step}** (${kind}): ${oneLine(g.title, 300)}`);
    if (g.details && g.source !== 'plan') lines.push(`  - asks: ${oneLine(g.details, 2000)}`);
    if (g.approvers) lines.push(`  - approvers: ${g.approvers.join(', ')}`);
    if (g.deadline) lines.push(`  - deadline: ${g.deadline}`);
    lines.push(
      `  - answer: \`trellis approve ${runId} ${g.step} --by NAME\` (\`--deny\` to refuse), or the update \`decide\` with \`{"step":"${g.step}","approved":true,"by":"NAME"}\``,
    );
  }
  const plan = waiting.find((g) => g.source === 'plan');
  // A plan under review is shown whole, so the reviewer can read it there.
  if (plan?.details) lines.push('', '**Plan**', '', plan.details);
  return lines.join('\n');
}

function refusedDetails(refused: readonly RefusedAnswer[]): string {
  const newest = refused.slice(-5).reverse();
  return [
    '**Refused answers** (newest first)',
    '',
    ...newest.map((r) => `- ${r.at} ${r.via}${r.step ? ` for ${r.step}` : ''}${r.by ? ` by ${r.by}` : ''}: ${r.code}: ${r.message}`),
  ].join('\n');
}

export function formatMs(ms: number): string {
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
