/**
 * The watchdog between a Node process and the Temporal dev server it starts (see startDevServer): run as
 * `node watchdog.js <config JSON>`, it starts the server as its own child and stops it as soon as its stdin, a
 * pipe whose other end only the starting process holds, closes. The kernel closes that pipe however the
 * starting process ends (exit, crash, SIGKILL), so the server never outlives it, on Linux and macOS alike.
 *
 * Stopping is SIGTERM, then SIGKILL after the grace period; the watchdog exits once the server has.
 * SIGTERM, SIGINT and SIGHUP sent to the watchdog stop the server the same way (a terminal's Ctrl-C reaches
 * the whole process group). As a fallback for a pipe whose writing end leaked into another process, a
 * parent pid that changes (the starting process died and we were re-parented) stops the server too.
 *
 * To the starting process it speaks JSON lines on stdout: {"pid":N} once the server runs, {"error":"..."}
 * when it could not be started, {"exit":{"code":N|null,"signal":S|null}} when it ended. The server's stderr
 * is relayed on the watchdog's stderr; its stdout is discarded. Writes to a starting process that has gone
 * fail, and are ignored: the server must still be stopped.
 */
import { spawn } from 'node:child_process';
import process from 'node:process';

export interface WatchdogConfig {
  /** The server's executable and arguments. */
  command: string;
  args: string[];
  cwd: string;
  /** The pid of the process the server must not outlive. */
  parent: number;
  /** Between SIGTERM and SIGKILL. */
  graceMs: number;
}

export type WatchdogMessage = { pid: number } | { error: string } | { exit: { code: number | null; signal: NodeJS.Signals | null } };

/** How often the parent pid is checked (only the fallback: the pipe closing is what normally stops the server). */
const PARENT_POLL_MS = 1000;

function runWatchdog(config: WatchdogConfig): void {
  const ignore = () => {};
  process.stdout.on('error', ignore);
  process.stderr.on('error', ignore);
  const send = (message: WatchdogMessage) => {
    process.stdout.write(`${JSON.stringify(message)}\n`);
  };

  const server = spawn(config.command, config.args, { cwd: config.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let started = false;
  let stopping = false;
  let ended = false;
  const stop = () => {
    if (stopping || ended) return;
    stopping = true;
    server.kill('SIGTERM');
    setTimeout(() => server.kill('SIGKILL'), config.graceMs).unref();
  };
  const poll = setInterval(() => {
    if (process.ppid !== config.parent) stop();
  }, PARENT_POLL_MS);
  poll.unref();
  /** Lets pending writes drain, then ends: nothing else holds the event loop once the server has ended. */
  const finish = (message: WatchdogMessage, code: number) => {
    if (ended) return;
    ended = true;
    send(message);
    process.exitCode = code;
    clearInterval(poll);
    process.stdin.destroy();
  };

  server.once('spawn', () => {
    started = true;
    send({ pid: server.pid! });
  });
  // Before 'spawn', it could not be started ('close' follows with a made-up code); after, a failed kill of a
  // process that just ended, which 'close' reports.
  server.on('error', (err) => {
    if (!started) finish({ error: err.message }, 1);
  });
  server.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  server.once('close', (code, signal) => finish({ exit: { code, signal } }, 0));

  process.stdin.on('data', ignore); // nothing is ever written; reading is what notices the end
  process.stdin.once('end', stop);
  process.stdin.once('close', stop);
  process.stdin.on('error', stop);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stop);
  if (process.ppid !== config.parent) stop(); // it died before we got here
}

const config = process.argv[2];
if (config !== undefined) runWatchdog(JSON.parse(config) as WatchdogConfig);
