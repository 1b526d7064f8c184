/**
 * The process's tracing: the OpenTelemetry Node SDK with an OTLP HTTP trace exporter (protobuf or JSON), started once
 * per process by the first worker or client that asks, when the environment turns tracing on (config.ts). With it
 * off, nothing here loads the SDK.
 */
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { tracingSettingsFromEnv, type TracingSettings } from './config.js';
import { allowMessageContent } from './spans.js';

/** The running tracing of this process. */
export interface Tracing {
  readonly settings: TracingSettings;
  /** Where spans end: the SDK's batch processor, which workflow spans reach through the worker's sink too. */
  readonly processor: SpanProcessor;
  /** The process's resource (service.name and the rest), for the spans the workflow sandbox makes. */
  readonly resource: Resource;
  /** Exports the spans that have ended and are still buffered. */
  flush(): Promise<void>;
}

/** The default service.name, when OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES name none. */
export const DEFAULT_SERVICE_NAME = 'trellis';

let started: Promise<Tracing | undefined> | undefined;
let encrypting = false;

/**
 * Starts the process's tracing from the environment, once: later calls get the same one (or undefined when it is off).
 * `encrypted`: the caller encrypts payloads, so no span of this process records messages from then on, whatever
 * OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT says.
 *
 * @throws {ConfigError} (CONFIG_INVALID) for an exporter or protocol Trellis does not ship.
 */
export async function startTracing(options: { encrypted?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Tracing | undefined> {
  if (options.encrypted) encrypting = true;
  started ??= start(tracingSettingsFromEnv(options.env ?? process.env));
  const tracing = await started;
  allowMessageContent(tracing !== undefined && tracing.settings.captureContent && !encrypting);
  return tracing;
}

/** Exports what is buffered, when tracing is on; nothing otherwise. */
export async function flushTracing(): Promise<void> {
  await (await started)?.flush();
}

async function start(settings: TracingSettings | undefined): Promise<Tracing | undefined> {
  if (settings === undefined) return undefined;
  const [{ NodeSDK }, { BatchSpanProcessor }, resources, exporter] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    settings.protocol === 'http/json'
      ? import('@opentelemetry/exporter-trace-otlp-http').then((m) => new m.OTLPTraceExporter())
      : import('@opentelemetry/exporter-trace-otlp-proto').then((m) => new m.OTLPTraceExporter()),
  ]);
  // Detected once here rather than by the SDK, so workflow spans carry the same resource as the rest.
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': DEFAULT_SERVICE_NAME }))
    .merge(resources.detectResources({ detectors: [resources.envDetector, resources.processDetector, resources.hostDetector] }));
  const processor = new BatchSpanProcessor(exporter);
  // Traces only: the SDK would otherwise start OTLP log and metric exporters from their own defaults.
  const sdk = new NodeSDK({ resource, autoDetectResources: false, spanProcessors: [processor], logRecordProcessors: [], metricReaders: [] });
  sdk.start();
  return { settings, processor, resource, flush: () => processor.forceFlush() };
}
