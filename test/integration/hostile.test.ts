/**
 * Hostile clients, generated: fast-check drives random malformed answers and random broken or hostile specs through
 * a raw Temporal client (the SDK's own, not Trellis's), and checks what must hold whatever comes in: no gate opens
 * but to a well-formed answer, no workflow task fails twice, and every run ends or waits as it should, quickly.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { checkRunArgs } from '../../src/contract/check.js';
import { DecisionSchema } from '../../src/contract/schemas.js';
import { toolCatalog } from '../../src/tools/catalog.js';
import tools, { effects } from '../fixtures/hostile-tools.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { connectClient } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';

let h: Harness;
let raw: Client;
let closeRaw: () => Promise<void>;
beforeAll(async () => {
  h = await startHarness({ tools, rules: [{ match: '.', reply: { ok: true } }] });
  ({ client: raw, close: closeRaw } = await connectClient());
});
afterAll(async () => {
  await closeRaw?.();
  await h?.stop();
});
beforeEach(() => {
  effects.length = 0;
});

const catalog = toolCatalog(tools);

let counter = 0;
const newId = (what: string) => `hostile-${what}-${Date.now().toString(36)}-${++counter}`;

const gated = { version: 1, name: 'gated', steps: [{ id: 'r', kind: 'tool', tool: 'refund_order', args: { orderId: 'H-1', amount: 500 } }] };

/** Workflow tasks that failed or timed out in a run's history. */
async function failedTasks(id: string): Promise<number> {
  const history = await raw.workflow.getHandle(id).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes).length;
}

const KEYS = ['step', 'approved', 'by', 'comment', 'at', 'signature', 'constructor', '__proto__', 'toString'];
/** Answers, mostly malformed: wrong types, missing and unknown fields, wrong steps, names too long. */
const answerArb = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.dictionary(fc.constantFrom(...KEYS), fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.boolean(), fc.constantFrom('r', 'alice', 'false')), {
    maxKeys: 5,
  }),
  fc.record(
    {
      step: fc.oneof(fc.constantFrom('r', 'R', 'r ', '', 'plan'), fc.string({ maxLength: 70 })),
      approved: fc.oneof(fc.constant(true), fc.constantFrom('true', 1, null, [], {})),
      by: fc.oneof(fc.constantFrom('alice', '', ' '), fc.string({ maxLength: 201, minLength: 201 }), fc.integer()),
    },
    { requiredKeys: [] },
  ),
);

/** Would the workflow accept this answer for the gate at step r? (The JSON Schema, the gate, and `by` required.) */
function accepted(value: unknown): boolean {
  const d = DecisionSchema.safeParse(value);
  return d.success && d.data.step === 'r' && typeof d.data.by === 'string';
}

describe('random answers, through the raw client', () => {
  it('no malformed or refused answer opens the gate, by update or signal; each refusal is typed and coded', { timeout: 120_000 }, async () => {
    const id = newId('answers');
    await raw.workflow.start('trellisRun', { taskQueue: h.taskQueue, workflowId: id, args: [{ spec: gated }] });
    const handle = raw.workflow.getHandle(id);
    await waitFor(
      () => handle.query<{ status: string }>('status'),
      (v) => v.status === 'waiting',
    );
    const malformed = fc.sample(
      answerArb.map((a) => JSON.parse(JSON.stringify(a)) as unknown).filter((a) => !accepted(a)),
      { numRuns: 120, seed: 20261201 },
    );
    for (const [i, answer] of malformed.entries()) {
      // Half by update (the caller gets the refusal), half by signal (a refusal is only recorded).
      if (i % 2 === 0) {
        const e = await handle.executeUpdate('decide', { args: [answer] }).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(e, JSON.stringify(answer)).toBeInstanceOf(WorkflowUpdateFailedError);
        const cause = (e as WorkflowUpdateFailedError).cause as { type?: string; nonRetryable?: boolean; details?: Array<{ code: string }> };
        expect(cause, JSON.stringify(answer)).toMatchObject({ type: 'TrellisDecisionRefused', nonRetryable: true });
        expect(['malformed', 'not_waiting', 'anonymous'], JSON.stringify(answer)).toContain(cause.details?.[0]?.code);
      } else {
        await handle.signal('approve', answer);
      }
    }
    const view = await waitFor(
      () => handle.query<{ status: string; pending: unknown[]; refused?: unknown[] }>('status'),
      (v) => (v.refused ?? []).length === 20, // the newest 20 refused signals are kept
    );
    expect(view).toMatchObject({ status: 'waiting', pending: [expect.objectContaining({ step: 'r' })] });
    expect(effects).toEqual([]);
    expect(await failedTasks(id)).toBe(0);
    await handle.executeUpdate('decide', { args: [{ step: 'r', approved: true, by: 'alice' }] });
    expect(await handle.result()).toMatchObject({ steps: { r: { status: 'completed' } } });
    expect(effects.map((e) => e.tool)).toEqual(['refund_order']);
  });
});

// ---- random specs --------------------------------------------------------------------------------------------

const HOSTILE_EXPRESSIONS = [
  `'${'a'.repeat(40)}!'.matches('(a+)+$')`,
  "'x'.matches('(?=x)')",
  '[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(a, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(b, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(c, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(d, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(e, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(f, 1))))))',
  'input.constructor',
  'steps.constructor',
  'size(input) > 0',
  '1 / 0 == 1',
  "input.__proto__ == 'x'",
];

const base = () => ({
  version: 1,
  name: 'hostile',
  input: { type: 'object' },
  steps: [
    { id: 'look', kind: 'tool', tool: 'lookup_order', args: { orderId: 'H-2' } },
    { id: 'ok', kind: 'approval', title: 'Refund ${steps.look.total}?', approvers: ['alice'], timeout: '1h' },
    { id: 'pay', kind: 'tool', tool: 'refund_order', when: 'steps.ok.approved', args: { orderId: 'H-2', amount: 500 } },
  ],
  output: { done: '${steps.pay != null}' },
});

type Mutation = (spec: Record<string, unknown>) => void;
const fieldArb = fc.constantFrom('id', 'kind', 'tool', 'args', 'when', 'title', 'timeout', 'approvers', 'after', 'retry');
// Weighted so that about half the specs stay valid (hostile expressions parse) and reach the interpreter.
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.tuple(fc.nat(2), fieldArb).map(
      ([i, f]): Mutation =>
        (s) =>
          delete (s.steps as Record<string, unknown>[])[i]![f],
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.nat(2), fieldArb, fc.jsonValue({ maxDepth: 2 })).map(
      ([i, f, v]): Mutation =>
        (s) =>
          ((s.steps as Record<string, unknown>[])[i]![f] = v),
    ),
  },
  {
    weight: 4,
    arbitrary: fc.tuple(fc.nat(2), fc.constantFrom(...HOSTILE_EXPRESSIONS)).map(
      ([i, e]): Mutation =>
        (s) =>
          ((s.steps as Record<string, unknown>[])[i]!.when = e),
    ),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(...HOSTILE_EXPRESSIONS).map(
      (e): Mutation =>
        (s) =>
          ((s.steps as Record<string, unknown>[])[0]!.args = { orderId: `\${string(${e})}` }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Mutation>(
      (s) => (s.steps = []),
      (s) => delete s.steps,
      (s) => (s.version = 2),
      (s) => (s.budget = { maxSteps: 0 }),
      (s) => (s.steps as unknown[]).push({ id: 'ok', kind: 'wait', duration: '1s' }),
      (s) => (s.output = '${steps.pay.refundId.matches("(x+x+)+y")}'),
      (s) => ((s.steps as Record<string, unknown>[])[0]!.timeout = '99999999999999999999d'),
      (s) => ((s.steps as Record<string, unknown>[])[1]!.kind = 'map'),
    ),
  },
);
const argArb = fc.record({
  mutations: fc.array(mutationArb, { minLength: 1, maxLength: 2 }),
  input: fc.oneof(
    { weight: 3, arbitrary: fc.constant({}) },
    { weight: 2, arbitrary: fc.constant(JSON.parse('{"constructor":"c","__proto__":"p","toString":"t"}') as unknown) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  ),
  options: fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
    { weight: 1, arbitrary: fc.constant({ maxParallel: 0 }) },
  ),
});

describe('random specs, through the raw client', () => {
  it(
    'every run ends or waits within seconds, no workflow task fails twice, and nothing is refunded without an answer',
    { timeout: 240_000 },
    async () => {
      const cases = fc.sample(argArb, { numRuns: 40, seed: 20261201 });
      const ids: string[] = [];
      const args: Array<Record<string, unknown>> = [];
      for (const c of cases) {
        const spec = base() as Record<string, unknown>;
        for (const m of c.mutations) {
          try {
            m(spec);
          } catch {
            // A mutation of a step a previous one removed: the spec stays as it is.
          }
        }
        const id = newId('spec');
        ids.push(id);
        const arg: Record<string, unknown> = { spec, input: c.input };
        if (c.options !== undefined) arg.options = c.options;
        args.push(JSON.parse(JSON.stringify(arg)) as Record<string, unknown>);
        await raw.workflow.start('trellisRun', { taskQueue: h.taskQueue, workflowId: id, args: [arg] });
      }
      const outcomes: Record<string, number> = {};
      for (const [i, id] of ids.entries()) {
        const handle = raw.workflow.getHandle(id);
        // What the worker should decide, from the same check done here, outside Temporal.
        const verdict = await checkRunArgs(args[i], { catalog, readCalled: async () => new Map() });
        // Ended, or waiting for alice: never stuck running with workflow tasks failing.
        const status = await waitFor(
          async () => {
            const d = await handle.describe();
            if (d.status.name !== 'RUNNING') return d.status.name;
            const v = await handle.query<{ status: string }>('status').catch(() => ({ status: 'no answer' }));
            return v.status;
          },
          // Temporal's status once closed; the run's own only for a wait (a run about to close may say failed first).
          (s) => s === 'waiting' || s === s.toUpperCase(),
          { timeoutMs: 30_000 },
        );
        expect(['COMPLETED', 'FAILED', 'waiting'], id).toContain(status);
        expect(await failedTasks(id), id).toBeLessThanOrEqual(1);
        const failure = status === 'FAILED' ? await handle.result().catch((e: { cause?: { type?: string } }) => e.cause?.type) : undefined;
        // An invalid argument fails as such, before any step; a valid one runs (and may still fail a step).
        if (!verdict.ok) expect(failure, id).toBe('TrellisRunInvalid');
        else expect(failure, id).not.toBe('TrellisRunInvalid');
        const outcome = `${verdict.ok ? 'valid' : 'invalid'} ${failure ?? status}`;
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        if (status === 'waiting') await handle.cancel();
      }
      // The sample reaches every way a run ends, not only the refusal of a broken argument.
      expect(Object.keys(outcomes).sort(), JSON.stringify(outcomes)).toEqual(expect.arrayContaining(['invalid TrellisRunInvalid', 'valid waiting']));
      expect(
        Object.keys(outcomes).some((o) => o.startsWith('valid') && o !== 'valid waiting'),
        JSON.stringify(outcomes),
      ).toBe(true);
      // Nobody answered: no gated refund ran.
      expect(effects.filter((e) => e.tool === 'refund_order')).toEqual([]);
    },
  );
});
