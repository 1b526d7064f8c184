/**
 * A worker process killed with SIGKILL in the middle of a step, and a new one started: the run completes
 * and the side effect happened once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TrellisClient } from '../../src/client/index.js';
import { temporalAddress, temporalNamespace } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';

let dir: string;
let client: TrellisClient;
const taskQueue = `crash-${randomUUID()}`;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trellis-crash-'));
  client = await TrellisClient.connect({ address: temporalAddress(), namespace: temporalNamespace(), taskQueue });
});
afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  await client?.close();
  await rm(dir, { recursive: true, force: true });
});

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, ['dist/cli/main.js', 'worker', '--tools', 'test/fixtures/crash-tools.ts'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_NAMESPACE: temporalNamespace(),
      TRELLIS_TASK_QUEUE: taskQueue,
      TRELLIS_LOG_LEVEL: 'warn',
      CRASH_EFFECTS_FILE: path.join(dir, 'effects.txt'),
      CRASH_ATTEMPTS_FILE: path.join(dir, 'attempts.txt'),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  workers.push(child);
  return child;
}

it('completes the run after the worker is killed mid-step, with the side effect made once', async () => {
  const first = startWorker();
  const { runId } = await client.start({
    version: 1,
    name: 'charge',
    steps: [
      {
        id: 'charge',
        kind: 'tool',
        tool: 'charge_card',
        args: { amount: 42, confirmMs: 60_000 },
        timeout: '3s',
        retry: { initialInterval: '100ms' },
      },
    ],
    output: '${steps.charge.chargeId}',
  });
  const attempts = path.join(dir, 'attempts.txt');
  await waitFor(
    () => existsSync(attempts),
    (started) => started,
    { timeoutMs: 60_000, what: `the first attempt (${attempts})` },
  );
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));

  startWorker();
  const result = await client.result(runId);
  expect(result.output).toMatch(/^ch-charge-/);
  expect(result.steps.charge).toMatchObject({ status: 'completed', attempts: 2 });

  const effects = (await readFile(path.join(dir, 'effects.txt'), 'utf8')).trim().split('\n');
  expect(effects).toHaveLength(1);
  const tries = (await readFile(attempts, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => l.split(' '));
  expect(tries.map((t) => t[1])).toEqual(['1', '2']);
  expect(new Set(tries.map((t) => t[0])).size).toBe(1); // one idempotency key
  expect(tries[0]![2]).not.toBe(tries[1]![2]); // two worker processes
}, 90_000);
