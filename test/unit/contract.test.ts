/**
 * The Temporal contract, the pure parts: the workflow's own check of an answer (src/engine/decision.ts) gives the
 * verdict of the JSON Schema clients see (src/contract/schemas.ts); every contract schema is valid JSON Schema; and
 * docs/temporal-api.md lists every failure type and refusal code the code has, as the code has them.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONTRACT_SCHEMAS, contractJsonSchema, DecisionSchema, type ContractSchemaName } from '../../src/contract/schemas.js';
import { checkGoalArgs, checkRunArgs } from '../../src/contract/check.js';
import { DECISION_LIMITS, readDecision, REFUSAL_CODES } from '../../src/engine/decision.js';
import { FAILURES } from '../../src/engine/failures.js';
import { CATALOG, refundSpec } from './helpers.js';

const HOSTILE_KEYS = ['step', 'approved', 'by', 'comment', 'at', 'signature', 'constructor', '__proto__', 'toString', ''];

/** Values a client in any language may send as a decision, mostly wrong. */
const answerArb = fc.oneof(
  fc.jsonValue(),
  fc.dictionary(fc.constantFrom(...HOSTILE_KEYS), fc.oneof(fc.jsonValue(), fc.string({ maxLength: 250 }), fc.boolean()), { maxKeys: 5 }),
  fc.record(
    {
      step: fc.oneof(fc.constantFrom('ok', 'refund', ''), fc.string({ maxLength: 70 }), fc.integer()),
      approved: fc.oneof(fc.boolean(), fc.constantFrom('false', 'true', 1, 0, null)),
      by: fc.oneof(fc.string({ maxLength: 210 }), fc.constant(null), fc.constantFrom(' ', 'alice')),
      comment: fc.oneof(fc.string({ maxLength: 50 }), fc.constant(null), fc.constant('c'.repeat(DECISION_LIMITS.comment + 1))),
    },
    { requiredKeys: [] },
  ),
);

describe('a decision', () => {
  it('the workflow accepts exactly what the JSON Schema (and its zod schema) accepts', () => {
    const ajv = new Ajv2020({ strict: false });
    const schema = ajv.compile(contractJsonSchema('decision'));
    fc.assert(
      fc.property(answerArb, (raw) => {
        // The payload a client sends is JSON: what the workflow sees is what JSON.parse gives.
        const value = JSON.parse(JSON.stringify(raw)) as unknown;
        const read = readDecision(value);
        expect(read.ok, JSON.stringify(value)).toBe(DecisionSchema.safeParse(value).success);
        expect(read.ok, JSON.stringify(value)).toBe(schema(value));
        if (!read.ok) {
          expect(read.refusal.code).toBe('malformed');
          expect(read.refusal.message).toMatch(/^malformed answer: \S/);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses an empty or malformed at everywhere alike (a counterexample fast-check found)', () => {
    const ajv = new Ajv2020({ strict: false });
    const schema = ajv.compile(contractJsonSchema('decision'));
    for (const at of ['', 'yesterday', '2026-12-02']) {
      const value = { step: ' ', at, approved: false };
      expect([readDecision(value).ok, DecisionSchema.safeParse(value).success, schema(value)]).toEqual([false, false, false]);
    }
    const good = { step: 'ok', at: '2026-12-02T10:00:00.000Z', approved: true };
    expect([readDecision(good).ok, DecisionSchema.safeParse(good).success, schema(good)]).toEqual([true, true, true]);
  });

  it('names what is wrong', () => {
    const message = (v: unknown) => {
      const r = readDecision(v);
      return r.ok ? 'ok' : r.refusal.message;
    };
    expect(message({ step: 'r', approved: 'false', by: 'x' })).toBe('malformed answer: approved must be true or false, got string "false"');
    expect(message({ step: 'r', by: 'alice' })).toBe('malformed answer: approved must be true or false, got nothing');
    expect(message({ step: 'r', approved: true, by: 'x', admin: true })).toBe(
      'malformed answer: unknown field "admin" (an answer has step, approved, by, comment, groups, at, signature)',
    );
    expect(message(JSON.parse('{"step":"r","approved":true,"__proto__":{"by":"root"}}'))).toBe(
      'malformed answer: unknown field "__proto__" (an answer has step, approved, by, comment, groups, at, signature)',
    );
    expect(message({ step: 'r', approved: true, by: '  ' })).toBe('malformed answer: by must name who answers, got an empty string');
    expect(message('yes')).toBe('malformed answer: expected an object { step, approved, by, comment }, got string "yes"');
    expect(message({ step: 'r', approved: true, by: 'x', comment: null })).toBe('ok');
  });
});

describe('the contract schemas', () => {
  it('are valid JSON Schema, each with a title', () => {
    const ajv = new Ajv2020({ strict: false });
    for (const name of Object.keys(CONTRACT_SCHEMAS) as ContractSchemaName[]) {
      const schema = contractJsonSchema(name);
      expect(() => ajv.compile(schema), name).not.toThrow();
      expect(typeof schema.title, name).toBe('string');
    }
  });
});

describe('the worker checks a run argument', () => {
  const deps = { catalog: CATALOG, readCalled: async () => new Map() };

  it('reports every problem, each at its path in the argument', async () => {
    const verdict = await checkRunArgs({ spec: { version: 1, name: 'x', steps: [{ id: 'a', kind: 'tool', tool: 'nope' }] }, extra: 1 }, deps);
    expect(verdict.ok).toBe(false);
    expect(verdict.ok ? [] : verdict.problems).toEqual([
      { path: 'extra', code: 'SHAPE', message: 'unknown field "extra"' },
      { path: 'spec.steps[0].tool', code: 'UNKNOWN_TOOL', message: 'unknown tool "nope"' },
    ]);
    const input = await checkRunArgs({ spec: refundSpec(), input: { orderId: 7 } }, deps);
    expect(input.ok ? [] : input.problems).toEqual([{ path: 'input.orderId', code: 'TYPE', message: 'expected string, got number 7' }]);
    expect(await checkRunArgs({ spec: refundSpec(), input: { orderId: 'A' } }, deps)).toMatchObject({ ok: true });
  });

  it('a goal argument: the goal, and no unknown field', () => {
    expect(checkGoalArgs({ goal: '   ' })).toEqual([{ path: 'goal', code: 'SHAPE', message: 'is empty: say what the run should achieve' }]);
    expect(checkGoalArgs({ goal: 'g', review: 'yes' })).toEqual([
      { path: 'review', code: 'SHAPE', message: 'expected true or false, got string "yes"' },
    ]);
    expect(checkGoalArgs([])).toEqual([
      { path: '(root)', code: 'SHAPE', message: 'the argument is an object { goal, input, review, options }, got an array' },
    ]);
    expect(checkGoalArgs({ goal: 'Refund order A1' })).toEqual([]);
  });
});

describe('docs/temporal-api.md', () => {
  const doc = readFileSync(new URL('../../docs/temporal-api.md', import.meta.url), 'utf8');

  it('lists every failure type with its code and meaning, as src/engine/failures.ts has them', () => {
    const table = /<!-- failures:begin -->\n([\s\S]*?)\n<!-- failures:end -->/.exec(doc)?.[1];
    const expected = [
      '| type | code | meaning |',
      '|---|---|---|',
      ...Object.entries(FAILURES).map(([type, f]) => `| \`${type}\` | \`${f.code}\` | ${f.about} |`),
    ].join('\n');
    expect(table).toBe(expected);
  });

  it('names every refusal code', () => {
    for (const code of REFUSAL_CODES) expect(doc).toMatch(new RegExp(`\\| +\`${code}\` +\\|`));
  });
});

describe('connection settings', () => {
  it('an API key given in code means TLS, as TEMPORAL_API_KEY does, unless tls says otherwise', async () => {
    const { temporalConfig } = await import('../../src/config.js');
    expect(temporalConfig({ apiKey: 'k' }).tls).toBe(true);
    expect(temporalConfig({ apiKey: 'k', tls: false }).tls).toBe(false);
    expect(temporalConfig({ address: 'h:1' })).toMatchObject({ address: 'h:1' });
  });
});
