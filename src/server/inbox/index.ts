/**
 * The approval inbox of `trellis serve`: server-rendered pages for people (docs/inbox.md).
 *
 *   GET  /inbox/login                  sign in with a bearer token (a JWT)
 *   POST /inbox/session                exchange it for the session cookie
 *   POST /inbox/logout                 end the session
 *   GET  /inbox                        what waits for me
 *   GET  /inbox/runs/{id}              one run: what it asks, its steps, its live progress
 *   POST /inbox/runs/{id}/decisions    approve or deny, then back to the run
 *   GET  /a/{token}                    a signed approval link's page (no sign-in: the link is the credential)
 *   POST /a/{token}                    record the link's approver's answer
 *   GET  /inbox/assets/live.js         the one script (live progress)
 */
import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ServerDeps } from '../deps.js';
import { problemFor } from '../problem.js';
import { formLimit, pageHeaders, type InboxEnv } from './http.js';
import { page } from './layout.js';
import { linkPage, postLinkAnswer } from './link-page.js';
import { listPage } from './list-page.js';
import { LIVE_SCRIPT } from './live-script.js';
import { postDecision, runPage } from './run-page.js';
import { sessionGuard, signinRoutes } from './signin.js';

/** The inbox's routes, for the server's app to mount at `/`. */
export function inboxRoutes(deps: ServerDeps): Hono {
  const app = new Hono<InboxEnv>();
  // '/inbox/*' covers '/inbox' too. Scoped to these paths, not '*': mounted at '/', that would reach the API's routes.
  app.use('/inbox/*', pageHeaders);
  app.use('/a/*', pageHeaders);

  app.get('/inbox/assets/live.js', (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.body(LIVE_SCRIPT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
  });
  signinRoutes(app, deps);

  const guard = sessionGuard(deps);
  app.get('/inbox', guard, (c) => listPage(c, deps));
  app.get('/inbox/runs/:id', guard, (c) => runPage(c, deps));
  app.post('/inbox/runs/:id/decisions', formLimit, guard, (c) => postDecision(c, deps));

  app.onError((e, c) => errorPage(c, deps, e));

  app.get('/a/:token', (c) => linkPage(c, deps));
  app.post('/a/:token', formLimit, (c) => postLinkAnswer(c, deps));
  return app as unknown as Hono;
}

/**
 * An error a page let through, as a page (the API's handler would answer JSON): what went wrong when it is known
 * (Temporal cannot be reached, no worker answered), else a 500 that says the server logged it.
 */
function errorPage(c: Context<InboxEnv>, deps: ServerDeps, e: unknown): Response | Promise<Response> {
  const known = problemFor(e);
  if (!known || known.status >= 500) deps.logger?.error({ err: e, method: c.req.method, path: c.req.path }, 'an inbox page failed');
  const status = (known && known.status >= 400 && known.status < 600 ? known.status : 500) as ContentfulStatusCode;
  const text = known ? known.message : 'Something went wrong; the server logged it.';
  return page(c, {
    title: 'Something went wrong',
    status,
    flash: { kind: 'error', text },
    body: html`<p><a href="/inbox">Back to the inbox</a></p>`,
  });
}
