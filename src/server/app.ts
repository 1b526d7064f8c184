/**
 * The HTTP API of `trellis serve` as a Hono app: the routes under /v1 (bearer auth), GET /healthz and
 * GET /openapi.json (no auth), and the inbox. Every error is an RFC 9457 problem (./problem.ts).
 */
import { createRequire } from 'node:module';
import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { pino } from 'pino';
import { requireAuth, type AuthEnv } from './auth.js';
import type { ServerDeps } from './deps.js';
import { inboxRoutes } from './inbox/index.js';
import { codecRoutes } from './routes/codec.js';
import { HttpProblem, malformedRequest, problemFor, problemResponse } from './problem.js';
import { decisionRoutes } from './routes/decisions.js';
import { eventRoutes } from './routes/events.js';
import { runRoutes } from './routes/runs.js';
import { Health } from './schemas.js';
import { json } from './routes/common.js';

export type { ServerDeps } from './deps.js';

/** Largest request body: a run's argument must fit one Temporal payload (2 MB) anyway. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const health = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'The server is up (no auth)',
  responses: { 200: json(Health, 'up') },
});

/**
 * The server's app, on `deps`. Mount it on any Hono-compatible server; startServer (./serve.ts) serves it on Node.
 *
 * @example
 * ```ts
 * const app = createServerApp({ client, auth: authConfigFromEnv(), publicUrl: 'http://127.0.0.1:8080' });
 * const res = await app.request('/healthz');
 * ```
 */
export function createServerApp(deps: ServerDeps): OpenAPIHono<AuthEnv> {
  const full: ServerDeps = { ...deps, logger: deps.logger ?? pino({ name: 'trellis-serve' }) };
  const app = new OpenAPIHono<AuthEnv>({
    // A request that does not match its schema: 422 with every problem (zod's issues), never zod's own answer.
    defaultHook: (result) => {
      if (!result.success) throw malformedRequest(result.error.issues, (result as { data?: unknown }).data, result.target);
    },
  });
  app.onError((e, c) => errorResponse(full, e, c));
  app.notFound((c) => problemResponse(new HttpProblem(404, 'not_found', `no route ${c.req.method} ${c.req.path}`)));

  app.openapi(health, (c) => c.json({ status: 'ok' as const }, 200));
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (TRELLIS_API_KEYS) or a JWT (TRELLIS_JWKS_URL, TRELLIS_JWT_SECRET)',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Trellis HTTP API', version, description: 'Start, read, answer and follow Trellis runs over HTTP (docs/http-api.md).' },
    servers: [{ url: deps.publicUrl }],
  });

  const tooLarge = () => {
    const detail = `the body is larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB: a run's spec and input must fit one Temporal payload`;
    // The rest of the body is not read: the connection cannot carry another request.
    throw new HttpProblem(413, 'too_large', detail, undefined, { connection: 'close' });
  };
  app.use('/v1/*', requireAuth(deps.auth), bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge }), jsonBody);
  app.route('/', runRoutes(full));
  app.route('/', decisionRoutes(full));
  app.route('/', eventRoutes(full));
  app.route('/', inboxRoutes(full));
  app.route('/', codecRoutes(full));
  return app;
}

/** A JSON body that does not parse is 422 malformed, as one that does not match its schema is. */
async function jsonBody(c: Context, next: () => Promise<void>): Promise<void> {
  const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (c.req.method !== 'GET' && type !== undefined && /^application\/([\w.-]+\+)?json$/.test(type)) {
    try {
      await c.req.json();
    } catch (e) {
      throw new HttpProblem(422, 'malformed', `the body is not JSON: ${(e as Error).message}`);
    }
  }
  await next();
}

function errorResponse({ logger }: ServerDeps, e: unknown, c: Context): Response {
  const known = problemFor(e);
  if (known) return problemResponse(known);
  if (e instanceof HTTPException && e.status < 500) {
    // Hono's own refusals (415 for a body that is not JSON, say): the same problem shape.
    return problemResponse(new HttpProblem(e.status, httpCode(e.status), e.message));
  }
  logger!.error({ err: e, method: c.req.method, path: c.req.path }, 'unexpected error');
  return problemResponse(new HttpProblem(500, 'internal', 'an unexpected error; the server logged it'));
}

function httpCode(status: number): string {
  return status === 415 ? 'unsupported_media_type' : 'bad_request';
}
