/**
 * `trellis watch` and `trellis graph --run` as users run them: real `trellis mock-llm` and `trellis worker`
 * processes, the shared Temporal dev server, and the commands as their own processes. The live view runs in a real
 * terminal (tmux): it shows the step that waits, redraws in place as a person answers from another process, and exits
 * as `trellis run --wait` would. Piped, it prints one line per event; --json, one JSON event per line.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, lines, ROOT, runCli, startDaemon } from '../helpers/cli.js';
import { temporalAddress, temporalNamespace } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const taskQueue = `e2e-watch-${randomUUID()}`;
const children: ChildProcess[] = [];
let env: Record<string, string>;
let dir: string;

const trellis = (args: string[]) => runCli(args, { env, timeoutMs: 60_000 });

/** Starts the refund example for an order; A-1002 waits for a person at the step "ok". */
async function startRefund(orderId: string): Promise<string> {
  const r = await trellis(['run', 'examples/refund.json', '--input', JSON.stringify({ orderId }), '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { runId: string }).runId;
}

async function waitingAt(runId: string, step: string): Promise<void> {
  await waitFor(
    async () => JSON.parse((await trellis(['status', runId, '--json'])).stdout) as { pending: Array<{ step: string }> },
    (v) => v.pending.some((p) => p.step === step),
    { timeoutMs: 30_000, intervalMs: 250, what: `${runId} to wait at ${step}` },
  );
}

/** tmux on a socket of its own (in the test's folder, removed with it), so the test's server is the only one it talks to. */
const tmux = (...args: string[]) => run('tmux', ['-S', path.join(dir, 'tmux.sock'), ...args], { env: { ...process.env, ...env } });
const pane = async () => (await tmux('capture-pane', '-p', '-t', 'watch')).stdout;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trellis-e2e-watch-'));
  const llm = await startDaemon(['mock-llm', '--script', 'examples/mock-llm.json'], children);
  env = { TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_NAMESPACE: temporalNamespace(), TRELLIS_TASK_QUEUE: taskQueue, OPENAI_BASE_URL: llm };
  await startDaemon(['worker', '--tools', 'examples/tools.ts'], children, { ...env, TRELLIS_LOG_LEVEL: 'info' }); // its first line: "worker ready"
}, 60_000);

afterAll(async () => {
  await tmux('kill-server').catch(() => {});
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  await rm(dir, { recursive: true, force: true });
});

describe('trellis watch', () => {
  it('in a terminal: a step table redrawn in place, the step that waits, the answer from another process, the end', async () => {
    const runId = await startRefund('A-1002');
    const code = path.join(dir, 'exit-code');
    // The pane stays after the command ends (sleep), so the last drawing and the exit code can be read.
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} watch ${runId}; echo $? > ${code}; echo "exit=$(cat ${code})"; sleep 120`;
    await tmux('new-session', '-d', '-s', 'watch', '-x', '140', '-y', '30', '-c', ROOT, command);

    const waiting = await waitFor(pane, (text) => text.includes('waiting for a person: ok'), {
      timeoutMs: 30_000,
      what: 'the pane to show the wait',
    });
    expect(waiting).toContain(`${runId} (refund-damaged-order): waiting`);
    expect(waiting).toMatch(/^STEP +KIND +STATUS +ATTEMPTS +TOKENS +COST$/m);
    expect(waiting).toMatch(/^order +tool +completed +1 /m);
    expect(waiting).toMatch(/^assess +llm +completed +1 +\d+ /m);
    expect(waiting).toMatch(/^ok +approval +waiting /m);
    expect(waiting).toMatch(/^refund +tool +pending /m);
    expect(waiting).toContain(`waiting for a person: ok: Refund 80 on order A-1002?  (trellis approve ${runId} ok --by NAME)`);
    expect(waiting).toMatch(/^tokens [1-9]\d*, cost \S+/m);

    const approved = await trellis(['approve', runId, 'ok', '--by', 'alice']);
    expect(approved.code, approved.stderr).toBe(0);

    const ended = await waitFor(pane, (text) => text.includes('exit='), { timeoutMs: 30_000, what: 'the watch to end' });
    expect(ended).toContain(`${runId} (refund-damaged-order): completed`);
    expect(ended).toMatch(/^ok +approval +completed /m);
    expect(ended).toMatch(/^refund +tool +completed +1 /m);
    expect(ended).not.toContain('waiting for a person');
    // Redrawn in place: one table on the screen, not one per event.
    expect(ended.match(/^STEP /gm)).toHaveLength(1);
    expect(ended).toContain('exit=0');
    expect((await readFile(code, 'utf8')).trim()).toBe('0');
  });

  it('piped: one line per event, in order, until the run ends; --json: one event per line; exit 1 for a run that did not complete', async () => {
    const runId = await startRefund('A-1002');
    await waitingAt(runId, 'ok');
    const child = spawn(process.execPath, [CLI, 'watch', runId], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    // The answer comes once the watch has printed the wait: what follows, it prints as it happens.
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (c: Buffer) => {
        stdout += c.toString();
        if (stdout.includes(' step.waiting ok')) resolve();
      });
      void exited.then((code) => reject(new Error(`trellis watch exited (${code}) before the wait: ${stderr}`)));
    });
    expect(stdout).not.toContain('step.decided');
    const approved = await trellis(['approve', runId, 'ok', '--by', 'alice']);
    expect(approved.code, approved.stderr).toBe(0);
    const r = { code: await exited, stdout, stderr };
    expect(r.code, r.stderr).toBe(0);
    const shown = lines(r.stdout).map((l) => l.replace(/^\S+ /, '').replace(/ \(\d+ tokens.*\)$/, ''));
    expect(shown).toEqual([
      'step.started order: tool',
      'step.completed order: completed',
      'step.started assess: llm',
      'step.completed assess: completed',
      'step.started ok: approval',
      'step.waiting ok: Refund 80 on order A-1002? (approval)',
      'step.decided ok: approved by alice',
      'step.completed ok: completed',
      'step.started refund: tool',
      'step.completed refund: completed',
      'run.ended: completed',
    ]);
    expect(lines(r.stdout)[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z step\.started order: tool$/);

    const json = await trellis(['watch', runId, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const events = lines(json.stdout).map((l) => JSON.parse(l) as { seq: number; type: string });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)).toMatchObject({ type: 'run.ended', data: { status: 'completed' } });

    const cancelled = await startRefund('A-1002');
    await waitingAt(cancelled, 'ok');
    const cancel = await trellis(['cancel', cancelled]);
    expect(cancel.code, cancel.stderr).toBe(0);
    const watched = await trellis(['watch', cancelled]);
    expect(watched.code).toBe(1);
    expect(lines(watched.stdout).at(-1)).toMatch(/ run\.ended: cancelled/);
  });

  it('an id without a run is bad usage (exit 2)', async () => {
    const r = await trellis(['watch', 'no-such-run-anywhere']);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toBe('trellis: no run "no-such-run-anywhere"\n');
  });
});

describe('trellis graph --run', () => {
  it("draws the run's spec with each step's status: a mark in its label and a class that colours it", async () => {
    const runId = await startRefund('A-1002');
    await waitingAt(runId, 'ok');
    const r = await trellis(['graph', '--run', runId]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^flowchart TD\n/);
    expect(r.stdout).toMatch(/^ {2}ok\{\{"ok<br\/>approval: Refund .*<br\/>when steps\.assess\.damaged<br\/>⏸ waiting"\}\}$/m);
    expect(r.stdout).toContain('  order["order<br/>tool lookup_order<br/>✓ completed"]');
    expect(r.stdout).toContain('refund["refund<br/>tool refund_order<br/>when steps.ok.approved<br/>○ pending"]');
    expect(r.stdout).toMatch(/^ {2}classDef waiting .*;$/m);
    expect(r.stdout).toContain('  class order,assess completed;');
    expect(r.stdout).toContain('  class ok waiting;');
    expect(r.stdout).toContain('  class refund pending;');
    await trellis(['cancel', runId]);

    const both = await trellis(['graph', 'examples/refund.json', '--run', runId]);
    expect(both).toMatchObject({ code: 2, stderr: 'trellis: give a spec FILE or --run RUN (one of them)\n' });
    const none = await trellis(['graph', '--run', 'no-such-run-anywhere']);
    expect(none).toMatchObject({ code: 2, stderr: 'trellis: no run "no-such-run-anywhere"\n' });
  });
});
