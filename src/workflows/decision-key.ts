/**
 * The worker's decision key, inside the workflow sandbox. It must not go through the run's history (anyone who reads
 * the history could then sign), so the worker defines it on the sandbox's global object before the workflow bundle
 * runs (decisionKeyPrelude in src/worker.ts); it is the same on every replay of a worker that has it.
 */

/** The global the worker's prelude defines. */
export const DECISION_KEY_GLOBAL = '__trellisDecisionKey';

/** The worker's TRELLIS_DECISION_KEY, or undefined when the worker takes unsigned answers. */
export function workerDecisionKey(): string | undefined {
  const key: unknown = (globalThis as Record<string, unknown>)[DECISION_KEY_GLOBAL];
  return typeof key === 'string' && key !== '' ? key : undefined;
}
