/**
 * Signing in to the inbox: a person's bearer token (a JWT) exchanged once for the session cookie, signing out, and
 * the guard in front of every other inbox page, which sends a browser without a session to the sign-in page (not a
 * JSON 401) and checks the CSRF token of every form it posts.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import { AuthError, principalFromBearer, type Principal } from '../auth.js';
import type { ServerDeps } from '../deps.js';
import { HttpProblem } from '../problem.js';
import { checkCsrf, clearSession, csrfToken, issueSession, sessionPrincipal } from '../session.js';
import { formFields, formLimit, type InboxEnv } from './http.js';
import { page } from './layout.js';

/**
 * The sign-in form's own CSRF check: a random value in a SameSite=Strict cookie and in the form. A cross-site form
 * cannot read the cookie, nor make the browser send it, so it cannot sign a victim in as someone else.
 */
const LOGIN_COOKIE = 'trellis_login';

/** Adds GET /inbox/login, POST /inbox/session and POST /inbox/logout to `app`. */
export function signinRoutes(app: Hono<InboxEnv>, deps: ServerDeps): void {
  app.get('/inbox/login', (c) => {
    const next = safeNext(c.req.query('next'));
    if (sessionPrincipal(c, deps.auth)) return c.redirect(next, 303);
    return loginPage(c, deps, next);
  });

  app.post('/inbox/session', formLimit, async (c) => {
    const form = await formFields(c);
    const next = safeNext(form.next);
    const nonce = getCookie(c, LOGIN_COOKIE);
    if (nonce === undefined || form.login === undefined || !equal(nonce, form.login)) {
      return loginPage(c, deps, next, 'This sign-in form has expired or did not come from this server: try again.', 403);
    }
    const token = (form.token ?? '').trim();
    if (token === '') return loginPage(c, deps, next, 'Paste your token to sign in.', 400);
    let principal;
    try {
      principal = await principalFromBearer(deps.auth, token);
    } catch (e) {
      if (e instanceof AuthError) return loginPage(c, deps, next, `That token did not sign you in: ${e.message}.`, 401);
      throw e;
    }
    // The inbox records answers as the person who signed in; a service's key answers through the API instead.
    if (principal.kind === 'key')
      return loginPage(c, deps, next, 'That is an API key: the inbox is for people, so sign in with your own token (a JWT).', 403);
    try {
      issueSession(c, deps.auth, principal);
    } catch (e) {
      if (e instanceof HttpProblem) return loginPage(c, deps, next, e.message, 422);
      throw e;
    }
    deleteCookie(c, LOGIN_COOKIE, { path: '/inbox' });
    return c.redirect(next, 303);
  });

  app.post('/inbox/logout', formLimit, sessionGuard(deps), (c) => {
    clearSession(c);
    return c.redirect('/inbox/login', 303);
  });
}

/**
 * Lets through a request from a signed-in person (as `c.var.principal`), and a POST only with their CSRF token in
 * the form field `csrf`. Without a session, a page asked for is remembered for after the sign-in.
 *
 * A person's bearer token on the request counts too, before the cookie: that is how a login proxy in front of the
 * server (an OIDC provider's) signs people in, by sending their token with each request. Its CSRF check is the
 * same, since the proxy adds the header to a cross-site request as readily as a browser sends a cookie.
 */
export function sessionGuard(deps: ServerDeps): MiddlewareHandler<InboxEnv> {
  return async (c, next) => {
    const principal = (await proxiedPerson(c, deps)) ?? sessionPrincipal(c, deps.auth);
    if (!principal) {
      const url = new URL(c.req.url);
      const back = c.req.method === 'GET' ? `${url.pathname}${url.search}` : '/inbox';
      return c.redirect(`/inbox/login?next=${encodeURIComponent(back)}`, 303);
    }
    if (c.req.method === 'POST' && !checkCsrf(c, deps.auth, principal, (await formFields(c)).csrf)) {
      return page(c, {
        title: 'Not sent',
        status: 403,
        body: html`<p>This form did not come from your inbox page, or your session changed since it was shown.</p>
          <p><a href="/inbox">Back to the inbox</a>, and answer from there.</p>`,
      });
    }
    c.set('principal', principal);
    await next();
  };
}

/** The person an `Authorization: Bearer` header names; undefined without one, or for a key or a refused token. */
async function proxiedPerson(c: Context, deps: ServerDeps): Promise<Principal | undefined> {
  const [scheme, token] = (c.req.header('authorization') ?? '').trim().split(/\s+/);
  if (scheme?.toLowerCase() !== 'bearer' || !token) return undefined;
  const principal = await principalFromBearer(deps.auth, token).catch((e: unknown) => (e instanceof AuthError ? undefined : Promise.reject(e)));
  return principal?.kind === 'person' ? principal : undefined;
}

/** The CSRF token and the name shown for the signed-in person, for the page header. */
export function sessionOf(c: Context<InboxEnv>, deps: ServerDeps): { who: string; csrf: string } {
  const principal = c.get('principal');
  const who = principal.kind === 'key' ? `key:${principal.name}` : (principal.email ?? principal.sub);
  return { who, csrf: csrfToken(deps.auth, principal) };
}

function loginPage(c: Context<InboxEnv>, deps: ServerDeps, next: string, error?: string, status: 200 | 400 | 401 | 403 | 422 = 200) {
  const nonce = randomBytes(18).toString('base64url');
  setCookie(c, LOGIN_COOKIE, nonce, { path: '/inbox', httpOnly: true, sameSite: 'Strict', secure: deps.auth.session.secure, maxAge: 30 * 60 });
  return page(c, {
    title: 'Sign in',
    status,
    ...(error !== undefined && { flash: { kind: 'error' as const, text: error } }),
    body: html`<form method="post" action="/inbox/session" class="card">
        <input type="hidden" name="login" value="${nonce}" />
        <input type="hidden" name="next" value="${next}" />
        <label for="token">Your token</label>
        <p class="meta" id="token-help">
          A JWT that names you (its <code>sub</code>, <code>email</code> and <code>groups</code>), from your identity provider.
        </p>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" aria-describedby="token-help" required />
        <div class="buttons"><button type="submit" class="approve">Sign in</button></div>
      </form>
      <p class="meta">
        The token is checked once and exchanged for a session cookie for 8 hours; it is not kept. Where an OIDC provider is configured, a login proxy
        in front of this server can sign you in instead, by sending your token with each request.
      </p>`,
  });
}

/** Where to go after signing in: an inbox page, never another site (`//evil.example` is not a path here). */
function safeNext(next: string | undefined): string {
  return next !== undefined && /^\/inbox(\/[^/\\]|\?|$)/.test(next) && !/[\\\s]/.test(next) ? next : '/inbox';
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
