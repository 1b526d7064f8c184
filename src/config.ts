/**
 * Configuration from the environment, in one place: the worker, the client and the CLI read the same names.
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS (1 for TLS without an API key),
 * TRELLIS_TASK_QUEUE; the worker's limits TRELLIS_MAX_PAYLOAD_BYTES, TRELLIS_MAX_HISTORY_BYTES,
 * TRELLIS_MAX_HISTORY_EVENTS; the blob store's TRELLIS_BLOB_STORE, TRELLIS_BLOB_THRESHOLD (src/blobs/config.ts); the worker's TRELLIS_TOOLS, TRELLIS_SPECS, TRELLIS_LOG_LEVEL, TRELLIS_MAX_CACHED_WORKFLOWS;
 * its Worker Deployment Version TRELLIS_DEPLOYMENT_NAME, TRELLIS_BUILD_ID.
 * The model's settings are in src/llm/client.ts, the planner's in src/planner/config.ts.
 */
import { createRequire } from 'node:module';
import type { PayloadLimits } from './engine/messages.js';
import { MIN_DECISION_KEY_LENGTH } from './engine/decision-signature.js';
import { DEFAULT_PAYLOAD_LIMITS, TEMPORAL_LIMITS } from './engine/payload.js';
import { TrellisError } from './errors.js';
import type { DeploymentVersion } from './temporal/deployment.js';

/** The package's version: a versioned worker's build id unless TRELLIS_BUILD_ID says otherwise. */
const { version: PACKAGE_VERSION } = createRequire(import.meta.url)('../package.json') as { version: string };

/** Where Temporal is and which task queue Trellis uses: temporalConfigFromEnv reads it, a client or a worker overrides fields. */
export interface TemporalConfig {
  /** host:port of the Temporal frontend. TEMPORAL_ADDRESS, else 127.0.0.1:7233. */
  address: string;
  /** TEMPORAL_NAMESPACE, else `default`. */
  namespace: string;
  /** The task queue runs start on and workers poll. TRELLIS_TASK_QUEUE, else `trellis`. */
  taskQueue: string;
  /** An API key (Temporal Cloud, say). TEMPORAL_API_KEY. */
  apiKey?: string;
  /** Connect with TLS. From the environment: true when TEMPORAL_API_KEY is set, or TEMPORAL_TLS is 1 or true. */
  tls: boolean;
}

/** The task queue when TRELLIS_TASK_QUEUE is not set. */
export const DEFAULT_TASK_QUEUE = 'trellis';
export const DEFAULT_ADDRESS = '127.0.0.1:7233';

/**
 * Every variable the worker (`trellis worker`) reads; docker-compose.yml is checked against this list. The CLI reads
 * TRELLIS_TOOLS, TRELLIS_LOG_LEVEL and TRELLIS_MAX_CACHED_WORKFLOWS; createTrellisWorker takes those as options.
 */
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
  'TRELLIS_BLOB_STORE',
  'TRELLIS_BLOB_THRESHOLD',
  'TRELLIS_LOG_LEVEL',
  'TRELLIS_DECISION_KEY',
  'TRELLIS_WEBHOOKS',
  'TRELLIS_WEBHOOK_SECRET',
  'TRELLIS_PUBLIC_URL',
  'TRELLIS_TEMPORAL_UI_URL',
  'TRELLIS_ENCRYPTION_KEYS',
  'TRELLIS_ENCRYPTION_KEY_FILE',
  'TRELLIS_DEPLOYMENT_NAME',
  'TRELLIS_BUILD_ID',
  'TRELLIS_METRICS_PORT',
  'OPENAI_BASE_URL',
  'OPENAI_API_KEY',
  'TRELLIS_MODEL',
  'TRELLIS_PRICES',
] as const;

/** TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS and TRELLIS_TASK_QUEUE, with the defaults for those unset or empty. */
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

/**
 * The environment's settings with `overrides` on top. An API key means TLS, given in code as in TEMPORAL_API_KEY,
 * unless `overrides.tls` says otherwise.
 */
export function temporalConfig(overrides: Partial<TemporalConfig> = {}): TemporalConfig {
  const config = { ...temporalConfigFromEnv(), ...overrides };
  if (overrides.apiKey !== undefined && overrides.tls === undefined) config.tls = true;
  return config;
}

/** Options for Connection.connect / NativeConnection.connect. */
export function connectionOptions(config: TemporalConfig) {
  return { address: config.address, ...(config.tls && { tls: true }), ...(config.apiKey && { apiKey: config.apiKey }) };
}

/** A setting in the environment that cannot be used; `code` is CONFIG_INVALID, and the message names the variable. */
export class ConfigError extends TrellisError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

/**
 * The worker's limits from TRELLIS_MAX_PAYLOAD_BYTES, TRELLIS_MAX_HISTORY_BYTES and TRELLIS_MAX_HISTORY_EVENTS (unset:
 * 512 KiB, 40 MiB, 40,960): each a whole number below Temporal's own (a history under 50 MB and 51,200 events), so
 * Trellis always meets its limit first. A payload stays under Temporal's 2 MB, unless a blob store keeps the payloads
 * over `storedAboveBytes` outside the history: then only memory bounds one, and the default is 32 MiB (at most 256 MiB).
 * Throws ConfigError for a value outside its range.
 */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env, storedAboveBytes?: number): PayloadLimits {
  const read = (name: string, fallback: number, below: number, minimum: number): number => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < minimum || n >= below) {
      throw new ConfigError(
        `${name} must be a whole number from ${minimum.toLocaleString('en-US')} to ${(below - 1).toLocaleString('en-US')}, got ${JSON.stringify(text)}` +
          (name === 'TRELLIS_MAX_PAYLOAD_BYTES' && storedAboveBytes === undefined ? ' (with a blob store, TRELLIS_BLOB_STORE, up to 256 MiB)' : ''),
      );
    }
    return n;
  };
  const payloadBytes =
    storedAboveBytes === undefined
      ? read('TRELLIS_MAX_PAYLOAD_BYTES', DEFAULT_PAYLOAD_LIMITS.payloadBytes, TEMPORAL_LIMITS.payloadBytes, 1024)
      : read('TRELLIS_MAX_PAYLOAD_BYTES', STORED_PAYLOAD_LIMIT.default, STORED_PAYLOAD_LIMIT.below, 1024);
  return {
    payloadBytes,
    historyBytes: read('TRELLIS_MAX_HISTORY_BYTES', DEFAULT_PAYLOAD_LIMITS.historyBytes, TEMPORAL_LIMITS.historyBytes, 64 * 1024),
    historyEvents: read('TRELLIS_MAX_HISTORY_EVENTS', DEFAULT_PAYLOAD_LIMITS.historyEvents, TEMPORAL_LIMITS.historyEvents, 100),
    ...(storedAboveBytes !== undefined && { storedAboveBytes }),
  };
}

/** A payload's limit when payloads over the blob threshold are stored outside the history. */
const STORED_PAYLOAD_LIMIT = { default: 32 * 1024 * 1024, below: 256 * 1024 * 1024 + 1 } as const;

/**
 * TRELLIS_DECISION_KEY: the secret that signs people's answers (`trellis serve`, a client given it) and that the
 * worker checks them with; undefined when unset. Throws ConfigError for a key shorter than 32 characters.
 */
export function decisionKeyFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const key = env.TRELLIS_DECISION_KEY;
  if (key === undefined || key === '') return undefined;
  checkDecisionKey(key, 'TRELLIS_DECISION_KEY');
  return key;
}

/** Throws ConfigError when `key` is too short to be a secret; `where` names it in the message. */
export function checkDecisionKey(key: string, where: string): void {
  if (key.length < MIN_DECISION_KEY_LENGTH) {
    throw new ConfigError(
      `${where} must be at least ${MIN_DECISION_KEY_LENGTH} characters (a random secret, for example \`openssl rand -hex 32\`), got ${key.length}`,
    );
  }
}

/** `text` as an http(s) URL; else a ConfigError naming `variable` and `what` (the entry, or the quoted value). */
export function httpUrlSetting(variable: string, text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${variable}: ${what} is not a URL (expected http:// or https://...)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${variable}: ${what} must be an http or https URL, got the scheme ${JSON.stringify(url.protocol.slice(0, -1))}`);
  }
  return url;
}

/** A base URL (TRELLIS_PUBLIC_URL, TRELLIS_TEMPORAL_UI_URL): http(s), kept with its path, without a trailing slash. */
export function baseUrlSetting(variable: string, text: string): string {
  const url = httpUrlSetting(variable, text, JSON.stringify(text));
  if (url.search !== '' || url.hash !== '')
    throw new ConfigError(`${variable} must be a base URL, without a query or fragment, got ${JSON.stringify(text)}`);
  return url.href.replace(/\/+$/, '');
}

/** The server's bound on a build id; the same bound on the deployment name keeps both readable in the UI. */
const MAX_DEPLOYMENT_PART_LENGTH = 255;

/**
 * The worker's Worker Deployment Version: TRELLIS_DEPLOYMENT_NAME, and TRELLIS_BUILD_ID (default: the package's
 * version); undefined when TRELLIS_DEPLOYMENT_NAME is unset or empty (an unversioned worker). Throws ConfigError
 * for a bad value, and for TRELLIS_BUILD_ID without TRELLIS_DEPLOYMENT_NAME, which would be ignored.
 */
export function deploymentFromEnv(env: NodeJS.ProcessEnv = process.env): DeploymentVersion | undefined {
  const deploymentName = env.TRELLIS_DEPLOYMENT_NAME;
  const buildId = env.TRELLIS_BUILD_ID;
  if (deploymentName === undefined || deploymentName === '') {
    if (buildId !== undefined && buildId !== '') {
      throw new ConfigError('TRELLIS_BUILD_ID is set but TRELLIS_DEPLOYMENT_NAME is not: set both for a versioned worker, or neither');
    }
    return undefined;
  }
  return checkDeployment({ deploymentName, buildId: buildId || PACKAGE_VERSION }, ['TRELLIS_DEPLOYMENT_NAME', 'TRELLIS_BUILD_ID']);
}

/** Throws ConfigError when a part is empty, too long, or holds whitespace or control characters; `names` say where each came from. */
export function checkDeployment(version: DeploymentVersion, names: [string, string] = ['deploymentName', 'buildId']): DeploymentVersion {
  const check = (name: string, value: string) => {
    if (value === '') throw new ConfigError(`${name} must not be empty`);
    if (value.length > MAX_DEPLOYMENT_PART_LENGTH) {
      throw new ConfigError(`${name} must be at most ${MAX_DEPLOYMENT_PART_LENGTH} characters, got ${value.length}`);
    }
    // eslint-disable-next-line no-control-regex -- control characters are what this refuses
    if (/[\s\u0000-\u001f\u007f-\u009f]/u.test(value)) {
      throw new ConfigError(`${name} must hold no spaces or control characters, got ${JSON.stringify(value)}`);
    }
  };
  check(names[0], version.deploymentName);
  check(names[1], version.buildId);
  return version;
}

/** The worker's own settings, as `trellis worker`, `trellis dev` and createTrellisWorker read them. */
export interface WorkerConfig {
  /** TRELLIS_TOOLS: the tools module. */
  toolsModule?: string;
  /** TRELLIS_SPECS: the folder of saved specs that call steps name (default ./specs). */
  specsDir?: string;
  /** TRELLIS_LOG_LEVEL: pino's level. Default info. */
  logLevel: string;
  /** TRELLIS_MAX_CACHED_WORKFLOWS: runs a worker keeps in memory between their workflow tasks. */
  maxCachedWorkflows?: number;
}

/** The worker's settings from the environment; throws ConfigError for a cache size that is not a whole number. */
export function workerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const cache = env.TRELLIS_MAX_CACHED_WORKFLOWS;
  const maxCachedWorkflows = cache === undefined || cache === '' ? undefined : Number(cache);
  if (maxCachedWorkflows !== undefined && (!Number.isSafeInteger(maxCachedWorkflows) || maxCachedWorkflows < 0)) {
    throw new ConfigError(`TRELLIS_MAX_CACHED_WORKFLOWS must be a whole number (0 or more), got ${JSON.stringify(cache)}`);
  }
  return {
    ...(env.TRELLIS_TOOLS && { toolsModule: env.TRELLIS_TOOLS }),
    ...(env.TRELLIS_SPECS && { specsDir: env.TRELLIS_SPECS }),
    logLevel: env.TRELLIS_LOG_LEVEL || 'info',
    ...(maxCachedWorkflows !== undefined && { maxCachedWorkflows }),
  };
}
