/**
 * Temporal's spans, from @temporalio/interceptors-opentelemetry: the client's (start, signal, update, query), the
 * workflow's (run, activity and child starts; made in the sandbox and handed to the worker by a sink) and the
 * activities' (their runs). The sandbox makes its spans with OpenTelemetry SDK 1.x, the process exports with 2.x:
 * workflowSpanSinks turns the one shape into the other, so parentage and the instrumentation scope survive.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTraceState } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { OpenTelemetrySinks, SerializableSpan } from '@temporalio/interceptors-opentelemetry';
import type { BundleOptions, InjectedSinks, WorkerOptions } from '@temporalio/worker';
import type { Tracing } from './setup.js';
import { TRACING_GLOBAL } from './tracing-global.js';

/** The module bundleWorkflows adds as the bundle's workflow interceptors (built or source, as the worker runs). */
export function workflowInterceptorsPath(): string {
  const js = fileURLToPath(new URL('./workflow-interceptors.js', import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL('./workflow-interceptors.ts', import.meta.url));
}

type WebpackConfig = Parameters<NonNullable<BundleOptions['webpackConfigHook']>>[0];

/**
 * bundleWorkflows' webpack hook: the sandbox modules that require the OpenTelemetry SDK lazily are parsed as
 * `javascript/auto`, as a .ts source is, so webpack bundles what they require also from dist/, where a package of
 * "type": "module" makes every .js strict ESM (whose require() webpack leaves alone, to fail at run time).
 */
export function lazyRequireHook(config: WebpackConfig): WebpackConfig {
  const rule = { test: /[\\/]telemetry[\\/]workflow-(interceptors|spans)\.js$/, type: 'javascript/auto' };
  return { ...config, module: { ...config.module, rules: [...(config.module?.rules ?? []), rule] } };
}

// Loaded only when tracing is on: it brings the SDK 1.x packages the sandbox uses.
const interceptorsModule = () => import('@temporalio/interceptors-opentelemetry');

/** The client interceptors that start a trace for each run (and a span for each signal, update and query). */
export async function tracingClientInterceptors(tracing: Tracing | undefined): Promise<{ workflow: WorkflowClientInterceptor[] } | undefined> {
  if (tracing === undefined) return undefined;
  const { OpenTelemetryWorkflowClientInterceptor } = await interceptorsModule();
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/**
 * The worker's options with tracing: the activity interceptors after the given ones, the workflow span sink, and the
 * bundle told to trace. Unchanged when `tracing` is undefined.
 */
export async function withTracing(tracing: Tracing | undefined, options: WorkerOptions): Promise<WorkerOptions> {
  if (tracing === undefined) return options;
  const { OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor } = await interceptorsModule();
  return {
    ...options,
    ...(options.workflowBundle && 'code' in options.workflowBundle && { workflowBundle: withTracingFlag(options.workflowBundle) }),
    interceptors: {
      ...options.interceptors,
      activity: [
        ...(options.interceptors?.activity ?? []),
        (ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) }),
      ],
    },
    sinks: { ...options.sinks, ...workflowSpanSinks(tracing.processor, tracing.resource) },
  };
}

/** The bundle with the tracing flag defined before any workflow code runs (its first line, so the source map holds). */
export function withTracingFlag(bundle: { code: string }): { code: string } {
  return { code: `Object.defineProperty(globalThis,${JSON.stringify(TRACING_GLOBAL)},{value:true,enumerable:false});${bundle.code}` };
}

/**
 * The sink the workflow interceptors export their spans through, into `processor`. Temporal does not call sinks while
 * it replays, so a run evicted from the cache and replayed exports its earlier spans no second time; yet a worker that
 * keeps no run cached, while a client queries the run's status, was seen to export the spans of a run's last task
 * again (the test's maxCachedWorkflows 0). The spans' ids are deterministic, so the sink drops an id it exported
 * already (it remembers the last EXPORTED_IDS of them).
 */
export function workflowSpanSinks(processor: SpanProcessor, resource: Resource): InjectedSinks<OpenTelemetrySinks> {
  const exported = new Set<string>();
  return {
    exporter: {
      export: {
        fn: (info, spans) => {
          for (const span of spans) {
            const id = `${span.spanContext.traceId}/${span.spanContext.spanId}`;
            if (exported.has(id)) continue;
            exported.add(id);
            // A Set iterates in insertion order: the first is the oldest.
            if (exported.size > EXPORTED_IDS) exported.delete(exported.values().next().value!);
            processor.onEnd(readableSpan(span, resource, { temporalWorkflowId: info.workflowId, run_id: info.runId }));
          }
        },
      },
    },
  };
}

/** How many exported span ids a worker remembers (about 2 MB): far more than end between two tasks of a run. */
const EXPORTED_IDS = 20_000;

/**
 * A sandbox span (SDK 1.x: `parentSpanId`, `instrumentationLibrary`) as the SDK 2.x exporters read one
 * (`parentSpanContext`, `instrumentationScope`). Only the workflow's id and run id are added from its info: the rest
 * of it (memo, search attributes, last result) may hold a run's data.
 */
function readableSpan(s: SerializableSpan, resource: Resource, workflow: Record<string, string>): ReadableSpan {
  const { traceState, ...context } = s.spanContext;
  const spanContext = { ...context, ...(traceState !== undefined && { traceState: createTraceState(traceState) }) };
  return {
    name: s.name,
    kind: s.kind,
    spanContext: () => spanContext,
    ...(s.parentSpanId !== undefined && {
      parentSpanContext: { traceId: context.traceId, spanId: s.parentSpanId, traceFlags: context.traceFlags },
    }),
    startTime: s.startTime,
    endTime: s.endTime,
    status: s.status,
    attributes: { ...s.attributes, ...workflow },
    links: s.links,
    events: s.events,
    duration: s.duration,
    ended: s.ended,
    resource,
    instrumentationScope: s.instrumentationLibrary,
    droppedAttributesCount: s.droppedAttributesCount,
    droppedEventsCount: s.droppedEventsCount,
    droppedLinksCount: s.droppedLinksCount,
  };
}
