/** Timing and table helpers shared by the benchmarks. */
import { performance } from 'node:perf_hooks';

/** Collects garbage between timed runs when node runs with --expose-gc (npm run bench does). */
export const gc = typeof globalThis.gc === 'function' ? () => globalThis.gc() : () => {};
export const hasGc = typeof globalThis.gc === 'function';

/** Milliseconds that fn takes, after a collection so one run's garbage is not billed to the next. */
export function time(fn) {
  gc();
  const t = performance.now();
  const value = fn();
  return { ms: performance.now() - t, value };
}

/** Nearest-rank percentile (p in 0..100) of a list of numbers. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export const median = (values) => percentile(values, 50);

/** Milliseconds, with the precision that matters at their size. */
export function ms(value) {
  if (value === undefined || Number.isNaN(value)) return '-';
  if (value < 0.0995) return value.toFixed(3);
  if (value < 9.995) return value.toFixed(2);
  if (value < 99.95) return value.toFixed(1);
  return value.toFixed(0);
}

export function int(value) {
  return Math.round(value).toLocaleString('en-US');
}

export function ratio(value) {
  return value === undefined || !Number.isFinite(value) ? '-' : `${value.toFixed(2)}x`;
}

/**
 * A plain-text table: the first row is the header; numbers (and cells starting with a digit) are aligned
 * right, text left.
 */
export function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c] ?? '').length)));
  const numeric = (cell) => /^[-+]?[\d.,]+(?:x|%| ms| µs)?$/.test(cell) || cell === '-';
  const line = (r, header) =>
    r
      .map((cell, c) => {
        const s = String(cell ?? '');
        return !header && numeric(s) ? s.padStart(widths[c]) : s.padEnd(widths[c]);
      })
      .join('  ')
      .trimEnd();
  const out = [line(rows[0], true), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows.slice(1)) out.push(line(r, false));
  return out.join('\n');
}

/** A difference in milliseconds, with its sign. */
export function signed(v) {
  return `${v < 0 ? '-' : '+'}${ms(Math.abs(v))}`;
}
