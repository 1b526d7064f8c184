/**
 * Size limits keep a run far inside one Temporal workflow history (51,200 events, 50 MB): a spec over them is
 * refused at once, never half-run.
 */
export interface Limits {
  maxSteps: number;
  maxBytes: number;
}

export const DEFAULT_LIMITS: Limits = { maxSteps: 1_000, maxBytes: 1024 * 1024 };
