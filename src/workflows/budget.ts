/**
 * What one run may use and has used: LLM tokens and their cost, step executions and history, against its budget (the
 * spec's, the caller's and the worker's limits, the smallest of each). Every check throws BudgetExceeded, which stops
 * the run whatever a step's onError says. Costs come from the price table the worker gave the run (WorkerFacts), so
 * a replay prices every call the same.
 */
import * as wf from '@temporalio/workflow';
import type { RunUsage, WorkerFacts } from '../engine/messages.js';
import { addTokens, type TokenUsage } from '../engine/state.js';
import { TrellisError } from '../errors.js';
import { addCost, costOf, formatUsd, isUnknown, priceFor, type Cost } from '../pricing/cost.js';
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
  /** What the model calls cost; undefined before the first. */
  cost: Cost | undefined;
  executed = 0;

  constructor(private readonly worker: () => WorkerFacts) {}

  private limits() {
    return this.worker().limits;
  }

  /** The spec's budget with the run's own caps and the worker's limits: the smaller of each applies. */
  use(own: Budget = {}, spec: Budget | undefined): void {
    const min = (...xs: Array<number | undefined>) => {
      const set = xs.filter((x): x is number => x !== undefined);
      return set.length === 0 ? undefined : Math.min(...set);
    };
    const maxTokens = min(own.maxTokens, spec?.maxTokens);
    const maxCost = min(own.maxCost, spec?.maxCost);
    this.caps = {
      ...(maxTokens !== undefined && { maxTokens }),
      ...(maxCost !== undefined && { maxCost }),
      maxSteps: min(own.maxSteps, spec?.maxSteps) ?? DEFAULT_MAX_STEPS,
      maxHistoryBytes: min(own.maxHistoryBytes, spec?.maxHistoryBytes, this.limits().historyBytes)!,
      maxHistoryEvents: min(own.maxHistoryEvents, spec?.maxHistoryEvents, this.limits().historyEvents)!,
    };
  }

  /** LLM tokens left in the budget; undefined without a token cap. */
  tokensLeft(): number | undefined {
    return this.caps.maxTokens === undefined ? undefined : this.caps.maxTokens - this.tokens.total;
  }

  /** USD left in the budget; undefined without a cost cap. */
  costLeft(): number | undefined {
    return this.caps.maxCost === undefined ? undefined : this.caps.maxCost - (this.cost?.usd ?? 0);
  }

  /** What a call of `model` with these tokens costs by the worker's table; unknown for a model with no price. */
  price(model: string | undefined, tokens: TokenUsage): Cost {
    return costOf(this.worker().prices ?? {}, model ?? UNREPORTED, tokens);
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
    this.addTokens(used.tokens, what, used.cost);
    if (this.executionsLeft() < 0) {
      throw new BudgetExceeded(`maxSteps ${this.caps.maxSteps}: ${this.executed} step executions after ${what}`);
    }
  }

  /**
   * Before a call of `model` (undefined: the worker's default): throws BudgetExceeded when the tokens, the money or
   * the history are spent already, or when a cost cap applies and the model has no price (its cost could not be known).
   */
  checkTokens(what: string, model?: string): void {
    this.checkHistory(what);
    const max = this.caps.maxTokens;
    if (max !== undefined && this.tokens.total >= max) {
      throw new BudgetExceeded(`maxTokens ${max}: ${this.tokens.total} LLM tokens used before ${what}`);
    }
    const maxCost = this.caps.maxCost;
    if (maxCost === undefined) return;
    const named = model ?? this.worker().model;
    if (named === undefined || !priceFor(this.worker().prices ?? {}, named)) {
      throw new BudgetExceeded(`maxCost ${formatUsd(maxCost)}: ${unpriced(named)}, so ${what} could not be kept within it`);
    }
    const spent = this.cost?.usd ?? 0;
    if (spent >= maxCost) throw new BudgetExceeded(`maxCost ${formatUsd(maxCost)}: ${formatUsd(spent)} used before ${what}`);
  }

  /**
   * After a model call: adds its tokens and their cost (a called run's cost, or the call's: `price`); throws
   * BudgetExceeded when the run is now over its budget, or its cost is unknown under a cost cap.
   */
  addTokens(used: TokenUsage, what: string, cost: Cost | undefined): void {
    this.tokens = addTokens(this.tokens, used);
    if (cost) this.cost = addCost(this.cost, cost);
    const max = this.caps.maxTokens;
    if (max !== undefined && this.tokens.total > max) {
      throw new BudgetExceeded(`maxTokens ${max}: ${this.tokens.total} LLM tokens used after ${what}`);
    }
    const maxCost = this.caps.maxCost;
    if (maxCost === undefined || !this.cost) return;
    if (isUnknown(this.cost)) throw new BudgetExceeded(`maxCost ${formatUsd(maxCost)}: ${unpriced(this.cost.unknown!.join(', '))} (after ${what})`);
    if (this.cost.usd > maxCost) throw new BudgetExceeded(`maxCost ${formatUsd(maxCost)}: ${formatUsd(this.cost.usd)} used after ${what}`);
  }
}

/** The model name a cost carries when the endpoint's reply did not say (results of older workers). */
const UNREPORTED = 'a model the reply did not name';

const unpriced = (model: string | undefined) =>
  `${model === undefined ? 'the model is not named' : `model "${model}" has no price`} in the worker's price table (add it to the file TRELLIS_PRICES names)`;

const count = (n: number) => n.toLocaleString('en-US');
