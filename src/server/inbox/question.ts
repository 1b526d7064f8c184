/**
 * What a person is asked, as the inbox and the approval-link page show it: the title, the gated tool's args, the
 * details, who may answer, how long it has waited and when the timeout answers; and the approve/deny form.
 */
import { html } from 'hono/html';
import { DECISION_LIMITS } from '../../engine/decision.js';
import type { PendingApproval } from '../../engine/messages.js';
import type { Fragment } from './layout.js';

const SOURCE: Record<PendingApproval['source'], string> = {
  approval: 'An approval step',
  policy: "A tool call that waits for approval (its tool's policy asks a person)",
  plan: 'A plan to review before any of its steps runs',
};

/** The body of one question: what kind it is, the args, the details, the approvers, its age and deadline. */
export function questionBody(p: PendingApproval, now: Date): Fragment {
  // A policy gate's details are its args as JSON: shown once, as the list, unless they say more (a policy that threw).
  const details = p.details !== undefined && !(p.args && p.details === JSON.stringify(p.args)) ? p.details : undefined;
  return html`<p class="meta">${SOURCE[p.source]} · step <code>${p.step}</code></p>
    ${
      p.args && Object.keys(p.args).length > 0
        ? html`<dl class="args" aria-label="Arguments of the tool call">
            ${Object.entries(p.args).map(
              ([k, v]) =>
                html`<dt>${k}</dt>
                  <dd>${typeof v === 'string' ? v : JSON.stringify(v)}</dd>`,
            )}
          </dl>`
        : ''
    }
    ${details !== undefined ? html`<pre>${details}</pre>` : ''}
    <p class="meta">
      ${p.askedAt ? html`Asked ${timeText(p.askedAt, since(p.askedAt, now))}` : 'Waiting'} ·
      ${p.deadline ? html`the timeout answers ${timeText(p.deadline, until(p.deadline, now))}` : 'no deadline'} ·
      ${p.approvers ? html`approvers: ${p.approvers.join(', ')}` : 'anyone may answer'}
    </p>`;
}

/** The approve/deny form: a comment, then the two buttons. `picked` marks the one a link chose in advance. */
export function answerForm(options: {
  action: string;
  step: string;
  /** The hidden field that proves the form came from this server: its name and value. */
  check: { name: string; value: string };
  /** The run is a goal run: a denial with a comment there asks for a new plan. */
  goal: boolean;
  picked?: 'approve' | 'deny' | undefined;
}): Fragment {
  const { action, step, check, goal, picked } = options;
  const id = `comment-${step}`;
  const hint = goal ? 'Optional. Deny with a comment to ask for a new plan that does what it says.' : 'Optional; kept with your answer.';
  return html`<form method="post" action="${action}" class="answer">
    <input type="hidden" name="step" value="${step}" />
    <input type="hidden" name="${check.name}" value="${check.value}" />
    <label for="${id}">Comment</label>
    <p class="meta hint" id="${id}-hint">${hint}</p>
    <textarea id="${id}" name="comment" maxlength="${DECISION_LIMITS.comment}" aria-describedby="${id}-hint"></textarea>
    ${
      picked
        ? html`<p class="meta">You chose ${picked === 'approve' ? 'Approve' : 'Deny'} in the message. Nothing is recorded until you press it.</p>`
        : ''
    }
    <div class="buttons">
      <button type="submit" name="approved" value="true" class="approve${picked === 'approve' ? ' picked' : ''}">Approve</button>
      <button type="submit" name="approved" value="false" class="deny${picked === 'deny' ? ' picked' : ''}">Deny</button>
    </div>
  </form>`;
}

/** A time as a person reads it (`5 min ago`), with the exact time for a tooltip and for machines. */
export function timeText(iso: string, text: string): Fragment {
  return html`<time datetime="${iso}" title="${iso}">${text}</time>`;
}

/** How long ago `iso` was: `just now`, `5 min ago`, `3 h ago`. */
export function since(iso: string, now: Date): string {
  const ms = now.getTime() - Date.parse(iso);
  return ms < 60_000 ? 'just now' : `${span(ms)} ago`;
}

/** How long until `iso`: `in 5 min`, or `5 min ago` once it has passed. */
export function until(iso: string, now: Date): string {
  const ms = Date.parse(iso) - now.getTime();
  return ms >= 0 ? `in ${span(ms)}` : `${span(-ms)} ago`;
}

function span(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.max(1, Math.round(ms / 1000))} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.floor(hours / 24)} d`;
}
