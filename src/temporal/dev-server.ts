/**
 * Starts the real Temporal dev server (`temporal server start-dev`) with its state in a file on disk, and
 * hands back its address and a way to stop it. Used by `trellis dev` and by the test suite's global setup.
 * The server runs under a small watchdog process (watchdog.ts) that stops it when this process ends.
 */
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Connection } from '@temporalio/client';
import { locateTemporalCli, trellisHome, type CliSource, type LocateOptions } from './cli-locator.js';
import type { WatchdogConfig, WatchdogMessage } from './watchdog.js';
import { TrellisError } from '../errors.js';

/** The type of a custom search attribute the dev server creates as it starts. */
export type SearchAttributeType = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

/** How startDevServer starts the server; `cwd`, `env`, `skip` and `log` also say where it finds the CLI (LocateOptions). */
export interface DevServerOptions extends Pick<LocateOptions, 'cwd' | 'env' | 'skip' | 'log'> {
  /** gRPC port. Default 7233; 0 or 'auto' picks a free one. */
  port?: number | 'auto';
  /** Serve the web UI (on the gRPC port + 1000 when free, else on a free port). Default true. */
  ui?: boolean;
  /** Default 'default' (which the server always creates). */
  namespace?: string;
  /**
   * The SQLite file that keeps the server's state across restarts, relative to `cwd`. Default dev.db in trellisHome():
   * <project>/.trellis/dev.db, or under TRELLIS_HOME.
   */
  dbFile?: string;
  /**
   * Custom search attributes to create, by name: `{ TrellisStatus: 'Keyword' }`, say (a worker also registers
   * TrellisStatus when it starts). Default none.
   */
  searchAttributes?: Record<string, SearchAttributeType>;
  /**
   * The remote codec the web UI decodes payloads with (`--ui-codec-endpoint`): `trellis serve`'s `<url>/codec`, say.
   * The CLI has no flag for the UI's "include cross-origin credentials": a person ticks it in the UI's codec settings.
   */
  uiCodecEndpoint?: string;
  /** Bound on the wait for the server to answer. Default 60 s (the SDK source has its own bound, LocateOptions.sdkTimeoutMs). */
  readyTimeoutMs?: number;
}

/** A running dev server: where it is, and how to stop it. */
export interface DevServer {
  /** host:port of the frontend, for TEMPORAL_ADDRESS. */
  address: string;
  /** The namespace it serves. */
  namespace: string;
  /** The web UI (`http://127.0.0.1:8233`, say); absent with `ui: false`. */
  uiUrl?: string;
  /** The SQLite file of its state, as an absolute path. */
  dbFile: string;
  /** Where the CLI came from. */
  source: CliSource;
  /** The CLI binary, when the server is our own child process (not for the SDK source). */
  executable?: string;
  /** Stops the server and waits for it to exit. Safe to call more than once. */
  stop(): Promise<void>;
}

/** Why the dev server did not start (each member's comment says when). */
export type DevServerErrorCode =
  | 'DEV_SERVER_PORT_IN_USE' // something already answers on the port: never silently share it
  | 'DEV_SERVER_EXITED' // the process ended before it answered
  | 'DEV_SERVER_TIMEOUT'; // it did not answer in time

/** The dev server did not start: `code` says why, and the message what to do (the server's last lines, for an exit). */
export class DevServerError extends TrellisError {
  declare readonly code: DevServerErrorCode;
  constructor(code: DevServerErrorCode, message: string) {
    super(code, message);
  }
}

const HOST = '127.0.0.1';
const STOP_GRACE_MS = 10_000;

/**
 * Starts the Temporal dev server (`temporal server start-dev`) on 127.0.0.1, with its state in `dbFile`: it finds or
 * installs the CLI first (locateTemporalCli), and resolves once the server serves the namespace. A server it spawned
 * is stopped when this process ends, however it ends; `stop()` stops it sooner.
 *
 * @throws {DevServerError} DEV_SERVER_PORT_IN_USE, DEV_SERVER_EXITED or DEV_SERVER_TIMEOUT; {@link TemporalCliError}
 *   when no CLI can be found.
 * @example
 * ```ts
 * const server = await startDevServer({ port: 'auto', searchAttributes: { TrellisStatus: 'Keyword' } });
 * const trellis = await TrellisClient.connect({ address: server.address, namespace: server.namespace });
 * // ...
 * await server.stop();
 * ```
 */
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
  const codecArgs = ui && options.uiCodecEndpoint !== undefined ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : [];

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
      extraArgs: [...searchAttributeArgs, ...codecArgs],
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
    ...codecArgs,
  ];
  // The server must not outlive this process, however it ends: an 'exit' handler does not run on SIGKILL or a
  // native crash, but the pipe to the watchdog closes whenever this process ends.
  const server = spawnWatched(cli.path, args, cwd, env);
  const stop = onlyOnce(() => server.stop());

  const address = `${HOST}:${port}`;
  const exitedEarly = server.ended.then((how) => {
    const tail = server.stderrTail().trim().split('\n').slice(-10).join('\n');
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

/** The server as a child of its watchdog (see watchdog.ts), which stops it when this process ends, however it ends. */
interface WatchedServer {
  /** Settles once the server has ended (or could not be started, or the watchdog died), with how. */
  ended: Promise<string>;
  /** The end of the server's stderr, which explains an early exit. */
  stderrTail(): string;
  /** Closes the pipe: SIGTERM, then SIGKILL after the grace period; resolves once the server has ended. */
  stop(): Promise<void>;
}

function spawnWatched(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): WatchedServer {
  const config: WatchdogConfig = { command, args, cwd, parent: process.pid, graceMs: STOP_GRACE_MS };
  // Options meant for this Node process (an inspector port, a loader) are not the watchdog's; the server is Go.
  const { NODE_OPTIONS: _own, ...watchdogEnv } = env;
  const watchdog = spawn(process.execPath, [...watchdogCommand(), JSON.stringify(config)], {
    cwd,
    env: watchdogEnv,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // Nothing is ever written to stdin: its only use is to close when this process ends.
  watchdog.stdin.on('error', () => {});
  let serverPid: number | undefined;
  let how: string | undefined;
  let stderrTail = '';
  watchdog.stderr.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-4000);
  });
  let pending = '';
  watchdog.stdout.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      let message: WatchdogMessage;
      try {
        message = JSON.parse(line) as WatchdogMessage;
      } catch {
        continue;
      }
      if ('pid' in message) serverPid = message.pid;
      else if ('error' in message) how ??= message.error;
      else how ??= message.exit.signal ?? `code ${message.exit.code}`;
    }
  });
  // Settles once, whether the watchdog reports the server's end or could not be started at all (only 'error').
  const ended = new Promise<string>((resolve) => {
    watchdog.on('error', (err) => resolve(err.message));
    watchdog.once('close', (code, signal) => {
      const own = `the watchdog ended (${signal ?? `code ${code}`})`;
      if (how !== undefined || serverPid === undefined) return resolve(how ?? own);
      // The watchdog itself was killed while the server ran: do its work.
      void killAndWait(serverPid).then(() => resolve(`${own}; the server was killed`));
    });
  });
  const stop = async () => {
    watchdog.stdin.end();
    // Only if the watchdog hangs: killing it makes the 'close' handler kill the server.
    const timer = setTimeout(() => watchdog.kill('SIGKILL'), STOP_GRACE_MS + 5000);
    await ended;
    clearTimeout(timer);
  };
  return { ended, stderrTail: () => stderrTail, stop };
}

/**
 * `node <watchdog>`: compiled beside this module in dist/; from the TypeScript source (vitest, tsx), which
 * Node 20 cannot run by itself, through tsx's loader (a dependency).
 */
function watchdogCommand(): string[] {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  const script = path.join(path.dirname(here), `watchdog${ext}`);
  if (ext !== '.ts') return [script];
  return ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, script];
}

async function killAndWait(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return; // already gone
  }
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await delay(100);
  }
}

/** The UI's usual place is the gRPC port + 1000 (8233), so a bookmark keeps working; else any free port. */
async function uiPortFor(port: number): Promise<number> {
  const usual = port + 1000;
  return usual <= 65535 && !(await answers(usual)) ? usual : freePort();
}

/** A TCP port free on 127.0.0.1 now (the tests start servers of their own on it, too). */
export function freePort(): Promise<number> {
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
