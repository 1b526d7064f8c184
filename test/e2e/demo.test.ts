/**
 * `npm run demo -- --interactive` as a person uses it: it starts trellis serve and prints the inbox, a token and a
 * signed link; the link approves the refund's approval, the inbox then shows the refund's policy gate, and Ctrl-C
 * stops everything cleanly (exit 0, no stack trace). Its dev server keeps its state in a folder of its own.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const PROJECT_CLI = path.join(ROOT, '.trellis', 'temporal-cli', 'bin', 'temporal');
let home: string | undefined;
afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

describe('npm run demo -- --interactive', () => {
  it('prints an inbox, a token and a signed link that work, and stops on Ctrl-C with exit 0', async () => {
    home = await mkdtemp(path.join(tmpdir(), 'trellis-demo-'));
    const env = { ...process.env, TRELLIS_HOME: home, ...(existsSync(PROJECT_CLI) && { TEMPORAL_CLI: PROJECT_CLI }) };
    const child = spawn(process.execPath, ['scripts/demo.mjs', '--interactive'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(
        () => out,
        (text) => text.includes('Stop the demo with Ctrl-C') || child.exitCode !== null,
        { timeoutMs: 120_000, what: 'the demo to wait for a person' },
      );
      expect(child.exitCode, err).toBeNull();
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
    expect(await exited, err).toBe(0);
    expect(err).not.toMatch(/Error|at .*\.m?js:\d+/);
  });
});
