/**
 * `trellis dev`: its own Temporal dev server with the state in a file, plus a worker. A run waiting for a
 * person survives stopping and starting `trellis dev` again, and completes after.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseEncryptionKeys, TrellisClient } from '../../src/client/index.js';
import { parseMockScript } from '../../src/llm/mock-script.js';
import { startMockLlm, type MockLlmServer } from '../../src/llm/mock-server.js';
import { freePort } from '../../src/temporal/dev-server.js';
import { CLI, ROOT } from '../helpers/cli.js';
import { plaintextIn, rawHistory } from '../helpers/temporal-cli.js';
import { waitFor } from '../helpers/wait.js';

let dir: string;
let mock: MockLlmServer;
let port: number;
const children: ChildProcess[] = [];
/** Temporal servers the tests found, killed at the end if still running (a failing test must not leak one). */
const serverPids: number[] = [];

/** Starts `trellis dev` and resolves with everything it printed once it says how to stop it. */
function startDev(
  on: { port: number; db: string } = { port, db: path.join(dir, 'dev.db') },
  extra: { args?: string[]; env?: Record<string, string> } = {},
): Promise<{ child: ChildProcess; out: string }> {
  const args = [CLI, 'dev', '--tools', 'examples/tools.ts', '--port', String(on.port), '--db', on.db, ...(extra.args ?? [])];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, OPENAI_BASE_URL: mock.baseUrl, TRELLIS_LOG_LEVEL: 'warn', TRELLIS_TASK_QUEUE: 'dev-test', ...extra.env },
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
  for (const pid of serverPids) if (running(pid)) process.kill(pid, 'SIGKILL');
  await mock?.close();
  await rm(dir, { recursive: true, force: true });
});

it('keeps runs on disk across a restart and prints the UI address', async () => {
  const first = await startDev();
  expect(first.out).toContain(`Temporal dev server: 127.0.0.1:${port}`);
  expect(first.out).toMatch(/Temporal UI: http:\/\/127\.0\.0\.1:\d+/);
  expect(first.out).not.toContain('trellis serve'); // only with --encrypt
  expect(existsSync(path.join(dir, 'dev.db'))).toBe(true);

  const config = { address: `127.0.0.1:${port}`, namespace: 'default', taskQueue: 'dev-test' };
  let client = await TrellisClient.connect(config);
  const { runId } = await client.start(JSON.parse(readFileSync('examples/refund.json', 'utf8')), { input: { orderId: 'A-1002' } });
  await waitFor(
    () => client.status(runId),
    (view) => view.status === 'waiting',
    { timeoutMs: 15_000, what: 'the run to wait for a person' },
  );
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

it('--encrypt makes a key once, encrypts every payload, a client with the key file reads the run, and serve decodes it for the UI', async () => {
  const home = path.join(dir, 'home');
  const cli = path.join(ROOT, '.trellis', 'temporal-cli', 'bin', 'temporal');
  const on = { port: await freePort(), db: path.join(dir, 'encrypted.db') };
  const servePort = await freePort();
  const encrypted = {
    args: ['--encrypt', '--serve-port', String(servePort)],
    env: { TRELLIS_HOME: home, ...(existsSync(cli) && { TEMPORAL_CLI: cli }) },
  };
  const dev = await startDev(on, encrypted);
  const keyFile = path.join(home, 'encryption.keys');
  expect(dev.out).toContain(`Payloads are encrypted with the key "dev" (in ${keyFile})`);
  expect(dev.out).toContain(`TRELLIS_ENCRYPTION_KEY_FILE=${keyFile} trellis run`);
  expect(statSync(keyFile).mode & 0o777).toBe(0o600);

  // trellis serve beside it, on the UI's host (the session cookie is SameSite=Lax: same site, ports differ).
  const serve = `http://127.0.0.1:${servePort}`;
  expect(dev.out).toContain(`trellis serve: ${serve} (the inbox, and the codec the UI decodes payloads with: ${serve}/codec)`);
  const ui = /^Temporal UI: (http:\/\/127\.0\.0\.1:\d+)$/m.exec(dev.out)?.[1];
  expect(ui, dev.out).toBeDefined();
  const settings = (await (await fetch(`${ui}/api/v1/settings`)).json()) as { Codec: { Endpoint: string } };
  expect(settings.Codec.Endpoint).toBe(`${serve}/codec`);
  const token = /^ {2}(eyJ\S+)$/m.exec(dev.out)?.[1];
  expect(token, dev.out).toBeDefined();
  expect(dev.out).toContain(`Inbox: ${serve}/inbox: sign in with this token`);
  expect(statSync(path.join(home, 'dev-jwt.secret')).mode & 0o777).toBe(0o600);
  const inbox = await fetch(`${serve}/inbox`, { headers: { authorization: `Bearer ${token}` } });
  expect(inbox.status).toBe(200);
  const config = { address: `127.0.0.1:${on.port}`, namespace: 'default', taskQueue: 'dev-test' };
  const client = await TrellisClient.connect(config, { encryption: parseEncryptionKeys(readFileSync(keyFile, 'utf8'), keyFile) });
  try {
    const { runId } = await client.start(JSON.parse(readFileSync('examples/refund.json', 'utf8')), { input: { orderId: 'A-1002' } });
    await waitFor(
      () => client.status(runId),
      (view) => view.status === 'waiting',
      { timeoutMs: 15_000, what: 'the encrypted run to wait for a person' },
    );
    const history = await rawHistory(runId, config);
    expect(plaintextIn(history, ['A-1002', 'Refund 80'])).toEqual([]);
    // The run's input, as the UI sends it to the codec: decoded for the token, refused without one; CORS for the UI only.
    const input = (JSON.parse(history) as { events: Array<{ workflowExecutionStartedEventAttributes?: { input: { payloads: unknown[] } } }> })
      .events[0]!.workflowExecutionStartedEventAttributes!.input;
    const decode = (headers: Record<string, string>) =>
      fetch(`${serve}/codec/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ui!, ...headers },
        body: JSON.stringify(input),
      });
    const decoded = await decode({ authorization: `Bearer ${token}` });
    expect(decoded.status).toBe(200);
    expect(decoded.headers.get('access-control-allow-origin')).toBe(ui);
    const [payload] = ((await decoded.json()) as { payloads: Array<{ data: string }> }).payloads;
    expect(Buffer.from(payload!.data, 'base64').toString('utf8')).toContain('A-1002');
    expect((await decode({})).status).toBe(401);
    await client.cancel(runId);
  } finally {
    await client.close();
  }
  expect(await stop(dev.child)).toBe(0);
  // Again: the same key, not a new one.
  const before = readFileSync(keyFile, 'utf8');
  const secret = readFileSync(path.join(home, 'dev-jwt.secret'), 'utf8');
  const again = await startDev(on, encrypted);
  expect(readFileSync(keyFile, 'utf8')).toBe(before);
  expect(readFileSync(path.join(home, 'dev-jwt.secret'), 'utf8')).toBe(secret);
  // The token printed before still signs in: the secret is kept.
  expect((await fetch(`${serve}/inbox`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  expect(await stop(again.child)).toBe(0);
  // Ctrl-C stopped serve too.
  expect(await accepts(servePort)).toBe(false);
}, 120_000);

/** The pids of running `temporal server start-dev` processes on this port (from /proc on Linux, else ps). */
function temporalServerPids(onPort: number): number[] {
  const isServer = (args: string[]) => args.includes('start-dev') && args.some((a, i) => a === String(onPort) && args[i - 1] === '--port');
  if (existsSync('/proc/self/cmdline')) {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .filter((name) => {
        try {
          return isServer(readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0'));
        } catch {
          return false; // it ended while we looked
        }
      })
      .map(Number)
      .filter(running);
  }
  const ps = spawnSync('ps', ['-axo', 'pid=,command='], { encoding: 'utf8' });
  return ps.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((words) => words.length > 1 && isServer(words.slice(1)))
    .map((words) => Number(words[0]))
    .filter(running);
}

/** Whether a process runs (a zombie waiting for its parent to reap it does not). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return existsSync('/proc/self') ? false : true;
  }
}

/** Whether anything accepts a TCP connection on 127.0.0.1:port. */
function accepts(onPort: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: onPort });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

it('does not leave its Temporal server running when it is killed (SIGKILL)', async () => {
  const on = { port: await freePort(), db: path.join(dir, 'killed.db') };
  const first = await startDev(on);
  expect(first.out).toContain(`Temporal dev server: 127.0.0.1:${on.port}`);
  const servers = temporalServerPids(on.port);
  serverPids.push(...servers);
  expect(servers).toHaveLength(1);
  const [server] = servers as [number];

  const killed = new Promise((r) => first.child.once('exit', r));
  first.child.kill('SIGKILL');
  await killed;

  // Within a bound: the server is gone and the port is free.
  await expect
    .poll(async () => !running(server) && !(await accepts(on.port)), {
      timeout: 15_000,
      interval: 100,
      message: `temporal server ${server} still running (or port ${on.port} still answers) 15 s after trellis dev was killed`,
    })
    .toBe(true);
  expect(temporalServerPids(on.port)).toEqual([]);

  // And the same command on the same port and db starts again.
  const second = await startDev(on);
  expect(second.out).toContain(`Temporal dev server: 127.0.0.1:${on.port}`);
  serverPids.push(...temporalServerPids(on.port));
  expect(await stop(second.child)).toBe(0);
  expect(temporalServerPids(on.port)).toEqual([]);
}, 120_000);
