/**
 * TrellisClient.watch against a real run: the events in order and each once, through a wait for a person, to
 * run.ended; a resume after a seq; nothing added to the run's history by watching; and an ended run, with and
 * without a worker.
 */
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/messages.js';
import tools from '../fixtures/hostile-tools.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ tools });
});
afterAll(async () => {
  await h?.stop();
});

const spec = {
  version: 1,
  name: 'watched',
  steps: [
    { id: 'look', kind: 'tool', tool: 'echo', args: { text: 'A-1' } },
    { id: 'ok', kind: 'approval', title: 'Go on?', after: ['look'] },
    { id: 'say', kind: 'tool', tool: 'echo', args: { text: 'done' }, after: ['ok'] },
  ],
};

const line = (e: RunEvent) => `${e.type}${e.step ? ` ${e.step}` : ''}`;
const historyOf = async (runId: string) => (await h.client.temporal.workflow.getHandle(runId).fetchHistory()).events ?? [];

let runId: string;
let whole: RunEvent[];

it('gives the events in order and each once, through a wait for a person, and ends after run.ended', async () => {
  ({ runId } = await h.client.start(spec, { id: `watched-${Date.now()}` }));
  const watch = h.client.watch(runId, { minPollMs: 50, maxPollMs: 200 });
  const seen: RunEvent[] = [];
  while (seen.at(-1)?.type !== 'step.waiting') seen.push((await watch.next()).value as RunEvent);
  expect(seen.at(-1)).toMatchObject({ step: 'ok', data: { step: 'ok', title: 'Go on?', source: 'approval' } });

  await h.client.approve(runId, 'ok', { by: 'alice' });
  for await (const e of watch) seen.push(e);
  expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
  expect(seen.map(line)).toEqual([
    'step.started look',
    'step.completed look',
    'step.started ok',
    'step.waiting ok',
    'step.decided ok',
    'step.completed ok',
    'step.started say',
    'step.completed say',
    'run.ended',
  ]);
  expect(seen.at(-1)!.data).toMatchObject({ status: 'completed' });
  whole = seen;
});

it('resumes after a seq with only the later events; an ended run gives them again and ends', async () => {
  const rest: RunEvent[] = [];
  for await (const e of h.client.getHandle(runId).watch({ after: 4 })) rest.push(e);
  expect(rest).toEqual(whole.slice(4));
  const again: RunEvent[] = [];
  for await (const e of h.client.watch(runId)) again.push(e);
  expect(again).toEqual(whole);
});

it('adds nothing to the history of the run it watches: no signal, no update, not one event', async () => {
  const { runId: waiting } = await h.client.start(spec, { id: `watched-quiet-${Date.now()}` });
  const handle = h.client.temporal.workflow.getHandle(waiting);
  const abort = new AbortController();
  const watch = h.client.watch(waiting, { signal: abort.signal, minPollMs: 20, maxPollMs: 40 });
  const seen: RunEvent[] = [];
  while (seen.at(-1)?.type !== 'step.waiting') seen.push((await watch.next()).value as RunEvent);
  // Measured once the run is still: its last workflow task completed, no activity pending.
  const before = await waitFor(
    async () => ({ events: await historyOf(waiting), pending: (await handle.describe()).raw.pendingActivities?.length ?? 0 }),
    (v) => v.pending === 0 && v.events.at(-1)?.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    { what: 'the waiting run to be still' },
  ).then((v) => v.events);
  // The run waits for a person: half a second of a quiet watch is a dozen more events queries.
  const next = watch.next();
  await new Promise((resolve) => setTimeout(resolve, 500));
  abort.abort();
  expect(await next).toEqual({ value: undefined, done: true });
  const after = await historyOf(waiting);
  expect(after.length).toBe(before.length);
  const kinds = after.map((e) => Object.keys(e).find((k) => k.endsWith('EventAttributes') && e[k as keyof typeof e] != null));
  expect(kinds).toContain('workflowExecutionStartedEventAttributes');
  expect(kinds.filter((k) => /Signal|Update/.test(k ?? ''))).toEqual([]);
  await h.client.cancel(waiting);
});

it('refuses an id without a run with RUN_NOT_FOUND', async () => {
  await expect(h.client.watch('no-such-run-anywhere').next()).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
});

it('with no worker, an ended run gives its run.ended alone, from its ended view, and ends', async () => {
  h.worker.shutdown();
  await new Promise<void>((resolve) => {
    const check = () => (h.worker.getState() === 'STOPPED' ? resolve() : setTimeout(check, 50));
    check();
  });
  const events: RunEvent[] = [];
  for await (const e of h.client.watch(runId)) events.push(e);
  expect(events).toEqual([{ seq: Number.MAX_SAFE_INTEGER, type: 'run.ended', at: expect.any(String), data: { status: 'completed' } }]);
}, 30_000);
