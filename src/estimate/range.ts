/** Figures known between a least and a most; `max: null` when nothing bounds the most (a map over a list of unknown length). */
export interface Range {
  min: number;
  max: number | null;
}

export const ZERO: Range = { min: 0, max: 0 };

export const exactly = (n: number): Range => ({ min: n, max: n });

export function add(a: Range, b: Range): Range {
  return { min: a.min + b.min, max: a.max === null || b.max === null ? null : a.max + b.max };
}

/** `a` taken `times` times (both ranges of non-negative figures). */
export function times(a: Range, count: Range): Range {
  return { min: a.min * count.min, max: a.max === null || count.max === null ? null : a.max * count.max };
}

/** The larger of two ranges, bound by bound (the longer of two paths). */
export function longer(a: Range, b: Range): Range {
  return { min: Math.max(a.min, b.min), max: a.max === null || b.max === null ? null : Math.max(a.max, b.max) };
}

/** From nothing (a step that may be skipped) up to `a`. */
export const optional = (a: Range): Range => ({ min: 0, max: a.max });

export const sum = (ranges: readonly Range[]): Range => ranges.reduce(add, ZERO);
