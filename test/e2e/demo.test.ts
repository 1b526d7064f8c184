/**
 * `npm run demo -- --interactive` as a person uses it: it starts trellis serve and prints the inbox, a token and a
 * signed link; the link approves the refund's approval, the inbox then shows the refund's policy gate, and Ctrl-C
 * stops everything cleanly (exit 0, no stack trace). Its dev server keeps its state in a folder of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDevServer } from '../../src/temporal/index.js';
import { ROOT } from '../helpers/cli.js';
import { plaintextIn, rawHistory } from '../helpers/temporal-cli.js';
import { waitFor } from '../helpers/wait.js';

const PROJECT_CLI = path.join(ROOT, '.trellis', 'temporal-cli', 'bin', 'temporal');
const homes: string[] = [];
afterAll(async () => {
  for (const home of homes) await rm(home, { recursive: true, force: true });
});

/** A demo process in a TRELLIS_HOME of its own, and what it printed so far. */
async function demo(
  args: string[],
): Promise<{ child: ChildProcess; home: string; out: () => string; err: () => string; exited: Promise<number | null> }> {
  const home = await mkdtemp(path.join(tmpdir(), 'trellis-demo-'));
  homes.push(home);
  const env: NodeJS.ProcessEnv = { ...process.env, TRELLIS_HOME: home, ...(existsSync(PROJECT_CLI) && { TEMPORAL_CLI: PROJECT_CLI }) };
  // The demo's own key, made in its home: not one of the shell's.
  delete env.TRELLIS_ENCRYPTION_KEYS;
  delete env.TRELLIS_ENCRYPTION_KEY_FILE;
  const child = spawn(process.execPath, ['scripts/demo.mjs', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, home, out: () => out, err: () => err, exited };
}

describe('npm run demo -- --interactive', () => {
  it('prints an inbox, a token and a signed link that work, and stops on Ctrl-C with exit 0', async () => {
    const { child, out: printed, err: errors, exited } = await demo(['--interactive']);
    try {
      const out = await waitFor(printed, (text) => text.includes('Stop the demo with Ctrl-C') || child.exitCode !== null, {
        timeoutMs: 120_000,
        what: 'the demo to wait for a person',
      });
      expect(child.exitCode, errors()).toBeNull();
      const inbox = /the inbox is (http:\/\/\S+\/inbox)/.exec(out)![1]!;
      const token = /^ {2}(eyJ\S+)$/m.exec(out)![1]!;
      const link = /^ {2}(http:\/\/\S+\/a\/\S+)$/m.exec(out)![1]!;
      const base = inbox.replace(/\/inbox$/, '');
      const auth = { authorization: `Bearer ${token}` };

      const listed = await fetch(inbox, { headers: auth });
      expect(listed.status).toBe(200);
      expect(await listed.text()).toContain('Refund 296 on order A-1004?');

      expect((await fetch(link)).status).toBe(200);
      const body = new URLSearchParams({ token: link.split('/a/')[1]!, approved: 'true', comment: 'from the demo test' });
      const answered = await fetch(link, { method: 'POST', body });
      expect(answered.status).toBe(200);
      expect(await answered.text()).toContain('Approved');

      // The refund tool's policy asks next (296 > 100): the API lists it, with the amount.
      const waiting = await waitFor(
        async () =>
          (await (await fetch(`${base}/v1/runs?status=waiting&approver=me`, { headers: auth })).json()) as {
            runs: Array<{ pending: Array<{ step: string; args?: unknown }> }>;
          },
        (b) => b.runs.some((r) => r.pending.some((p) => p.step === 'refund')),
        { what: 'the refund gate' },
      );
      expect(waiting.runs[0]!.pending[0]!.args).toEqual({ orderId: 'A-1004', amount: 296 });
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited, errors()).toBe(0);
    expect(errors()).not.toMatch(/Error|at .*\.m?js:\d+/);
  });
});

describe('npm run demo -- --encrypt', () => {
  it("passes, says its payloads are encrypted, and its run's history holds no plaintext", async () => {
    const { child, home, out, err, exited } = await demo(['--encrypt']);
    const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 90_000))]);
    if (code === 'timeout') child.kill('SIGKILL');
    expect(code, `${out()}\n${err()}`).toBe(0);
    const keyFile = path.join(home, 'encryption.keys');
    expect(out()).toContain(`Payloads are encrypted with the key "dev" (in ${keyFile})`);
    expect(out()).toContain('Completed. Output:');
    const runId = /^Started (\S+):/m.exec(out())![1]!;

    // The demo stopped its server: the same db, served again, shows the history as Temporal keeps it.
    const server = await startDevServer({ port: 'auto', ui: false, dbFile: path.join(home, 'dev.db') });
    try {
      const history = await rawHistory(runId, server);
      expect(history).toContain('YmluYXJ5L2VuY3J5cHRlZA=='); // binary/encrypted
      expect(plaintextIn(history, ['A-1004', 'shattered', 'photos confirm the damage', 'demo-approver'])).toEqual([]);
    } finally {
      await server.stop();
    }
  }, 150_000);
});
