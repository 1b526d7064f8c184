/** GET /inbox: what waits for the signed-in person, oldest first, each with what is asked and a link to answer it. */
import type { Context } from 'hono';
import { html } from 'hono/html';
import type { ServerDeps } from '../deps.js';
import { takeFlash, type InboxEnv } from './http.js';
import { page } from './layout.js';
import { questionBody } from './question.js';
import { sessionOf } from './signin.js';
import { MAX_WAITING_RUNS, waitingFor } from './waiting.js';

/** The inbox page. */
export async function listPage(c: Context<InboxEnv>, deps: ServerDeps): Promise<Response> {
  const now = new Date();
  const { items, runs } = await waitingFor(deps.client, c.get('principal'));
  const flash = takeFlash(c);
  return page(c, {
    title: 'Waiting for you',
    session: sessionOf(c, deps),
    ...(flash && { flash }),
    body: html`${
      items.length === 0
        ? html`<p class="card">Nothing waits for you now.</p>`
        : html`<ul class="items">
            ${items.map(
              ({ run, pending }) =>
                html`<li class="card">
                  <h2><a href="/inbox/runs/${encodeURIComponent(run.runId)}">${pending.title}</a></h2>
                  <p class="meta">Run <code>${run.runId}</code> · ${run.name}</p>
                  ${questionBody(pending, now)}
                </li>`,
            )}
          </ul>`
    }
    ${runs >= MAX_WAITING_RUNS ? html`<p class="meta">Only the newest ${MAX_WAITING_RUNS} waiting runs were read.</p>` : ''}`,
  });
}
