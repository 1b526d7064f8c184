/**
 * `trellis plan` as a process, against the mock LLM: the repair loop (an invalid first spec, fixed on the second
 * try), a hopeless model (exit 1 with the last problems), and --out.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlm, type MockLlmServer } from '../../src/llm/mock-server.js';
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

  it('exits 2 when the model endpoint cannot be reached', async () => {
    const r = await runCli(['plan', 'anything'], { env: { OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot reach the model at http:\/\/127\.0\.0\.1:1\/v1/);
  });
});
