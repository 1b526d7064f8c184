import { describe, expect, it } from 'vitest';
import { metricsSettingsFromEnv } from '../../src/metrics/config.js';

describe('TRELLIS_METRICS_PORT', () => {
  it('is off when unset or empty', () => {
    expect(metricsSettingsFromEnv({})).toBeUndefined();
    expect(metricsSettingsFromEnv({ TRELLIS_METRICS_PORT: ' ' })).toBeUndefined();
  });

  it('binds a bare port on every interface, and host:port as given', () => {
    expect(metricsSettingsFromEnv({ TRELLIS_METRICS_PORT: '9464' })).toEqual({ bindAddress: '0.0.0.0:9464' });
    expect(metricsSettingsFromEnv({ TRELLIS_METRICS_PORT: '127.0.0.1:9464' })).toEqual({ bindAddress: '127.0.0.1:9464' });
    expect(metricsSettingsFromEnv({ TRELLIS_METRICS_PORT: '[::1]:9464' })).toEqual({ bindAddress: '[::1]:9464' });
  });

  it.each(['0', '65536', 'http://x:1', '9464/metrics', 'a:b', '-1', ':9464'])('refuses %j, naming the variable', (value) => {
    expect(() => metricsSettingsFromEnv({ TRELLIS_METRICS_PORT: value })).toThrow(
      /TRELLIS_METRICS_PORT must be a port from 1 to 65535, or host:port/,
    );
  });
});
