/** When tracing is on, from the OTEL_* variables (src/telemetry/config.ts). */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { tracingSettingsFromEnv } from '../../src/telemetry/config.js';

const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };

describe('tracingSettingsFromEnv', () => {
  it('is off with no OTLP endpoint and no exporter named', () => {
    expect(tracingSettingsFromEnv({})).toBeUndefined();
    expect(tracingSettingsFromEnv({ OTEL_SERVICE_NAME: 'billing', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBeUndefined();
  });

  it('is on with an endpoint, for all signals or traces alone, or with OTEL_TRACES_EXPORTER=otlp', () => {
    const on = { protocol: 'http/protobuf', captureContent: false };
    expect(tracingSettingsFromEnv(endpoint)).toEqual(on);
    expect(tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toEqual(on);
    expect(tracingSettingsFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' })).toEqual(on);
  });

  it('is off, endpoint or not, with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none', () => {
    expect(tracingSettingsFromEnv({ ...endpoint, OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(tracingSettingsFromEnv({ ...endpoint, OTEL_SDK_DISABLED: 'TRUE' })).toBeUndefined();
    expect(tracingSettingsFromEnv({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(tracingSettingsFromEnv({ ...endpoint, OTEL_SDK_DISABLED: 'false' })).toBeDefined();
  });

  it('takes the traces protocol over the general one', () => {
    expect(tracingSettingsFromEnv({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })?.protocol).toBe('http/json');
    expect(
      tracingSettingsFromEnv({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })
        ?.protocol,
    ).toBe('http/protobuf');
  });

  it('captures message content only for exactly true', () => {
    expect(tracingSettingsFromEnv({ ...endpoint, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' })?.captureContent).toBe(true);
    expect(tracingSettingsFromEnv({ ...endpoint, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: '1' })?.captureContent).toBe(false);
  });

  it('refuses what Trellis does not ship, saying what it takes', () => {
    expect(() => tracingSettingsFromEnv({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(ConfigError);
    expect(() => tracingSettingsFromEnv({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/http\/protobuf .* or http\/json/);
    expect(() => tracingSettingsFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(/otlp or none/);
  });
});
