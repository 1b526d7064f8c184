/**
 * Whether the worker traces, inside the workflow sandbox: the worker defines this global before the workflow bundle
 * runs (withTracingFlag in src/telemetry/temporal.ts), as it does the decision key, so one bundle serves a worker that
 * traces and one that does not, and the latter loads no OpenTelemetry code and makes no span.
 */
export const TRACING_GLOBAL = '__trellisTracing';

/** True in the sandbox of a worker that traces. */
export function workerTraces(): boolean {
  return (globalThis as Record<string, unknown>)[TRACING_GLOBAL] === true;
}
