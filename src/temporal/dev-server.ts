/**
 * Starts the real Temporal dev server (`temporal server start-dev`) with its state in a file on disk, and
 * hands back its address and a way to stop it. Used by `trellis dev` and by the test suite's global setup.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { locateTemporalCli, trellisHome, type CliSource, type LocateOptions } from './cli-locator.js';

export type SearchAttributeType = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

export interface DevServerOptions extends Pick<LocateOptions, 'cwd' | 'env' | 'skip' | 'log'> {
  /** gRPC port. Default 7233; 0 or 'auto' picks a free one. */
  port?: number | 'auto';
  /** Serve the web UI (on the gRPC port + 1000 when free, else on a free port). Default true. */
  ui?: boolean;
  /** Default 'default' (which the server always creates). */
  namespace?: string;
  /** The SQLite file that keeps the server's state across restarts. Default <project>/.trellis/dev.db. */
  dbFile?: string;
  searchAttributes?: Record<string, SearchAttributeType>;
  /** Bound on the wait for the server to answer. Default 60 s. */
  readyTimeoutMs?: number;
}

export interface DevServer {
  /** host:port of the frontend, for TEMPORAL_ADDRESS. */
  address: string;
  namespace: string;
  uiUrl?: string;
  dbFile: string;
  /** Where the CLI came from. */
  source: CliSource;
  /** The CLI binary, when the server is our own child process (not for the SDK source). */
  executable?: string;
  /** Stops the server and waits for it to exit. Safe to call more than once. */
  stop(): Promise<void>;
}

export type DevServerErrorCode =
  | 'DEV_SERVER_PORT_IN_USE' // something already answers on the port: never silently share it
  | 'DEV_SERVER_EXITED' // the process ended before it answered
  | 'DEV_SERVER_TIMEOUT'; // it did not answer in time

export class DevServerError extends Error {
  override readonly name = 'DevServerError';
  constructor(
    readonly code: DevServerErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const HOST = '127.0.0.1';
const STOP_GRACE_MS = 10_000;

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const namespace = options.namespace ?? 'default';
  const dbFile = path.resolve(cwd, options.dbFile ?? path.join(trellisHome(cwd, env), 'dev.db'));
  await mkdir(path.dirname(dbFile), { recursive: true });

  const requested = options.port ?? 7233;
  const port = requested === 'auto' || requested === 0 ? await freePort() : requested;
  if (await answers(port)) {
    throw new DevServerError(
      'DEV_SERVER_PORT_IN_USE',
      `${HOST}:${port} is already in use (another Temporal server?). Stop it, choose another port, ` +
        `or set TEMPORAL_ADDRESS=${HOST}:${port} to use that server.`,
    );
  }
  const ui = options.ui ?? true;
  const uiPort = ui ? await uiPortFor(port) : undefined;
  const searchAttributeArgs = Object.entries(options.searchAttributes ?? {}).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]);

  const cli = await locateTemporalCli({
    cwd,
    env,
    skip: options.skip,
    log: options.log,
    sdkServer: {
      dbFilename: dbFile,
      ip: HOST,
      port,
      ui,
      ...(uiPort !== undefined && { uiPort }),
      namespace,
      log: { format: 'pretty', level: 'warn' },
      extraArgs: searchAttributeArgs,
    },
  });
  const uiUrl = uiPort !== undefined ? `http://${HOST}:${uiPort}` : undefined;

  if (cli.kind === 'server') {
    const sdkEnv = cli.env;
    const stop = onlyOnce(() => sdkEnv.teardown());
    return { address: sdkEnv.address, namespace, uiUrl, dbFile, source: cli.source, stop };
  }

  const args = [
    'server',
    'start-dev',
    '--db-filename',
    dbFile,
    '--ip',
    HOST,
    '--port',
    String(port),
    ...(uiPort !== undefined ? ['--ui-port', String(uiPort)] : ['--headless']),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
    ...searchAttributeArgs,
  ];
  const child = spawn(cli.path, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  // Settles once, whether the process exits or could not be started at all (then only 'error' fires).
  const ended = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`));
    child.on('error', (err) => resolve(err.message));
  });
  // The pipes must be drained or a chatty server blocks; the tail explains an early exit.
  let stderrTail = '';
  child.stdout.resume();
  child.stderr.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-4000);
  });
  // If this process exits without stop(), do not leave an orphan holding the port and the db file.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = onlyOnce(async () => {
    process.off('exit', killOnExit);
    await terminate(child, ended);
  });

  const address = `${HOST}:${port}`;
  const exitedEarly = ended.then((how) => {
    const tail = stderrTail.trim().split('\n').slice(-10).join('\n');
    throw new DevServerError('DEV_SERVER_EXITED', `temporal server start-dev ended (${how}) before it answered${tail ? `:\n${tail}` : ''}`);
  });
  try {
    await waitUntilReady(exitedEarly, address, namespace, options.readyTimeoutMs ?? 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, namespace, uiUrl, dbFile, source: cli.source, executable: cli.path, stop };
}

/**
 * Polls until the frontend serves the namespace: describeNamespace rather than a bare connect, because
 * workers and clients need the namespace, and it proves the server is past its own startup.
 */
async function waitUntilReady(exitedEarly: Promise<never>, address: string, namespace: string, timeoutMs: number): Promise<void> {
  exitedEarly.catch(() => {}); // raced below; this only keeps an exit after readiness from going unhandled
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      await Promise.race([exitedEarly, probe(address, namespace)]);
      return;
    } catch (err) {
      if (err instanceof DevServerError) throw err;
      lastError = err instanceof Error ? err.message : String(err);
    }
    await Promise.race([exitedEarly, delay(200)]);
  }
  throw new DevServerError(
    'DEV_SERVER_TIMEOUT',
    `temporal server start-dev did not answer on ${address} within ${timeoutMs / 1000} s` + (lastError ? ` (last error: ${lastError})` : ''),
  );
}

async function probe(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    // A deadline, so a server that accepts connections but hangs cannot stall the loop past its bound.
    await connection.withDeadline(Date.now() + 2000, () => connection.workflowService.describeNamespace({ namespace }));
  } finally {
    await connection.close();
  }
}

/** SIGTERM, then SIGKILL if it is still running after the grace period. */
async function terminate(child: ChildProcess, ended: Promise<string>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await ended;
  clearTimeout(timer);
}

/** The UI's usual place is the gRPC port + 1000 (8233), so a bookmark keeps working; else any free port. */
async function uiPortFor(port: number): Promise<number> {
  const usual = port + 1000;
  return usual <= 65535 && !(await answers(usual)) ? usual : freePort();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on HOST:port. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function onlyOnce(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
