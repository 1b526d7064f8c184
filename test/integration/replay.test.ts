/**
 * Replay: histories of real runs, kept under test/histories (binary protobuf: protobufjs' JSON codec does not
 * load under vitest's module loader), are replayed against today's workflow code with
 * the SDK's replayer. A change that breaks determinism (a step started in another order, a timer added, a
 * condition moved) fails here instead of stranding runs in production.
 *
 * To record them again (after an intended, versioned change): RECORD_HISTORIES=1 npx vitest run test/integration/replay.test.ts
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import type { Spec } from '../../src/spec/schema.js';
import { bundleWorkflows } from '../../src/worker.js';
import tools from '../fixtures/run-tools.js';
import { startHarness } from '../helpers/harness.js';

const dir = fileURLToPath(new URL('../histories/', import.meta.url));

/** Runs that exercise every primitive: activities, parallel starts, skips, a timer, an update, a signal, a policy gate, an llm call. */
const recorded: Array<{ name: string; spec: Spec; input?: unknown; drive?: (approve: (step: string, by: string) => Promise<void>) => Promise<void> }> = [
  {
    name: 'refund-approved',
    input: { orderId: 'A1-broken' },
    spec: {
      version: 1,
      name: 'refund',
      steps: [
        { id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: '${input.orderId}' } },
        { id: 'assess', kind: 'llm', prompt: 'Customer note: ${steps.order.note}', output: { type: 'object', properties: { damaged: { type: 'boolean' } }, required: ['damaged'] } },
        { id: 'ok', kind: 'approval', when: 'steps.assess.damaged', title: 'Refund ${steps.order.total}?', timeout: '1h' },
        { id: 'refund', kind: 'tool', when: 'steps.ok.approved', tool: 'refund_order', args: { orderId: '${input.orderId}', amount: '${steps.order.total}' } },
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
];

describe('replay', () => {
  it.skipIf(!process.env.RECORD_HISTORIES)('records histories of real runs', async () => {
    const h = await startHarness({ tools, rules: [{ match: 'Customer note', reply: { damaged: true } }] });
    try {
      for (const r of recorded) {
        const runId = await h.client.start(r.spec, { input: r.input, id: `replay-${r.name}` });
        if (r.drive) {
          await r.drive(async (step, by) => {
            for (let i = 0; i < 100 && !(await h.client.status(runId)).pending.some((p) => p.step === step); i++) await new Promise((res) => setTimeout(res, 100));
            await h.client.approve(runId, step, { by });
          });
        }
        await h.client.result(runId);
        const history = await h.client.temporal.workflow.getHandle(runId).fetchHistory();
        await writeFile(path.join(dir, `${r.name}.history.pb`), temporal.api.history.v1.History.encode(history).finish());
      }
    } finally {
      await h.stop();
    }
  }, 120_000);

  it('replays every recorded history against the current workflow code', async () => {
    const files = (await readdir(dir)).filter((f) => f.endsWith('.history.pb'));
    expect(files.length).toBeGreaterThanOrEqual(recorded.length);
    const workflowBundle = await bundleWorkflows();
    for (const file of files) {
      const history = temporal.api.history.v1.History.decode(await readFile(path.join(dir, file)));
      await expect(Worker.runReplayHistory({ workflowBundle }, history, `replay-${file}`), file).resolves.toBeUndefined();
    }
  }, 120_000);
});
