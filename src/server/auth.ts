/**
 * Who calls the HTTP API, and what they may do. Services send an API key (TRELLIS_API_KEYS) and people a JWT
 * (TRELLIS_JWKS_URL, or TRELLIS_JWT_SECRET for local use), both as `Authorization: Bearer ...`; the inbox's
 * browsers send the session cookie that a token was exchanged for (./session.ts). With none of them configured
 * every route but health is 401: the server is never open by default.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { ConfigError } from '../config.js';
import { mayAnswer as isApprover } from '../engine/decision.js';
import { TrellisError } from '../errors.js';
import { HttpProblem } from './problem.js';
import { checkCsrf, sessionKeysFromEnv, sessionPrincipal, type SessionKeys } from './session.js';

/** start: POST runs and goals; read: the list, a run, its result and events; decide: answers; admin: all, and cancel. */
export const SCOPES = ['start', 'read', 'decide', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who a request comes from: a service's API key, or a person a JWT names. */
export type Principal =
  /** A key's decisions are recorded as by "key:NAME". */
  | { kind: 'key'; name: string; scopes: Scope[] }
  /** A person: the token's `sub` (and `email`), their `groups`; people have the scopes read and decide. */
  | { kind: 'person'; sub: string; email?: string; groups: string[]; scopes: Scope[] };

/** One API key: its name, the SHA-256 of its secret (the secret itself is not kept), its scopes. */
export interface ApiKey {
  name: string;
  digest: Buffer;
  scopes: Scope[];
}

/** Checks a JWT's signature and claims (issuer, audience, expiry) and gives its payload. */
export interface JwtVerifier {
  /** What it checks with, for the log: `JWKS at https://...` or `HS256 secret`. */
  source: string;
  verify(token: string): Promise<JWTPayload>;
}

export interface AuthConfig {
  keys: ApiKey[];
  jwt?: JwtVerifier;
  session: SessionKeys;
}

/** The Hono environment of an authenticated route: `c.var.principal`. */
export interface AuthEnv {
  Variables: { principal: Principal };
}

/** A bearer token (or its absence) that proves no one: 401, with why. */
export class AuthError extends TrellisError {
  constructor(message: string) {
    super('UNAUTHENTICATED', message);
  }
}

/** The scopes people have: they read runs and answer them; services start and cancel them. */
const PERSON_SCOPES: Scope[] = ['read', 'decide'];
const NOT_CONFIGURED =
  'no authentication is configured: set TRELLIS_API_KEYS (name:secret[:scope+scope]) for services, and TRELLIS_JWKS_URL or TRELLIS_JWT_SECRET for people (docs/http-api.md)';
const KEY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MIN_SECRET = 16;
/** Asymmetric algorithms an identity provider's JWKS may use; `none` and HMAC are never accepted from a JWKS. */
const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * TRELLIS_API_KEYS: comma-separated `name:secret` or `name:secret:scope+scope` (no scopes: all of them).
 *
 * @throws {ConfigError} naming the entry's position (never its secret) when one is malformed, a name or a secret repeats.
 */
export function parseApiKeys(text: string): ApiKey[] {
  const keys: ApiKey[] = [];
  const entries = text.split(',').map((e) => e.trim());
  entries.forEach((entry, i) => {
    if (entry === '') return;
    const where = `TRELLIS_API_KEYS entry ${i + 1}`;
    const parts = entry.split(':');
    const [name = '', secret = '', scopeText] = parts;
    if (parts.length < 2 || parts.length > 3) throw new ConfigError(`${where}: expected name:secret or name:secret:scope+scope`);
    if (!KEY_NAME.test(name)) throw new ConfigError(`${where}: the name must be 1 to 64 letters, digits, _ . or -`);
    if (secret.length < MIN_SECRET) throw new ConfigError(`${where} ("${name}"): the secret must be at least ${MIN_SECRET} characters`);
    const scopes = scopeText === undefined ? [...SCOPES] : scopeText.split('+');
    const unknown = scopes.find((s) => !(SCOPES as readonly string[]).includes(s));
    if (unknown !== undefined) throw new ConfigError(`${where} ("${name}"): unknown scope ${JSON.stringify(unknown)} (scopes: ${SCOPES.join(', ')})`);
    const digest = sha256(secret);
    const same = keys.find((k) => k.name === name || k.digest.equals(digest));
    if (same) throw new ConfigError(`${where} ("${name}"): ${same.name === name ? 'the name' : 'the secret'} is used by an earlier entry too`);
    keys.push({ name, digest, scopes: scopes as Scope[] });
  });
  return keys;
}

/**
 * The JWT check from TRELLIS_JWKS_URL (with TRELLIS_JWT_ISSUER and TRELLIS_JWT_AUDIENCE checked when set), or
 * TRELLIS_JWT_SECRET (HS256 only, at least 32 characters); undefined with neither.
 *
 * @throws {ConfigError} for both at once, a JWKS URL that is not http(s), or a short secret.
 */
export function jwtVerifierFromEnv(env: NodeJS.ProcessEnv = process.env): JwtVerifier | undefined {
  const { TRELLIS_JWKS_URL: jwksUrl, TRELLIS_JWT_SECRET: secret } = env;
  if (jwksUrl && secret) throw new ConfigError('set TRELLIS_JWKS_URL or TRELLIS_JWT_SECRET, not both: tokens are checked one way');
  // A token without an expiry would be a password that never changes: refused.
  const claims: JWTVerifyOptions = {
    requiredClaims: ['exp'],
    ...(env.TRELLIS_JWT_ISSUER && { issuer: env.TRELLIS_JWT_ISSUER }),
    ...(env.TRELLIS_JWT_AUDIENCE && { audience: env.TRELLIS_JWT_AUDIENCE }),
  };
  if (jwksUrl) {
    let url: URL;
    try {
      url = new URL(jwksUrl);
    } catch {
      throw new ConfigError(`TRELLIS_JWKS_URL is not a URL: ${JSON.stringify(jwksUrl)}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError('TRELLIS_JWKS_URL must be an http(s) URL');
    const keys = createRemoteJWKSet(url);
    return {
      source: `JWKS at ${url.href}`,
      verify: async (token) => (await jwtVerify(token, keys, { ...claims, algorithms: JWKS_ALGORITHMS })).payload,
    };
  }
  if (secret) {
    if (secret.length < 32) throw new ConfigError('TRELLIS_JWT_SECRET must be at least 32 characters (HS256 with a short secret can be guessed)');
    const key = new TextEncoder().encode(secret);
    return {
      source: 'HS256 secret (TRELLIS_JWT_SECRET)',
      verify: async (token) => (await jwtVerify(token, key, { ...claims, algorithms: ['HS256'] })).payload,
    };
  }
  return undefined;
}

/**
 * The server's authentication from the environment: TRELLIS_API_KEYS, the JWT settings, and the session key
 * (TRELLIS_SESSION_KEY, else derived from TRELLIS_DECISION_KEY, else random).
 *
 * @throws {ConfigError} for a setting that cannot be used, naming it.
 */
export function authConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const jwt = jwtVerifierFromEnv(env);
  return { keys: parseApiKeys(env.TRELLIS_API_KEYS ?? ''), ...(jwt && { jwt }), session: sessionKeysFromEnv(env) };
}

/** Whether any way to authenticate is configured: without one, every authenticated route says how to set one up. */
export function authConfigured(config: AuthConfig): boolean {
  return config.keys.length > 0 || config.jwt !== undefined;
}

/**
 * Who a bearer token names: an API key (compared in constant time with every key, so timing tells neither whether
 * nor which one matched), else a JWT the verifier accepts.
 *
 * @throws {AuthError} saying why the token proves no one.
 */
export async function principalFromBearer(config: AuthConfig, token: string): Promise<Principal> {
  const digest = sha256(token);
  let matched: ApiKey | undefined;
  for (const key of config.keys) if (timingSafeEqual(key.digest, digest) && matched === undefined) matched = key;
  if (matched) return { kind: 'key', name: matched.name, scopes: [...matched.scopes] };
  if (!config.jwt) throw new AuthError('the bearer token is not a known API key');
  if (token.split('.').length !== 3) throw new AuthError('the bearer token is neither a known API key nor a JWT');
  let claims: JWTPayload;
  try {
    claims = await config.jwt.verify(token);
  } catch (e) {
    throw new AuthError(`the JWT was refused: ${(e as Error).message}`);
  }
  if (typeof claims.sub !== 'string' || claims.sub === '') throw new AuthError('the JWT has no "sub" claim: it must name the person');
  const groups = Array.isArray(claims.groups) ? claims.groups.filter((g): g is string => typeof g === 'string') : [];
  const email = typeof claims.email === 'string' && claims.email !== '' ? claims.email : undefined;
  return { kind: 'person', sub: claims.sub, ...(email && { email }), groups, scopes: [...PERSON_SCOPES] };
}

/**
 * Authenticates the request: `Authorization: Bearer ...`, or the inbox's session cookie. A cookie-authenticated
 * request that changes state (anything but GET, HEAD and OPTIONS) must carry the CSRF token, in the header
 * `x-csrf-token` or the form field `csrf`. Sets `c.var.principal`; answers 401 (and 403 for a bad CSRF token).
 */
export function requireAuth(config: AuthConfig, options: { csrf?: boolean } = {}): MiddlewareHandler<AuthEnv> {
  // A POST that changes nothing (the codec's) needs no CSRF token: CORS keeps other origins from reading its answer.
  const csrf = options.csrf ?? true;
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (header !== undefined && !authConfigured(config)) throw unauthenticated(NOT_CONFIGURED);
    if (header !== undefined) {
      const [scheme, token, ...rest] = header.trim().split(/\s+/);
      if (scheme?.toLowerCase() !== 'bearer' || !token || rest.length > 0) throw unauthenticated('send the token as "Authorization: Bearer <token>"');
      try {
        c.set('principal', await principalFromBearer(config, token));
      } catch (e) {
        if (e instanceof AuthError) throw unauthenticated(e.message);
        throw e;
      }
      return next();
    }
    const principal = sessionPrincipal(c, config);
    if (principal) {
      if (csrf && !['GET', 'HEAD', 'OPTIONS'].includes(c.req.method) && !checkCsrf(c, config, principal, await csrfOf(c))) {
        throw new HttpProblem(
          403,
          'csrf_invalid',
          'this request changes state and came with the session cookie: it needs the CSRF token (x-csrf-token header or csrf form field)',
        );
      }
      c.set('principal', principal);
      return next();
    }
    if (!authConfigured(config)) throw unauthenticated(NOT_CONFIGURED);
    throw unauthenticated('this route needs a bearer token: "Authorization: Bearer <API key or JWT>"');
  };
}

/** 403 `forbidden` unless the principal has `scope` (admin has them all). Runs after requireAuth. */
export function requireScope(scope: Scope): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    if (!hasScope(principal, scope)) {
      throw new HttpProblem(
        403,
        'forbidden',
        `${answererFor(principal).by} may not do this: it needs the scope "${scope}" (it has: ${principal.scopes.join(', ') || 'none'})`,
      );
    }
    return next();
  };
}

/** Whether the principal has `scope`; admin has every scope. */
export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.includes(scope) || principal.scopes.includes('admin');
}

/**
 * Who a decision is recorded as: "key:NAME" for a key; for a person, whichever of their email and sub the gate's
 * approvers list (else sub), with their groups, so the workflow can check `group:NAME` approvers.
 */
export function answererFor(principal: Principal, approvers?: string[]): { by: string; groups?: string[] } {
  if (principal.kind === 'key') return { by: `key:${principal.name}` };
  const by =
    principal.email !== undefined && approvers?.includes(principal.email) && !approvers.includes(principal.sub) ? principal.email : principal.sub;
  return { by, ...(principal.groups.length > 0 && { groups: principal.groups }) };
}

/** Whether the principal may answer a gate with these approvers: none listed, listed by name, or one of their groups as `group:NAME`. */
export function mayAnswer(principal: Principal, approvers?: string[]): boolean {
  if (!approvers) return true;
  const { by, groups } = answererFor(principal, approvers);
  return isApprover(approvers, by, groups);
}

function unauthenticated(detail: string): HttpProblem {
  return new HttpProblem(401, 'unauthenticated', detail, undefined, { 'www-authenticate': 'Bearer realm="trellis"' });
}

async function csrfOf(c: Context): Promise<string | undefined> {
  const header = c.req.header('x-csrf-token');
  if (header !== undefined) return header;
  const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded' && type !== 'multipart/form-data') return undefined;
  const field = (await c.req.formData().catch(() => undefined))?.get('csrf');
  return typeof field === 'string' ? field : undefined;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
