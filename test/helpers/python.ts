/**
 * A project-local Python with what the tests need from PyPI: the official Temporal Python SDK (`temporalio`), for tests
 * in which a service written in another language drives Trellis runs through Temporal, and `moto[server]`, a real
 * S3-compatible server for the blob store's tests. On first use it creates a virtualenv in <repo>/.trellis/python
 * (git-ignored; nothing is installed globally) with `python3 -m venv` and `pip install` of PYTHON_PACKAGES; afterwards
 * it reuses it, once it has checked that the pinned versions are what is installed (else it installs again).
 *
 * Safe when several vitest workers call it at once on a fresh clone: one installs while holding a lock file
 * (the others wait for it, then find the venv ready), into a staging folder renamed into place when complete,
 * so an interrupted install never looks like a finished one. A missing Python, venv or pip is an error naming
 * the command that failed: a test that needs Python fails, it never skips.
 */
import { spawn } from 'node:child_process';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './cli.js';

/** The pinned packages (served by PyPI): the Temporal Python SDK (Python 3.9 to 3.13) and moto's S3 server. */
export const PYTHON_PACKAGES = { temporalio: '1.35.0', moto: '5.2.5' } as const;
const REQUIREMENTS = [`temporalio==${PYTHON_PACKAGES.temporalio}`, `moto[server]==${PYTHON_PACKAGES.moto}`];
const PINNED = JSON.stringify(PYTHON_PACKAGES);

/** Where the virtualenv lives. */
export const VENV_DIR = path.join(ROOT, '.trellis', 'python');
const LOCK_FILE = `${VENV_DIR}.lock`;
/** The Python that creates the venv: `python3` on PATH, or TRELLIS_PYTHON. */
const BASE_PYTHON = process.env.TRELLIS_PYTHON || 'python3';
const INSTALL_TIMEOUT_MS = 480_000;
/** A lock older than this is left from a crashed install (an install takes 15 s to 3 min here). */
const STALE_LOCK_MS = INSTALL_TIMEOUT_MS + 60_000;

const venvPython = (venv: string) => (process.platform === 'win32' ? path.join(venv, 'Scripts', 'python.exe') : path.join(venv, 'bin', 'python'));

let ensured: Promise<{ python: string }> | undefined;

/** The venv's Python, with the pinned packages, installed first if needed. Once per process. */
export function ensurePython(options: { log?: (line: string) => void } = {}): Promise<{ python: string }> {
  if (!ensured) {
    const attempt = ensure(options.log ?? ((line) => process.stderr.write(`${line}\n`)));
    ensured = attempt;
    attempt.catch(() => {
      if (ensured === attempt) ensured = undefined; // a later call tries again
    });
  }
  return ensured;
}

async function ensure(log: (line: string) => void): Promise<{ python: string }> {
  const python = venvPython(VENV_DIR);
  if ((await installedVersions(python)) === PINNED) return { python };
  await mkdir(path.dirname(VENV_DIR), { recursive: true });
  const release = await lock(log);
  try {
    // Another worker may have installed it while we waited for the lock.
    if ((await installedVersions(python)) === PINNED) return { python };
    await install(log);
    return { python };
  } finally {
    await release();
  }
}

/** The pinned packages' versions in that Python as PINNED's JSON, or undefined when there is no such Python or a package is missing. */
async function installedVersions(python: string): Promise<string | undefined> {
  try {
    await stat(python);
  } catch {
    return undefined;
  }
  const names = JSON.stringify(Object.keys(PYTHON_PACKAGES));
  const script = `import importlib.metadata as m, json; print(json.dumps({n: m.version(n) for n in ${names}}, separators=(",", ":")))`;
  const result = await run(python, ['-c', script], {}, 30_000).catch(() => undefined);
  return result?.code === 0 ? result.stdout.trim() : undefined;
}

async function install(log: (line: string) => void): Promise<void> {
  const started = Date.now();
  log(
    `Installing Python ${REQUIREMENTS.join(' ')} into ${path.relative(ROOT, VENV_DIR)} (a virtualenv; on first use, or when the pinned version changes) ...`,
  );
  const staging = `${VENV_DIR}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  try {
    await mustRun(
      BASE_PYTHON,
      ['-m', 'venv', staging],
      {},
      120_000,
      'Python 3 with the venv module is needed (Debian/Ubuntu: apt install python3-venv)',
    );
    await mustRun(
      venvPython(staging),
      ['-m', 'pip', 'install', '--quiet', ...REQUIREMENTS],
      // No prompts, no version nag; a user config asking for --user or a required virtualenv does not apply.
      { PIP_NO_INPUT: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_USER: '0', PIP_REQUIRE_VIRTUALENV: '0' },
      INSTALL_TIMEOUT_MS,
      `pip could not install ${REQUIREMENTS.join(' ')} from the package index`,
    );
    const versions = await installedVersions(venvPython(staging));
    if (versions !== PINNED) throw new Error(`pip install ${REQUIREMENTS.join(' ')} left ${versions ?? 'a package missing'}`);
    // A venv runs from another folder as long as its Python is started by path (its scripts' shebangs keep
    // the staging path, and are not used): rename the finished one into place, the old one (if any) away.
    const old = `${VENV_DIR}.old-${process.pid}`;
    await rename(VENV_DIR, old).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rename(staging, VENV_DIR);
    await rm(old, { recursive: true, force: true });
    log(`Installed ${REQUIREMENTS.join(' ')} in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** An exclusive lock file holding our pid; waits for another holder, and takes over a stale lock. */
async function lock(log: (line: string) => void): Promise<() => Promise<void>> {
  const deadline = Date.now() + STALE_LOCK_MS + 30_000;
  let told = false;
  for (;;) {
    try {
      const handle = await open(LOCK_FILE, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(LOCK_FILE, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await staleLock()) {
      await rm(LOCK_FILE, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${LOCK_FILE} is still held: remove it if no install is running`);
    if (!told) {
      log(`Waiting for another process to finish installing the Python packages into ${path.relative(ROOT, VENV_DIR)} ...`);
      told = true;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Whether the lock's holder is gone (its pid no longer runs) or the lock is older than any install. */
async function staleLock(): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(LOCK_FILE, 'utf8'), stat(LOCK_FILE)]);
    if (Date.now() - info.mtimeMs > STALE_LOCK_MS) return true;
    const pid = Number(text);
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - info.mtimeMs > 5_000; // being written, or garbage
    try {
      process.kill(pid, 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  } catch {
    return false; // released while we looked: the next open() tells
  }
}

export interface PythonResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a script (a path, relative to the repository root or absolute) with the venv's Python. `env` is added
 * to the environment (an undefined value removes a variable). Resolves with the exit code and output whatever
 * the code; rejects, with the stderr so far, when the script runs past the timeout (it is killed).
 */
export async function runPython(
  script: string,
  args: readonly string[] = [],
  env: Record<string, string | undefined> = {},
  options: { timeoutMs?: number; cwd?: string } = {},
): Promise<PythonResult> {
  const { python } = await ensurePython();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const result = await run(
    python,
    [path.resolve(ROOT, script), ...args],
    { PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', ...env },
    timeoutMs,
    options.cwd,
  );
  return result;
}

/** Runs a command; rejects when it cannot be started or runs past the timeout (then it is killed). */
function run(
  command: string,
  args: readonly string[],
  extraEnv: Record<string, string | undefined>,
  timeoutMs: number,
  cwd = ROOT,
): Promise<PythonResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(extraEnv)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`${[command, ...args].join(' ')} did not finish within ${timeoutMs / 1000} s (killed); stderr:\n${stderr}\nstdout:\n${stdout}`),
      );
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${command}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      // Killed by a signal (a crash): say which, where the exit code would be.
      resolve({ code, stdout, stderr: signal ? `${stderr}\n(ended by ${signal})` : stderr });
    });
  });
}

/** `run`, failing with the command, its exit code and the end of its output unless it exits with 0. */
async function mustRun(command: string, args: readonly string[], env: Record<string, string>, timeoutMs: number, hint: string): Promise<void> {
  const shown = [command, ...args].join(' ');
  let result: PythonResult;
  try {
    result = await run(command, args, env, timeoutMs);
  } catch (err) {
    throw new Error(`\`${shown}\` failed: ${(err as Error).message.split('\n')[0]}. ${hint}.`, { cause: err });
  }
  if (result.code !== 0) {
    const tail = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-8).join('\n');
    throw new Error(`\`${shown}\` exited with ${result.code}. ${hint}.${tail ? `\n${tail}` : ''}`);
  }
}
