/**
 * `trellis plan` as a process, against the mock LLM: the repair loop (an invalid first spec, fixed on the second
 * try), a hopeless model (exit 1 with the last problems), --out, and bad input refused before any model call.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
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
      {
        match: 'Goal: look up',
        reply: { version: 1, name: 'look-up', steps: [{ id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: 'A1' } }] },
      },
      { match: 'Goal: unauthorized', status: 401, reply: 'Incorrect API key provided' },
      { match: 'Goal: forbidden', status: 403, reply: 'Project does not have access' },
      { match: 'Goal: unknown model', status: 404, reply: 'The model does not exist' },
      { match: 'Goal: broken endpoint', status: 500, reply: 'The server had an error' },
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
      const call = mock.requests[before]!;
      return (call.responseFormat as { json_schema: { schema: unknown } }).json_schema.schema;
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
      const call = mock.requests[before]!;
      return (call.messages[0] as { content: string }).content;
    };
    const fromEnv = await systemPrompt([]);
    expect(fromEnv).toMatch(/^OUR PLANNER\. Tools:\n- lookup_order: /);
    expect(fromEnv).toContain('  args: { orderId: string (at least 1 chars) /* the order id, e.g. "A-1001" */ }');
    expect(await systemPrompt(['--prompt', flag])).toMatch(/^FLAG PLANNER\./);
  });

  it('refuses an empty goal as bad usage, before any model call', async () => {
    const before = mock.requests.length;
    for (const goal of ['', '  \n ']) {
      const r = await plan([goal, '--tools', 'examples/tools.ts']);
      expect(r).toEqual({ code: 2, stdout: '', stderr: 'trellis: GOAL is empty: say what the workflow should do\n' });
    }
    expect(mock.requests.length).toBe(before);
  });

  it('refuses --attempts above 10, and a prompt file without {{catalog}} (the model would not see the tools)', async () => {
    const before = mock.requests.length;
    const many = await plan(['look up order A1', '--attempts', '11']);
    expect(many.code).toBe(2);
    expect(many.stderr).toBe('trellis: --attempts must be a whole number from 1 to 10 (model calls per plan, repairs included), got "11"\n');
    const noMarker = path.join(dir, 'no-marker.md');
    await writeFile(noMarker, 'You write workflow specs.');
    const message = `trellis: the prompt file ${noMarker} has no {{catalog}} marker: the model would not see the tools; put {{catalog}} where the tools go\n`;
    const flag = await plan(['look up order A1', '--tools', 'examples/tools.ts', '--prompt', noMarker]);
    expect(flag).toEqual({ code: 2, stdout: '', stderr: message });
    const fromEnv = await runCli(['plan', 'look up order A1'], { env: { OPENAI_BASE_URL: mock.baseUrl, TRELLIS_PLANNER_PROMPT: noMarker } });
    expect(fromEnv).toEqual({ code: 2, stdout: '', stderr: message });
    expect(mock.requests.length).toBe(before);
  });

  it('checks --out before planning: a directory, or a path under a file, is bad usage and costs no model call', async () => {
    const before = mock.requests.length;
    const folder = await plan(['look up order A1', '--tools', 'examples/tools.ts', '--out', dir]);
    expect(folder).toEqual({
      code: 2,
      stdout: '',
      stderr: `trellis: --out ${dir}: it is a directory; name a file in it, such as ${path.join(dir, 'NAME.json')}\n`,
    });
    const file = path.join(dir, 'a-file');
    await writeFile(file, '');
    const under = await plan(['look up order A1', '--tools', 'examples/tools.ts', '--out', path.join(file, 'specs', 'x.json')]);
    expect(under).toEqual({
      code: 2,
      stdout: '',
      stderr: `trellis: --out ${path.join(file, 'specs', 'x.json')}: ${file} is a file, not a directory\n`,
    });
    expect(mock.requests.length).toBe(before);
  });

  it.runIf(existsSync('/dev/full'))('prints the spec on stdout when writing --out fails after planning (exit 1)', async () => {
    // /dev/full passes every check and refuses every write (no space left), as a full disk would.
    const r = await plan(['look up order A1', '--tools', 'examples/tools.ts', '--out', '/dev/full']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'look-up' });
    expect(r.stderr).toMatch(/\ntrellis: cannot write \/dev\/full: .*ENOSPC.*; the spec is on stdout\n$/);
    const json = await plan(['look up order A1', '--tools', 'examples/tools.ts', '--out', '/dev/full', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      spec: { name: 'look-up' },
      error: expect.stringMatching(/^cannot write \/dev\/full: /),
    });
  });

  it('401, 403 and 404 are no usable endpoint (exit 2, as in eval); a 500 is the endpoint failing (exit 1)', async () => {
    const cases = [
      {
        goal: 'unauthorized',
        code: 2,
        message: `the model endpoint at ${mock.baseUrl} refused the call: 401 Incorrect API key provided; check OPENAI_API_KEY`,
      },
      {
        goal: 'forbidden',
        code: 2,
        message: `the model endpoint at ${mock.baseUrl} refused the call: 403 Project does not have access; check OPENAI_API_KEY`,
      },
      {
        goal: 'unknown model',
        code: 2,
        message: `the model endpoint at ${mock.baseUrl} refused the call: 404 The model does not exist; check TRELLIS_MODEL and OPENAI_BASE_URL`,
      },
      { goal: 'broken endpoint', code: 1, message: `the model endpoint at ${mock.baseUrl} failed: 500 The server had an error` },
    ];
    for (const c of cases) {
      const r = await plan([c.goal, '--tools', 'examples/tools.ts']);
      // The last line of stderr, after the progress lines.
      expect({ goal: c.goal, ...r, stderr: r.stderr.split('\n').at(-2) }).toEqual({
        goal: c.goal,
        code: c.code,
        stdout: '',
        stderr: `trellis: ${c.message}`,
      });
      // --json: the same exit code, and a record on stdout.
      const json = await plan([c.goal, '--tools', 'examples/tools.ts', '--json']);
      expect(json.code).toBe(c.code);
      expect(JSON.parse(json.stdout)).toEqual({
        ok: false,
        spec: null,
        attempts: 1,
        tokens: { prompt: 0, completion: 0, total: 0 },
        problems: [],
        error: c.message,
      });
    }
  });

  it('a malformed OPENAI_BASE_URL is bad usage, named', async () => {
    const r = await runCli(['plan', 'look up order A1'], { env: { OPENAI_BASE_URL: 'notaurl' } });
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: 'trellis: OPENAI_BASE_URL is not a URL: "notaurl"; set it to the endpoint\'s base, such as http://127.0.0.1:8787/v1\n',
    });
  });

  it('without --tools, an unknown tool in the last problems says the catalog is empty (the model is not told)', async () => {
    const before = mock.requests.length;
    const r = await plan(['look up order A1', '--attempts', '2']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('steps[0].tool: unknown tool "lookup_order" (the catalog is empty: name a tools module with --tools)\n');
    expect(r.stderr.split('\n').at(-2)).toBe('trellis: no valid spec after 2 attempt(s); the last problems:');
    expect(mock.requests[before + 1]!.lastUserMessage).not.toContain('the catalog is empty');
  });

  it('sends a plan back when its own input schema would refuse the run input given with --input', async () => {
    const before = mock.requests.length;
    // the first reply has a typo; the next ones are valid specs whose input schema wants a string orderId
    const r = await plan(['refund damaged orders', '--tools', 'examples/tools.ts', '--input', '{"orderId": 42}', '--attempts', '3']);
    expect(r.code).toBe(1);
    expect(r.stdout.trim()).toBe(
      'input: the run input {"orderId":42} does not match this input schema: input.orderId: expected string, got number 42',
    );
    const [, , repair] = mock.requests.slice(before);
    expect(repair!.lastUserMessage).toContain('Run input: {"orderId":42}');
    expect(repair!.lastUserMessage).toContain('input: the run input {"orderId":42} does not match this input schema');
    const fits = await plan(['refund damaged orders', '--tools', 'examples/tools.ts', '--input', '{"orderId": "A-1"}']);
    expect(fits.code, fits.stderr).toBe(0);
  });

  it('exits 2 when the model endpoint cannot be reached', async () => {
    const r = await runCli(['plan', 'anything'], { env: { OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot reach the model at http:\/\/127\.0\.0\.1:1\/v1/);
  });
});

describe('planSpec, the library call', () => {
  it('makes no repair call once the tokens it may use are spent, and says so', async () => {
    const { planSpec } = await import('../../src/planner/index.js');
    const { createLlmClient } = await import('../../src/llm/client.js');
    const { catalogOf } = await import('../../src/spec/index.js');
    const usage = { calls: 0, tokens: { prompt: 0, completion: 0, total: 0 } };
    // the mock's reply names tools an empty catalog lacks: never valid, so every attempt is made
    const request = { goal: 'hopeless', catalog: catalogOf([]), model: 'm', maxAttempts: 3, usage };
    const client = createLlmClient({ baseURL: mock.baseUrl, model: 'm' });
    const unlimited = await planSpec(client, request);
    expect(unlimited).toMatchObject({ ok: false, attempts: 3 });
    const capped = await planSpec(client, { ...request, usage: { calls: 0, tokens: { prompt: 0, completion: 0, total: 0 } }, maxTokens: 1 });
    expect(capped).toMatchObject({ ok: false, attempts: 1, outOfTokens: true });
    expect(usage.calls).toBe(3);
  });
});
