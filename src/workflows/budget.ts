/**
 * What one run may use and has used: LLM tokens, step executions and history, against its budget (the spec's, the
 * caller's and the worker's limits, the smallest of each). Every check throws BudgetExceeded, which stops the run
 * whatever a step's onError says.
 */
import * as wf from '@temporalio/workflow';
import type { PayloadLimits, RunUsage } from '../engine/messages.js';
import { addTokens, type TokenUsage } from '../engine/state.js';
import { TrellisError } from '../errors.js';
import type { Budget } from '../spec/schema.js';

/** A budget ran out: the run stops, whatever the step's onError says. */
export class BudgetExceeded extends TrellisError {
  constructor(message: string) {
    super('BUDGET_EXCEEDED', `budget exceeded: ${message}`);
  }
}

/**
 * Step executions a run may make when neither its spec nor its caller says: a history holds 51,200 events and
 * an execution takes about 3 to 10 of them, so a run stops with a clear failure well before Temporal would end it
 * half-run.
 */
export const DEFAULT_MAX_STEPS = 5_000;

export class RunBudget {
  /** The caps in force (see use). */
  caps: Budget = {};
  tokens: TokenUsage = { prompt: 0, completion: 0, total: 0 };
  executed = 0;

  constructor(private readonly limits: () => PayloadLimits) {}

  /** The spec's budget with the run's own caps and the worker's limits: the smaller of each applies. */
  use(own: Budget = {}, spec: Budget | undefined): void {
    const min = (...xs: Array<number | undefined>) => {
      const set = xs.filter((x): x is number => x !== undefined);
      return set.length === 0 ? undefined : Math.min(...set);
    };
    const maxTokens = min(own.maxTokens, spec?.maxTokens);
    this.caps = {
      ...(maxTokens !== undefined && { maxTokens }),
      maxSteps: min(own.maxSteps, spec?.maxSteps) ?? DEFAULT_MAX_STEPS,
      maxHistoryBytes: min(own.maxHistoryBytes, spec?.maxHistoryBytes, this.limits().historyBytes)!,
      maxHistoryEvents: min(own.maxHistoryEvents, spec?.maxHistoryEvents, this.limits().historyEvents)!,
    };
  }

  /** LLM tokens left in the budget; undefined without a token cap. */
  tokensLeft(): number | undefined {
    return this.caps.maxTokens === undefined ? undefined : this.caps.maxTokens - this.tokens.total;
  }

  /** Step executions left in the budget. */
  executionsLeft(): number {
    return (this.caps.maxSteps ?? DEFAULT_MAX_STEPS) - this.executed;
  }

  /** Counts one step execution; throws BudgetExceeded past maxSteps or the history budget. */
  countExecution(what: string): void {
    this.checkHistory(what);
    if (this.executionsLeft() <= 0) {
      throw new BudgetExceeded(`maxSteps ${this.caps.maxSteps}: ${what} would be step execution ${this.executed + 1}`);
    }
    this.executed++;
  }

  /**
   * Throws BudgetExceeded once the history has passed its budget: the run stops with this reason, while Temporal
   * (which ends a run at 50 MB or 51,200 events, whatever it was doing) still has room for the run to end cleanly.
   */
  checkHistory(what: string): void {
    const { historySize, historyLength } = wf.workflowInfo();
    const maxBytes = this.caps.maxHistoryBytes ?? this.limits().historyBytes;
    const maxEvents = this.caps.maxHistoryEvents ?? this.limits().historyEvents;
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
      throw new BudgetExceeded(`maxSteps ${this.caps.maxSteps}: ${this.executed} step executions after ${what}`);
    }
  }

  /** Before a model call: throws BudgetExceeded when the tokens (or the history) are spent already. */
  checkTokens(what: string): void {
    this.checkHistory(what);
    const max = this.caps.maxTokens;
    if (max !== undefined && this.tokens.total >= max) {
      throw new BudgetExceeded(`maxTokens ${max}: ${this.tokens.total} LLM tokens used before ${what}`);
    }
  }

  /** After a model call: adds its tokens; throws BudgetExceeded when the run is now over its budget. */
  addTokens(used: TokenUsage, what: string): void {
    this.tokens = addTokens(this.tokens, used);
    const max = this.caps.maxTokens;
    if (max !== undefined && this.tokens.total > max) {
      throw new BudgetExceeded(`maxTokens ${max}: ${this.tokens.total} LLM tokens used after ${what}`);
    }
  }
}

const count = (n: number) => n.toLocaleString('en-US');
