/**
 * defineTool, isTool, policyVerdict, the catalog the validator and the planner read (JSON Schemas), and loading
 * a tools module (real files, imported as the CLI and the worker import them).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineTool,
  describeTool,
  isTool,
  loadToolsModule,
  policyVerdict,
  TOOL_BRAND,
  toolCatalog,
  ToolDefinitionError,
  ToolsModuleError,
  type Tool,
  type ToolDefinition,
} from '../../src/tools/index.js';

const input = z.object({ orderId: z.string(), amount: z.number().default(0), note: z.string().optional() });
const output = z.object({ ok: z.boolean(), id: z.string().default('r-0') });

function refund(extra: Partial<ToolDefinition<typeof input, typeof output>> = {}): Tool {
  return defineTool<typeof input, typeof output>({
    name: 'refund_order',
    description: 'Refund an order.',
    input,
    output,
    approval: (a) => a.amount > 100,
    run: () => ({ ok: true }),
    ...extra,
  }) as unknown as Tool;
}

/** The message defineTool throws for this definition (a ToolDefinitionError with code TOOL_DEFINITION). */
function definitionError(definition: unknown): string {
  try {
    defineTool(definition as Parameters<typeof defineTool>[0]);
  } catch (e) {
    expect(e).toBeInstanceOf(ToolDefinitionError);
    expect((e as ToolDefinitionError).code).toBe('TOOL_DEFINITION');
    return (e as Error).message;
  }
  throw new Error('defineTool did not throw');
}

describe('defineTool', () => {
  const ok = { name: 'ok', description: 'd', input: z.object({}), output: z.object({}), run: () => ({}) };

  it('accepts a complete definition and returns a frozen, branded tool', () => {
    const tool = refund();
    expect(tool.name).toBe('refund_order');
    expect(Object.isFrozen(tool)).toBe(true);
    expect(tool[TOOL_BRAND]).toBe(true);
    expect(() => defineTool({ ...ok, name: 'a-b_C9' })).not.toThrow();
    expect(() => defineTool({ ...ok, name: 'x'.repeat(64) })).not.toThrow();
  });

  it('refuses a bad name', () => {
    const NAME = 'name must be letters, digits, _ or -, starting with a letter (at most 64)';
    expect(definitionError({ ...ok, name: '1x' })).toBe(`defineTool("1x"): ${NAME}`);
    expect(definitionError({ ...ok, name: 'a b' })).toBe(`defineTool("a b"): ${NAME}`);
    expect(definitionError({ ...ok, name: 'x'.repeat(65) })).toBe(`defineTool("${'x'.repeat(65)}"): ${NAME}`);
    expect(definitionError({ ...ok, name: undefined })).toBe(`defineTool(undefined): ${NAME}`);
    expect(definitionError(undefined)).toBe(`defineTool(undefined): ${NAME}`);
  });

  it('refuses a missing or blank description', () => {
    expect(definitionError({ ...ok, description: undefined })).toBe('defineTool("ok"): description is required (the planner shows it to the model)');
    expect(definitionError({ ...ok, description: '  ' })).toBe('defineTool("ok"): description is required (the planner shows it to the model)');
  });

  it('refuses input or output that is not a zod schema, and a missing run', () => {
    expect(definitionError({ ...ok, input: { type: 'object' } })).toBe('defineTool("ok"): input must be a zod schema');
    expect(definitionError({ ...ok, output: undefined })).toBe('defineTool("ok"): output must be a zod schema');
    expect(definitionError({ ...ok, run: 'run' })).toBe('defineTool("ok"): run must be a function');
  });

  it("refuses an approval that is neither 'required' nor a function", () => {
    expect(definitionError({ ...ok, approval: 'always' })).toBe('defineTool("ok"): approval must be \'required\' or a function of the args');
    expect(definitionError({ ...ok, approval: true })).toBe('defineTool("ok"): approval must be \'required\' or a function of the args');
  });
});

describe('isTool', () => {
  it('recognises a tool by its global brand, also one made by another copy of the package', () => {
    expect(isTool(refund())).toBe(true);
    // Another copy (dist vs src) brands with the same Symbol.for key.
    const fromOtherCopy = { name: 'x', [Symbol.for('trellis.tool')]: true };
    expect(isTool(fromOtherCopy)).toBe(true);
    expect(TOOL_BRAND).toBe(Symbol.for('trellis.tool'));
  });

  it('refuses anything else', () => {
    expect(isTool({ name: 'x', description: 'd', run: () => 1 })).toBe(false);
    expect(isTool({ [Symbol('trellis.tool')]: true })).toBe(false);
    expect(isTool({ [Symbol.for('trellis.tool')]: 'yes' })).toBe(false);
    expect(isTool(null)).toBe(false);
    expect(isTool('refund_order')).toBe(false);
    expect(isTool(undefined)).toBe(false);
  });
});

describe('policyVerdict', () => {
  const needs = (tool: Tool, args: unknown) => policyVerdict(tool, args).needsApproval;

  it("'required' always, a function unless it returns false, never without approval", () => {
    expect(needs(refund({ approval: 'required' }), {})).toBe(true);
    const conditional = refund();
    expect(needs(conditional, { orderId: 'o', amount: 150 })).toBe(true);
    expect(needs(conditional, { orderId: 'o', amount: 100 })).toBe(false);
    expect(needs(refund({ approval: undefined }), { amount: 1e9 })).toBe(false);
  });

  it('fails closed: anything but a plain false asks a person, and a throw says what it threw', () => {
    for (const answer of [1, 'yes', 'no', 0, null, undefined, {}, Promise.resolve(false)]) {
      expect(needs(refund({ approval: (() => answer) as never }), {}), String(answer)).toBe(true);
    }
    const throwing = refund({
      approval: () => {
        throw new Error('no amount');
      },
    });
    expect(policyVerdict(throwing, {})).toEqual({ needsApproval: true, error: 'no amount' });
  });
});

describe('describeTool and toolCatalog', () => {
  it('input is the JSON Schema a caller writes: fields with defaults are optional', () => {
    expect(describeTool(refund()).inputSchema).toEqual({
      type: 'object',
      properties: { orderId: { type: 'string' }, amount: { default: 0, type: 'number' }, note: { type: 'string' } },
      required: ['orderId'],
    });
  });

  it('output is the JSON Schema of what the tool returns: defaults are filled, so required', () => {
    expect(describeTool(refund()).outputSchema).toEqual({
      type: 'object',
      properties: { ok: { type: 'boolean' }, id: { default: 'r-0', type: 'string' } },
      required: ['ok', 'id'],
      additionalProperties: false,
    });
  });

  it('maps approval to never, required or conditional, and keeps name and description', () => {
    const d = describeTool(refund());
    expect(d.name).toBe('refund_order');
    expect(d.description).toBe('Refund an order.');
    expect(d.approval).toBe('conditional');
    expect(describeTool(refund({ approval: 'required' })).approval).toBe('required');
    expect(describeTool(refund({ approval: undefined })).approval).toBe('never');
    expect(d.inputSchema).not.toHaveProperty('$schema');
    expect(d.outputSchema).not.toHaveProperty('$schema');
  });

  it('toolCatalog is a map by name', () => {
    const other = defineTool({ name: 'x-y', description: 'd', input: z.object({}), output: z.string(), approval: 'required', run: () => 'a' });
    const catalog = toolCatalog([refund(), other]);
    expect([...catalog.keys()]).toEqual(['refund_order', 'x-y']);
    expect(catalog.get('x-y')).toEqual({
      name: 'x-y',
      description: 'd',
      inputSchema: { type: 'object', properties: {} },
      outputSchema: { type: 'string' },
      approval: 'required',
    });
  });
});

describe('loadToolsModule', () => {
  const define = pathToFileURL(path.resolve('src/tools/define.ts')).href;
  const zod = pathToFileURL(createRequire(import.meta.url).resolve('zod')).href;
  const ping = `defineTool({ name: 'ping', description: 'Answers pong.', input: z.object({}), output: z.object({ reply: z.string() }), run: () => ({ reply: 'pong' }) })`;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'trellis-tools-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Writes a tools module (importing defineTool and z) into `folder` under the test's directory. */
  async function module(folder: string, name: string, body: string): Promise<string> {
    await mkdir(path.join(dir, folder), { recursive: true });
    const file = path.join(dir, folder, name);
    await writeFile(file, `import { defineTool } from '${define}';\nimport { z } from '${zod}';\n${body}\n`);
    return file;
  }

  /** The message loadToolsModule throws for this module (a ToolsModuleError naming the file). */
  async function loadError(file: string): Promise<string> {
    const e = await loadToolsModule(file).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(ToolsModuleError);
    return (e as Error).message.replace(`tools module ${file}: `, '');
  }

  it('loads a .ts module outside a "type": "module" package, which tsx compiles as CommonJS', async () => {
    // No package.json above the file, and a package.json without "type": both mean CommonJS to tsx.
    const bare = await module('bare', 'good.ts', `export default [${ping}];`);
    await writeFile(path.join(dir, 'bare', 'package.json'), '{}');
    const noPackage = await module('', 'good.ts', `export default [${ping}];`);
    for (const file of [bare, noPackage]) expect((await loadToolsModule(file)).map((t) => t.name)).toEqual(['ping']);
    // Compiled as CommonJS, a module without a default export still has none.
    expect(await loadError(await module('bare', 'named.ts', `export const tools = [${ping}];`))).toBe(
      'the default export must be a list of tools made with defineTool; there is no default export (it exports tools)',
    );
  });

  it('says what the default export is when it is not a list of tools', async () => {
    const expected = 'the default export must be a list of tools made with defineTool';
    expect(await loadError(await module('esm', 'number.ts', 'export default 42;'))).toBe(`${expected}; got a number`);
    expect(await loadError(await module('esm', 'one.ts', `export default ${ping};`))).toBe(
      `${expected}; got one tool ("ping"), not a list; write \`export default [ping]\``,
    );
    expect(await loadError(await module('esm', 'empty.ts', 'export default [];'))).toBe(
      `${expected}; got an empty list (a tools module needs at least one tool)`,
    );
    expect(await loadError(await module('esm', 'items.ts', `export default [${ping}, 'pong'];`))).toBe(
      'item 1 of the default export is not a tool made with defineTool (got a string)',
    );
    expect(await loadError(await module('esm', 'plain.ts', `export default [{ name: 'pong' }];`))).toBe(
      'item 0 of the default export is not a tool made with defineTool (got an object named "pong")',
    );
  });
});
