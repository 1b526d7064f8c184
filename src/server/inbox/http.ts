/**
 * What every inbox and approval-link page shares at the HTTP level: the security headers (a strict
 * Content-Security-Policy with a nonce for the one inline style), reading a form, and the flash message a redirect
 * after a POST carries to the page it lands on.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { NONCE, secureHeaders, type SecureHeadersVariables } from 'hono/secure-headers';
import type { AuthConfig, Principal } from '../auth.js';

/** The variables an inbox handler reads: the CSP nonce, and (behind the session guard) who is signed in. */
export type InboxEnv = { Variables: SecureHeadersVariables & { principal: Principal } };

const securityHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: [NONCE],
    connectSrc: ["'self'"],
    imgSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  xFrameOptions: 'DENY',
});

/**
 * The headers of every page. Scripts only from this origin (the one served script), the inline style only with this
 * response's nonce, connections only back here (the event stream), forms only to here, no framing, no referrer
 * (an approval link's token is in its URL), and no caching (pages show who is signed in and a run's live state).
 */
export const pageHeaders: MiddlewareHandler = async (c, next) => {
  await securityHeaders(c, next);
  if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
};

/** A form body is small (a comment is at most 4,000 characters): anything much larger is refused before it is read. */
export const formLimit = bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.text('the form is too large', 413) });

/** The text fields of a form-encoded POST (files and repeated fields are dropped). Hono caches the parsed body. */
export async function formFields(c: Context): Promise<Record<string, string>> {
  const body = await c.req.parseBody().catch(() => ({}));
  return Object.fromEntries(Object.entries(body).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** A message at the top of a page: what was recorded, why it was refused, or how things stand. */
export interface Flash {
  kind: 'ok' | 'error' | 'info';
  text: string;
}

const FLASH_COOKIE = 'trellis_flash';

/**
 * Keeps `flash` for the next inbox page, in a short-lived cookie rather than the URL: a link cannot then make the
 * inbox say something it did not.
 */
export function setFlash(c: Context, auth: AuthConfig, flash: Flash): void {
  const value = Buffer.from(JSON.stringify(flash), 'utf8').toString('base64url');
  setCookie(c, FLASH_COOKIE, value, { path: '/inbox', httpOnly: true, sameSite: 'Strict', secure: auth.session.secure, maxAge: 60 });
}

/** The flash message the last redirect left, once: reading it clears it. */
export function takeFlash(c: Context): Flash | undefined {
  const value = getCookie(c, FLASH_COOKIE);
  if (value === undefined) return undefined;
  deleteCookie(c, FLASH_COOKIE, { path: '/inbox' });
  try {
    const flash = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<Flash>;
    if ((flash.kind === 'ok' || flash.kind === 'error' || flash.kind === 'info') && typeof flash.text === 'string')
      return { kind: flash.kind, text: flash.text };
  } catch {
    // A cookie that is not ours shows nothing.
  }
  return undefined;
}
