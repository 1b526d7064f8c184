/**
 * Worker Versioning on the dev server: a run pinned to the build it started on finishes there, while new runs go
 * to the current build. Build "a" is today's interpreter in a real `trellis worker --set-current` process; build "b"
 * (test/fixtures/interpreter-b.ts) adds a timer before each run, which would break a run of "a" by nondeterminism
 * if that run were replayed on "b". The histories say which build completed each workflow task.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { temporal } from '@temporalio/proto';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, DefaultLogger, Worker, type NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrellisClient } from '../../src/client/index.js';
import type { Spec } from '../../src/spec/schema.js';
import { DeploymentError, makeVersionCurrent } from '../../src/temporal/deployment.js';
import { createTrellisWorker } from '../../src/worker.js';
import tools from '../fixtures/run-tools.js';
import { CLI, ROOT, runCli } from '../helpers/cli.js';
import { testLogger } from '../helpers/logs.js';
import { connectWorker, temporalAddress, temporalNamespace } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';

const { EventType, VersioningBehavior } = temporal.api.enums.v1;
const taskQueue = `versioning-${randomUUID()}`;
const deploymentName = `trellis-test-${randomUUID().slice(0, 8)}`;
const spec: Spec = {
  version: 1,
  name: 'versioned',
  steps: [
    { id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: 'V1' } },
    { id: 'ok', kind: 'approval', title: 'Go on?' },
    { id: 'done', kind: 'tool', tool: 'lookup_order', args: { orderId: '${steps.order.orderId}' }, when: 'steps.ok.approved' },
    // A child run started after the answer, when the other build is current.
    { id: 'sub', kind: 'call', spec: 'child', after: ['done'] },
  ],
};

let specsDir: string;
let client: TrellisClient;
let connection: NativeConnection;
let workerA: ChildProcess;
let workerAOutput = '';
let workerB: { worker: Worker; done: Promise<void> } | undefined;

beforeAll(async () => {
  specsDir = await mkdtemp(path.join(tmpdir(), 'trellis-versioning-'));
  const child = { version: 1, name: 'child', steps: [{ id: 'look', kind: 'tool', tool: 'lookup_order', args: { orderId: 'C1' } }] };
  await writeFile(path.join(specsDir, 'child.json'), JSON.stringify(child));
  client = await TrellisClient.connect({ address: temporalAddress(), namespace: temporalNamespace(), taskQueue }, { encryption: null });
  connection = await connectWorker();
});
afterAll(async () => {
  if (workerA?.exitCode === null) workerA.kill('SIGKILL');
  if (workerB?.worker.getState() === 'RUNNING') workerB.worker.shutdown();
  await workerB?.done.catch(() => {});
  await connection?.close();
  await client?.close();
  await rm(specsDir, { recursive: true, force: true });
});

/** The deployment's current build, as the server routes new runs. */
async function currentBuild(): Promise<string | undefined> {
  try {
    const { workerDeploymentInfo } = await client.temporal.workflowService.describeWorkerDeployment({
      namespace: temporalNamespace(),
      deploymentName,
    });
    return workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId ?? undefined;
  } catch {
    return undefined; // no worker of the deployment has polled yet
  }
}

async function waitingRun(id: string): Promise<string> {
  const { runId } = await client.start(spec, { id });
  await waitFor(
    () => client.status(runId),
    (view) => view.pending.some((p) => p.step === 'ok'),
    { what: `${runId} to wait for a person` },
  );
  return runId;
}

/** Each workflow task's build and versioning behavior, and the summaries of the run's timers. */
async function tasksOf(runId: string) {
  const history = await client.temporal.workflow.getHandle(runId).fetchHistory();
  const { events } = history;
  const tasks = (events ?? [])
    .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    .map((e) => {
      const a = e.workflowTaskCompletedEventAttributes!;
      return { deployment: a.deploymentVersion?.deploymentName, build: a.deploymentVersion?.buildId, behavior: a.versioningBehavior };
    });
  const timers = (events ?? [])
    .filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)
    .map((e) => (e.userMetadata?.summary?.data ? JSON.parse(Buffer.from(e.userMetadata.summary.data).toString('utf8')) : undefined));
  const child = events?.find((e) => e.childWorkflowExecutionStartedEventAttributes)?.childWorkflowExecutionStartedEventAttributes?.workflowExecution
    ?.workflowId;
  return { history, tasks, timers, child: child ?? undefined };
}

describe('worker versioning', () => {
  it('finishes a waiting run on the build it started on, and sends a new run to the current build', async () => {
    workerA = spawn(process.execPath, [CLI, 'worker', '--tools', 'test/fixtures/run-tools.ts', '--specs', specsDir, '--set-current'], {
      cwd: ROOT,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: temporalAddress(),
        TEMPORAL_NAMESPACE: temporalNamespace(),
        TRELLIS_TASK_QUEUE: taskQueue,
        TRELLIS_DEPLOYMENT_NAME: deploymentName,
        TRELLIS_BUILD_ID: 'a',
        TRELLIS_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    workerA.stdout!.on('data', (chunk: Buffer) => (workerAOutput += chunk.toString('utf8')));
    workerA.stderr!.on('data', (chunk: Buffer) => (workerAOutput += chunk.toString('utf8')));
    // --set-current returns once the server routes new runs to "a"; the log line says so.
    await waitFor(
      () => workerAOutput,
      (out) => out.includes('version current') || workerA.exitCode !== null,
      { timeoutMs: 60_000, what: 'worker a to be current' },
    );
    expect(workerA.exitCode, workerAOutput).toBeNull();
    expect(await currentBuild()).toBe('a');

    const first = await waitingRun(`versioning-first-${randomUUID()}`);

    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('../fixtures/interpreter-b.ts', import.meta.url)),
      logger: new DefaultLogger('WARN'),
    });
    const { worker } = await createTrellisWorker({
      tools,
      temporal: { address: temporalAddress(), namespace: temporalNamespace(), taskQueue },
      connection,
      workflowBundle,
      logger: testLogger('warn'),
      encryption: null,
      specsDir,
      deployment: { deploymentName, buildId: 'b' },
    });
    workerB = { worker, done: worker.run() };
    await makeVersionCurrent(connection.workflowService, temporalNamespace(), { deploymentName, buildId: 'b' });
    expect(await currentBuild()).toBe('b');

    const second = await waitingRun(`versioning-second-${randomUUID()}`);
    await client.approve(first, 'ok', { by: 'alice' });
    await client.approve(second, 'ok', { by: 'bob' });
    const done = { steps: { done: { status: 'completed' } } };
    expect(await client.result(first)).toMatchObject(done);
    expect(await client.result(second)).toMatchObject(done);

    const pinned = { deployment: deploymentName, behavior: VersioningBehavior.VERSIONING_BEHAVIOR_PINNED };
    const one = await tasksOf(first);
    const two = await tasksOf(second);
    expect(one.tasks.length).toBeGreaterThan(2); // the start, the step, the wait, the answer, the end
    expect(one.tasks).toEqual(one.tasks.map(() => ({ ...pinned, build: 'a' })));
    expect(two.tasks).toEqual(two.tasks.map(() => ({ ...pinned, build: 'b' })));
    expect(two.tasks.length).toBeGreaterThan(2);
    // Build b's change shows in the run it served, and not in the run that stayed on a.
    expect(two.timers).toEqual(['build b']);
    expect(one.timers).toEqual([]);
    // A child run starts on its parent's build, even when another build is current.
    const oneChild = await tasksOf(one.child!);
    const twoChild = await tasksOf(two.child!);
    expect(oneChild.tasks.length).toBeGreaterThan(0);
    expect(oneChild.tasks).toEqual(oneChild.tasks.map(() => ({ ...pinned, build: 'a' })));
    expect(oneChild.timers).toEqual([]);
    expect(twoChild.tasks).toEqual(twoChild.tasks.map(() => ({ ...pinned, build: 'b' })));
    expect(twoChild.timers).toEqual(['build b']);
    // Which is why the first run had to stay on a: replayed on b, it fails.
    await expect(Worker.runReplayHistory({ workflowBundle }, one.history, first)).rejects.toThrow(DeterminismViolationError);
    expect(workerA.exitCode, workerAOutput).toBeNull();
  }, 120_000);

  it('says so when no worker of a version polls', async () => {
    const started = makeVersionCurrent(
      connection.workflowService,
      temporalNamespace(),
      { deploymentName, buildId: 'never-started' },
      { timeoutMs: 1000 },
    );
    await expect(started).rejects.toThrow(DeploymentError);
    await expect(started).rejects.toThrow(`the version never-started of the Worker Deployment ${deploymentName} is not current after 1 s`);
  });

  it('refuses --set-current for an unversioned worker, and a build id with a space', async () => {
    const env = {
      TEMPORAL_ADDRESS: temporalAddress(),
      TRELLIS_TASK_QUEUE: taskQueue,
      TRELLIS_DEPLOYMENT_NAME: undefined,
      TRELLIS_BUILD_ID: undefined,
    };
    const unversioned = await runCli(['worker', '--set-current'], { env });
    expect(unversioned.code).toBe(2);
    expect(unversioned.stderr).toContain('TRELLIS_DEPLOYMENT_NAME');
    const spaced = await runCli(['worker', '--set-current'], { env: { ...env, TRELLIS_DEPLOYMENT_NAME: deploymentName, TRELLIS_BUILD_ID: 'a b' } });
    expect(spaced.code).toBe(2);
    expect(spaced.stderr).toContain('TRELLIS_BUILD_ID must hold no spaces');
  });
});
