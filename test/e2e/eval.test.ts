/**
 * `trellis eval` as users run it: real `trellis mock-llm` and `trellis worker` processes, the shared Temporal dev
 * server, and the eval as its own process. The sample suite (examples/evals) passes with its mock script, cases
 * with an expected output really run on Temporal; a regressed model (test/fixtures/evals) fails the
 * expectations it breaks; a bad suite, no model endpoint or no Temporal exit 2, and an endpoint that fails midway
 * (the in-process mock LLM) keeps the cases that finished.
 */
import { type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlm, type MockLlmServer } from '../../src/llm/mock-server.js';
import { lines, ROOT, runCli, startDaemon } from '../helpers/cli.js';
import { temporalAddress, temporalNamespace } from '../helpers/temporal.js';
import { CLI_POLL } from '../helpers/wait.js';

const taskQueue = `e2e-eval-${randomUUID()}`;
const children: ChildProcess[] = [];
/** The sample's mock (the worker's model too) and the regressed model's mock. */
let sampleLlm: string;
let regressedLlm: string;
let temporal: Record<string, string>;
let dir: string;

const evalCli = (args: string[], env: Record<string, string>) => runCli(['eval', ...args], { env: { ...temporal, ...env }, timeoutMs: 90_000 });

/** The table's row for a case, split into its columns (two or more spaces apart). */
function row(stdout: string, name: string): string[] {
  const line = lines(stdout).find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no row for ${name} in:\n${stdout}`);
  return line.split(/ {2,}/);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trellis-e2e-eval-'));
  [sampleLlm, regressedLlm] = await Promise.all([
    startDaemon(['mock-llm', '--script', 'examples/evals/mock-llm.json'], children),
    startDaemon(['mock-llm', '--script', 'test/fixtures/evals/mock-llm.json'], children),
  ]);
  temporal = { TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_NAMESPACE: temporalNamespace(), TRELLIS_TASK_QUEUE: taskQueue };
  // The worker's llm steps use the sample's mock, as the suite's header comment says.
  await startDaemon(['worker', '--tools', 'examples/tools.ts'], children, { ...temporal, OPENAI_BASE_URL: sampleLlm, TRELLIS_LOG_LEVEL: 'info' });
}, 60_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  await rm(dir, { recursive: true, force: true });
});

describe('trellis eval', () => {
  it('passes the sample suite: plans checked, and the cases with an output run on Temporal', async () => {
    const r = await evalCli(['examples/evals/support.yaml'], { OPENAI_BASE_URL: sampleLlm });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(lines(r.stdout)[1]).toMatch(/^case +plan +tools +steps +output +tokens +cost +ms +note$/);
    expect(row(r.stdout, 'damage-check').slice(0, 5)).toEqual(['damage-check', 'ok, 1 try', 'ok', 'ok (2)', 'ok']);
    expect(row(r.stdout, 'refund-damaged').slice(0, 5)).toEqual(['refund-damaged', 'ok, 1 try', 'ok', 'ok (4)', '-']);
    expect(row(r.stdout, 'reply-to-ticket').slice(0, 5)).toEqual(['reply-to-ticket', 'ok, 1 try', 'ok', 'ok (3)', 'ok']);
    expect(row(r.stdout, 'research-brief').slice(0, 5)).toEqual(['research-brief', 'ok, 1 try', 'ok', 'ok (6)', '-']);
    expect(lines(r.stdout).at(-1)).toBe('4 passed, 0 failed');
    // Progress on stderr: one line per case as it ends (progress.test.ts reads the lines in between).
    expect(lines(r.stderr).filter((l) => /^\[\d+\/\d+\] \S+: (passed|FAILED)/.test(l))).toEqual([
      expect.stringMatching(/^\[1\/4\] damage-check: passed \(\d+\.\d s\)$/),
      expect.stringMatching(/^\[2\/4\] refund-damaged: passed/),
      expect.stringMatching(/^\[3\/4\] reply-to-ticket: passed/),
      expect.stringMatching(/^\[4\/4\] research-brief: passed/),
    ]);
  });

  it('--json prints the per-case records, with the run and its output', async () => {
    const r = await evalCli(['examples/evals/support.yaml', '--json', '--case', 'damage-check'], { OPENAI_BASE_URL: sampleLlm });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ suite: 'support', passed: 1, failed: 0 });
    expect(out.cases).toEqual([
      {
        name: 'damage-check',
        passed: true,
        checks: { plan: 'pass', tools: 'pass', notTools: 'pass', maxSteps: 'pass', output: 'pass' },
        attempts: 1,
        tokens: { prompt: expect.any(Number), completion: expect.any(Number), total: expect.any(Number) },
        cost: expect.any(Object),
        steps: 2,
        toolsUsed: ['lookup_order'],
        ms: expect.any(Number),
        failure: null,
        failures: [],
        runId: expect.stringMatching(/^eval-damage-check-/),
        // damaged comes from the run's own llm step, answered by the worker's model.
        output: { orderId: 'A-1001', damaged: false, reason: 'The customer does not report any damage.' },
      },
    ]);
    expect(out.cases[0].tokens.total).toBeGreaterThan(0);
    // The run is a real Temporal run: its status is there to read.
    const status = await runCli(['status', out.cases[0].runId, '--json'], { env: temporal });
    expect(JSON.parse(status.stdout)).toMatchObject({
      status: 'completed',
      steps: { order: { status: 'completed' }, assess: { status: 'completed' } },
    });
  });

  it('exits 1 on a regression, naming the expectation each failing case broke', async () => {
    const r = await evalCli(['test/fixtures/evals/regressions.yaml', '--case', 'drops-tool', 'too-many-steps', 'wrong-output', 'passes'], {
      OPENAI_BASE_URL: regressedLlm,
    });
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(row(r.stdout, 'drops-tool')).toEqual([
      'drops-tool',
      'ok, 1 try',
      'FAIL',
      '2',
      '-',
      expect.stringMatching(/^\d+$/),
      expect.stringMatching(/^(\$[\d.]+|unknown)$/),
      expect.stringMatching(/^\d+$/),
      'tools: the plan does not use refund_order (it uses lookup_order)',
    ]);
    expect(row(r.stdout, 'too-many-steps')).toContain('maxSteps: the plan has 6 steps, expected at most 3');
    expect(row(r.stdout, 'too-many-steps').slice(2, 4)).toEqual(['ok', 'FAIL (6)']);
    // This one ran on Temporal: the plan was fine, the output is not.
    expect(row(r.stdout, 'wrong-output').slice(2, 5)).toEqual(['ok', '1', 'FAIL']);
    expect(row(r.stdout, 'wrong-output')).toContain('output.status: expected "refunded", got "delivered"');
    expect(row(r.stdout, 'passes').slice(1, 5)).toEqual(['ok, 1 try', 'ok', 'ok (1)', 'ok']);
    expect(lines(r.stdout).at(-1)).toBe('1 passed, 3 failed');
  });

  it('a model that never writes a valid plan fails its case (valid: true is the default), exit 1', async () => {
    const r = await evalCli(['test/fixtures/evals/regressions.yaml', '--case', 'hopeless', '--attempts', '2', '--json'], {
      OPENAI_BASE_URL: regressedLlm,
    });
    expect(r.code, r.stderr).toBe(1);
    const [c] = JSON.parse(r.stdout).cases;
    expect(c).toMatchObject({ name: 'hopeless', passed: false, attempts: 2, steps: null, checks: { plan: 'fail' } });
    expect(c.failure).toBe('plan: no valid spec after 2 attempt(s): steps[3].tool: unknown tool "refnud_order" (did you mean "refund_order"?)');

    const human = await evalCli(['test/fixtures/evals/regressions.yaml', '--case', 'hopeless', '--attempts', '2'], { OPENAI_BASE_URL: regressedLlm });
    expect(human.code).toBe(1);
    expect(row(human.stdout, 'hopeless').slice(1, 5)).toEqual(['FAIL, 2 tries', '-', '-', '-']);
    expect(lines(human.stdout).at(-1)).toBe('0 passed, 1 failed');
  });
  it('cancels a run that has not ended by --run-timeout (one waiting for a person), and fails its case', async () => {
    const r = await evalCli(['test/fixtures/evals/regressions.yaml', '--case', 'waits', '--run-timeout', '3s', '--json'], {
      OPENAI_BASE_URL: regressedLlm,
    });
    expect(r.code, r.stderr).toBe(1);
    const [c] = JSON.parse(r.stdout).cases;
    expect(c.checks).toEqual({ plan: 'pass', output: 'fail' });
    expect(c.failure).toBe(`output: the run ${c.runId} did not end within 3s (it waits for a person: "ok"); it was cancelled`);
    // The cancellation was requested; the run records it in a moment.
    await expect
      .poll(async () => JSON.parse((await runCli(['status', c.runId, '--json'], { env: temporal })).stdout).status, {
        timeout: CLI_POLL.timeoutMs,
        interval: CLI_POLL.intervalMs,
      })
      .toBe('cancelled');
  });
});

describe('trellis eval: exit 2 for what is not a regression', () => {
  it('a bad suite file: every problem, by path', async () => {
    const file = path.join(dir, 'bad.yaml');
    await writeFile(
      file,
      [
        'name: bad',
        'cases:',
        '  - { name: a, goal: one }',
        '  - { name: b, goal: two, expect: { tools: [lookup_order] } }',
        '  - { name: c, goal: three, expect: { maxSteps: 2.5, toolz: [x] } }',
      ].join('\n'),
    );
    const r = await evalCli([file, '--tools', 'examples/tools.ts'], { OPENAI_BASE_URL: sampleLlm });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([
      `trellis: invalid suite ${file}:`,
      'cases[2].expect.maxSteps: expected a whole number, got number 2.5',
      'cases[2].expect.toolz: unknown field "toolz" (did you mean "tools"?)',
    ]);
  });

  it('a YAML syntax error, an unknown tool in an expectation, a missing file, an unknown case', async () => {
    const syntax = path.join(dir, 'syntax.yaml');
    await writeFile(syntax, 'name: s\ncases:\n  - name: a\n   goal: b\n');
    const r1 = await evalCli([syntax], { OPENAI_BASE_URL: sampleLlm });
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/invalid suite .*syntax\.yaml:\nline \d+, column \d+: invalid YAML/);

    const typo = path.join(dir, 'typo.yaml');
    await writeFile(
      typo,
      `name: t\ntools: ${path.join(ROOT, 'examples/tools.ts')}\ncases:\n  - { name: a, goal: g, expect: { tools: [refnud_order] } }\n`,
    );
    const r2 = await evalCli([typo], { OPENAI_BASE_URL: sampleLlm });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('cases[0].expect.tools[0]: unknown tool "refnud_order" (did you mean "refund_order"?)');

    const r3 = await evalCli([path.join(dir, 'nope.yaml')], { OPENAI_BASE_URL: sampleLlm });
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/cannot read .*nope\.yaml: no such file/);

    const r4 = await evalCli(['examples/evals/support.yaml', '--case', 'nosuch'], { OPENAI_BASE_URL: sampleLlm });
    expect(r4.code).toBe(2);
    expect(r4.stderr).toContain(
      'no case named "nosuch" in examples/evals/support.yaml; its cases: damage-check, refund-damaged, reply-to-ticket, research-brief',
    );
  });

  it('no model endpoint', async () => {
    const r = await evalCli(['examples/evals/support.yaml', '--case', 'research-brief'], { OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot reach the model at http:\/\/127\.0\.0\.1:1\/v1/);
  });

  it('no Temporal when a case needs to run, found before any model call', async () => {
    const before = await fetch(`${sampleLlm.replace(/\/v1$/, '')}/_mock/requests`).then((res) => res.json() as Promise<unknown[]>);
    const r = await evalCli(['examples/evals/support.yaml'], { OPENAI_BASE_URL: sampleLlm, TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot reach Temporal at 127\.0\.0\.1:1/);
    const after = await fetch(`${sampleLlm.replace(/\/v1$/, '')}/_mock/requests`).then((res) => res.json() as Promise<unknown[]>);
    expect(after.length).toBe(before.length);
    // A suite whose cases only check plans needs no Temporal.
    const plansOnly = await evalCli(['examples/evals/support.yaml', '--case', 'refund-damaged', 'research-brief'], {
      OPENAI_BASE_URL: sampleLlm,
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    });
    expect(plansOnly.code, plansOnly.stderr).toBe(0);
  });
});

describe('trellis eval: errors of the model endpoint', () => {
  let mock: MockLlmServer;
  let suite: string;
  beforeAll(async () => {
    mock = await startMockLlm({
      rules: [
        {
          match: 'Goal: look up order',
          reply: { version: 1, name: 'look-up', steps: [{ id: 'o', kind: 'tool', tool: 'lookup_order', args: { orderId: 'A1' } }] },
        },
        { match: 'Goal: broken endpoint', status: 500, reply: 'The server had an error' },
        { match: 'Goal: unauthorized', status: 401, reply: 'Incorrect API key provided' },
      ],
    });
    suite = path.join(dir, 'endpoint.yaml');
    await writeFile(
      suite,
      [
        'name: endpoint',
        `tools: ${path.join(ROOT, 'examples/tools.ts')}`,
        'cases:',
        '  - { name: first, goal: look up order A1 }',
        '  - { name: broken, goal: broken endpoint, expect: { valid: false } }',
        '  - { name: denied, goal: unauthorized }',
        '  - { name: never, goal: look up order A2 }',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await mock?.close();
  });

  it('a 401 midway: the table of the cases that finished, then the error, exit 2; a 500 fails its case, with its try', async () => {
    const before = mock.requests.length;
    const r = await evalCli([suite], { OPENAI_BASE_URL: mock.baseUrl, TRELLIS_MODEL: 'mock-planner' });
    expect(r.code, r.stderr).toBe(2);
    expect(lines(r.stdout)[0]).toBe('endpoint: 4 case(s), 2 finished before the model endpoint stopped the suite, model mock-planner');
    expect(row(r.stdout, 'first').slice(0, 2)).toEqual(['first', 'ok, 1 try']);
    // A case that expects no valid plan does not pass on an endpoint error: the planner never gave up.
    expect(row(r.stdout, 'broken')).toEqual([
      'broken',
      'FAIL, 1 try',
      '-',
      '-',
      '-',
      '0',
      expect.stringMatching(/^(\$[\d.]+|unknown)$/),
      expect.stringMatching(/^\d+$/),
      'plan: the model endpoint failed: 500 The server had an error',
    ]);
    expect(r.stdout).not.toMatch(/^(denied|never) /m);
    expect(lines(r.stdout).at(-1)).toBe('1 passed, 1 failed');
    expect(lines(r.stderr).at(-1)).toBe(
      `trellis: the model endpoint at ${mock.baseUrl} refused the call: 401 Incorrect API key provided; check OPENAI_API_KEY`,
    );
    expect(mock.requests.length - before).toBe(3);

    const json = await evalCli([suite, '--case', 'broken', '--json'], { OPENAI_BASE_URL: mock.baseUrl });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).cases[0]).toMatchObject({ passed: false, attempts: 1, checks: { plan: 'fail' } });
  });

  it('bad usage before any model call: a malformed OPENAI_BASE_URL, --attempts above 10, a prompt without {{catalog}}', async () => {
    const before = mock.requests.length;
    const notUrl = await evalCli([suite], { OPENAI_BASE_URL: 'notaurl' });
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toContain('trellis: OPENAI_BASE_URL is not a URL: "notaurl"');
    const many = await evalCli([suite, '--attempts', '11'], { OPENAI_BASE_URL: mock.baseUrl });
    expect(many.code).toBe(2);
    expect(many.stderr).toContain('--attempts must be a whole number from 1 to 10');
    const prompt = path.join(dir, 'no-marker.md');
    await writeFile(prompt, 'You write workflow specs.');
    const noMarker = await evalCli([suite, '--prompt', prompt], { OPENAI_BASE_URL: mock.baseUrl });
    expect(noMarker.code).toBe(2);
    expect(noMarker.stderr).toBe(
      `trellis: the prompt file ${prompt} has no {{catalog}} marker: the model would not see the tools; put {{catalog}} where the tools go\n`,
    );
    expect(mock.requests.length).toBe(before);
  });
});
