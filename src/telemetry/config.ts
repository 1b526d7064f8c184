/**
 * When tracing is on, from the standard OpenTelemetry variables, so a worker traces the way any OTel service does:
 *
 * - off with OTEL_SDK_DISABLED=true, or OTEL_TRACES_EXPORTER=none;
 * - on with OTEL_TRACES_EXPORTER=otlp, or, when that is unset, with an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or
 *   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
 * - off otherwise: nothing is loaded, no interceptor is added, no span is made.
 *
 * The exporter itself reads the endpoint, headers, timeout and compression variables; the SDK reads OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER and OTEL_BSP_*.
 */
import { ConfigError } from '../config.js';

/** How spans leave the process: OTLP over HTTP, as protobuf or JSON. */
export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface TracingSettings {
  /** OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL; default http/protobuf. */
  protocol: OtlpProtocol;
  /**
   * OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true: model calls record their prompts and replies. A worker that
   * encrypts payloads never does, whatever this says.
   */
  captureContent: boolean;
}

/**
 * The tracing settings of `env`, or undefined when tracing is off.
 *
 * @throws {ConfigError} (CONFIG_INVALID) for an exporter or protocol Trellis does not ship (grpc, zipkin, console).
 */
export function tracingSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): TracingSettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const exporters = list(env.OTEL_TRACES_EXPORTER);
  if (exporters.includes('none')) return undefined;
  const unsupported = exporters.filter((e) => e !== 'otlp');
  if (unsupported.length > 0) {
    throw new ConfigError(`OTEL_TRACES_EXPORTER=${env.OTEL_TRACES_EXPORTER}: Trellis exports traces over OTLP only; set it to otlp or none`);
  }
  const endpoint = (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT || '').trim();
  if (exporters.length === 0 && endpoint === '') return undefined;
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf').trim();
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new ConfigError(
      `OTLP protocol ${protocol}: Trellis sends traces over http/protobuf (the default) or http/json; set OTEL_EXPORTER_OTLP_PROTOCOL to one of them`,
    );
  }
  return { protocol, captureContent: env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?.trim().toLowerCase() === 'true' };
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}
