/**
 * A real Trellis stack for the benchmarks that need Temporal: a dev server of their own (the real
 * `temporal server start-dev`, state in a temporary SQLite file, no UI), connections, worker processes,
 * and the small tools they share (bounded concurrency, a process's resident memory).
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { pino } from 'pino';
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrellisClient } from '../../dist/client/index.js';
import { startDevServer } from '../../dist/temporal/index.js';
import { createTrellisWorker } from '../../dist/worker.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Starts a dev server of its own. `stop()` stops it and removes its state. */
export async function startServer() {
  const dir = await mkdtemp(path.join(tmpdir(), 'trellis-bench-'));
  const dbFile = path.join(dir, 'temporal.db');
  const server = await startDevServer({ port: 'auto', ui: false, dbFile, searchAttributes: { TrellisStatus: 'Keyword' }, cwd: ROOT });
  return {
    address: server.address,
    namespace: server.namespace,
    dbFile,
    source: server.source,
    /** The server's process id, when it is our child (found by its db file on its command line). */
    pid: () => findPid(dbFile),
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs fn over items with at most `limit` in flight; results in item order. */
export async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** Resident memory of a process, in MiB: { rss, peak } from /proc/PID/status (VmRSS, VmHWM). */
export async function memoryOf(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** CPU time a process has used so far (user + system), in seconds, from /proc/PID/stat. */
export async function cpuOf(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which is in parentheses and may hold spaces): utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100; // USER_HZ on Linux

async function findPid(needle) {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(needle)) return Number(entry);
  }
  return undefined;
}

/**
 * `trellis worker --tools MODULE` in a process of its own (the built CLI), so that its memory is measured
 * alone. Resolves once it has logged "worker ready"; `stop()` sends SIGTERM (SIGKILL after 10 s) and waits.
 */
export async function spawnWorker({ address, taskQueue, tools, env = {} }) {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'worker', '--tools', tools], {
    cwd: ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: address, TRELLIS_TASK_QUEUE: taskQueue, TRELLIS_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`)));
  let tail = '';
  const keep = (chunk) => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stderr.on('data', keep);
  const ready = new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      keep(chunk);
      buffered += chunk.toString();
      if (buffered.includes('"msg":"worker ready"')) resolve();
      buffered = buffered.slice(-200);
    });
    exited.then((how) => reject(new Error(`trellis worker ended (${how}) before it was ready:\n${tail}`)));
    setTimeout(() => reject(new Error(`trellis worker not ready within 60 s:\n${tail}`)), 60_000).unref();
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await ready;
  } catch (e) {
    await stop();
    throw e;
  }
  return { pid: child.pid, stop, exited, log: () => tail };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The Temporal SDK's runtime logger, once per process: warnings and errors, except the retries of notifications a
 * benchmark provokes on purpose (a receiver that fails some requests).
 */
export function installBenchRuntime() {
  if (Runtime._instance !== undefined) return;
  const notify = (entry) => entry.meta?.activityType === 'notify';
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => {
      if (notify(entry)) return;
      console.error(`${entry.level} ${entry.message}`, entry.meta ?? '');
    }),
  });
}

/**
 * An in-process Trellis worker for `tools` on `server`, its model endpoint `mock`, and a client on its task queue:
 * `fn(client)` runs with them, and they stop after it, whatever it threw. The server and the mock stay the caller's.
 */
export async function withTrellisWorker({ server, mock, tools, model, name, prices }, fn) {
  let worker;
  let running;
  let client;
  let connection;
  try {
    installBenchRuntime();
    connection = await NativeConnection.connect({ address: server.address });
    const taskQueue = `bench-${name}-${randomUUID()}`;
    ({ worker } = await createTrellisWorker({
      tools,
      temporal: { address: server.address, namespace: server.namespace, taskQueue },
      connection,
      llm: { baseURL: mock.baseUrl, apiKey: 'x', model },
      logger: pino({ level: 'warn' }),
      ...(prices && { prices }),
    }));
    running = worker.run();
    client = await TrellisClient.connect({ address: server.address, namespace: server.namespace, taskQueue });
    return await fn(client);
  } finally {
    if (worker) {
      worker.shutdown();
      await running?.catch(() => {});
    }
    await client?.close();
    await connection?.close();
  }
}
