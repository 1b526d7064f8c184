/**
 * The Temporal CLI as a raw client of the test server: what a person or a service without Trellis's client uses
 * (`temporal workflow start | update execute | signal | terminate | show`).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { locateTemporalCli } from '../../src/temporal/index.js';
import { ROOT } from './cli.js';
import { temporalAddress, temporalNamespace } from './temporal.js';

let cli: Promise<string> | undefined;

async function binary(): Promise<string> {
  cli ??= locateTemporalCli({ cwd: ROOT, skip: ['sdk'] }).then((found) => {
    if (found.kind !== 'executable') throw new Error('the Temporal CLI is needed as a binary');
    return found.path;
  });
  return cli;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Where the CLI connects: the test server unless a test runs a server of its own. */
export interface Server {
  address: string;
  namespace: string;
}

const testServer = (): Server => ({ address: temporalAddress(), namespace: temporalNamespace() });

/** Runs `temporal ARGS --address ... --namespace ...` against the test server (or `server`). */
export async function temporal(args: readonly string[], timeoutMs = 30_000, server: Server = testServer()): Promise<CliRun> {
  const cli = await binary();
  const full = [...args, '--address', server.address, '--namespace', server.namespace];
  return new Promise((resolve, reject) => {
    const child = spawn(cli, full, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`temporal ${args.join(' ')} did not finish within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Starts a workflow of `type` with one JSON argument, as any client may: nothing is checked before it starts. The
 * argument goes through a file (--input-file): a command line holds at most 128 KiB per argument.
 */
export async function startRaw(type: string, id: string, taskQueue: string, arg: unknown, server: Server = testServer()): Promise<CliRun> {
  const dir = await mkdtemp(path.join(tmpdir(), 'trellis-raw-'));
  const file = path.join(dir, 'input.json');
  try {
    await writeFile(file, JSON.stringify(arg));
    const r = await temporal(
      ['workflow', 'start', '--type', type, '--workflow-id', id, '--task-queue', taskQueue, '--input-file', file],
      30_000,
      server,
    );
    if (r.code !== 0) throw new Error(`temporal workflow start failed (${r.code}): ${r.stderr}`);
    return r;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The run's history as JSON (`temporal workflow show -o json`): its events, with their attributes. */
export async function historyEvents(id: string, server: Server = testServer()): Promise<Array<Record<string, unknown> & { eventType: string }>> {
  const r = await temporal(['workflow', 'show', '--workflow-id', id, '--output', 'json'], 30_000, server);
  if (r.code !== 0) throw new Error(`temporal workflow show failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { events: Array<Record<string, unknown> & { eventType: string }> }).events;
}

/** The raw history as `temporal workflow show -o json` prints it (payloads as Temporal stores them). */
export async function rawHistory(id: string, server: Server = testServer()): Promise<string> {
  const r = await temporal(['workflow', 'show', '--workflow-id', id, '-o', 'json'], 30_000, server);
  if (r.code !== 0) throw new Error(`temporal workflow show failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** Which of `secrets` a raw history holds, as text or inside any of its base64 strings (payload data, metadata). */
export function plaintextIn(history: string, secrets: readonly string[]): string[] {
  const decoded = (history.match(/"[A-Za-z0-9+/]{8,}={0,2}"/g) ?? []).map((q) => Buffer.from(q.slice(1, -1), 'base64').toString('latin1'));
  const texts = [history, ...decoded];
  return secrets.filter((secret) => texts.some((t) => t.includes(secret)));
}
