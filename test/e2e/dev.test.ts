/**
 * `trellis dev`: its own Temporal dev server with the state in a file, plus a worker. A run waiting for a
 * person survives stopping and starting `trellis dev` again, and completes after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TrellisClient } from '../../src/client/index.js';
import { parseMockScript } from '../../src/llm/mock-script.js';
import { startMockLlm, type MockLlmServer } from '../../src/llm/mock-server.js';
import { readFileSync } from 'node:fs';
import { CLI, ROOT } from '../helpers/cli.js';

let dir: string;
let mock: MockLlmServer;
let port: number;
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Starts `trellis dev` and resolves with everything it printed once it says how to stop it. */
function startDev(): Promise<{ child: ChildProcess; out: string }> {
  const child = spawn(process.execPath, [CLI, 'dev', '--tools', 'examples/tools.ts', '--port', String(port), '--db', path.join(dir, 'dev.db')], {
    cwd: ROOT,
    env: { ...process.env, OPENAI_BASE_URL: mock.baseUrl, TRELLIS_LOG_LEVEL: 'warn', TRELLIS_TASK_QUEUE: 'dev-test' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Stop with Ctrl-C')) resolve({ child, out });
    });
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => reject(new Error(`trellis dev exited (${code}): ${err}`)));
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  child.kill('SIGINT');
  return exited;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trellis-dev-'));
  mock = await startMockLlm({ rules: parseMockScript(JSON.parse(readFileSync('examples/mock-llm.json', 'utf8'))) });
  port = await freePort();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await mock?.close();
  await rm(dir, { recursive: true, force: true });
});

it('keeps runs on disk across a restart and prints the UI address', async () => {
  const first = await startDev();
  expect(first.out).toContain(`Temporal dev server: 127.0.0.1:${port}`);
  expect(first.out).toMatch(/Temporal UI: http:\/\/127\.0\.0\.1:\d+/);
  expect(existsSync(path.join(dir, 'dev.db'))).toBe(true);

  const config = { address: `127.0.0.1:${port}`, namespace: 'default', taskQueue: 'dev-test' };
  let client = await TrellisClient.connect(config);
  const runId = await client.start(JSON.parse(readFileSync('examples/refund.json', 'utf8')), { input: { orderId: 'A-1002' } });
  for (let i = 0; (await client.status(runId)).status !== 'waiting'; i++) {
    if (i > 100) throw new Error('the run never waited');
    await new Promise((r) => setTimeout(r, 100));
  }
  expect((await client.list({ status: 'waiting' })).map((r) => r.runId)).toContain(runId);
  await client.close();
  expect(await stop(first.child)).toBe(0);

  await startDev();
  client = await TrellisClient.connect(config);
  try {
    const view = await client.status(runId);
    expect(view.status).toBe('waiting');
    expect(view.pending.map((p) => p.step)).toEqual(['ok']);
    await client.approve(runId, 'ok', { by: 'after-restart' });
    expect((await client.result(runId)).output).toEqual({ refunded: true, reason: 'The customer reports that the item arrived broken.' });
  } finally {
    await client.close();
  }
}, 120_000);
