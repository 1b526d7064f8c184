/**
 * How the planner shows the tools catalog to the model: JSON Schema as TypeScript-like types, with the
 * constraints a caller must respect, and the tools' policy.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { catalogText, typeText } from '../../src/planner/index.js';
import { defineTool, toolCatalog } from '../../src/tools/index.js';

const zodType = (schema: z.ZodType) => typeText(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }));

describe('typeText', () => {
  it('writes objects with optional fields, lists, enums, literals and nullables', () => {
    expect(
      zodType(
        z.object({
          id: z.string(),
          note: z.string().optional(),
          status: z.enum(['open', 'closed']),
          tags: z.array(z.string()),
          kind: z.literal('order'),
          deliveredAt: z.string().nullable(),
          lines: z.array(z.object({ qty: z.number() })),
        }),
      ),
    ).toBe(
      '{ id: string; note?: string; status: "open" | "closed"; tags: string[]; kind: "order"; deliveredAt: string | null; lines: { qty: number }[] }',
    );
  });

  it("keeps the constraints, defaults and descriptions a caller needs, and drops zod's safe-integer bounds", () => {
    expect(
      zodType(
        z.object({
          amount: z.number().positive().describe('in USD'),
          limit: z.int().min(1).max(10).default(3),
          count: z.int(),
          code: z
            .string()
            .min(2)
            .max(2)
            .regex(/^[A-Z]+$/),
          email: z.email(),
        }),
      ),
    ).toBe(
      '{ amount: number (> 0) /* in USD */; limit?: integer (>= 1, <= 10) /* default 3 */; count: integer; ' +
        'code: string (2 chars, matching /^[A-Z]+$/); email: string (matching /' +
        (z.toJSONSchema(z.email()) as { pattern: string }).pattern +
        '/, email) }',
    );
  });

  it('groups unions inside lists and unions, and writes maps and tuples', () => {
    expect(typeText({ type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'number' }] } })).toBe('(string | number)[]');
    expect(typeText({ type: 'array', items: { type: ['string', 'null'] } })).toBe('(string | null)[]');
    expect(typeText({ type: 'object', additionalProperties: { type: 'number' } })).toBe('{ [key: string]: number }');
    expect(typeText({ type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }] })).toBe('[string, integer]');
    expect(typeText({ type: 'object', properties: { 'first-name': { type: 'string' } }, required: ['first-name'] })).toBe('{ "first-name": string }');
    expect(typeText({})).toBe('any');
    expect(typeText({ type: 'object' })).toBe('object');
  });

  it('writes a schema it cannot read as its JSON, never dropping a rule', () => {
    const schema = { type: 'object', if: { properties: { a: { const: 1 } } }, then: { required: ['b'] }, description: 'x' };
    expect(typeText(schema)).toBe('{"type":"object","if":{"properties":{"a":{"const":1}}},"then":{"required":["b"]}}');
  });
});

describe('catalogText', () => {
  const tool = (name: string, approval?: 'required' | ((a: { n: number }) => boolean)) =>
    defineTool({
      name,
      description: `the ${name} tool`,
      input: z.object({ n: z.number() }),
      output: z.object({ ok: z.boolean() }),
      ...(approval && { approval }),
      run: () => ({ ok: true }),
    });

  it('gives each tool its description, args, output and policy', () => {
    expect(catalogText(toolCatalog([tool('a'), tool('b', 'required'), tool('c', (x) => x.n > 1)]))).toBe(
      [
        '- a: the a tool\n  args: { n: number }\n  output: { ok: boolean }',
        '- b [a person approves every call]: the b tool\n  args: { n: number }\n  output: { ok: boolean }',
        '- c [a person approves some calls, decided by the args]: the c tool\n  args: { n: number }\n  output: { ok: boolean }',
      ].join('\n'),
    );
  });

  it('says when there are no tools', () => {
    expect(catalogText(toolCatalog([]))).toBe('(no tools: plan with llm, approval and wait steps only)');
  });
});
