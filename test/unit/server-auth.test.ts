/**
 * The server's authentication without Temporal: API keys from TRELLIS_API_KEYS, JWTs (an HS256 secret, and a JWKS
 * served over real HTTP with issuer and audience), who a decision is recorded as, session cookies and CSRF tokens.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import {
  answererFor,
  authConfigFromEnv,
  AuthError,
  mayAnswer,
  parseApiKeys,
  principalFromBearer,
  type AuthConfig,
  type Principal,
} from '../../src/server/auth.js';
import { checkCsrf, csrfToken, issueSession, sessionKeysFromEnv, sessionPrincipal, SESSION_COOKIE } from '../../src/server/session.js';

const SECRET = 'a-jwt-secret-for-unit-tests-0123456789';
const sign = (claims: Record<string, unknown>, sub = 'u-1', secret = SECRET) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('5m').sign(new TextEncoder().encode(secret));

describe('API keys', () => {
  it('reads name:secret[:scope+scope]; no scopes is all of them', () => {
    const keys = parseApiKeys(' ci:0123456789abcdef ,bot:fedcba9876543210:read+decide,');
    expect(keys.map((k) => [k.name, k.scopes])).toEqual([
      ['ci', ['start', 'read', 'decide', 'admin']],
      ['bot', ['read', 'decide']],
    ]);
    expect(JSON.stringify(keys)).not.toMatch(/0123456789abcdef/);
  });

  it('refuses a bad entry naming its position, never its secret', () => {
    const cases: [string, RegExp][] = [
      ['ci:0123456789abcdef,justaname', /entry 2: expected name:secret/],
      ['ci:short', /entry 1 \("ci"\): the secret must be at least 16/],
      ['c i:0123456789abcdef', /entry 1: the name must be/],
      ['ci:0123456789abcdef:read+write', /entry 1 \("ci"\): unknown scope "write"/],
      ['ci:0123456789abcdef,ci:fedcba9876543210', /entry 2 \("ci"\): the name is used by an earlier entry/],
      ['a:0123456789abcdef,b:0123456789abcdef', /entry 2 \("b"\): the secret is used by an earlier entry/],
      ['ci:0123456789abcdef:read:extra', /entry 1: expected/],
    ];
    for (const [text, message] of cases) {
      let error: unknown;
      try {
        parseApiKeys(text);
      } catch (e) {
        error = e;
      }
      expect(error, text).toBeInstanceOf(ConfigError);
      expect((error as Error).message, text).toMatch(message);
      expect((error as Error).message, text).not.toMatch(/0123456789abcdef|fedcba9876543210|short/);
    }
  });

  it('gives the key, or refuses a token that is no key', async () => {
    const config = authConfigFromEnv({ TRELLIS_API_KEYS: 'ci:0123456789abcdef,bot:fedcba9876543210:read' });
    expect(await principalFromBearer(config, 'fedcba9876543210')).toEqual({ kind: 'key', name: 'bot', scopes: ['read'] });
    await expect(principalFromBearer(config, '0123456789abcdeX')).rejects.toThrow(AuthError);
    await expect(principalFromBearer(config, '0123456789abcdeX')).rejects.toThrow('not a known API key');
  });
});

describe('JWTs', () => {
  const config = authConfigFromEnv({ TRELLIS_JWT_SECRET: SECRET });

  it('names the person by sub and email, with the string groups of a groups list', async () => {
    const p = await principalFromBearer(config, await sign({ email: 'ann@example.com', groups: ['finance', 3, 'ops'] }));
    expect(p).toEqual({ kind: 'person', sub: 'u-1', email: 'ann@example.com', groups: ['finance', 'ops'], scopes: ['read', 'decide'] });
    expect(await principalFromBearer(config, await sign({ groups: 'finance' }))).toMatchObject({ groups: [] });
  });

  it('refuses another secret, an expired token, no sub, alg none, and another HMAC', async () => {
    await expect(principalFromBearer(config, await sign({}, 'u-1', 'y'.repeat(40)))).rejects.toThrow(/JWT was refused/);
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 600)
      .sign(new TextEncoder().encode(SECRET));
    await expect(principalFromBearer(config, expired)).rejects.toThrow(/"exp"/);
    const noSub = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));
    await expect(principalFromBearer(config, noSub)).rejects.toThrow(/no "sub"/);
    // A token that never expires is refused.
    const forever = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('u').sign(new TextEncoder().encode(SECRET));
    await expect(principalFromBearer(config, forever)).rejects.toThrow(/"exp" claim/);
    await expect(principalFromBearer(config, new UnsecuredJWT({ sub: 'root' }).encode())).rejects.toThrow(AuthError);
    const hs512 = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('u')
      .sign(new TextEncoder().encode(SECRET.repeat(2)));
    await expect(principalFromBearer(config, hs512)).rejects.toThrow(AuthError);
  });

  it('refuses settings it cannot use', () => {
    expect(() => authConfigFromEnv({ TRELLIS_JWT_SECRET: 'short' })).toThrow(/at least 32/);
    expect(() => authConfigFromEnv({ TRELLIS_JWT_SECRET: SECRET, TRELLIS_JWKS_URL: 'https://x/jwks' })).toThrow(/not both/);
    expect(() => authConfigFromEnv({ TRELLIS_JWKS_URL: 'ftp://x/jwks' })).toThrow(/http\(s\)/);
  });

  describe('from a JWKS', () => {
    let server: Server;
    let jwksConfig: AuthConfig;
    let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
    beforeAll(async () => {
      const pair = await generateKeyPair('ES256');
      privateKey = pair.privateKey;
      const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
      server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      jwksConfig = authConfigFromEnv({
        TRELLIS_JWKS_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
        TRELLIS_JWT_ISSUER: 'https://idp.example.com',
        TRELLIS_JWT_AUDIENCE: 'trellis',
      });
    });
    afterAll(() => server?.close());

    const token = (iss: string, aud: string) =>
      new SignJWT({ email: 'bo@example.com' })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setSubject('bo')
        .setIssuer(iss)
        .setAudience(aud)
        .setExpirationTime('5m')
        .sign(privateKey);

    it('takes a token of the issuer for the audience, and refuses another issuer or audience, and an HS256 token', async () => {
      expect(await principalFromBearer(jwksConfig, await token('https://idp.example.com', 'trellis'))).toMatchObject({
        sub: 'bo',
        email: 'bo@example.com',
      });
      await expect(principalFromBearer(jwksConfig, await token('https://evil.example.com', 'trellis'))).rejects.toThrow(/"iss"/);
      await expect(principalFromBearer(jwksConfig, await token('https://idp.example.com', 'other'))).rejects.toThrow(/"aud"/);
      await expect(principalFromBearer(jwksConfig, await sign({}))).rejects.toThrow(AuthError);
    });
  });
});

describe('who answers', () => {
  const person = (extra: Partial<Extract<Principal, { kind: 'person' }>> = {}): Principal => ({
    kind: 'person',
    sub: 'u-7',
    email: 'kim@example.com',
    groups: ['finance'],
    scopes: ['read', 'decide'],
    ...extra,
  });

  it('is key:NAME for a key; for a person the email or sub the approvers list, else sub, with the groups', () => {
    expect(answererFor({ kind: 'key', name: 'ci', scopes: ['decide'] }, ['x'])).toEqual({ by: 'key:ci' });
    expect(answererFor(person(), ['kim@example.com'])).toEqual({ by: 'kim@example.com', groups: ['finance'] });
    expect(answererFor(person(), ['u-7', 'kim@example.com'])).toMatchObject({ by: 'u-7' });
    expect(answererFor(person(), ['group:finance'])).toMatchObject({ by: 'u-7' });
    expect(answererFor(person({ groups: [] }))).toEqual({ by: 'u-7' });
  });

  it('may answer with no approvers, by name, by email, by group, and a key only when listed', () => {
    expect(mayAnswer(person())).toBe(true);
    expect(mayAnswer(person(), ['u-7'])).toBe(true);
    expect(mayAnswer(person(), ['kim@example.com'])).toBe(true);
    expect(mayAnswer(person(), ['group:finance'])).toBe(true);
    expect(mayAnswer(person(), ['group:sales', 'ann'])).toBe(false);
    expect(mayAnswer({ kind: 'key', name: 'ci', scopes: [] }, ['key:ci'])).toBe(true);
    expect(mayAnswer({ kind: 'key', name: 'ci', scopes: [] }, ['ci'])).toBe(false);
  });
});

describe('sessions', () => {
  const config = authConfigFromEnv({});
  const kim: Principal = { kind: 'person', sub: 'kim', groups: ['finance'], scopes: ['read', 'decide'] };

  async function cookieFor(c: AuthConfig, principal: Principal, url = 'http://localhost/') {
    const app = new Hono().get('/', (ctx) => ctx.json(issueSession(ctx, c, principal)));
    const res = await app.request(url);
    return { header: res.headers.get('set-cookie')!, body: (await res.json()) as { csrf: string } };
  }
  const principalOf = (c: AuthConfig, cookie: string, headers: Record<string, string> = {}) => {
    let found: Principal | undefined;
    const app = new Hono().get('/', (ctx) => {
      found = sessionPrincipal(ctx, c);
      return ctx.text('');
    });
    return Promise.resolve(app.request('/', { headers: { cookie, ...headers } })).then(() => found);
  };

  it('is an HttpOnly, SameSite=Lax cookie on /, for 8 hours, Secure when the public URL is https', async () => {
    const { header, body } = await cookieFor(config, kim);
    expect(header).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect(header).toMatch(/HttpOnly/);
    expect(header).toMatch(/SameSite=Lax/);
    expect(header).toMatch(/Path=\//);
    expect(header).toMatch(/Max-Age=28800/);
    expect(header).not.toMatch(/Secure/);
    expect(body.csrf).toBe(csrfToken(config, kim));
    const secure = authConfigFromEnv({ TRELLIS_PUBLIC_URL: 'https://trellis.example.com' });
    expect((await cookieFor(secure, kim)).header).toMatch(/Secure/);
  });

  it('gives back the principal of its own cookie only: not a tampered one, nor one of another key', async () => {
    const cookie = (await cookieFor(config, kim)).header.split(';')[0]!;
    expect(await principalOf(config, cookie)).toEqual(kim);
    const [name, value] = cookie.split('=');
    const [payload, mac] = value!.split('.');
    const forged = Buffer.from(JSON.stringify({ p: { ...kim, groups: ['admins'] }, exp: Date.now() + 1e6 })).toString('base64url');
    expect(await principalOf(config, `${name}=${forged}.${mac}`)).toBeUndefined();
    expect(await principalOf(config, `${name}=${payload}`)).toBeUndefined();
    expect(await principalOf(authConfigFromEnv({}), cookie)).toBeUndefined();
  });

  it('takes its key from TRELLIS_SESSION_KEY, else derives it from TRELLIS_DECISION_KEY, else makes one', async () => {
    expect(sessionKeysFromEnv({ TRELLIS_SESSION_KEY: 's'.repeat(32) }).source).toBe('TRELLIS_SESSION_KEY');
    expect(() => sessionKeysFromEnv({ TRELLIS_SESSION_KEY: 'short' })).toThrow(/at least 32/);
    const a = sessionKeysFromEnv({ TRELLIS_DECISION_KEY: 'd'.repeat(40) });
    expect(a.source).toBe('TRELLIS_DECISION_KEY');
    expect(a.key.equals(Buffer.from('d'.repeat(40)))).toBe(false);
    expect(a.key.equals(sessionKeysFromEnv({ TRELLIS_DECISION_KEY: 'd'.repeat(40) }).key)).toBe(true);
    expect(sessionKeysFromEnv({}).source).toBe('random');
    // Two servers with the same decision key take each other's sessions.
    const one = authConfigFromEnv({ TRELLIS_DECISION_KEY: 'd'.repeat(40) });
    const cookie = (await cookieFor(one, kim)).header.split(';')[0]!;
    expect(await principalOf(authConfigFromEnv({ TRELLIS_DECISION_KEY: 'd'.repeat(40) }), cookie)).toEqual(kim);
  });

  it('checks the CSRF token, and refuses a cross-site request even with it', async () => {
    const check = (token: string | undefined, headers: Record<string, string> = {}) => {
      let ok = false;
      const app = new Hono().post('/', (ctx) => {
        ok = checkCsrf(ctx, config, kim, token);
        return ctx.text('');
      });
      return Promise.resolve(app.request('/', { method: 'POST', headers })).then(() => ok);
    };
    const token = csrfToken(config, kim);
    expect(await check(token)).toBe(true);
    expect(await check(token, { 'sec-fetch-site': 'same-origin' })).toBe(true);
    expect(await check(token, { 'sec-fetch-site': 'cross-site' })).toBe(false);
    expect(await check(undefined)).toBe(false);
    expect(await check(csrfToken(config, { ...kim, sub: 'lee' }))).toBe(false);
  });
});
