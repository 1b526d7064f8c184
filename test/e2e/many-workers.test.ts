/**
 * Past one machine, on this machine: three `trellis worker` processes on one task queue of the shared dev server,
 * 300 runs that each wait for a person before their side effect (a booking), every one approved through the client,
 * and one worker killed with SIGKILL when about a third of the runs have booked. All complete, each run books once,
 * and the two survivors finish the killed worker's runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TrellisClient, TrellisClientError } from '../../src/client/index.js';
import type { RunResult } from '../../src/engine/messages.js';
import { CLI, ROOT } from '../helpers/cli.js';
import { temporalAddress, temporalNamespace } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';

const RUNS = 300;
/** How long each attempt holds its booking open: long enough for a kill to cut some attempts short. */
const CONFIRM_MS = 300;
const taskQueue = `many-${randomUUID()}`;
const suffix = randomUUID().slice(0, 8);
const ids = Array.from({ length: RUNS }, (_, i) => `book-${i}-${suffix}`);

interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  exited: Promise<unknown>;
}

let dir: string;
let client: TrellisClient;
const workers: WorkerProcess[] = [];
const files = () => ({ bookings: path.join(dir, 'bookings.txt'), attempts: path.join(dir, 'attempts.txt') });

/**
 * A `trellis worker` of the built CLI on the test's task queue, in `workers` at once (afterAll stops it, ready or
 * not); resolves once it has logged "worker ready". Each bundles the workflows first: seconds of CPU.
 */
function startWorker(): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', '--tools', 'test/fixtures/many-workers-tools.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_NAMESPACE: temporalNamespace(),
      TRELLIS_TASK_QUEUE: taskQueue,
      TRELLIS_LOG_LEVEL: 'info',
      MANY_BOOKINGS_FILE: files().bookings,
      MANY_ATTEMPTS_FILE: files().attempts,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  const worker = { child, pid: child.pid!, exited };
  workers.push(worker);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`trellis worker was not ready within 120 s; stderr:\n${stderr}`)), 120_000);
    const out = createInterface({ input: child.stdout! });
    out.on('line', (line) => {
      if (!line.includes('"msg":"worker ready"')) return;
      clearTimeout(timer);
      out.removeAllListeners('line');
      child.stdout!.resume(); // keep draining its logs, so it never blocks on a full pipe
      resolve(worker);
    });
    void exited.then((code) => reject(new Error(`trellis worker exited (${String(code)}) before it was ready; stderr:\n${stderr}`)));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trellis-many-'));
  client = await TrellisClient.connect({ address: temporalAddress(), namespace: temporalNamespace(), taskQueue });
  await Promise.all([startWorker(), startWorker(), startWorker()]);
}, 150_000);

afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  // A worker still bundling may not stop on SIGTERM at once.
  const stragglers = setTimeout(() => workers.forEach((w) => w.child.kill('SIGKILL')), 10_000);
  await Promise.all(workers.map((w) => w.exited));
  clearTimeout(stragglers);
  await client?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The non-empty lines of a ledger file, split into fields; none before the file exists. */
async function ledger(file: string): Promise<string[][]> {
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(' '));
}

/** A key names its place first (`RUNID/STEP#hash`, docs/tools.md), so its run is what comes before the first `/`. */
const runOf = (key: string) => key.slice(0, key.indexOf('/'));

/** Attempts that started and have not (yet) returned, as `KEY PID ATTEMPT`. */
function unfinished(attempts: string[][]): Set<string> {
  const open = new Set<string>();
  for (const [key, pid, phase, attempt] of attempts) {
    const id = `${key} ${pid} ${attempt}`;
    if (phase === 'start') open.add(id);
    else open.delete(id);
  }
  return open;
}

/** Runs fn over items, at most `limit` at a time. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** Rejects after ms with a message that says what did not happen. */
function within<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what()}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** gRPC's DEADLINE_EXCEEDED: an answer no worker took in time. */
const GRPC_DEADLINE_EXCEEDED = 4;

/**
 * Approves every run once its gate waits, found through list (the memo): no run is asked before it waits. Resolves with
 * how many answers timed out and were sent again.
 */
async function approveAll(timeoutMs: number): Promise<number> {
  const left = new Set(ids);
  let resent = 0;
  const deadline = Date.now() + timeoutMs;
  while (left.size > 0) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms approving: ${left.size} runs never waited, e.g. ${[...left].slice(0, 3).join(', ')}`);
    const waiting = (await client.list({ status: 'waiting', limit: 5000 })).filter((r) => left.has(r.runId));
    // Many at a time: an answer to a run the killed worker held waits for its sticky queue to time out (10 s).
    await pool(waiting, 50, async ({ runId }) => {
      try {
        await client.approve(runId, 'book', { by: 'alice' });
      } catch (e) {
        // The answer to a run the killed worker held waits for another worker to take the run over, and may time out
        // first: it is sent again. The gate may have taken the first one by then, and refuses the second as decided.
        if ((e as { code?: unknown }).code === GRPC_DEADLINE_EXCEEDED) {
          resent++;
          return;
        }
        if (!(e instanceof TrellisClientError && e.refusal === 'already_decided')) throw e;
      }
      left.delete(runId);
    });
    if (waiting.length === 0) await new Promise((r) => setTimeout(r, 200));
  }
  return resent;
}

/** The identities of the workers that completed a workflow task or started an activity, in order, from the history. */
async function identities(runId: string): Promise<string[]> {
  const { history } = await client.temporal.workflowService.getWorkflowExecutionHistory({
    namespace: temporalNamespace(),
    execution: { workflowId: runId },
  });
  const out: string[] = [];
  for (const e of history?.events ?? []) {
    const identity = e.workflowTaskCompletedEventAttributes?.identity ?? e.activityTaskStartedEventAttributes?.identity;
    if (identity) out.push(identity);
  }
  return out;
}

it('completes 300 approved runs on three workers, one killed midway: each books once, and the survivors finish its runs', async () => {
  const started = Date.now();
  const spec = {
    version: 1,
    name: 'book',
    input: { type: 'object', properties: { room: { type: 'string' } }, required: ['room'] },
    steps: [
      {
        id: 'book',
        kind: 'tool',
        tool: 'book_room',
        args: { room: '${input.room}', confirmMs: CONFIRM_MS },
        // Short, so a killed worker's attempt is retried soon; attempts to spare, since a loaded machine (the whole
        // suite on two cores) can make a live attempt take that long too.
        timeout: '5s',
        retry: { initialInterval: '100ms', maxAttempts: 20 },
      },
    ],
    output: '${steps.book.bookingId}',
  };
  await pool(ids, 20, (id) => client.start(spec, { id, input: { room: `room-${id}` } }));
  const allStarted = Date.now();

  // Kill a worker that is holding bookings open, once about a third of the runs have booked.
  const kill = (async () => {
    const { bookings, attempts } = files();
    const open = await waitFor(
      async () => ({ booked: (await ledger(bookings)).length, open: [...unfinished(await ledger(attempts))] }),
      (p) => p.booked >= RUNS / 3 && p.open.length > 0,
      { timeoutMs: 180_000, intervalMs: 50, what: `${RUNS / 3} bookings with an attempt in flight` },
    );
    const victim = workers.find((w) => open.open.some((a) => a.split(' ')[1] === String(w.pid)))!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    return { victim, bookedAtKill: open.booked, killedAt: Date.now() };
  })();
  const [approved, { victim, bookedAtKill, killedAt }] = await Promise.all([approveAll(240_000).then((n) => ({ at: Date.now(), resent: n })), kill]);

  const results = await within(
    pool(ids, 50, (id) => client.result(id) as Promise<RunResult>),
    120_000,
    () => `all ${RUNS} runs to complete once approved`,
  );
  const elapsed = Date.now() - started;

  const bookings = await ledger(files().bookings);
  const attempts = await ledger(files().attempts);
  const bookingOf = new Map(bookings.map(([key, pid]) => [runOf(key!), { key: key!, pid: pid! }]));

  // The side effect, deduped by the idempotency key as the ledger does: once per run, under one key.
  const perRun = new Map<string, number>();
  for (const [key] of bookings) perRun.set(runOf(key!), (perRun.get(runOf(key!)) ?? 0) + 1);
  expect([...perRun.keys()].sort()).toEqual([...ids].sort());
  expect([...perRun.values()].filter((n) => n !== 1)).toEqual([]);
  results.forEach((r, i) => expect(r.output).toBe(`bk-${bookingOf.get(ids[i]!)!.key}`));

  // The raw attempts: those the kill cut short were tried again, with the same key, by a survivor.
  const starts = attempts.filter((a) => a[2] === 'start');
  const cut = [...unfinished(attempts)].map((a) => a.split(' '));
  expect(cut.length).toBeGreaterThan(0);
  for (const [key, pid] of cut) {
    expect(pid).toBe(String(victim.pid));
    expect(attempts.some((a) => a[0] === key && a[1] !== pid && a[2] === 'done')).toBe(true);
  }
  expect(new Set(starts.map((a) => runOf(a[0]!))).size).toBe(RUNS);
  expect(new Set(starts.map((a) => a[0])).size).toBe(RUNS); // one key per run, retries included
  const triedAgain = new Set(starts.filter((a) => a[3] !== '1').map((a) => runOf(a[0]!)));
  expect(triedAgain.size).toBeGreaterThan(0); // so without the dedupe by key, these runs would have booked twice

  // The spread, from each run's history: who did its work, who completed it.
  const pids = workers.map((w) => String(w.pid));
  const pidOf = (identity: string) => identity.slice(0, identity.indexOf('@'));
  const histories = await pool(ids, 10, identities);
  const completedBy = new Map(pids.map((p) => [p, 0]));
  let victimRunsFinishedElsewhere = 0;
  histories.forEach((seen) => {
    const last = pidOf(seen.at(-1)!);
    completedBy.set(last, (completedBy.get(last) ?? 0) + 1);
    if (seen.some((s) => pidOf(s) === String(victim.pid)) && last !== String(victim.pid)) victimRunsFinishedElsewhere++;
  });
  const bookedBy = new Map(pids.map((p) => [p, bookings.filter((b) => b[1] === p).length]));
  for (const [key] of cut) expect(pidOf(histories[ids.indexOf(runOf(key!))]!.at(-1)!)).not.toBe(String(victim.pid));
  for (const p of pids) {
    expect(bookedBy.get(p), `bookings by worker ${p}`).toBeGreaterThan(0);
    expect(
      histories.some((seen) => seen.some((s) => pidOf(s) === p)),
      `worker ${p} in some run's history`,
    ).toBe(true);
  }
  expect(victimRunsFinishedElsewhere).toBeGreaterThan(0);
  expect([...completedBy.keys()].every((p) => pids.includes(p))).toBe(true);

  const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const who = (p: string) => (p === String(victim.pid) ? `${p} (killed)` : p);
  console.log(
    [
      `${RUNS} runs on 3 workers in ${secs(elapsed)}: all started at ${secs(allStarted - started)}, worker ${victim.pid} killed at ${secs(killedAt - started)} (${bookedAtKill} booked), all approved at ${secs(approved.at - started)} (${approved.resent} answers timed out and sent again)`,
      `raw attempts: ${starts.length}, ${triedAgain.size} runs tried more than once (${cut.length} attempts cut short by the kill, each retried by a survivor); bookings after the dedupe by key: ${bookings.length}`,
      `booked by: ${pids.map((p) => `${who(p)} ${bookedBy.get(p)}`).join(', ')}`,
      `completed by: ${pids.map((p) => `${who(p)} ${completedBy.get(p)}`).join(', ')}`,
      `runs the killed worker had worked on, finished by the survivors: ${victimRunsFinishedElsewhere}`,
    ].join('\n'),
  );
}, 480_000);
