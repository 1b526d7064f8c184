/**
 * One run in the inbox: what it asks (GET /inbox/runs/{id}), answering it (POST /inbox/runs/{id}/decisions, then
 * back to the page with what was recorded or why not), its steps so far and its live progress.
 */
import type { Context } from 'hono';
import { html, raw } from 'hono/html';
import type { RunView } from '../../engine/messages.js';
import { temporalUiRunUrl } from '../../links/urls.js';
import { answererFor, mayAnswer } from '../auth.js';
import type { ServerDeps } from '../deps.js';
import { csrfToken } from '../session.js';
import { answerStep, readAnswerForm, recordedWords } from './answer.js';
import { formFields, setFlash, takeFlash, type InboxEnv } from './http.js';
import { page, type Fragment } from './layout.js';
import { answerForm, questionBody } from './question.js';
import { sessionOf } from './signin.js';
import { runOrUndefined } from './waiting.js';

/** The page of one run. */
export async function runPage(c: Context<InboxEnv>, deps: ServerDeps): Promise<Response> {
  const runId = c.req.param('id') ?? '';
  const view = await runOrUndefined(deps.client, runId);
  const session = sessionOf(c, deps);
  if (!view) return page(c, { title: 'No such run', status: 404, session, body: html`<p>There is no run <code>${runId}</code>.</p>` });
  const input = await deps.client.input(runId);
  const principal = c.get('principal');
  const now = new Date();
  const flash = takeFlash(c);
  const action = `/inbox/runs/${encodeURIComponent(runId)}/decisions`;
  const check = { name: 'csrf', value: csrfToken(deps.auth, principal) };
  const ui = deps.temporalUiUrl ? temporalUiRunUrl(deps.temporalUiUrl, deps.client.config.namespace, runId) : undefined;
  return page(c, {
    title: view.name,
    session,
    ...(flash && { flash }),
    body: html`<p class="meta">
        Run <code>${runId}</code> · ${view.name} · <span class="status ${view.status}">${view.status}</span>
        ${ui ? html` · <a href="${ui}">Open in the Temporal UI</a>` : ''}
      </p>
      ${view.goal ? html`<p>Goal: ${view.goal}${view.spec ? html` · plan <code>${view.spec.name}</code>` : ''}</p>` : ''}
      ${view.error ? html`<p class="flash error">${view.error}</p>` : ''}
      ${view.pending.length === 0 ? html`<p class="card">Nothing here waits for an answer now.</p>` : ''}
      ${view.pending.map(
        (p) =>
          html`<section class="card" aria-labelledby="q-${p.step}" data-pending="${p.step}">
            <h2 id="q-${p.step}">${p.title}</h2>
            ${questionBody(p, now)}
            ${
              mayAnswer(principal, p.approvers)
                ? answerForm({ action, step: p.step, check, goal: view.goal !== undefined })
                : html`<p class="flash info">You are not one of the approvers of this step, so you cannot answer it here.</p>`
            }
          </section>`,
      )}
      ${inputSection(input)} ${stepsSection(view)} ${liveSection(view)}`,
  });
}

/** Records the answer of the run page's form, then goes back to the page with what became of it. */
export async function postDecision(c: Context<InboxEnv>, deps: ServerDeps): Promise<Response> {
  const runId = c.req.param('id') ?? '';
  const back = `/inbox/runs/${encodeURIComponent(runId)}`;
  const form = readAnswerForm(await formFields(c));
  if ('problem' in form) {
    setFlash(c, deps.auth, { kind: 'error', text: `Not sent: ${form.problem}.` });
    return c.redirect(back, 303);
  }
  const principal = c.get('principal');
  // The approvers decide which of the person's names the answer carries (their email or their sub).
  const pending = (await runOrUndefined(deps.client, runId))?.pending.find((p) => p.step === form.step);
  const answer = { ...answererFor(principal, pending?.approvers), ...(form.comment !== undefined && { comment: form.comment }) };
  const outcome = await answerStep(deps.client, runId, form.step, form.approved, answer);
  setFlash(
    c,
    deps.auth,
    outcome.ok ? { kind: 'ok', text: recordedWords(pending?.title ?? form.step, outcome.result) } : { kind: 'error', text: outcome.message },
  );
  return c.redirect(back, 303);
}

/** The run's input, as it was started with, shown whole up to INPUT_SHOWN characters. */
function inputSection(input: unknown): Fragment {
  const text = JSON.stringify(input, null, 2);
  const shown = text.length > INPUT_SHOWN ? `${text.slice(0, INPUT_SHOWN)}\n... (${text.length - INPUT_SHOWN} more characters)` : text;
  return html`<section class="card" aria-labelledby="input-h">
    <h2 id="input-h">Input</h2>
    ${input === null ? html`<p>The run was started without input.</p>` : html`<pre>${shown}</pre>`}
  </section>`;
}

const INPUT_SHOWN = 4000;

function stepsSection(view: RunView): Fragment {
  const steps = Object.entries(view.steps);
  return html`<section class="card" aria-labelledby="steps-h">
    <h2 id="steps-h">Steps so far</h2>
    ${
      steps.length === 0
        ? html`<p>No steps yet.</p>`
        : html`<ol class="steps">
            ${steps.map(
              ([id, s]) =>
                html`<li><code>${id}</code> <span class="status ${s.status}">${s.status}</span>${s.reason ? html` · ${s.reason}` : ''}</li>`,
            )}
          </ol>`
    }
    ${(view.earlierPlans ?? []).map(
      (p) => html`<p class="meta">Plan ${p.plan} (<code>${p.spec.name}</code>) was replaced: "${p.replacedBecause.comment}"</p>`,
    )}
  </section>`;
}

/**
 * The run's events as they happen, appended by /inbox/assets/live.js from the event stream. What the page showed
 * as waiting goes to the script as JSON (with `<` escaped, so no text can end the element), so that it can tell a
 * new question from one already on the page.
 */
function liveSection(view: RunView): Fragment {
  const data = {
    events: `/v1/runs/${encodeURIComponent(view.runId)}/events`,
    shown: view.pending.map((p) => ({ step: p.step, askedAt: p.askedAt ?? null })),
  };
  return html`<section class="card" aria-labelledby="live-h">
    <h2 id="live-h">Live progress</h2>
    <div id="live-notice" aria-live="polite"></div>
    <ol class="progress" id="progress"></ol>
    <p class="meta" id="progress-note">Connecting…</p>
    <script type="application/json" id="live-data">
      ${raw(JSON.stringify(data).replace(/</g, '\\u003c'))}
    </script>
    <script src="/inbox/assets/live.js" defer></script>
  </section>`;
}
