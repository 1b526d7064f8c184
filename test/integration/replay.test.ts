/**
 * Replay: histories of real runs, kept per version under test/histories/VERSION/ (binary protobuf: protobufjs' JSON
 * codec does not load under vitest's module loader), are replayed against today's workflow code with the SDK's
 * replayer, every version's. A change that breaks determinism (a step started in another order, a timer added, a
 * condition moved) fails here instead of stranding the runs of an unversioned worker upgraded in place.
 *
 * To record them (into the folder of package.json's version): RECORD_HISTORIES=1 npx vitest run
 * test/integration/replay.test.ts (or RECORD_HISTORIES=name,name for some). docs/operations.md says when.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import type { Spec } from '../../src/spec/schema.js';
import { bundleWorkflows } from '../../src/worker.js';
import tools from '../fixtures/run-tools.js';
import { startHarness } from '../helpers/harness.js';
import { installTestRuntime } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';

const root = fileURLToPath(new URL('../histories/', import.meta.url));
/** Histories are recorded into the folder of the package's version: the code that made them. */
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** Every version's folder, oldest first (numeric order: 0.10.0 after 0.9.0), and its histories. */
async function historiesByVersion(): Promise<Array<{ version: string; files: string[] }>> {
  const folders = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  folders.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return Promise.all(
    folders.map(async (v) => ({ version: v, files: (await readdir(path.join(root, v))).filter((f) => f.endsWith('.history.pb')).sort() })),
  );
}

/** Runs that exercise every primitive: activities, parallel starts, skips, a timer, an update, a signal, a policy gate, an llm call. */
type Answer = (step: string, by: string, approved?: boolean, comment?: string) => Promise<void>;
const recorded: Array<{ name: string; spec?: Spec; goal?: string; input?: unknown; drive?: (answer: Answer) => Promise<void> }> = [
  {
    name: 'refund-approved',
    input: { orderId: 'A1-broken' },
    spec: {
      version: 1,
      name: 'refund',
      steps: [
        { id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: '${input.orderId}' } },
        {
          id: 'assess',
          kind: 'llm',
          prompt: 'Customer note: ${steps.order.note}',
          output: { type: 'object', properties: { damaged: { type: 'boolean' } }, required: ['damaged'] },
        },
        { id: 'ok', kind: 'approval', when: 'steps.assess.damaged', title: 'Refund ${steps.order.total}?', timeout: '1h' },
        {
          id: 'refund',
          kind: 'tool',
          when: 'steps.ok.approved',
          tool: 'refund_order',
          args: { orderId: '${input.orderId}', amount: '${steps.order.total}' },
        },
      ],
      output: { refunded: '${steps.refund != null}' },
    },
    drive: (approve) => approve('ok', 'alice'),
  },
  {
    name: 'parallel-skips-wait',
    spec: {
      version: 1,
      name: 'parallel',
      steps: [
        { id: 'a', kind: 'tool', tool: 'sleep', args: { ms: 50, label: 'a' } },
        { id: 'b', kind: 'tool', tool: 'sleep', args: { ms: 50, label: 'b' } },
        { id: 'skipped', kind: 'tool', tool: 'lookup_order', args: { orderId: 'x' }, when: 'false' },
        { id: 'after_skip', kind: 'tool', tool: 'lookup_order', args: { orderId: '${steps.skipped.orderId}' } },
        { id: 'pause', kind: 'wait', duration: '200ms', after: ['a', 'b'] },
        { id: 'join', kind: 'tool', tool: 'sleep', args: { ms: 1, label: '${steps.a.label}${steps.b.label}' }, after: ['pause'] },
      ],
      output: '${steps.join.label}',
    },
  },
  {
    name: 'policy-gate',
    spec: {
      version: 1,
      name: 'gate',
      steps: [
        { id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: 'big-1' } },
        { id: 'refund', kind: 'tool', tool: 'refund_order', args: { orderId: 'big-1', amount: '${steps.order.total}' } },
      ],
    },
    drive: (approve) => approve('refund', 'erin'),
  },
  {
    name: 'agent-map-budget',
    spec: {
      version: 1,
      name: 'agent-map',
      budget: { maxSteps: 50, maxTokens: 100000 },
      steps: [
        { id: 'agent', kind: 'agent', prompt: 'Agent: look up R1', tools: ['lookup_order'], maxTurns: 3 },
        {
          id: 'items',
          kind: 'map',
          items: '["a", "bad", "c"]',
          maxParallel: 2,
          onItemError: 'continue',
          step: { kind: 'tool', tool: 'check_item', args: { name: '${item}' } },
        },
        { id: 'notes', kind: 'map', items: '[1, 2]', step: { kind: 'llm', prompt: 'Customer note: item ${item}' } },
      ],
    },
  },
  {
    // a goal run whose plan is denied mid-run with a comment, then replanned
    name: 'goal-replan',
    goal: 'Refund order R4',
    drive: (answer) => answer('ok', 'alice', false, 'refund only half'),
  },
];

const plans = {
  first: {
    version: 1,
    name: 'refund-r4',
    steps: [
      { id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: 'R4' } },
      { id: 'ok', kind: 'approval', title: 'Refund ${steps.order.total}?' },
      { id: 'refund', kind: 'tool', tool: 'refund_order', when: 'steps.ok.approved', args: { orderId: 'R4', amount: '${steps.order.total}' } },
    ],
  },
  second: {
    version: 1,
    name: 'half-refund-r4',
    steps: [
      { id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: 'R4' } },
      { id: 'refund', kind: 'tool', tool: 'refund_order', args: { orderId: 'R4', amount: '${steps.order.total / 2}' } },
    ],
  },
};

describe('replay', () => {
  it.skipIf(!process.env.RECORD_HISTORIES)(
    'records histories of real runs',
    async () => {
      const h = await startHarness({
        tools,
        rules: [
          { match: 'Customer note: item', reply: 'noted' },
          { match: 'Customer note', reply: { damaged: true } },
          { match: 'Agent: look up R1', lastMessage: 'Agent: look up R1', toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'R1' } }] },
          { match: 'Agent: look up R1', reply: 'R1 costs 40' },
          { match: '^Goal: Refund order R4.*refund only half', reply: plans.second },
          { match: '^Goal: Refund order R4', reply: plans.first },
        ],
      });
      // RECORD_HISTORIES=1 records all; RECORD_HISTORIES=name,name only those.
      const only = process.env.RECORD_HISTORIES === '1' ? undefined : process.env.RECORD_HISTORIES!.split(',');
      const dir = path.join(root, version);
      await mkdir(dir, { recursive: true });
      try {
        for (const r of recorded.filter((x) => !only || only.includes(x.name))) {
          const id = `replay-${r.name}-${Date.now()}`;
          const { runId } = r.goal ? await h.client.startGoal(r.goal, { id }) : await h.client.start(r.spec!, { input: r.input, id });
          if (r.drive) {
            await r.drive(async (step, by, approved = true, comment) => {
              await waitFor(
                () => h.client.status(runId),
                (view) => view.pending.some((p) => p.step === step),
                {
                  timeoutMs: 10_000,
                  what: `step ${step} of ${runId} to wait`,
                },
              );
              await (approved ? h.client.approve(runId, step, { by }) : h.client.deny(runId, step, { by, ...(comment && { comment }) }));
            });
          }
          await h.client.result(runId);
          const history = await h.client.temporal.workflow.getHandle(runId).fetchHistory();
          await writeFile(path.join(dir, `${r.name}.history.pb`), temporal.api.history.v1.History.encode(history).finish());
        }
      } finally {
        await h.stop();
      }
    },
    120_000,
  );

  it("replays every version's recorded histories against the current workflow code", async () => {
    const versions = await historiesByVersion();
    // The newest folder holds a history of every recorded run: a run added to `recorded` is recorded too.
    const newest = versions.at(-1);
    expect(newest?.files, `test/histories/${newest?.version ?? 'VERSION'}/`).toEqual(
      expect.arrayContaining(recorded.map((r) => `${r.name}.history.pb`)),
    );
    installTestRuntime(); // the replay workers log through the tests' quiet runtime
    const workflowBundle = await bundleWorkflows();
    for (const { version: v, files } of versions) {
      for (const file of files) {
        const history = temporal.api.history.v1.History.decode(await readFile(path.join(root, v, file)));
        await expect(Worker.runReplayHistory({ workflowBundle }, history, `replay-${v}-${file}`), `${v}/${file}`).resolves.toBeUndefined();
      }
    }
  }, 120_000);
});
