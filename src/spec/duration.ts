/**
 * Durations in specs: a number and a unit, optionally several (`500ms`, `30s`, `5m`, `24h`, `7d`, `1h30m`).
 * Kept to this small grammar so a model writes them right and a person reads them at a glance.
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const WHOLE = /^(?:\d+(?:ms|s|m|h|d))+$/;
const PART = /(\d+)(ms|s|m|h|d)/g;

/**
 * The longest duration a spec may give (a timeout, a wait, a retry interval): a year. Longer ones are mistakes, and
 * past about 285,000 years a millisecond count is not even a valid date for Temporal's timers.
 */
export const MAX_DURATION_MS = 365 * UNIT_MS.d;

/** Milliseconds (`'1h30m'` is 5,400,000), or undefined when the text is not a duration, is zero, or is longer than MAX_DURATION_MS. */
export function parseDuration(text: string): number | undefined {
  const ms = durationMs(text);
  return ms !== undefined && ms > 0 && ms <= MAX_DURATION_MS ? ms : undefined;
}

/** What is wrong with a duration, for the validator; undefined when it is a good one. */
export function durationProblem(text: string): string | undefined {
  const ms = durationMs(text);
  if (ms === undefined || ms <= 0) return `invalid duration ${JSON.stringify(text)}: ${DURATION_HELP}`;
  if (ms > MAX_DURATION_MS) return `duration ${JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text)} is longer than the limit of 365d`;
  return undefined;
}

function durationMs(text: string): number | undefined {
  if (!WHOLE.test(text)) return undefined;
  let total = 0;
  for (const [, n, unit] of text.matchAll(PART)) total += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return total;
}

/** The duration grammar in one sentence, for messages and the schema's descriptions. */
export const DURATION_HELP = 'a duration is a whole number and a unit: 500ms, 30s, 5m, 24h, 7d (or combined: 1h30m), at most 365d';

/** Milliseconds as the shortest duration text that reads them exactly: `86400000` is `1d`, `1500` is `1500ms`. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', UNIT_MS.d],
    ['h', UNIT_MS.h],
    ['m', UNIT_MS.m],
    ['s', UNIT_MS.s],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
