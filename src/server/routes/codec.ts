/**
 * The remote codec endpoint the Temporal UI calls (its "Codec Server" setting, and `temporal server start-dev
 * --ui-codec-endpoint URL`): POST /codec/decode and /codec/encode take and give `{ payloads: [...] }` in Temporal's
 * JSON form (metadata values and data in base64). It decodes only for a caller that `trellis serve` authenticates
 * with the `read` scope: a bearer token (the UI's "pass access token") or the inbox's session. CORS allows the
 * Temporal UI's origin, with credentials.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { dataConverterFor } from '../../codec/index.js';
import { requireAuth, requireScope, type AuthEnv } from '../auth.js';
import type { ServerDeps } from '../deps.js';
import { HttpProblem } from '../problem.js';

/** A Temporal payload in JSON: metadata values and data as base64. */
interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/** Most payloads in one request, and its largest body (the UI sends a page of a history at a time). */
const MAX_PAYLOADS = 1000;
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The codec routes, on `deps.encryption` (without keys: encrypted payloads are refused with a clear problem). */
export function codecRoutes(deps: ServerDeps): Hono<AuthEnv> {
  const codec = dataConverterFor(deps.encryption).payloadCodecs![0]!;
  const app = new Hono<AuthEnv>();
  const origin = deps.temporalUiUrl ? new URL(deps.temporalUiUrl).origin : undefined;
  app.use(
    '/codec/*',
    cors({
      origin: (o) => (o === origin ? o : null),
      credentials: true,
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['content-type', 'authorization', 'x-namespace'],
      maxAge: 600,
    }),
  );
  const tooLarge = () => {
    throw new HttpProblem(413, 'too_large', `the body is larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB`);
  };
  app.use('/codec/*', requireAuth(deps.auth, { csrf: false }), requireScope('read'), bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge }));
  app.post('/codec/decode', (c) => run(c, codec, 'decode'));
  app.post('/codec/encode', (c) => run(c, codec, 'encode'));
  return app;
}

async function run(c: Context<AuthEnv>, codec: PayloadCodec, what: 'encode' | 'decode'): Promise<Response> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch (e) {
    throw new HttpProblem(422, 'malformed', `the body is not JSON: ${(e as Error).message}`);
  }
  const payloads = readPayloads(body);
  let out: Payload[];
  try {
    out = await codec[what](payloads);
  } catch (e) {
    throw new HttpProblem(422, 'decrypt_failed', (e as Error).message);
  }
  return c.json({ payloads: out.map(toJson) });
}

function readPayloads(body: unknown): Payload[] {
  const list = body !== null && typeof body === 'object' ? (body as { payloads?: unknown }).payloads : undefined;
  if (!Array.isArray(list)) throw new HttpProblem(422, 'malformed', 'expected { "payloads": [ { "metadata": {...}, "data": "base64" } ] }');
  if (list.length > MAX_PAYLOADS) throw new HttpProblem(422, 'malformed', `at most ${MAX_PAYLOADS} payloads in one request, got ${list.length}`);
  return list.map((p: unknown, i) => {
    const bad = (why: string) => new HttpProblem(422, 'malformed', `payloads[${i}]: ${why}`);
    if (p === null || typeof p !== 'object') throw bad('expected an object { metadata, data }');
    const { metadata = {}, data = '' } = p as JsonPayload;
    if (typeof data !== 'string' || !BASE64.test(data)) throw bad('data must be base64');
    if (metadata === null || typeof metadata !== 'object') throw bad('metadata must be an object of base64 values');
    const meta: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string' || !BASE64.test(v)) throw bad(`metadata.${k.slice(0, 40)} must be base64`);
      meta[k] = Buffer.from(v, 'base64');
    }
    return { metadata: meta, data: Buffer.from(data, 'base64') };
  });
}

function toJson(p: Payload): JsonPayload {
  const metadata = Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]));
  return { metadata, data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') };
}
