/**
 * GET /openapi.json: generated from the schemas the routes check requests with, it passes a real OpenAPI 3.1
 * validator and lists every route the API serves, each with its auth and its problem answers.
 */
import { validate, compileErrors } from '@readme/openapi-parser';
import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TrellisClient } from '../../src/client/index.js';
import { createServerApp } from '../../src/server/app.js';
import { authConfigFromEnv } from '../../src/server/auth.js';
import { startApi, type Api } from '../helpers/server.js';
import { temporalAddress, temporalNamespace } from '../helpers/temporal.js';

let client: TrellisClient;
let api: Api;
let doc: OpenAPIV3_1.Document;
beforeAll(async () => {
  client = await TrellisClient.connect({ address: temporalAddress(), namespace: temporalNamespace() });
  api = await startApi(client, {});
  const res = await fetch(`${api.url}/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as OpenAPIV3_1.Document;
});
afterAll(async () => {
  await api?.close();
  await client?.close();
});

it('is a valid OpenAPI 3.1 document', async () => {
  expect(doc.openapi).toMatch(/^3\.1\./);
  const result = await validate(structuredClone(doc));
  expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  expect(doc.servers).toEqual([{ url: api.url }]);
});

it('lists every route the API serves (as the app routes them), with bearer auth but on /healthz', () => {
  const app = createServerApp({ client, auth: authConfigFromEnv({}), publicUrl: 'http://127.0.0.1' });
  const served = app.routes
    .filter((r) => r.method !== 'ALL' && (r.path.startsWith('/v1/') || r.path === '/healthz'))
    .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
  const documented = Object.entries(doc.paths!).flatMap(([path, item]) =>
    Object.keys(item!)
      .filter((k) => ['get', 'post', 'put', 'patch', 'delete'].includes(k))
      .map((method) => `${method} ${path}`),
  );
  expect([...new Set(served)].sort()).toEqual(documented.sort());
  expect(documented.sort()).toEqual(
    [
      'get /healthz',
      'get /v1/runs',
      'post /v1/runs',
      'post /v1/goals',
      'get /v1/runs/{id}',
      'get /v1/runs/{id}/result',
      'post /v1/runs/{id}/cancel',
      'post /v1/runs/{id}/decisions',
      'get /v1/runs/{id}/events',
    ].sort(),
  );
  for (const [path, item] of Object.entries(doc.paths!)) {
    for (const [method, op] of Object.entries(item!) as [string, OpenAPIV3_1.OperationObject][]) {
      if (path === '/healthz') {
        expect(op.security).toBeUndefined();
        continue;
      }
      expect(op.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
      const unauthorized = op.responses!['401'] as OpenAPIV3_1.ResponseObject;
      expect(Object.keys(unauthorized.content!), `${method} ${path}`).toEqual(['application/problem+json']);
    }
  }
  expect(doc.components!.securitySchemes!.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
});

it('documents a decision without `by`, and the run view the status route answers', () => {
  const decision = doc.components!.schemas!.DecisionRequest as OpenAPIV3_1.SchemaObject;
  expect(Object.keys(decision.properties!).sort()).toEqual(['approved', 'comment', 'step']);
  expect(decision.additionalProperties).toBe(false);
  const view = doc.components!.schemas!.RunView as OpenAPIV3_1.SchemaObject;
  expect(view.properties).toHaveProperty('pending');
  const events = doc.paths!['/v1/runs/{id}/events']!.get!;
  expect(events.parameters!.map((p) => (p as OpenAPIV3_1.ParameterObject).name).sort()).toEqual(['id', 'last-event-id', 'lastEventId']);
});
