/**
 * Where a worker serves its Prometheus metrics: TRELLIS_METRICS_PORT, a port (bound on every interface, as a scraper
 * in another container expects) or `host:port` (e.g. `127.0.0.1:9464` to keep them on the machine). Unset: none.
 */
import { ConfigError } from '../config.js';

/** The metrics endpoint of a worker: Temporal's runtime serves `/metrics` there. */
export interface MetricsSettings {
  /** `host:port` to bind, e.g. `0.0.0.0:9464`. */
  bindAddress: string;
}

/** Reads TRELLIS_METRICS_PORT; throws ConfigError for anything but a port from 1 to 65535, or `host:port`. */
export function metricsSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): MetricsSettings | undefined {
  const text = env.TRELLIS_METRICS_PORT?.trim();
  if (text === undefined || text === '') return undefined;
  const match = /^(?:(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) {
    throw new ConfigError(`TRELLIS_METRICS_PORT must be a port from 1 to 65535, or host:port (e.g. 127.0.0.1:9464), got ${JSON.stringify(text)}`);
  }
  return { bindAddress: `${match[1] ?? '0.0.0.0'}:${port}` };
}
