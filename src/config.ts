/**
 * Configuration from the environment, in one place: the worker, the client and the CLI read the same names.
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS (1 for TLS without an API key),
 * TRELLIS_TASK_QUEUE; the worker's limits TRELLIS_MAX_PAYLOAD_BYTES, TRELLIS_MAX_HISTORY_BYTES,
 * TRELLIS_MAX_HISTORY_EVENTS; the model's settings are in src/llm/client.ts.
 */
import type { PayloadLimits } from './engine/messages.js';
import { DEFAULT_PAYLOAD_LIMITS, TEMPORAL_LIMITS } from './engine/payload.js';
import { TrellisError } from './errors.js';
export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  tls: boolean;
}

export const DEFAULT_TASK_QUEUE = 'trellis';
export const DEFAULT_ADDRESS = '127.0.0.1:7233';

/** Every variable the worker reads; docker-compose.yml is checked against this list. */
export const WORKER_ENV = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TRELLIS_TASK_QUEUE',
  'TRELLIS_TOOLS',
  'TRELLIS_SPECS',
  'TRELLIS_PLANNER_PROMPT',
  'TRELLIS_PLANNER_SCHEMA',
  'TRELLIS_MAX_CACHED_WORKFLOWS',
  'TRELLIS_MAX_PAYLOAD_BYTES',
  'TRELLIS_MAX_HISTORY_BYTES',
  'TRELLIS_MAX_HISTORY_EVENTS',
  'TRELLIS_LOG_LEVEL',
  'OPENAI_BASE_URL',
  'OPENAI_API_KEY',
  'TRELLIS_MODEL',
] as const;

export function temporalConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalConfig {
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  return {
    address: env.TEMPORAL_ADDRESS || DEFAULT_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.TRELLIS_TASK_QUEUE || DEFAULT_TASK_QUEUE,
    ...(apiKey && { apiKey }),
    tls: apiKey !== undefined || env.TEMPORAL_TLS === '1' || env.TEMPORAL_TLS === 'true',
  };
}

/** Options for Connection.connect / NativeConnection.connect. */
export function connectionOptions(config: TemporalConfig) {
  return { address: config.address, ...(config.tls && { tls: true }), ...(config.apiKey && { apiKey: config.apiKey }) };
}

/** A setting in the environment that cannot be used. */
export class ConfigError extends TrellisError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

/**
 * The worker's limits: each a whole number below Temporal's own (a payload under 2 MB, a history under 50 MB and
 * 51,200 events), so Trellis always meets its limit first.
 */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): PayloadLimits {
  const read = (name: string, fallback: number, below: number, minimum: number): number => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < minimum || n >= below) {
      throw new ConfigError(
        `${name} must be a whole number from ${minimum.toLocaleString('en-US')} to ${(below - 1).toLocaleString('en-US')}, got ${JSON.stringify(text)}`,
      );
    }
    return n;
  };
  return {
    payloadBytes: read('TRELLIS_MAX_PAYLOAD_BYTES', DEFAULT_PAYLOAD_LIMITS.payloadBytes, TEMPORAL_LIMITS.payloadBytes, 1024),
    historyBytes: read('TRELLIS_MAX_HISTORY_BYTES', DEFAULT_PAYLOAD_LIMITS.historyBytes, TEMPORAL_LIMITS.historyBytes, 64 * 1024),
    historyEvents: read('TRELLIS_MAX_HISTORY_EVENTS', DEFAULT_PAYLOAD_LIMITS.historyEvents, TEMPORAL_LIMITS.historyEvents, 100),
  };
}
