/**
 * Recording a person's answer from a page, and saying in words what happened: what was recorded, or why the run
 * refused it ("you are not one of the approvers", "this was already answered by alice").
 */
import type { TrellisClient } from '../../client/client.js';
import { TrellisClientError } from '../../client/errors.js';
import type { Answer } from '../../client/handle.js';
import { DECISION_LIMITS } from '../../engine/decision.js';
import type { ApprovalResult } from '../../engine/messages.js';
import { problemFor } from '../problem.js';

/** What became of an answer: recorded, or refused with a status for the page and a sentence for the person. */
export type AnswerOutcome = { ok: true; result: ApprovalResult } | { ok: false; status: 400 | 403 | 404 | 409 | 422 | 500; message: string };

/** The fields of an answer form, checked: the step, approve or deny, and the comment (empty reads as none). */
export function readAnswerForm(form: Record<string, string>): { step: string; approved: boolean; comment?: string } | { problem: string } {
  const { step = '', approved, comment = '' } = form;
  if (step === '') return { problem: 'the form did not say which step it answers: reload the page and try again' };
  if (approved !== 'true' && approved !== 'false') return { problem: 'press Approve or Deny to answer' };
  if (comment.length > DECISION_LIMITS.comment) return { problem: `the comment is longer than ${DECISION_LIMITS.comment} characters` };
  return { step, approved: approved === 'true', ...(comment.trim() !== '' && { comment }) };
}

/** Approves or denies `step` of `runId` as `answer.by`, and says what became of it. */
export async function answerStep(client: TrellisClient, runId: string, step: string, approved: boolean, answer: Answer): Promise<AnswerOutcome> {
  try {
    const result = approved ? await client.approve(runId, step, answer) : await client.deny(runId, step, answer);
    return { ok: true, result };
  } catch (e) {
    if (!(e instanceof TrellisClientError)) throw e;
    const status = (problemFor(e)?.status ?? 500) as Extract<AnswerOutcome, { ok: false }>['status'];
    return { ok: false, status, message: await refusalWords(client, runId, step, e) };
  }
}

/** A sentence for a recorded answer: `Denied "Refund 250?" as alice, with your comment.` */
export function recordedWords(title: string, result: ApprovalResult): string {
  return `${result.approved ? 'Approved' : 'Denied'} "${title}" as ${result.by ?? 'the timeout'}${result.comment ? ', with your comment' : ''}.`;
}

/** A sentence for an answer already given: by whom, which way, when. */
export function answeredWords(decision: ApprovalResult): string {
  return `This was already answered by ${decision.by ?? 'the timeout'} (${decision.approved ? 'approved' : 'denied'} at ${decision.at}).`;
}

/**
 * The last answer the run recorded for `step`, from its events; undefined when it has none, or its events cannot
 * be read (no worker to answer the query).
 */
export async function lastDecision(client: TrellisClient, runId: string, step: string): Promise<ApprovalResult | undefined> {
  let found: ApprovalResult | undefined;
  try {
    for (let after = 0; ;) {
      const page = await client.events(runId, after);
      for (const e of page.events) if (e.type === 'step.decided' && e.step === step) found = e.data as unknown as ApprovalResult;
      if (page.ended || page.events.length === 0) return found;
      after = page.next;
    }
  } catch {
    return found;
  }
}

async function refusalWords(client: TrellisClient, runId: string, step: string, e: TrellisClientError): Promise<string> {
  if (e.code === 'RUN_NOT_FOUND') return `There is no run "${runId}".`;
  if (e.code !== 'APPROVAL_REFUSED') return e.message;
  switch (e.refusal) {
    case 'not_an_approver':
      return `You are not one of the approvers of this step, so your answer was not recorded. (${e.message})`;
    case 'already_decided':
    case 'not_waiting': {
      const decision = await lastDecision(client, runId, step);
      if (decision) return answeredWords(decision);
      return e.refusal === 'already_decided' ? `This was already answered: ${e.message}.` : `This no longer waits for an answer: ${e.message}.`;
    }
    case 'unsigned':
    case 'signature_invalid':
      return `The worker takes only signed answers, and this server's signature was refused: it needs the worker's TRELLIS_DECISION_KEY. (${e.message})`;
    default:
      return `The answer was not recorded: ${e.message}.`;
  }
}
