/**
 * `trellis plan` as a process, against the mock LLM: the repair loop (an invalid first spec, fixed on the second
 * try), a hopeless model (exit 1 with the last problems), and --out.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlm, type MockLlmServer } from '../../src/llm/mock-server.js';
import { specJsonSchemaForModels, specOutlineJsonSchema } from '../../src/spec/index.js';
import { runCli } from '../helpers/cli.js';

const good = JSON.parse(readFileSync('examples/refund.json', 'utf8'));
const typo = { ...good, steps: good.steps.map((s: { id: string }) => (s.id === 'refund' ? { ...s, tool: 'refnud_order' } : s)) };

let mock: MockLlmServer;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trellis-plan-'));
  mock = await startMockLlm({
    rules: [
      { match: 'Goal: refund damaged orders.*problems', reply: good },
      { match: 'Goal: refund damaged orders', reply: typo },
      { match: 'Goal: hopeless', reply: typo },
      { match: 'Goal: look up', reply: { version: 1, name: 'look-up', steps: [{ id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: 'A1' } }] } },
    ],
  });
});
afterAll(async () => {
  await mock?.close();
  await rm(dir, { recursive: true, force: true });
});

const plan = (args: string[]) => runCli(['plan', ...args], { env: { OPENAI_BASE_URL: mock.baseUrl, TRELLIS_MODEL: 'mock-planner' } });

describe('trellis plan', () => {
  it('repairs an invalid first spec with the validator problems, and prints the valid one', async () => {
    const before = mock.requests.length;
    const r = await plan(['refund damaged orders', '--tools', 'examples/tools.ts']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(good);
    const calls = mock.requests.slice(before);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.responseFormat).toMatchObject({ type: 'json_schema', json_schema: { name: 'workflow_spec' } });
    // The model sees the catalog in the prompt file's text, and on the repair the goal and the problems.
    expect(JSON.stringify(calls[0]!.messages)).toContain('refund_order');
    expect(calls[1]!.lastUserMessage).toContain('Goal: refund damaged orders');
    expect(calls[1]!.lastUserMessage).toContain('steps[3].tool: unknown tool "refnud_order" (did you mean "refund_order"?)');
  });

  it('exits 1 with the last problems when no valid spec comes within the budget', async () => {
    const before = mock.requests.length;
    const r = await plan(['hopeless', '--tools', 'examples/tools.ts', '--attempts', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no valid spec after 2 attempt(s)');
    expect(r.stdout.trim()).toBe('steps[3].tool: unknown tool "refnud_order" (did you mean "refund_order"?)');
    expect(mock.requests.length - before).toBe(2);
  });

  it('--out writes a spec that validates; --json reports attempts and tokens', async () => {
    const out = path.join(dir, 'planned.json');
    const r = await plan(['refund damaged orders', '--tools', 'examples/tools.ts', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, attempts: 2, problems: [], tokens: { total: expect.any(Number) } });
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(good);
    const v = await runCli(['validate', out, '--tools', 'examples/tools.ts']);
    expect(v.stdout.trim()).toBe('valid');
  });

  it('sends the outline schema by default and the full one with --schema full; another form is bad usage', async () => {
    const schemaSent = async (args: string[], env: Record<string, string> = {}) => {
      const before = mock.requests.length;
      const r = await runCli(['plan', 'look up order A1', '--tools', 'examples/tools.ts', ...args], {
        env: { OPENAI_BASE_URL: mock.baseUrl, ...env },
      });
      expect(r.code, r.stderr).toBe(0);
      const [call] = mock.requests.slice(before) as [{ responseFormat: { json_schema: { schema: unknown } } }];
      return call.responseFormat.json_schema.schema;
    };
    expect(await schemaSent([])).toEqual(specOutlineJsonSchema());
    expect(await schemaSent(['--schema', 'full'])).toEqual(specJsonSchemaForModels());
    expect(await schemaSent([], { TRELLIS_PLANNER_SCHEMA: 'full' })).toEqual(specJsonSchemaForModels());
    expect(await schemaSent(['--schema', 'outline'], { TRELLIS_PLANNER_SCHEMA: 'full' })).toEqual(specOutlineJsonSchema());

    const before = mock.requests.length;
    const bad = await plan(['look up order A1', '--schema', 'tiny']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--schema must be outline or full, got "tiny"');
    const badEnv = await runCli(['plan', 'look up order A1'], { env: { OPENAI_BASE_URL: mock.baseUrl, TRELLIS_PLANNER_SCHEMA: 'big' } });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('TRELLIS_PLANNER_SCHEMA must be outline or full, got "big"');
    expect(mock.requests.length).toBe(before);
  });

  it('reads the prompt from TRELLIS_PLANNER_PROMPT, as a worker does for goal runs; --prompt wins', async () => {
    const own = path.join(dir, 'own-prompt.md');
    const flag = path.join(dir, 'flag-prompt.md');
    await writeFile(own, 'OUR PLANNER. Tools:\n{{catalog}}');
    await writeFile(flag, 'FLAG PLANNER. Tools:\n{{catalog}}');
    const systemPrompt = async (args: string[]) => {
      const before = mock.requests.length;
      const r = await runCli(['plan', 'look up order A1', '--tools', 'examples/tools.ts', ...args], {
        env: { OPENAI_BASE_URL: mock.baseUrl, TRELLIS_PLANNER_PROMPT: own },
      });
      expect(r.code, r.stderr).toBe(0);
      const [call] = mock.requests.slice(before) as [{ messages: { content: string }[] }];
      return call.messages[0]!.content;
    };
    const fromEnv = await systemPrompt([]);
    expect(fromEnv).toMatch(/^OUR PLANNER\. Tools:\n- lookup_order: /);
    expect(fromEnv).toContain('  args: { orderId: string (at least 1 chars) /* the order id, e.g. "A-1001" */ }');
    expect(await systemPrompt(['--prompt', flag])).toMatch(/^FLAG PLANNER\./);
  });

  it('exits 2 when the model endpoint cannot be reached', async () => {
    const r = await runCli(['plan', 'anything'], { env: { OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot reach the model at http:\/\/127\.0\.0\.1:1\/v1/);
  });
});
