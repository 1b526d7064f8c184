/**
 * The interpreter's signal, update and query, defined once: the workflow sets handlers for them, the client
 * sends and asks through them.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecision, ApprovalResult, RunView } from '../engine/messages.js';

export const WORKFLOW_TYPE = 'trellisRun';
/** A goal run: plan, optionally review, then run (src/workflows/goal.ts). */
export const GOAL_WORKFLOW_TYPE = 'trellisGoal';

/** Fire and forget: an answer for a waiting step. Ignored when the step is not waiting or the person may not answer. */
export const approveSignal = defineSignal<[ApprovalDecision]>('approve');

/** The same answer, with a reply: refused (with the reason) for an unknown step, one already decided, or a person not in approvers. */
export const decideUpdate = defineUpdate<ApprovalResult, [ApprovalDecision]>('decide');

export const statusQuery = defineQuery<RunView>('status');
