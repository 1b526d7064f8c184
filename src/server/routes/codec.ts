/**
 * The remote codec endpoint the Temporal UI calls (its "Codec Server" setting, and `temporal server start-dev
 * --ui-codec-endpoint URL`): POST /codec/decode and /codec/encode take and give `{ payloads: [...] }` in Temporal's
 * JSON form (metadata values and data in base64). It decodes only for a caller that `trellis serve` authenticates
 * with the `read` scope: a bearer token (the UI's "pass access token") or the inbox's session. CORS allows the
 * Temporal UI's origin, with credentials. A payload kept in the blob store is read back from it, up to
 * MAX_SHOWN_BLOB_BYTES; a larger one shows as a note of its size, so a page of a history never pulls megabytes.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { isBlobRef, readBlobRef } from '../../blobs/claim-check.js';
import { payloadCodecsFor } from '../../codec/index.js';
import { TrellisError } from '../../errors.js';
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
/** Stored payloads up to this size are shown whole in the UI. */
export const MAX_SHOWN_BLOB_BYTES = 2 * 1024 * 1024;

/**
 * The codec routes, on `deps.encryption` and `deps.blobs` (without keys, encrypted payloads are refused with a clear
 * problem; without a store, stored ones).
 */
export function codecRoutes(deps: ServerDeps): Hono<AuthEnv> {
  const codecs = payloadCodecsFor(deps.encryption, deps.blobs);
  const codec: PayloadCodec = {
    async encode(payloads) {
      for (const c of codecs) payloads = await c.encode(payloads);
      return payloads;
    },
    async decode(payloads) {
      payloads = payloads.map((p) => (isBlobRef(p) && readBlobRef(p).size > MAX_SHOWN_BLOB_BYTES ? tooLargeToShow(p) : p));
      for (const c of [...codecs].reverse()) payloads = await c.decode(payloads);
      return payloads;
    },
  };
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
    // DECRYPT_FAILED, BLOB_MISSING, BLOB_CORRUPT, BLOB_STORE_FAILED: the codes a program switches on, in lower case.
    throw new HttpProblem(422, e instanceof TrellisError ? e.code.toLowerCase() : 'decrypt_failed', (e as Error).message);
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

/** A plain JSON payload that says what is stored and how large it is, in place of the blob. */
function tooLargeToShow(ref: Payload): Payload {
  const { sha256, size } = readBlobRef(ref);
  const note = {
    storedOutsideHistory: { sha256, size, shown: `not shown: over ${MAX_SHOWN_BLOB_BYTES} bytes; read it with trellis status or the client` },
  };
  return { metadata: { encoding: new TextEncoder().encode('json/plain') }, data: new TextEncoder().encode(JSON.stringify(note)) };
}

function toJson(p: Payload): JsonPayload {
  const metadata = Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]));
  return { metadata, data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') };
}
