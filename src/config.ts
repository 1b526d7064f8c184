/**
 * Configuration from the environment, in one place: the worker, the client and the CLI read the same names.
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS (1 for TLS without an API key),
 * TRELLIS_TASK_QUEUE; the model's settings are in src/llm/client.ts.
 */
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
