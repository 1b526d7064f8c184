/** A run, as Temporal's WorkflowHandle is a workflow: what a service does with the run it started. */
import type { ApprovalResult, RunResult, RunView } from '../engine/messages.js';
import type { TrellisClient } from './client.js';

/** Who answers, and why. `by` is required by every step that waits for a person. */
export interface Answer {
  by?: string;
  comment?: string;
}

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
