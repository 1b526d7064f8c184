/**
 * Durations in specs: a number and a unit, optionally several (`500ms`, `30s`, `5m`, `24h`, `7d`, `1h30m`).
 * Kept to this small grammar so a model writes them right and a person reads them at a glance.
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const WHOLE = /^(?:\d+(?:ms|s|m|h|d))+$/;
const PART = /(\d+)(ms|s|m|h|d)/g;

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!WHOLE.test(text)) return undefined;
  let total = 0;
  for (const [, n, unit] of text.matchAll(PART)) total += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return total > 0 ? total : undefined;
}

export const DURATION_HELP = 'a duration is a whole number and a unit: 500ms, 30s, 5m, 24h, 7d (or combined: 1h30m)';
