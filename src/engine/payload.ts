/**
 * Payload sizes, measured as Temporal's JSON payload converter writes them, and views trimmed to fit a limit: the
 * status answer, a result's steps and a failure's details leave the largest step outputs out (saying how big each
 * was) rather than exceed what Temporal accepts. Pure, so workflow code uses it.
 */
import { utf8Length } from '../spec/utf8.js';
import type { RunView } from './messages.js';
import type { StepState } from './state.js';

/** Temporal's own limits, which Trellis's defaults stay well under. */
export const TEMPORAL_LIMITS = { payloadBytes: 2 * 1024 * 1024, historyBytes: 50 * 1024 * 1024, historyEvents: 51_200 } as const;

/** Trellis's defaults: a payload at Temporal's warning size, a history stopped at 80% of its limits. */
export const DEFAULT_PAYLOAD_LIMITS = { payloadBytes: 512 * 1024, historyBytes: 40 * 1024 * 1024, historyEvents: 40_960 } as const;

/** Bytes of the JSON text of `value` (what the payload's data holds); 4 for undefined (it travels as null). */
export function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value);
  return text === undefined ? 4 : utf8Length(text);
}

/**
 * The steps with the largest outputs left out (output null, `omitted` its size) until the whole record is at most
 * `maxBytes` as JSON. Outputs go largest first, so the fewest are lost; the states themselves are always kept.
 */
export function fitSteps(steps: Readonly<Record<string, StepState>>, maxBytes: number): Record<string, StepState> {
  let total = jsonBytes(steps);
  if (total <= maxBytes) return { ...steps };
  const sizes = Object.entries(steps)
    .map(([id, s]) => ({ id, bytes: s.output === null || s.output === undefined ? 0 : jsonBytes(s.output) }))
    .filter((s) => s.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes || (a.id < b.id ? -1 : 1));
  const out = { ...steps };
  for (const { id, bytes } of sizes) {
    if (total <= maxBytes) break;
    out[id] = { ...out[id]!, output: null, omitted: bytes };
    total -= bytes - 4 - (11 + String(bytes).length); // the output became null, and ,"omitted":N was added
  }
  return out;
}

/**
 * The view within `maxBytes`: the largest step outputs are left out first (each saying its size), then replaced
 * plans and the plan itself, then the output.
 */
export function fitView(view: RunView, maxBytes: number): RunView {
  if (jsonBytes(view) <= maxBytes) return view;
  const { steps, ...rest } = view;
  if (rest.earlierPlans && jsonBytes(rest) > maxBytes / 2) rest.earlierPlans = rest.earlierPlans.map((p) => ({ ...p, steps: {} }));
  if (rest.spec && jsonBytes(rest) > maxBytes / 2) delete rest.spec;
  if (jsonBytes(rest) > maxBytes / 2) {
    rest.output = null;
    rest.error ??= `the output (${jsonBytes(view.output)} bytes) is left out of this view: it is over the payload limit`;
  }
  return { ...rest, steps: fitSteps(steps, Math.max(0, maxBytes - jsonBytes(rest))) };
}
