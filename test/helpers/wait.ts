/** Polling for something that happens in another process or on the server: a run's status, a file, a port. */

export interface WaitOptions {
  /** How long to keep trying before failing. Default 20 s. */
  timeoutMs?: number;
  /** The pause between tries. Default 100 ms. */
  intervalMs?: number;
  /** What is awaited, for the timeout's message ("the run to wait for a person"). */
  what?: string;
}

/** How much of the last value a timeout's message shows. */
const SHOWN = 2000;

/**
 * Calls `fn` until `ok` holds for what it returns, and returns that value. An error thrown by `fn` ends the wait
 * at once. After `timeoutMs` it throws, with the last value seen (as JSON, cut at 2000 characters).
 */
export async function waitFor<T>(fn: () => T | Promise<T>, ok: (value: T) => boolean, options: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 20_000, intervalMs = 100, what } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (ok(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting${what ? ` for ${what}` : ''}; last value: ${show(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function show(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  text ??= String(value);
  return text.length > SHOWN ? `${text.slice(0, SHOWN)}... (${text.length} characters)` : text;
}

/** For a status read with the `trellis` CLI: each try starts a process, so fewer tries, and more time. */
export const CLI_POLL: WaitOptions = { timeoutMs: 40_000, intervalMs: 200 };
