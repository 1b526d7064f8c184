/**
 * What one workflow execution keeps while it runs specs: the steps' states, the people it waits for, the
 * tokens and step executions it has used against its budget, its status; and the signal, update and query
 * handlers that read and answer them. The interpreter (trellisRun) runs one spec in a session; a goal run
 * (trellisGoal) plans and runs one or more specs in the same session, so its status and approvals keep the
 * same contract.
 */
import * as wf from '@temporalio/workflow';
import type { ApprovalDecision, ApprovalResult, EarlierPlan, PendingApproval, RunOptions, RunUsage, RunView } from '../engine/messages.js';
import { addTokens, type RunStatus, type StepState, type TokenUsage } from '../engine/state.js';
import type { Budget, Spec } from '../spec/schema.js';
import { approveSignal, decideUpdate, statusQuery } from './definitions.js';

// Temporal replaces Date inside workflows with the deterministic workflow clock: this is replay-safe.
export const workflowClockMs = (): number => Date.now();
export const workflowNow = (): string => new Date(workflowClockMs()).toISOString();

export interface Gate extends PendingApproval {
  decision?: ApprovalResult;
}

/** A budget ran out: the run stops, whatever the step's onError says. */
export class BudgetExceeded extends Error {
  constructor(message: string) {
    super(`budget exceeded: ${message}`);
    this.name = 'BudgetExceeded';
  }
}

/** A person asked for a new plan: what had not started yet, or waited for a person, is withdrawn. */
export class Withdrawn extends Error {
  constructor() {
    super('withdrawn: a person asked for a new plan');
    this.name = 'Withdrawn';
  }
}

/**
 * Step executions a run may make when neither its spec nor its caller says: a history holds 51,200 events and
 * an execution takes about 3 to 10 of them, so a run stops with a clear failure well before Temporal would end it
 * half-run.
 */
export const DEFAULT_MAX_STEPS = 5_000;

export class RunSession {
  status: RunStatus = 'running';
  steps: Record<string, StepState> = {};
  readonly gates = new Map<string, Gate>();
  tokens: TokenUsage = { prompt: 0, completion: 0, total: 0 };
  executed = 0;
  output: unknown = null;
  error: string | undefined;
  name: string;
  /** Bumped on every change a waiting loop must look at. */
  version = 0;
  budget: Budget = {};
  /** Set by a goal run: the goal, the plan being reviewed or run, and the plans replaced before it. */
  goal: { goal: string; spec?: Spec; earlier: EarlierPlan[] } | undefined;
  /** Called with every answer a person gives (after it is recorded). */
  onAnswer: ((gate: Gate) => void) | undefined;
  /** True once a person asked for a new plan (goal runs): nothing new starts, waits for people are withdrawn. */
  stopping: () => boolean = () => false;
  private announced = false;
  /** Gated calls of one step wait for a person one after the other (an agent may ask for several at once). */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    name: string,
    readonly options: RunOptions = {},
  ) {
    this.name = name;
    this.budget = options.budget ?? {};
  }

  /** The status query, the approve signal and the decide update. */
  install(): void {
    wf.setHandler(statusQuery, () => this.view());
    wf.setHandler(approveSignal, (d) => {
      if (this.refusal(d) === undefined) this.answer(d);
    });
    wf.setHandler(decideUpdate, (d) => this.answer(d), {
      validator: (d) => {
        const reason = this.refusal(d);
        if (reason !== undefined) throw new Error(reason);
      },
    });
  }

  view(): RunView {
    return {
      runId: wf.workflowInfo().runId,
      workflowId: wf.workflowInfo().workflowId,
      name: this.name,
      status: this.status,
      steps: this.steps,
      pending: [...this.gates.values()].filter((g) => !g.decision).map(({ decision: _d, ...g }) => g),
      output: this.output,
      ...(this.error !== undefined && { error: this.error }),
      tokens: this.tokens,
      executed: this.executed,
      ...(this.goal && {
        goal: this.goal.goal,
        ...(this.goal.spec && { spec: this.goal.spec }),
        ...(this.goal.earlier.length > 0 && { earlierPlans: this.goal.earlier }),
      }),
    };
  }

  /** The spec's budget with the run's own caps: the smaller of each applies; maxSteps has a default. */
  useBudget(spec: Budget | undefined): void {
    const own = this.options.budget ?? {};
    const min = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
    const maxTokens = min(own.maxTokens, spec?.maxTokens);
    const maxSteps = min(own.maxSteps, spec?.maxSteps) ?? DEFAULT_MAX_STEPS;
    this.budget = { ...(maxTokens !== undefined && { maxTokens }), maxSteps };
  }

  /** LLM tokens left in the budget; undefined without a token cap. */
  tokensLeft(): number | undefined {
    return this.budget.maxTokens === undefined ? undefined : this.budget.maxTokens - this.tokens.total;
  }

  /** Step executions left in the budget. */
  executionsLeft(): number {
    return (this.budget.maxSteps ?? DEFAULT_MAX_STEPS) - this.executed;
  }

  /** Counts one step execution; throws BudgetExceeded past maxSteps. */
  countExecution(what: string): void {
    if (this.executionsLeft() <= 0) {
      throw new BudgetExceeded(`maxSteps ${this.budget.maxSteps}: ${what} would be step execution ${this.executed + 1}`);
    }
    this.executed++;
  }

  /** Adds what a called spec's run used; throws BudgetExceeded when this run is now over its budget. */
  addUsage(used: RunUsage, what: string): void {
    this.executed += used.executed;
    this.addTokens(used.tokens, what);
    if (this.executionsLeft() < 0) {
      throw new BudgetExceeded(`maxSteps ${this.budget.maxSteps}: ${this.executed} step executions after ${what}`);
    }
  }

  /** Before a model call: throws BudgetExceeded when the tokens are spent already. */
  checkTokens(what: string): void {
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

  /** The first status, written to the search attribute once (later changes go through setStatus). */
  announce(): void {
    if (this.announced) return;
    this.announced = true;
    if (this.options.statusSearchAttribute) wf.upsertSearchAttributes({ [this.options.statusSearchAttribute]: ['running'] });
  }

  setStatus(next: RunStatus): void {
    if (next === this.status) return;
    this.status = next;
    if (this.options.statusSearchAttribute) wf.upsertSearchAttributes({ [this.options.statusSearchAttribute]: [next] });
  }

  /** Running, or waiting while anyone is asked; the UI's current details say which. */
  refreshStatus(running = `Running ${this.name}`): void {
    const waiting = [...this.gates.values()].filter((g) => !g.decision);
    this.setStatus(waiting.length > 0 ? 'waiting' : 'running');
    if (waiting.length === 0) return wf.setCurrentDetails(running);
    // A plan under review is shown whole in the UI's current details, so the reviewer can read it there.
    const plan = waiting.find((g) => g.source === 'plan');
    const asked = `Waiting for a person: ${waiting.map((g) => `${g.step} (${g.title})`).join('; ')}`;
    wf.setCurrentDetails(plan?.details ? `${asked}\n\n**Plan**\n\n${plan.details}` : asked);
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
    const summary = `approval ${gate.step}: ${gate.title}`.slice(0, 200);
    const over = () => gate.decision !== undefined || this.stopping();
    const answered = timeoutMs === undefined ? (await wf.condition(over), true) : await wf.condition(over, timeoutMs, { summary });
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

  private refusal(d: ApprovalDecision): string | undefined {
    const gate = this.gates.get(d.step);
    if (!gate) return Object.hasOwn(this.steps, d.step) ? `step "${d.step}" is not waiting for a person` : `unknown step "${d.step}"`;
    if (gate.decision)
      return `step "${d.step}" was already decided (${gate.decision.approved ? 'approved' : 'denied'} by ${gate.decision.by ?? 'the timeout'})`;
    if (gate.approvers && !(d.by !== undefined && gate.approvers.includes(d.by))) {
      return `${d.by === undefined ? 'an anonymous answer' : `"${d.by}"`} may not answer step "${d.step}" (approvers: ${gate.approvers.join(', ')})`;
    }
    return undefined;
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
