/** A run, as Temporal's WorkflowHandle is a workflow: what a service does with the run it started. */
import type { ApprovalResult, RunEvent, RunResult, RunView } from '../engine/messages.js';
import type { TrellisClient } from './client.js';
import type { WatchOptions } from './watch.js';

/** Who answers, and why. `by` is required by every step that waits for a person. */
export interface Answer {
  /** Who answers (at most 200 characters); checked against the step's approvers. Without it the answer is refused (anonymous). */
  by?: string;
  /** Why (at most 4,000 characters), kept with the answer. A denial with a comment asks a goal run for a new plan. */
  comment?: string;
  /** The answerer's groups (as a verified token says): `group:NAME` in the step's approvers lets them answer. */
  groups?: string[];
}

/** A run, as Temporal's WorkflowHandle is a workflow: what a service does with the run it started. */
export class RunHandle<R extends RunResult = RunResult> {
  /** Made by TrellisClient.start, startGoal and getHandle. */
  constructor(
    private readonly client: TrellisClient,
    /** The run's id. */
    readonly runId: string,
  ) {}

  /**
   * Waits for the run to end and gives its result. One that did not complete throws a TrellisRunError (`code`, and
   * `run.step`, `run.reason`, `run.problems`, `run.usage`); see TrellisClient.result.
   *
   * @example
   * ```ts
   * const { output, steps, tokens } = await run.result();
   * ```
   */
  result(): Promise<R> {
    return this.client.result(this.runId) as Promise<R>;
  }

  /**
   * The run's status, each step's state and output, and what waits for a person; see TrellisClient.status.
   *
   * @example
   * ```ts
   * const { status, pending } = await run.status();
   * ```
   */
  status(): Promise<RunView> {
    return this.client.status(this.runId);
  }

  /**
   * The run's events as they happen, to `run.ended`; see TrellisClient.watch.
   *
   * @example
   * ```ts
   * for await (const e of run.watch()) if (e.type === 'step.waiting') console.log(e.data?.title);
   * ```
   */
  watch(options: WatchOptions = {}): AsyncIterableIterator<RunEvent> {
    return this.client.watch(this.runId, options);
  }

  /**
   * Approves the waiting step `step`; refused with APPROVAL_REFUSED (and `refusal`) when it may not be answered. See
   * TrellisClient.approve.
   *
   * @example
   * ```ts
   * await run.approve('ok', { by: 'alice', comment: 'photos confirm it' });
   * ```
   */
  approve(step: string, answer: Answer = {}): Promise<ApprovalResult> {
    return this.client.approve(this.runId, step, answer);
  }

  /**
   * Denies the waiting step `step`: an answer, not a failure (see TrellisClient.deny).
   *
   * @example
   * ```ts
   * await run.deny('ok', { by: 'alice', comment: 'no photos of the damage' });
   * ```
   */
  deny(step: string, answer: Answer = {}): Promise<ApprovalResult> {
    return this.client.deny(this.runId, step, answer);
  }

  /**
   * Asks the run to cancel, without waiting for it to end; result() then throws a TrellisRunError with code CANCELLED.
   *
   * @example
   * ```ts
   * await run.cancel();
   * ```
   */
  cancel(): Promise<void> {
    return this.client.cancel(this.runId);
  }
}
