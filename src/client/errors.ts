/** What the client throws: refusals before or at Temporal's door (TrellisClientError) and runs that did not complete (TrellisRunError). */
import type { RefusalCode } from '../engine/decision.js';
import type { FailureCode } from '../engine/failures.js';
import type { RunFailureDetails, RunProblem, RunUsage } from '../engine/messages.js';
import type { RunStatus, StepState } from '../engine/state.js';
import { TrellisError } from '../errors.js';
import type { Problem } from '../spec/problems.js';

/** Why the client refused or could not do what it was asked (each member's comment says when). */
export type ClientErrorCode =
  | 'SPEC_INVALID' // the spec did not validate: nothing started
  | 'INPUT_INVALID' // the input does not match the spec's input schema: nothing started
  | 'RUN_EXISTS' // a run with this id exists (running or ended): nothing started, no side effect repeated
  | 'RUN_NOT_FOUND' // no run has this id
  | 'APPROVAL_REFUSED' // an answer was refused; `refusal` says why (not_waiting, already_decided, ...)
  | 'NO_CONNECTION' // Temporal could not be reached
  | 'NO_WORKER' // a running run's query had no worker to answer it
  | 'LIST_UNSUPPORTED'; // list by running or waiting on a server without the TrellisStatus search attribute

/** What TrellisClient throws when it refuses a call or cannot make it: switch on `code`. */
export class TrellisClientError extends TrellisError {
  declare readonly code: ClientErrorCode;
  constructor(
    code: ClientErrorCode,
    message: string,
    /** For SPEC_INVALID and INPUT_INVALID: each problem, with its path. Empty otherwise. */
    readonly problems: Problem[] = [],
    /** For APPROVAL_REFUSED: the workflow's refusal code. */
    readonly refusal?: RefusalCode,
  ) {
    super(code, message);
  }
}

/** How a run that did not complete ended: a Trellis failure's code, or what Temporal did to it. */
export type RunErrorCode = FailureCode | 'CANCELLED' | 'TERMINATED' | 'TIMED_OUT';

/** A run that did not complete, as result() reports it: why, where, and what it used. */
export class TrellisRunError extends TrellisError {
  declare readonly code: RunErrorCode;
  constructor(
    code: RunErrorCode,
    message: string,
    /** The run: its id, how it ended, and, for a failed run, where and what it used. */
    readonly run: {
      runId: string;
      /** How it ended: failed, or what Temporal did to it. */
      status: Extract<RunStatus, 'failed' | 'cancelled' | 'terminated' | 'timed_out'>;
      /** The step that failed, and why. */
      step?: string;
      reason?: string;
      /** A run the worker refused, or a plan that stayed invalid: each problem. */
      problems: RunProblem[];
      /** What a failed run used: tokens and step executions. */
      usage?: RunUsage;
      /** A failed run's steps, by id, as they were when it failed. */
      steps?: Record<string, StepState>;
    },
    /** A failed run's failure details as the workflow gave them (docs/temporal-api.md). */
    readonly details?: RunFailureDetails,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
