/**
 * A real Trellis stack for one test file: the shared Temporal dev server, a mock LLM (real HTTP), a worker
 * on its own task queue (real activities, real openai client), and the typed client.
 */
import type { BlobSettings } from '../../src/blobs/config.js';
import { randomUUID } from 'node:crypto';
import type { Worker } from '@temporalio/worker';
import { TrellisClient } from '../../src/client/index.js';
import type { MockRule } from '../../src/llm/mock-script.js';
import type { NotifyConfig } from '../../src/notify/config.js';
import type { EncryptionKeys } from '../../src/codec/keys.js';
import { startMockLlm, type MockLlmServer } from '../../src/llm/mock-server.js';
import type { Tool } from '../../src/tools/define.js';
import { bundleWorkflows, createTrellisWorker } from '../../src/worker.js';
import { testLogger } from './logs.js';
import { connectWorker, temporalAddress, temporalNamespace } from './temporal.js';

let bundle: Promise<{ code: string }> | undefined;

export interface Harness {
  client: TrellisClient;
  mock: MockLlmServer;
  taskQueue: string;
  worker: Worker;
  /** Stops the worker (waits for it), the mock and the client. */
  stop(): Promise<void>;
  /** Starts another worker on the same task queue (after a crash, say). */
  startWorker(): Promise<{ worker: Worker; done: Promise<void> }>;
}

export async function startHarness(options: {
  tools: readonly Tool[];
  rules?: MockRule[];
  maxCachedWorkflows?: number;
  /** Saved specs that call steps name. */
  specsDir?: string;
  /** The worker's decision key: it then takes only signed answers. */
  decisionKey?: string;
  /** The client's decision key (it signs its answers); none by default, even when the worker has one. */
  clientDecisionKey?: string;
  /** Where the worker's notifications go. Default: none. */
  notify?: NotifyConfig;
  /** The payload keys of the worker and the client. Default: none (whatever the environment says). */
  encryption?: EncryptionKeys;
  /** The blob store of the worker and the client. Default: none (whatever the environment says). */
  blobs?: BlobSettings;
  /** The namespace of the worker and the client. Default: the test server's. */
  namespace?: string;
}): Promise<Harness> {
  bundle ??= bundleWorkflows();
  const taskQueue = `test-${randomUUID()}`;
  const mock = await startMockLlm({ rules: options.rules ?? [] });
  const connection = await connectWorker();
  const temporal = { address: temporalAddress(), namespace: options.namespace ?? temporalNamespace(), taskQueue };
  const logger = testLogger('warn');
  const startWorker = async () => {
    const { worker } = await createTrellisWorker({
      tools: options.tools,
      temporal,
      llm: { baseURL: mock.baseUrl, model: 'mock-model' },
      connection,
      workflowBundle: await bundle!,
      logger,
      ...(options.maxCachedWorkflows !== undefined && { maxCachedWorkflows: options.maxCachedWorkflows }),
      ...(options.specsDir !== undefined && { specsDir: options.specsDir }),
      ...(options.decisionKey !== undefined && { decisionKey: options.decisionKey }),
      encryption: options.encryption ?? null,
      blobs: options.blobs ?? null,
      notify: options.notify ?? {
        targets: [],
        links: { publicUrl: 'http://127.0.0.1:8080', temporalUiUrl: 'http://localhost:8233', namespace: 'default' },
      },
    });
    return { worker, done: worker.run() };
  };
  const first = await startWorker();
  const client = await TrellisClient.connect(temporal, {
    ...(options.clientDecisionKey !== undefined && { decisionKey: options.clientDecisionKey }),
    encryption: options.encryption ?? null,
    blobs: options.blobs ?? null,
  });
  return {
    client,
    mock,
    taskQueue,
    worker: first.worker,
    startWorker,
    async stop() {
      if (first.worker.getState() === 'RUNNING') first.worker.shutdown();
      await first.done.catch(() => {});
      await client.close();
      await mock.close();
      await connection.close();
    },
  };
}
