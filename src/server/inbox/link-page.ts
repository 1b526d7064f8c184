/**
 * Signed approval links (src/links): GET /a/{token} shows what the link's approver is asked, POST /a/{token}
 * records their answer. The link is the credential, so no sign-in: it is bound to its run, its step and its
 * approver, and expires. Opening it never decides, even with `?decision=approve` (link scanners and mail previews
 * fetch every GET): that only marks the button. A link is used once because the run takes one answer per step.
 *
 * The form carries the token in its body as well as in its URL. A cross-site page cannot know it without holding
 * the link already, which is the credential itself; so it serves as the form's CSRF token, and is checked.
 */
import type { Context } from 'hono';
import { html } from 'hono/html';
import { linkKeyFrom, readApprovalLink, type ApprovalLinkFields } from '../../links/approval-link.js';
import type { ServerDeps } from '../deps.js';
import { answeredWords, answerStep, lastDecision, readAnswerForm, recordedWords } from './answer.js';
import { formFields, type Flash, type InboxEnv } from './http.js';
import { page } from './layout.js';
import { answerForm, questionBody, timeText, until } from './question.js';
import { runOrUndefined } from './waiting.js';

/** GET /a/{token}: the approval page of the link's run and step. */
export async function linkPage(c: Context<InboxEnv>, deps: ServerDeps): Promise<Response> {
  const token = c.req.param('token') ?? '';
  const link = await readLink(c, deps, token);
  if (link instanceof Response) return link;
  const view = await runOrUndefined(deps.client, link.run);
  if (!view) return notice(c, 'No such run', `The run this link is for (${link.run}) does not exist.`, 404);
  const pending = view.pending.find((p) => p.step === link.step);
  if (!pending) {
    const decision = await lastDecision(deps.client, link.run, link.step);
    return notice(
      c,
      'Already answered',
      decision ? answeredWords(decision) : `This no longer waits for an answer (the run is ${view.status}).`,
      200,
      'info',
    );
  }
  if (pending.askedAt !== link.asked) return notice(c, 'Asked again', EARLIER_QUESTION, 410);
  if (pending.approvers && !pending.approvers.includes(link.approver)) {
    return notice(
      c,
      'Not yours to answer',
      `${link.approver} is not one of the approvers of this step (approvers: ${pending.approvers.join(', ')}).`,
      403,
    );
  }
  const decision = c.req.query('decision');
  const picked = decision === 'approve' || decision === 'deny' ? decision : undefined;
  const now = new Date();
  return page(c, {
    title: pending.title,
    body: html`<p class="meta">Run <code>${link.run}</code> · ${view.name}</p>
      <section class="card" aria-label="What is asked">${questionBody(pending, now)}</section>
      <section class="card" aria-labelledby="answer-h">
        <h2 id="answer-h">Your answer</h2>
        <p class="meta">Recorded as <strong>${link.approver}</strong>. This link expires ${timeText(link.expires, until(link.expires, now))}.</p>
        ${answerForm({ action: `/a/${token}`, step: link.step, check: { name: 'token', value: token }, goal: view.goal !== undefined, picked })}
      </section>`,
  });
}

/** POST /a/{token}: records the answer of the link's approver to the link's step. */
export async function postLinkAnswer(c: Context<InboxEnv>, deps: ServerDeps): Promise<Response> {
  const token = c.req.param('token') ?? '';
  const link = await readLink(c, deps, token);
  if (link instanceof Response) return link;
  const fields = await formFields(c);
  if (fields.token !== token) return notice(c, 'Not sent', 'This form did not come from the approval page of this link: open the link again.', 403);
  // The link, not the form, says which step is answered.
  const form = readAnswerForm({ ...fields, step: link.step });
  if ('problem' in form) return notice(c, 'Not sent', `Not sent: ${form.problem}.`, 400);
  const pending = (await runOrUndefined(deps.client, link.run))?.pending.find((p) => p.step === link.step);
  if (pending && pending.askedAt !== link.asked) return notice(c, 'Asked again', EARLIER_QUESTION, 410);
  const title = pending?.title ?? link.step;
  const answer = { by: link.approver, ...(form.comment !== undefined && { comment: form.comment }) };
  const outcome = await answerStep(deps.client, link.run, link.step, form.approved, answer);
  if (!outcome.ok) return notice(c, 'Not recorded', outcome.message, outcome.status);
  return notice(c, outcome.result.approved ? 'Approved' : 'Denied', `${recordedWords(title, outcome.result)} You can close this page.`, 200, 'ok');
}

const EARLIER_QUESTION =
  'This link answers an earlier question of this step; it asks again now (a new plan, say). Use the link of the newest notification, or the inbox.';

/** The link's fields; or the page that says why the token is no good (400 invalid, 410 expired), or that links are off. */
async function readLink(c: Context<InboxEnv>, deps: ServerDeps, token: string): Promise<ApprovalLinkFields | Response> {
  if (!deps.decisionKey)
    return notice(c, 'Approval links are off', 'This server has no TRELLIS_DECISION_KEY, so it makes and takes no approval links.', 404);
  const read = readApprovalLink(linkKeyFrom(deps.decisionKey), token, new Date());
  if (read.ok) return read.link;
  return read.code === 'link_expired'
    ? notice(c, 'This link has expired', `${read.message}.`, 410)
    : notice(c, 'This link does not work', `${read.message}.`, 400);
}

function notice(
  c: Context<InboxEnv>,
  title: string,
  text: string,
  status: 200 | 400 | 403 | 404 | 409 | 410 | 422 | 500 = 200,
  kind: Flash['kind'] = 'error',
) {
  return page(c, {
    title,
    status,
    flash: { kind, text },
    body: html`<p class="meta">To see everything that waits for you, <a href="/inbox">sign in to the inbox</a>.</p>`,
  });
}
