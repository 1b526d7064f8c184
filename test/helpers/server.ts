/**
 * `trellis serve` in a test: the HTTP server on a free port over a harness's client, real HTTP calls to it, JWTs
 * made the way an identity provider makes them (HS256 here), and a reader of Server-Sent Events.
 */
import { SignJWT } from 'jose';
import { authConfigFromEnv, type AuthConfig } from '../../src/server/auth.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import type { TrellisClient } from '../../src/client/index.js';
import { testLogger } from './logs.js';

/** A secret for TRELLIS_JWT_SECRET (at least 32 characters). */
export const JWT_SECRET = 'jwt-secret-of-the-server-tests-0123456789';

export interface Api extends RunningServer {
  auth: AuthConfig;
  /** A request to the server: JSON in (an object, or text sent as it is), the answer's JSON (or text) out. */
  call(method: string, path: string, options?: CallOptions): Promise<ApiAnswer>;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test reads the fields it expects
  body: any;
}

/** The server over `client`, with the auth settings `env` gives (as `trellis serve` reads them). */
export async function startApi(client: TrellisClient, env: Record<string, string>, extra: { specsDir?: string } = {}): Promise<Api> {
  const auth = authConfigFromEnv(env);
  const server = await startServer({ port: 0, deps: { client, auth, logger: testLogger('warn'), ...extra } });
  return {
    ...server,
    auth,
    async call(method, path, { token, body, headers = {} } = {}) {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          ...(token !== undefined && { authorization: `Bearer ${token}` }),
          ...(body !== undefined && { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      const type = res.headers.get('content-type') ?? '';
      return { status: res.status, headers: res.headers, body: /json/.test(type) && text !== '' ? JSON.parse(text) : text };
    },
  };
}

/** A person's JWT, signed with JWT_SECRET, valid for an hour. */
export function personToken(claims: { sub: string; email?: string; groups?: unknown }, secret = JWT_SECRET): Promise<string> {
  return new SignJWT({ ...(claims.email && { email: claims.email }), ...(claims.groups !== undefined && { groups: claims.groups }) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
}

/** One Server-Sent Event as it came: its id, its name, its data (parsed JSON). */
export interface SseEvent {
  id?: string;
  event?: string;
  data: unknown;
}

/** The events of an SSE response, as they come; comments (keepalives) and `retry:` lines are skipped. */
export async function* sseEvents(res: Response): AsyncGenerator<SseEvent> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: { id?: string; event?: string; data: string[] } = { data: [] };
      for (const line of block.split('\n')) {
        const [field, ...rest] = line.split(':');
        const text = rest.join(':').replace(/^ /, '');
        if (field === 'id') event.id = text;
        else if (field === 'event') event.event = text;
        else if (field === 'data') event.data.push(text);
      }
      if (event.data.length > 0)
        yield {
          ...(event.id !== undefined && { id: event.id }),
          ...(event.event && { event: event.event }),
          data: JSON.parse(event.data.join('\n')),
        };
    }
  }
}
