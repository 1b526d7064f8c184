/**
 * Size limits keep a run far inside one Temporal workflow history (51,200 events, 50 MB): a spec over them is
 * refused at once, never half-run.
 */
/** How large a spec may be; the validator refuses a larger one with a TOO_LARGE problem. */
export interface Limits {
  /** Top-level steps. */
  maxSteps: number;
  /** UTF-8 bytes of the spec as text (as JSON, for a document that did not come from text). */
  maxBytes: number;
}

/** 1,000 steps and 1 MiB: the validator's limits when ValidateOptions.limits leaves one out. */
export const DEFAULT_LIMITS: Limits = { maxSteps: 1_000, maxBytes: 1024 * 1024 };

/**
 * Bounds on one CEL evaluation (src/spec/cel-bounds.ts). Expressions run inside a workflow task, which must finish
 * well within Temporal's 2 s deadlock timeout: an expression past one of these fails instead of running on. Cost
 * counts operations, each about one AST node's evaluation (40 to 100 ns): every node evaluated, so every
 * comprehension iteration, and the characters and elements operators and functions read; the largest evaluation
 * that fits takes 5 to 15 ms. Strings and lists built along the way are bounded too, above what a Temporal
 * payload (2 MB) can carry, so a value read from a run is never refused for its size.
 */
export interface ExpressionLimits {
  /** What one evaluation may cost, in operations. */
  maxCost: number;
  /**
   * What all the expressions of one run may cost together: a run replays every evaluation of its history in one
   * workflow task when a worker picks it up again, so this bounds that task too (about 0.4 to 1 s at most).
   */
  maxRunCost: number;
  /** Characters of a string an operator or function builds. */
  maxStringLength: number;
  /** Elements of a list (or entries of a map) an operator, function or comprehension builds. */
  maxListLength: number;
}

/**
 * The limits every evaluation runs under: 100,000 operations (10,000,000 for a whole run), strings up to 2,097,152
 * characters, lists up to 1,048,576 elements.
 */
export const EXPRESSION_LIMITS: ExpressionLimits = {
  maxCost: 100_000,
  maxRunCost: 10_000_000,
  maxStringLength: 2 * 1024 * 1024,
  maxListLength: 1024 * 1024,
};
