/**
 * Browser sessions of the inbox: the principal a bearer token proved, kept in a signed cookie (`trellis_session`,
 * HMAC-SHA256, 8 hours) so a person signs in once; and the CSRF token that every state-changing request made with
 * that cookie must carry. The server keeps no session state: a session ends when its cookie expires, is cleared,
 * or the key changes.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { ConfigError } from '../config.js';
import type { AuthConfig, Principal } from './auth.js';
import { HttpProblem } from './problem.js';

export const SESSION_COOKIE = 'trellis_session';
/** How long a session lasts from sign-in. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** Browsers keep cookies up to 4,096 bytes: a larger one would be dropped without a word. */
const MAX_COOKIE_BYTES = 4000;

/** The key that signs session cookies and CSRF tokens, where it came from, and whether cookies are Secure. */
export interface SessionKeys {
  /** The HMAC-SHA256 key. */
  key: Buffer;
  /**
   * TRELLIS_SESSION_KEY; derived from TRELLIS_DECISION_KEY; or random, made by this process (sessions then end when
   * it does).
   */
  source: 'TRELLIS_SESSION_KEY' | 'TRELLIS_DECISION_KEY' | 'random';
  /** Cookies carry Secure: the server is reached over https (TRELLIS_PUBLIC_URL). */
  secure: boolean;
}

/**
 * The session key from TRELLIS_SESSION_KEY (at least 32 characters), else derived from TRELLIS_DECISION_KEY (so
 * every replica of the server accepts the others' sessions), else random per process.
 *
 * @throws {ConfigError} for a TRELLIS_SESSION_KEY shorter than 32 characters.
 */
export function sessionKeysFromEnv(env: NodeJS.ProcessEnv = process.env): SessionKeys {
  const secure = (env.TRELLIS_PUBLIC_URL ?? '').toLowerCase().startsWith('https:');
  const own = env.TRELLIS_SESSION_KEY;
  if (own) {
    if (own.length < 32) throw new ConfigError('TRELLIS_SESSION_KEY must be at least 32 characters (a random string: openssl rand -hex 32)');
    return { key: Buffer.from(own, 'utf8'), source: 'TRELLIS_SESSION_KEY', secure };
  }
  // Derived, not the decision key itself: a session's MAC must never be usable as a decision's signature.
  if (env.TRELLIS_DECISION_KEY) {
    return { key: createHmac('sha256', env.TRELLIS_DECISION_KEY).update('trellis session key v1').digest(), source: 'TRELLIS_DECISION_KEY', secure };
  }
  return { key: randomBytes(32), source: 'random', secure };
}

/**
 * Signs `principal` into the session cookie, for 8 hours, and gives the CSRF token its forms must carry.
 *
 * @throws {HttpProblem} 422 session_too_large when the principal (a person with very many groups) does not fit a cookie.
 */
export function issueSession(c: Context, config: AuthConfig, principal: Principal): { csrf: string; expiresAt: Date } {
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  const payload = Buffer.from(JSON.stringify({ p: principal, exp: expiresAt.getTime() }), 'utf8').toString('base64url');
  const value = `${payload}.${mac(config, 'session', payload)}`;
  if (value.length > MAX_COOKIE_BYTES) {
    throw new HttpProblem(422, 'session_too_large', 'the token names too many groups to keep in a session cookie; send it as a bearer token instead');
  }
  setCookie(c, SESSION_COOKIE, value, {
    httpOnly: true,
    sameSite: 'Lax',
    path: '/',
    secure: isSecure(c, config),
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
    expires: expiresAt,
  });
  return { csrf: csrfToken(config, principal), expiresAt };
}

/** The principal of a valid, unexpired session cookie on this request; undefined without one. */
export function sessionPrincipal(c: Context, config: AuthConfig): Principal | undefined {
  const value = getCookie(c, SESSION_COOKIE);
  if (!value) return undefined;
  const [payload, signature, extra] = value.split('.');
  if (!payload || !signature || extra !== undefined || !equal(signature, mac(config, 'session', payload))) return undefined;
  let session: { p?: unknown; exp?: unknown };
  try {
    session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof session;
  } catch {
    return undefined;
  }
  if (typeof session.exp !== 'number' || session.exp <= Date.now()) return undefined;
  return isPrincipal(session.p) ? session.p : undefined;
}

/** Ends the session: the cookie is cleared. */
export function clearSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/' });
}

/** The CSRF token of a principal's sessions: an HMAC of who they are, so only this server can make it. */
export function csrfToken(config: AuthConfig, principal: Principal): string {
  return mac(config, 'csrf', principal.kind === 'key' ? `key:${principal.name}` : `person:${principal.sub}`);
}

/**
 * Whether `token` is the principal's CSRF token, and the request is not a cross-site one (browsers say so in
 * Sec-Fetch-Site): checked for every state-changing request a session cookie authenticates.
 */
export function checkCsrf(c: Context, config: AuthConfig, principal: Principal, token: string | undefined): boolean {
  if (c.req.header('sec-fetch-site') === 'cross-site') return false;
  return typeof token === 'string' && equal(token, csrfToken(config, principal));
}

function mac(config: AuthConfig, purpose: string, text: string): string {
  return createHmac('sha256', config.session.key).update(`${purpose}\n${text}`).digest('base64url');
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Behind a proxy that ends TLS the request itself is http: the public URL says https then. */
function isSecure(c: Context, config: AuthConfig): boolean {
  return config.session.secure || new URL(c.req.url).protocol === 'https:';
}

function isPrincipal(p: unknown): p is Principal {
  if (p === null || typeof p !== 'object') return false;
  const o = p as Record<string, unknown>;
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (!strings(o.scopes)) return false;
  if (o.kind === 'key') return typeof o.name === 'string';
  return o.kind === 'person' && typeof o.sub === 'string' && strings(o.groups) && (o.email === undefined || typeof o.email === 'string');
}
