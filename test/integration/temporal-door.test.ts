/**
 * Every guarantee holds at Temporal's door: runs started and answered by raw clients (the Temporal CLI here, the
 * Python SDK in python-client.test.ts), with forged answers, hostile specs and data, payloads past the limits, and
 * runs Temporal itself ended. Each test is one reproduction that broke before: what a person or a service reaches
 * without Trellis's client must keep every promise.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import tools, { effects } from '../fixtures/hostile-tools.js';
import { runCli } from '../helpers/cli.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { historyEvents, startRaw, temporal } from '../helpers/temporal-cli.js';
import { temporalAddress, temporalNamespace } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';
import { refundSpec } from '../unit/helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    tools,
    rules: [
      { match: 'arrived broken', reply: { damaged: true, reason: 'broken on arrival' } },
      { match: 'Answer with nothing', body: {} },
      { match: 'Say hello', reply: 'hello' },
      { match: 'Name the keys', reply: JSON.parse('{"__proto__":"m","constructor":"k","toString":"t"}') as unknown },
    ],
  });
});
afterAll(() => h?.stop());
beforeEach(() => {
  effects.length = 0;
});

let counter = 0;
const newId = (what: string) => `door-${what}-${Date.now().toString(36)}-${++counter}`;

const spec = (name: string, steps: unknown[], extra: Record<string, unknown> = {}) => ({ version: 1, name, steps, ...extra });

/** A run that waits at a policy gate: refund_order for 500 needs a person (its policy: amounts over 100). */
const gatedRefund = spec('gated-refund', [{ id: 'r', kind: 'tool', tool: 'refund_order', args: { orderId: 'A-1', amount: 500 } }]);

const waiting = (id: string) =>
  waitFor(
    () => h.client.status(id),
    (v) => v.status === 'waiting',
  );

/** `temporal workflow update execute --name decide` with this JSON input, as a person in a shell or a script may. */
const decide = (id: string, input: unknown) =>
  temporal([
    'workflow',
    'update',
    'execute',
    '--workflow-id',
    id,
    '--name',
    'decide',
    '--input',
    typeof input === 'string' ? input : JSON.stringify(input),
  ]);

const eventTypes = async (id: string) => (await historyEvents(id)).map((e) => e.eventType);

describe('answers are checked before they are accepted', () => {
  it('a forged or malformed answer opens no gate, uses up nothing, and leaves no event in the history', async () => {
    const id = newId('forged');
    await startRaw('trellisRun', id, h.taskQueue, { spec: gatedRefund });
    await waiting(id);
    const before = (await eventTypes(id)).length;

    for (const forged of [
      { step: 'r', approved: 'false', by: 'x' }, // "false" is a string: it used to run the refund
      { step: 'r', by: 'alice' }, // no approved: it used to use up the gate and fail the run later
      { step: 'r', approved: 1, by: 'alice' },
      { step: 'r', approved: true, by: 'alice', admin: true }, // an unknown field
      { step: 'r', approved: true, by: 'a'.repeat(500) },
      [],
      '"yes"',
    ]) {
      const r = await decide(id, forged);
      expect(r.code, JSON.stringify(forged)).not.toBe(0);
      expect(r.stderr + r.stdout, JSON.stringify(forged)).toMatch(/malformed answer: /);
    }
    // Anonymous: a policy gate needs to know who answers.
    const anonymous = await decide(id, { step: 'r', approved: true });
    expect(anonymous.stderr + anonymous.stdout).toMatch(/takes an answer only with who gives it/);

    const view = await h.client.status(id);
    expect(view.status).toBe('waiting');
    expect(view.pending.map((p) => p.step)).toEqual(['r']);
    expect(effects.filter((e) => e.tool === 'refund_order')).toHaveLength(0);
    // A refused update is refused before anything is recorded (the validator): the history did not grow.
    expect((await eventTypes(id)).length).toBe(before);

    const ok = await decide(id, { step: 'r', approved: false, by: 'alice' });
    expect(ok.code, ok.stderr).toBe(0);
    const result = await h.client.result(id);
    expect(result.steps.r).toMatchObject({ status: 'skipped', reason: 'refund_order was not approved by alice' });
    expect(effects.filter((e) => e.tool === 'refund_order')).toHaveLength(0);
  });

  it('a refused update is a non-retryable TrellisDecisionRefused with { code, message } and no stack trace', async () => {
    const id = newId('refused');
    const { runId } = await h.client.start(gatedRefund, { id });
    await waiting(runId);
    const handle = h.client.temporal.workflow.getHandle(id);
    const refusal = async (arg: unknown) => {
      const e = (await handle.executeUpdate('decide', { args: [arg] }).then(
        () => undefined,
        (err: unknown) => err,
      )) as { cause?: { type?: string; nonRetryable?: boolean; details?: unknown[]; message?: string; stack?: string } };
      expect(e?.cause, JSON.stringify(arg)).toBeDefined();
      return e.cause!;
    };
    const cases: Array<[unknown, string]> = [
      [{ step: 'r', approved: 'false', by: 'x' }, 'malformed'],
      [{ step: 'r', approved: true }, 'anonymous'],
      [{ step: 'nope', approved: true, by: 'x' }, 'not_waiting'],
    ];
    for (const [arg, code] of cases) {
      const cause = await refusal(arg);
      expect(cause).toMatchObject({ type: 'TrellisDecisionRefused', nonRetryable: true });
      expect(cause.details).toEqual([{ code, message: cause.message }]);
      expect(cause.stack ?? '').not.toMatch(/at .*\.(js|ts)/);
    }
    await h.client.approve(runId, 'r', { by: 'alice' });
    const cause = await refusal({ step: 'r', approved: true, by: 'bob' });
    expect(cause.details).toEqual([{ code: 'already_decided', message: 'step "r" was already decided (approved by alice)' }]);
    await h.client.result(runId);
  });

  it('a refused signal changes nothing and is shown in the status and the UI', async () => {
    const id = newId('signal');
    await startRaw('trellisRun', id, h.taskQueue, { spec: gatedRefund });
    await waiting(id);
    const signal = await temporal([
      'workflow',
      'signal',
      '--workflow-id',
      id,
      '--name',
      'approve',
      '--input',
      JSON.stringify({ step: 'r', approved: 'yes', by: 'x' }),
    ]);
    expect(signal.code, signal.stderr).toBe(0);
    const view = await waitFor(
      () => h.client.status(id),
      (v) => (v.refused ?? []).length > 0,
    );
    expect(view.status).toBe('waiting');
    expect(view.refused).toEqual([
      {
        at: expect.any(String),
        via: 'signal',
        step: 'r',
        by: 'x',
        code: 'malformed',
        message: 'malformed answer: approved must be true or false, got string "yes"',
      },
    ]);
    const details = (await h.client.temporal.workflow.getHandle(id).query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(details.currentDetails).toContain('**Refused answers**');
    expect(details.currentDetails).toContain('signal for r by x: malformed');
    expect(effects).toHaveLength(0);
    await h.client.cancel(id);
  });
});

describe('the Temporal UI shows the wait', () => {
  /** A payload as `temporal workflow show -o json` prints it (base64 JSON), read back as the UI reads it. */
  const decode = (payload: unknown) => JSON.parse(Buffer.from((payload as { data: string }).data, 'base64').toString('utf8')) as unknown;

  it('a policy gate is an event of its own with what is asked, and the current details name the amount', async () => {
    const id = newId('ui');
    await startRaw('trellisRun', id, h.taskQueue, { spec: gatedRefund });
    await waiting(id);
    const metadata = (await h.client.temporal.workflow.getHandle(id).query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(metadata.currentDetails).toContain('- **r** (a tool that needs approval): Allow refund_order(orderId: "A-1", amount: 500) in step r?');
    expect(metadata.currentDetails).toContain('  - asks: {"orderId":"A-1","amount":500}');
    const events = await historyEvents(id);
    const asked = events.find((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED' && JSON.stringify(e).includes('askPerson'));
    expect(asked, 'an askPerson activity in the history').toBeDefined();
    const summary = decode((asked as unknown as { userMetadata: { summary: unknown } }).userMetadata.summary);
    expect(summary).toBe('waiting for a person: r: Allow refund_order(orderId: "A-1", amount: 500) in step r?');
    const input = decode(
      (asked as unknown as { activityTaskScheduledEventAttributes: { input: { payloads: unknown[] } } }).activityTaskScheduledEventAttributes.input
        .payloads[0],
    );
    expect(input).toEqual({
      run: id,
      step: 'r',
      title: 'Allow refund_order(orderId: "A-1", amount: 500) in step r?',
      details: '{"orderId":"A-1","amount":500}',
      args: { orderId: 'A-1', amount: 500 },
      askedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      source: 'policy',
    });
    await h.client.cancel(id);
  });
});

describe('policy fails closed', () => {
  it("a policy that answers 'yes' asks a person; one that throws does too, and says why", async () => {
    const id = newId('policy');
    await startRaw('trellisRun', id, h.taskQueue, {
      spec: spec('policies', [
        { id: 'sloppy', kind: 'tool', tool: 'sloppy_policy', args: { amount: 5 } },
        { id: 'thrown', kind: 'tool', tool: 'throwing_policy', args: { amount: 5 } },
      ]),
    });
    const view = await waitFor(
      () => h.client.status(id),
      (v) => v.pending.length === 2,
    );
    expect(effects).toHaveLength(0);
    expect(view.pending.find((p) => p.step === 'thrown')?.details).toContain(
      'the policy of throwing_policy threw: the limits service is down; so a person decides',
    );
    const anonymous = await runCli(['approve', id, 'sloppy'], {
      env: { TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_NAMESPACE: temporalNamespace() },
    });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/^refused \(anonymous\): step "sloppy" takes an answer only with who gives it/);
    await h.client.approve(id, 'sloppy', { by: 'alice' });
    await h.client.approve(id, 'thrown', { by: 'alice' });
    await h.client.result(id);
    expect(effects.map((e) => e.tool).sort()).toEqual(['sloppy_policy', 'throwing_policy']);
  });
});

describe('the worker checks what it is given', () => {
  it('a raw start with a broken argument fails at once, with every problem, and no workflow task fails', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['no-steps', { spec: { name: 'x' } }, /spec\.steps: missing.*\nspec\.version: missing; expected 1/],
      [
        'day',
        { spec: spec('slow', [{ id: 'ok', kind: 'approval', title: 'Go?', timeout: '1 day' }]) },
        /spec\.steps\[0\]\.timeout: invalid duration "1 day"/,
      ],
      [
        'long',
        { spec: spec('long', [{ id: 'w', kind: 'wait', duration: '99999999999999999999d' }]) },
        /spec\.steps\[0\]\.duration: duration "99999.*" is longer than the limit of 365d/,
      ],
      ['input', { spec: refundSpec(), input: { orderId: 7 } }, /input\.orderId: expected string, got number 7/],
      [
        'options',
        { spec: gatedRefund, options: { maxParallel: 'lots', statusSearchAttribute: 'X' } },
        /options\.maxParallel: expected a number.*\noptions\.statusSearchAttribute: unknown field/s,
      ],
      ['null', null, /\(root\): the argument is an object \{ spec, input, options \}, got null/],
    ];
    for (const [what, arg, problems] of cases) {
      const id = newId(what);
      await startRaw('trellisRun', id, h.taskQueue, arg);
      const e = await h.client.result(id).then(
        () => undefined,
        (err: unknown) => err as { code?: string; message?: string; run?: { problems: unknown[] } },
      );
      expect(e?.code, what).toBe('RUN_INVALID');
      expect(e?.message, what).toMatch(problems);
      expect(e?.run?.problems.length, what).toBeGreaterThan(0);
      const view = await h.client.status(id);
      expect(view, what).toMatchObject({ status: 'failed', problems: e!.run!.problems });
      const events = await eventTypes(id);
      expect(
        events.filter((t) => /WORKFLOW_TASK_(FAILED|TIMED_OUT)/.test(t)),
        what,
      ).toEqual([]);
    }
    expect(effects).toHaveLength(0);
  });

  it('a raw start without search attribute or memo is listed as waiting, under its spec name', async () => {
    const id = newId('listed');
    await startRaw('trellisRun', id, h.taskQueue, { spec: gatedRefund });
    await waiting(id);
    const listed = await waitFor(
      () => h.client.list({ status: 'waiting' }),
      (runs) => runs.some((r) => r.runId === id),
    );
    expect(listed.find((r) => r.runId === id)).toMatchObject({ status: 'waiting', name: 'gated-refund' });
    await h.client.cancel(id);
  });
});

describe('status tells the truth', () => {
  it('a terminated run is terminated in status and list, with the reason, and needs no worker', async () => {
    const id = newId('terminated');
    await startRaw('trellisRun', id, h.taskQueue, { spec: gatedRefund });
    await waiting(id);
    const t = await temporal(['workflow', 'terminate', '--workflow-id', id, '--reason', 'an operator stopped it']);
    expect(t.code, t.stderr).toBe(0);
    const view = await h.client.status(id);
    expect(view).toMatchObject({ status: 'terminated', pending: [], error: 'the run was terminated: an operator stopped it' });
    const listed = await waitFor(
      () => h.client.list({ status: 'terminated' }),
      (runs) => runs.some((r) => r.runId === id),
    );
    expect(listed.find((r) => r.runId === id)?.status).toBe('terminated');
    expect((await h.client.list()).find((r) => r.runId === id)?.status).toBe('terminated');
    await expect(h.client.result(id)).rejects.toMatchObject({ code: 'TERMINATED', run: { status: 'terminated' } });
  });

  it('a cancelled run lists nothing as waiting, and its status (from its memo) needs no worker', async () => {
    const id = newId('cancelled');
    const { runId } = await h.client.start(
      spec('cancel-me', [
        { id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: 'C-1' } },
        { id: 'ok', kind: 'approval', title: 'Go on?', after: ['order'] },
      ]),
      { id },
    );
    await waiting(runId);
    await h.client.cancel(runId);
    await expect(h.client.result(runId)).rejects.toMatchObject({ code: 'CANCELLED' });
    const view = await h.client.status(runId);
    expect(view).toMatchObject({ status: 'cancelled', pending: [] });
    expect(view.steps).toMatchObject({ order: { status: 'completed', output: { orderId: 'C-1' } }, ok: { status: 'cancelled' } });
    expect((await h.client.list({ status: 'cancelled' })).some((r) => r.runId === runId)).toBe(true);
  });
});

describe('the status of an ended run needs no worker', () => {
  it('completed, failed and cancelled runs read from their history after their worker is gone', { timeout: 60_000 }, async () => {
    const own = await startHarness({ tools, rules: [] });
    const ok = await own.client.start(spec('done', [{ id: 'e', kind: 'tool', tool: 'echo', args: { text: 'hi' } }]));
    await ok.result();
    const bad = await own.client.start(spec('bad', [{ id: 'b', kind: 'tool', tool: 'book', args: { table: '${string(1 / 0)}' } }]));
    await bad.result().catch(() => undefined);
    const cancelled = await own.client.start(gatedRefund);
    await waitFor(
      () => cancelled.status(),
      (v) => v.status === 'waiting',
    );
    await cancelled.cancel();
    await cancelled.result().catch(() => undefined);
    await own.stop(); // no worker polls this task queue any more
    const t = Date.now();
    expect(await h.client.status(ok.runId)).toMatchObject({
      status: 'completed',
      steps: { e: { status: 'completed', output: { text: 'hi' } } },
      output: { e: { text: 'hi' } },
    });
    expect(await h.client.status(bad.runId)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^step "b" failed: expression .* failed: division by zero/),
      steps: { b: { status: 'failed' } },
    });
    expect(await h.client.status(cancelled.runId)).toMatchObject({
      status: 'cancelled',
      pending: [],
      steps: { r: { status: 'cancelled', reason: 'the run was cancelled' } },
    });
    expect(Date.now() - t, 'no query waited for a worker').toBeLessThan(5_000);
  });
});

describe('starting is idempotent', () => {
  it('a second start under an id that has run is refused with RUN_EXISTS and repeats no side effect', async () => {
    const id = newId('booked');
    const booking = spec('booking', [{ id: 'b', kind: 'tool', tool: 'book', args: { table: '7' } }]);
    await (await h.client.start(booking, { id })).result();
    await expect(h.client.start(booking, { id })).rejects.toMatchObject({
      code: 'RUN_EXISTS',
      message: expect.stringMatching(new RegExp(`^a run with id "${id}" already exists \\(completed, started .+\\): nothing was started`)),
    });
    expect(effects.filter((e) => e.tool === 'book')).toHaveLength(1);
  });
});

describe("limits are Trellis's, not the server's", () => {
  const failure = (id: string) =>
    h.client.result(id).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message?: string },
    );

  it('a tool output over the payload limit fails its step at once, and the tool is not run again', async () => {
    for (const [what, bytes] of [
      ['1.5 MB', 1_500_000],
      ['3 MB', 3_000_000],
    ] as const) {
      effects.length = 0;
      const id = newId('big');
      await startRaw('trellisRun', id, h.taskQueue, { spec: spec('big', [{ id: 'big', kind: 'tool', tool: 'blob', args: { bytes } }]) });
      const e = await failure(id);
      expect(e?.code, what).toBe('STEP_FAILED');
      expect(e?.message, what).toBe(
        `step "big" failed: tool blob in step big gave ${(bytes + 45).toLocaleString('en-US')} bytes, over the payload limit of 524,288 bytes ` +
          '(TRELLIS_MAX_PAYLOAD_BYTES; Temporal refuses over 2 MB, and there is no blob store: TRELLIS_BLOB_STORE is "none"): ' +
          'it is not called again; return less, or select what the run needs',
      );
      expect(
        effects.filter((x) => x.tool === 'blob'),
        what,
      ).toHaveLength(1);
      expect((await h.client.status(id)).status, what).toBe('failed');
    }
  });

  it('a run whose result would be over the payload limit fails, naming it, instead of looping', async () => {
    const id = newId('result');
    await startRaw('trellisRun', id, h.taskQueue, {
      spec: spec('two-halves', [
        { id: 'a', kind: 'tool', tool: 'blob', args: { bytes: 300_000 } },
        { id: 'b', kind: 'tool', tool: 'blob', args: { bytes: 300_000 } },
      ]),
    });
    const e = await failure(id);
    expect(e?.code).toBe('RESULT_TOO_LARGE');
    expect(e?.message).toMatch(/^the run's result is 600,\d{3} bytes, over the payload limit of 524,288 bytes: give the spec an "output"/);
    // The status answer fits too: the largest outputs are left out, each with its size.
    const view = await h.client.status(id);
    expect(view.status).toBe('failed');
    expect(Object.values(view.steps).some((s) => s.omitted !== undefined)).toBe(true);
  });

  it('a map past the history budget stops the run with a budget failure before the server would end it', { timeout: 180_000 }, async () => {
    const id = newId('history');
    const items = `[${Array.from({ length: 150 }, (_, i) => i).join(', ')}]`;
    await startRaw('trellisRun', id, h.taskQueue, {
      spec: spec('echoes', [{ id: 'm', kind: 'map', items, step: { kind: 'tool', tool: 'echo', args: { text: '${input.text}' } } }]),
      input: { text: 'y'.repeat(200_000) },
    });
    const e = await failure(id);
    expect(e?.code).toBe('BUDGET_EXCEEDED');
    expect(e?.message).toMatch(
      /^budget exceeded: maxHistoryBytes 41,943,040: the run's history is [\d,]+ bytes before item \d+ of map step "m" \(in step "m"\)$/,
    );
    const echoes = effects.filter((x) => x.tool === 'echo').length;
    expect(echoes).toBeGreaterThan(50);
    expect(echoes).toBeLessThan(150);
    const described = await h.client.temporal.workflow.getHandle(id).describe();
    expect(described.status.name).toBe('FAILED'); // not TERMINATED by the server
    expect(described.historySize).toBeLessThan(50 * 1024 * 1024);
  });
});

describe('data is plain data', () => {
  it('keys named like Object.prototype members are ordinary keys in input, step ids, tool and model outputs', async () => {
    const id = newId('proto');
    // JSON.parse, since `__proto__: ...` in an object literal sets the prototype instead of a key.
    const keys = JSON.parse(
      '{"type":"object","properties":{"__proto__":{"type":"string"},"constructor":{"type":"string"},"toString":{"type":"string"}}}',
    ) as unknown;
    await startRaw('trellisRun', id, h.taskQueue, {
      spec: spec(
        'proto',
        [
          { id: 'constructor', kind: 'tool', tool: 'proto_keys', args: {} },
          { id: 'a', kind: 'tool', tool: 'echo', args: { text: '${input.x} ${steps.constructor.x} ${steps.constructor.constructor}' } },
          { id: 'tostring', kind: 'llm', prompt: 'Name the keys', output: keys },
        ],
        {
          output: {
            a: '${steps.a.text}',
            tool: '${steps.constructor.toString + steps.constructor.valueOf + steps.constructor.hasOwnProperty}',
            model: '${steps.tostring.__proto__ + steps.tostring.constructor + steps.tostring.toString}',
            input: '${input.constructor + input.__proto__}',
          },
        },
      ),
      input: JSON.parse('{"x":"hello","constructor":"s","__proto__":"q"}'),
    });
    const result = await h.client.result(id);
    // A tool's output goes through its zod schema, which drops a __proto__ key (zod's own protection); every other key stays.
    expect(result.output).toEqual({ a: 'hello hello c', tool: 'tvh', model: 'mkt', input: 'sq' });
  });
});

describe('smaller things', () => {
  it('an input holding Infinity or NaN starts nothing: JSON would carry it as null', async () => {
    await expect(h.client.start(gatedRefund, { input: { tip: Infinity, rate: NaN } })).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message:
        'invalid input:\ninput.rate: NaN (not a number): not a number JSON can hold\ninput.tip: a number too large for JSON (Infinity): not a number JSON can hold',
    });
    await expect(h.client.startGoal('Refund order A-1', { input: { tip: -Infinity } })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });

  it('an empty reply from the model endpoint fails the step, saying what came back', async () => {
    const id = newId('empty');
    await startRaw('trellisRun', id, h.taskQueue, { spec: spec('empty', [{ id: 'ask', kind: 'llm', prompt: 'Answer with nothing' }]) });
    await expect(h.client.result(id)).rejects.toMatchObject({
      code: 'STEP_FAILED',
      message: 'step "ask" failed: the model endpoint answered without a message: {}',
    });
  });
});
