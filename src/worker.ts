/**
 * `trellis/worker`: the Trellis worker, the interpreter workflows plus the tool, model, planner and check activities
 * for one tools module, configured from the environment, with structured logs and a graceful shutdown on SIGINT and
 * SIGTERM; and its building blocks, for a team that assembles its own worker.
 *
 *   import { createTrellisWorker } from 'trellis/worker';
 *   const { worker } = await createTrellisWorker({ tools });   // TEMPORAL_ADDRESS, TRELLIS_TASK_QUEUE, OPENAI_BASE_URL...
 *   await worker.run();
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel, type WorkerOptions } from '@temporalio/worker';
import { pino, type Logger } from 'pino';
import { createActivities } from './activities/index.js';
import { DEFAULT_SPECS_DIR } from './library/saved-specs.js';
import { payloadLimitInterceptor } from './activities/payload-limit.js';
import {
  checkDecisionKey,
  ConfigError,
  checkDeployment,
  connectionOptions,
  decisionKeyFromEnv,
  deploymentFromEnv,
  limitsFromEnv,
  temporalConfig,
  workerConfigFromEnv,
  type TemporalConfig,
} from './config.js';
import type { PayloadLimits } from './engine/messages.js';
import { createLlmClient, llmConfigFromEnv, type LlmConfig } from './llm/client.js';
import { blobSettingsFromEnv, type BlobSettings } from './blobs/config.js';
import { dataConverterFor, encryptionKeysFromEnv, type EncryptionKeys } from './codec/index.js';
import { metricsSettingsFromEnv, type MetricsSettings } from './metrics/config.js';
import { notifyConfigFromEnv, type NotifyConfig } from './notify/config.js';
import { plannerConfigFromEnv, type PlannerConfig } from './planner/config.js';
import { pricesFromEnv } from './pricing/config.js';
import type { PriceTable } from './pricing/cost.js';
import { DECISION_KEY_GLOBAL } from './workflows/decision-key.js';
import { VERSIONING_BEHAVIOR } from './workflows/definitions.js';
import type { DeploymentVersion } from './temporal/deployment.js';
import { ensureStatusAttribute, STATUS_SEARCH_ATTRIBUTE } from './temporal/status-attribute.js';
import { startTracing } from './telemetry/setup.js';
import { lazyRequireHook, withTracing, workflowInterceptorsPath } from './telemetry/temporal.js';
import type { Tool } from './tools/define.js';

/** What createTrellisWorker needs: the tools; everything else defaults from the environment. */
export interface TrellisWorkerOptions {
  /** The tools runs may call (a tools module's default export, or loadToolsModule's result). */
  tools: readonly Tool[];
  /** Overrides the environment's Temporal settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TRELLIS_TASK_QUEUE, ...). */
  temporal?: Partial<TemporalConfig>;
  /** Overrides the environment's model settings (OPENAI_BASE_URL, OPENAI_API_KEY, TRELLIS_MODEL). */
  llm?: Partial<LlmConfig>;
  /** An existing connection; otherwise one is made from `temporal` and the environment. */
  connection?: NativeConnection;
  /** A bundle made once with bundleWorkflows() (tests and benchmarks start many workers). */
  workflowBundle?: { code: string };
  /** Workflows kept in memory between tasks; runs beyond it are evicted and replayed when they wake. Default: Temporal's. */
  maxCachedWorkflows?: number;
  /**
   * The pino logger for the worker's lines, and the SDK's (those go to the first worker's logger in a process).
   * Default: pino at level info, named trellis-worker.
   */
  logger?: Logger;
  /** The folder of saved specs that `call` steps name. Default: TRELLIS_SPECS, else ./specs. */
  specsDir?: string;
  /**
   * The planner's prompt file and response schema for goal runs. Default: TRELLIS_PLANNER_PROMPT, else
   * prompts/planner.md; TRELLIS_PLANNER_SCHEMA, else outline.
   */
  planner?: PlannerConfig;
  /** Payload and history limits. Default: TRELLIS_MAX_PAYLOAD_BYTES, TRELLIS_MAX_HISTORY_BYTES, TRELLIS_MAX_HISTORY_EVENTS. */
  limits?: Partial<PayloadLimits>;
  /**
   * The secret people's answers must be signed with; unsigned or forged answers are then refused. Default:
   * TRELLIS_DECISION_KEY (unset: answers are taken as their `by` says).
   */
  decisionKey?: string;
  /** Where notifications go (webhooks, links). Default: TRELLIS_WEBHOOKS, TRELLIS_WEBHOOK_SECRET, TRELLIS_PUBLIC_URL. */
  notify?: NotifyConfig;
  /**
   * The keys every payload is encrypted with (the first is current); `null`: none, whatever the environment says.
   * Default: TRELLIS_ENCRYPTION_KEYS or TRELLIS_ENCRYPTION_KEY_FILE (unset: no encryption).
   */
  encryption?: EncryptionKeys | null;
  /**
   * Where payloads over a threshold are kept, outside the history (the claim check); `null`: nowhere, whatever the
   * environment says. Default: TRELLIS_BLOB_STORE and TRELLIS_BLOB_THRESHOLD (unset: the folder .trellis/blobs, 128 KiB).
   */
  blobs?: BlobSettings | null;
  /**
   * The Worker Deployment Version this worker serves (Worker Versioning): its runs are pinned to it, and it gets new
   * runs once the version is current (makeVersionCurrent, `trellis worker --set-current`). `null`: unversioned,
   * whatever the environment says. Default: TRELLIS_DEPLOYMENT_NAME and TRELLIS_BUILD_ID (unset: unversioned).
   */
  deployment?: DeploymentVersion | null;
  /**
   * Where the worker serves Prometheus metrics (Temporal's runtime metrics and Trellis's own, at `/metrics`); `null`:
   * nowhere, whatever the environment says. Default: TRELLIS_METRICS_PORT (unset: none). Only the first worker of a
   * process can set it up.
   */
  metrics?: MetricsSettings | null;
  /** Prices by model, for runs' costs and maxCost budgets. Default: the file TRELLIS_PRICES names, else Trellis's table (docs/cost.md). */
  prices?: PriceTable;
  /** Other Temporal worker options, for those who know they want them. */
  workerOptions?: Partial<WorkerOptions>;
}

/** The interpreter's source: src/workflows/index.ts when run from source, dist/workflows/index.js when built. */
export function workflowsPath(): string {
  const js = fileURLToPath(new URL('./workflows/index.js', import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL('./workflows/index.ts', import.meta.url));
}

/** Bundles the interpreter's workflow code, which takes seconds: make it once and pass it as `workflowBundle` to every worker. */
export async function bundleWorkflows(): Promise<{ code: string }> {
  return bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    workflowInterceptorModules: [workflowInterceptorsPath()],
    webpackConfigHook: lazyRequireHook,
    logger: quietBundlerLogger,
  });
}

/**
 * A Trellis worker for one set of tools: the interpreter workflows and every activity (tools, model, agent, planner,
 * saved specs, checks) on the task queue of `temporal` and the environment. It connects (unless given `connection`),
 * registers the TrellisStatus search attribute when the server lets it (a warning otherwise), bundles the workflows
 * (unless given `workflowBundle`) and logs `worker ready`. It does not poll yet: `worker.run()` does, until SIGINT or
 * SIGTERM; then `close()` closes the connection it made (not one it was given).
 *
 * @throws {ConfigError} (CONFIG_INVALID) for a bad TRELLIS_MAX_* variable, TRELLIS_PRICES file or Worker Deployment Version, and {@link PlannerConfigError} for a bad
 *   TRELLIS_PLANNER_SCHEMA, even when options override them; the Temporal SDK's error when it cannot connect.
 * @example
 * ```ts
 * const { worker, close } = await createTrellisWorker({ tools: await loadToolsModule('tools.ts') });
 * await worker.run(); // until SIGINT or SIGTERM
 * await close();
 * ```
 */
export async function createTrellisWorker(
  options: TrellisWorkerOptions,
): Promise<{ worker: Worker; connection: NativeConnection; close(): Promise<void> }> {
  const config = temporalConfig(options.temporal);
  const llmConfig = { ...llmConfigFromEnv(), ...options.llm };
  const logger = options.logger ?? pino({ name: 'trellis-worker' });
  const specsDir = options.specsDir ?? workerConfigFromEnv().specsDir;
  const planner = { ...plannerConfigFromEnv(), ...options.planner };
  const metrics = options.metrics === undefined ? metricsSettingsFromEnv() : (options.metrics ?? undefined);
  installRuntime(logger, metrics);
  const ownConnection = options.connection === undefined;
  const connection = options.connection ?? (await NativeConnection.connect(connectionOptions(config)));
  const hasStatusAttribute = await ensureStatusAttribute(connection.operatorService, config.namespace);
  if (!hasStatusAttribute) {
    logger.warn('could not register the TrellisStatus search attribute; `trellis list --status` needs it (create it as a Keyword attribute)');
  }
  const blobs = options.blobs === undefined ? blobSettingsFromEnv() : (options.blobs ?? undefined);
  const limits = { ...limitsFromEnv(process.env, blobs?.thresholdBytes), ...options.limits };
  if (blobs === undefined) delete limits.storedAboveBytes;
  const decisionKey = options.decisionKey ?? decisionKeyFromEnv();
  if (options.decisionKey !== undefined) checkDecisionKey(options.decisionKey, 'decisionKey');
  const notify = options.notify ?? notifyConfigFromEnv();
  const prices = options.prices ?? pricesFromEnv();
  const encryption = options.encryption === undefined ? encryptionKeysFromEnv() : (options.encryption ?? undefined);
  const deployment =
    options.deployment === undefined
      ? deploymentFromEnv()
      : options.deployment === null
        ? undefined
        : checkDeployment(options.deployment, ['deployment.deploymentName', 'deployment.buildId']);
  // Tracing from the OTEL_* variables (docs/observability.md): Temporal's and Trellis's spans, flushed on close().
  const tracing = await startTracing({ encrypted: encryption !== undefined });
  const workerOptions: WorkerOptions = {
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    workflowBundle: withDecisionKey(options.workflowBundle ?? (await bundleWorkflows()), decisionKey),
    dataConverter: dataConverterFor(encryption, blobs),
    activities: createActivities({
      tools: options.tools,
      llm: createLlmClient(llmConfig),
      model: llmConfig.model,
      ...(specsDir !== undefined && { specsDir }),
      planner,
      notify,
      worker: {
        limits,
        ...(hasStatusAttribute && { statusSearchAttribute: STATUS_SEARCH_ATTRIBUTE }),
        ...(notify.targets.length > 0 && { notify: true }),
        prices,
        model: llmConfig.model,
      },
    }),
    interceptors: { activity: [payloadLimitInterceptor(limits.payloadBytes, { stored: blobs !== undefined })] },
    ...(options.maxCachedWorkflows !== undefined && { maxCachedWorkflows: options.maxCachedWorkflows }),
    ...(deployment !== undefined && {
      workerDeploymentOptions: { useWorkerVersioning: true, version: deployment, defaultVersioningBehavior: VERSIONING_BEHAVIOR },
    }),
    ...options.workerOptions,
  };
  const worker = await Worker.create(await withTracing(tracing, workerOptions));
  logger.info(
    {
      address: config.address,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      tools: options.tools.map((t) => t.name),
      model: llmConfig.model,
      specs: specsDir ?? DEFAULT_SPECS_DIR,
      limits,
      signedAnswers: decisionKey !== undefined,
      encryptionKey: encryption?.current.id ?? 'none',
      blobStore: blobs ? { location: blobs.store.location, aboveBytes: blobs.thresholdBytes } : 'none',
      webhooks: notify.targets.map((t) => t.name),
      deployment: deployment ?? 'unversioned',
    },
    'worker ready',
  );
  return {
    worker,
    connection,
    close: async () => {
      await tracing?.flush();
      if (ownConnection) await connection.close();
    },
  };
}

/**
 * The bundle with the decision key defined on the sandbox's global object before any workflow code runs: the workflow
 * checks signatures with it, and it never enters a run's history. On the bundle's first line, so its source map holds.
 */
function withDecisionKey(bundle: { code: string }, key: string | undefined): { code: string } {
  if (key === undefined) return bundle;
  const define = `Object.defineProperty(globalThis,${JSON.stringify(DECISION_KEY_GLOBAL)},{value:${JSON.stringify(key)},enumerable:false});`;
  return { code: define + bundle.code };
}

/**
 * The SDK's runtime, once per process (the first worker decides): its own logs (worker state, activity failures) go
 * through the same pino logger, at its level, so a worker prints one stream of structured lines; and with `metrics`,
 * it serves Temporal's metrics and Trellis's own on one Prometheus endpoint. Metrics asked of a runtime installed
 * already without them are a ConfigError, not a silence.
 */
function installRuntime(logger: Logger, metrics: MetricsSettings | undefined): void {
  if (Runtime._instance !== undefined) {
    if (metrics !== undefined && Runtime._instance.options.runtimeOptions.metricsExporter === null) {
      throw new ConfigError(
        `metrics on ${metrics.bindAddress} (TRELLIS_METRICS_PORT) need the Temporal runtime, which this process installed already without metrics: give Runtime.install telemetryOptions.metrics, or start the worker first`,
      );
    }
    return;
  }
  const levels: Record<string, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'ERROR' };
  Runtime.install({
    logger: new DefaultLogger(levels[logger.level] ?? 'INFO', (entry) => {
      const method =
        entry.level === 'TRACE'
          ? 'trace'
          : entry.level === 'DEBUG'
            ? 'debug'
            : entry.level === 'INFO'
              ? 'info'
              : entry.level === 'WARN'
                ? 'warn'
                : 'error';
      logger[method]({ sdk: true, ...entry.meta }, entry.message);
    }),
    ...(metrics !== undefined && { telemetryOptions: { metrics: { prometheus: { bindAddress: metrics.bindAddress, countersTotalSuffix: true } } } }),
  });
}

const quietBundlerLogger = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string, meta?: Record<string, unknown>) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta ?? ''),
  log: () => {},
};

// The worker's building blocks, for teams that assemble their own worker (`trellis/worker`).
export { createActivities, type ActivityDeps } from './activities/index.js';
export { payloadLimitInterceptor } from './activities/payload-limit.js';
export { chat, EmptyReplyError, InvalidReplyError, type ChatRequest, type ChatResult } from './llm/chat.js';
export { createLlmClient, llmConfigFromEnv, type LlmConfig } from './llm/client.js';
export {
  dataConverterFor,
  DecryptError,
  EncryptionCodec,
  encryptionKeysFromEnv,
  parseEncryptionKeys,
  type EncryptionKey,
  type EncryptionKeys,
} from './codec/index.js';
