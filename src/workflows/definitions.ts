/**
 * The interpreter's signal, update and query, defined once: the workflow sets handlers for them, the client
 * sends and asks through them. docs/temporal-api.md describes them for clients in other languages.
 */
import type { VersioningBehavior } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecision, ApprovalResult, RunEvents, RunView } from '../engine/messages.js';

/** The workflow type of a spec run: its one argument is a RunArgs (RunArgsSchema), its result a RunResult. */
export const WORKFLOW_TYPE = 'trellisRun';
/** The workflow type of a goal run (plan, optionally review, then run): its argument is a GoalArgs, its result a GoalResult. */
export const GOAL_WORKFLOW_TYPE = 'trellisGoal';

/**
 * How a versioned worker's runs are routed (Worker Versioning): PINNED, so a run finishes on the build it started on,
 * which may wait days for a person, while new runs go to the deployment's current build. Child runs (`call` steps)
 * start on their parent's build. An unversioned worker ignores it.
 */
export const VERSIONING_BEHAVIOR = 'PINNED' satisfies VersioningBehavior;

/** Fire and forget: an answer for a waiting step. A refused one changes nothing and is listed in the status view. */
export const approveSignal = defineSignal<[ApprovalDecision]>('approve');

/**
 * The same answer, with a reply: refused, before anything is recorded in the history, with an ApplicationFailure of
 * type TrellisDecisionRefused whose details[0] is { code, message } (src/engine/decision.ts lists the codes).
 */
export const decideUpdate = defineUpdate<ApprovalResult, [ApprovalDecision]>('decide');

/** The run's status view, answered by a worker while the run is open (TrellisClient.status reads an ended run from its history). */
export const statusQuery = defineQuery<RunView>('status');

/**
 * The run's events after `after` (a seq, default 0): its steps' progress, waits and answers, its end. `trellis serve`
 * streams them; the seqs are stable, so a reader resumes after the last it saw.
 */
export const eventsQuery = defineQuery<RunEvents, [{ after?: number }?]>('events');

/**
 * The memo field in which a waiting run keeps what it waits for (PendingApproval[], at most 16 KiB: details, then
 * args, are left out past it), so a list of waiting runs says what each waits for without asking any worker.
 */
export const PENDING_MEMO = 'trellisPending';

/** The memo field in which a cancelled run keeps its final view, so its status needs no worker. */
export const FINAL_VIEW_MEMO = 'trellisView';
/** The memo key of what an ended run used, `{ tokens, cost? }`: `list` shows it with no worker asked. */
export const USAGE_MEMO = 'trellisUsage';
