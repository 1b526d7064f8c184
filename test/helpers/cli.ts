/**
 * Runs the built `trellis` command (dist/cli/main.js) as a real process, the way users and scripts do.
 * `npm test` builds dist first (pretest); after editing src/, run `npm run build` before the e2e tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root: relative paths in arguments (examples/tools.ts) resolve from here. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

export interface CliResult {
  /** The exit code; null only when the process was killed by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Working directory; the repository root by default. */
  cwd?: string;
  /** Added to (or, with undefined values, removed from) the environment. */
  env?: Record<string, string | undefined>;
  /** Text written to stdin; stdin is closed either way. */
  input?: string;
  /** Kills the process (SIGKILL) after this long and rejects. Default 30 s. */
  timeoutMs?: number;
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  if (!existsSync(CLI)) {
    return Promise.reject(new Error(`${CLI} does not exist: run \`npm run build\` first (npm test does it)`));
  }
  const env: NodeJS.ProcessEnv = { ...process.env, TRELLIS_DEBUG: undefined, NO_COLOR: '1' };
  for (const [k, v] of Object.entries(options.env ?? {})) env[k] = v;
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];

  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timeoutMs = options.timeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`trellis ${args.join(' ')} did not finish within ${timeoutMs} ms; stderr so far:\n${Buffer.concat(stderr).toString('utf8')}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
    child.stdin.on('error', () => {}); // the command may exit without reading stdin
    child.stdin.end(options.input ?? '');
  });
}

/** The non-empty lines of some output. */
export function lines(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.trim() !== '');
}

/**
 * Starts a long-running `trellis` command (a worker, the mock LLM) and resolves with its first line of output ("worker
 * ready", the mock's URL); rejects, with its stderr, when it exits first. The child goes into `children` at once, so
 * the test's afterAll stops it, ready or not; its output keeps being read, so it never blocks on a full pipe.
 */
export function startDaemon(args: readonly string[], children: ChildProcess[], env: Record<string, string> = {}): Promise<string> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`trellis ${args.join(' ')} exited (${code}): ${stderr}`)));
  });
}
