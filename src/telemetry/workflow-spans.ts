/**
 * Trellis's spans in workflow code: the run, its steps and their waits for a person, children of Temporal's
 * RunWorkflow span and parents of the activity spans they schedule. Workflow code: the sandbox's tracer takes ids
 * from the workflow's seeded randomness and times from the workflow clock, so a replay makes the same spans, and the
 * sink that exports them is not called while replaying. With tracing off (workerTraces false) nothing is loaded or
 * made, and the wrapped promise is returned as it is: not one microtask turn is added to the workflow's code.
 */
import type * as Otel from '@opentelemetry/api';
import { isCancellation, workflowInfo } from '@temporalio/workflow';
import { workerTraces } from './tracing-global.js';

// Required only where a run traces: every module of the bundle is evaluated again for every run.
declare const require: (id: '@opentelemetry/api') => typeof Otel;

/** The run: `run NAME`, with trellis.run.id (the workflow's id) and trellis.spec.name. */
export function inRunSpan<T>(specName: string, fn: () => Promise<T>): Promise<T> {
  return inWorkflowSpan(`run ${specName}`, { 'trellis.spec.name': specName }, fn);
}

/** One step's execution: `step ID`, with trellis.step.id and trellis.step.kind. */
export function inStepSpan<T>(step: string, kind: string, fn: () => Promise<T>): Promise<T> {
  return inWorkflowSpan(`step ${step}`, { 'trellis.step.id': step, 'trellis.step.kind': kind }, fn);
}

/** A wait for a person's answer (an approval step, a gated tool call, a plan review): `approval wait STEP`. */
export function inApprovalSpan<T>(step: string, source: string, fn: () => Promise<T>): Promise<T> {
  return inWorkflowSpan(`approval wait ${step}`, { 'trellis.step.id': step, 'trellis.approval.source': source }, fn);
}

function inWorkflowSpan<T>(name: string, attributes: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  if (!workerTraces()) return fn();
  const otel = require('@opentelemetry/api');
  const all = { 'trellis.run.id': workflowInfo().workflowId, ...attributes };
  return otel.trace.getTracer('trellis').startActiveSpan(name, { attributes: all }, (span) =>
    fn().then(
      (value) => {
        span.end();
        return value;
      },
      (e: unknown) => {
        // A cancelled run or a withdrawn step is not a failure of the span's work.
        if (!isCancellation(e)) span.setStatus({ code: otel.SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
        span.end();
        throw e;
      },
    ),
  );
}
