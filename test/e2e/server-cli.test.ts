/**
 * `trellis serve` as a process: its base URL is the first line it prints, it serves, and it stops cleanly on
 * SIGTERM; settings it cannot use stop it before it listens, with exit 2 and no secret in the message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { CLI, ROOT, runCli } from '../helpers/cli.js';
import { temporalAddress, temporalNamespace } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';

const KEY = 'cli-key-0123456789abcdef';
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

const env = (extra: Record<string, string> = {}) => ({
  ...process.env,
  TEMPORAL_ADDRESS: temporalAddress(),
  TEMPORAL_NAMESPACE: temporalNamespace(),
  TRELLIS_API_KEYS: `ci:${KEY}`,
  TRELLIS_PUBLIC_URL: '',
  ...extra,
});

/** Starts `trellis serve --port 0` and resolves with the child and its first line of output. */
function serve(extra: Record<string, string> = {}): Promise<{ child: ChildProcess; first: string; out: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { cwd: ROOT, env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const newline = out.indexOf('\n');
      if (newline >= 0) resolve({ child, first: out.slice(0, newline), out: () => out });
    });
    child.on('exit', (code) => reject(new Error(`trellis serve exited (${code}) before printing its URL: ${err}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

it('prints its base URL first, serves the API there, and stops on SIGTERM with exit 0', async () => {
  const { child, first, out } = await serve();
  expect(first).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(await (await fetch(`${first}/healthz`)).json()).toEqual({ status: 'ok' });
  expect((await fetch(`${first}/v1/runs?limit=1`)).status).toBe(401);
  const listed = await fetch(`${first}/v1/runs?limit=1`, { headers: { authorization: `Bearer ${KEY}` } });
  expect(listed.status).toBe(200);
  const code = exited(child);
  child.kill('SIGTERM');
  expect(await code).toBe(0);
  // Then the logs: pino lines, one of them saying it serves.
  expect(
    out()
      .split('\n')
      .slice(1)
      .some((line) => line.includes('"msg":"serving')),
  ).toBe(true);
});

it('prints TRELLIS_PUBLIC_URL instead, when set, and links with it', async () => {
  const { child, first, out } = await serve({ TRELLIS_PUBLIC_URL: 'https://trellis.example.com/' });
  expect(first).toBe('https://trellis.example.com');
  const log = await waitFor(out, (text) => /"listening":"[^"]+"/.test(text), { what: 'the serving log line' });
  const listening = /"listening":"([^"]+)"/.exec(log)![1]!;
  const doc = (await (await fetch(`${listening}/openapi.json`)).json()) as { servers: { url: string }[] };
  expect(doc.servers).toEqual([{ url: 'https://trellis.example.com' }]);
  child.kill('SIGTERM');
  expect(await exited(child)).toBe(0);
});

it('refuses settings it cannot use before it listens: exit 2, naming the entry, never its secret', async () => {
  const bad = await runCli(['serve', '--port', '0'], { env: { TRELLIS_API_KEYS: `ok:${KEY},broken:tiny-s3cr3t` } });
  expect(bad.code).toBe(2);
  expect(bad.stdout).toBe('');
  expect(bad.stderr).toMatch(/TRELLIS_API_KEYS entry 2 \("broken"\): the secret must be at least 16 characters/);
  expect(bad.stderr).not.toMatch(/s3cr3t/);
  const both = await runCli(['serve'], { env: { TRELLIS_JWT_SECRET: 'x'.repeat(40), TRELLIS_JWKS_URL: 'https://idp.example.com/jwks' } });
  expect(both.code).toBe(2);
  expect(both.stderr).toMatch(/TRELLIS_JWKS_URL or TRELLIS_JWT_SECRET, not both/);
  expect((await runCli(['serve', '--port', 'x'])).code).toBe(2);
  // The URLs are checked as the worker checks them, before anything listens.
  const ui = await runCli(['serve', '--port', '0'], { env: { TRELLIS_API_KEYS: `ok:${KEY}`, TRELLIS_TEMPORAL_UI_URL: 'localhost:8233' } });
  expect(ui.code).toBe(2);
  expect(ui.stderr).toMatch(/TRELLIS_TEMPORAL_UI_URL: "localhost:8233" must be an http or https URL/);
});
