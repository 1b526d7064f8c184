/**
 * One Temporal server for the whole test run: the user's own when TEMPORAL_ADDRESS is set, else a real dev
 * server started here (installing the CLI into .trellis on a fresh clone) on free ports with a throwaway db.
 *
 * The `integration` and `e2e` projects (vitest.config.ts) both name this file, and vitest runs a project's
 * global setup once per project, in the one main process, one project after the other. So the server lives
 * on globalThis: the first project to set up starts it, the next one reuses it, and the last one to tear
 * down stops it. The `unit` project does not name this file, so `--project unit` starts no server.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDevServer } from '../src/temporal/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
  }
}

interface SharedServer {
  /** Resolves to the server's address and namespace, and how to stop it (nothing to stop for the user's own). */
  ready: Promise<{ address: string; namespace: string; stop: () => Promise<void> }>;
  /** The projects set up and not yet torn down. */
  users: number;
}

const KEY = Symbol.for('trellis.test.temporalServer');
const shared = globalThis as typeof globalThis & { [KEY]?: SharedServer };

async function start(): Promise<{ address: string; namespace: string; stop: () => Promise<void> }> {
  const ownAddress = process.env.TEMPORAL_ADDRESS;
  if (ownAddress) {
    const namespace = process.env.TEMPORAL_NAMESPACE || 'default';
    console.log(`Tests use your Temporal server at ${ownAddress} (TEMPORAL_ADDRESS), namespace ${namespace}.`);
    return { address: ownAddress, namespace, stop: async () => {} };
  }

  const dir = await mkdtemp(path.join(tmpdir(), 'trellis-test-temporal-'));
  const server = await startDevServer({
    port: 'auto',
    ui: false,
    dbFile: path.join(dir, 'dev.db'),
    searchAttributes: { TrellisStatus: 'Keyword' },
  });
  console.log(`Tests use a Temporal dev server at ${server.address} (CLI from ${server.source}).`);
  return {
    address: server.address,
    namespace: server.namespace,
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const entry = (shared[KEY] ??= { ready: start(), users: 0 });
  entry.users += 1;
  let server;
  try {
    server = await entry.ready;
  } catch (err) {
    // Let a later run in the same process (watch mode) try again rather than reuse the failure.
    entry.users -= 1;
    if (shared[KEY] === entry) delete shared[KEY];
    throw err;
  }
  project.provide('temporalAddress', server.address);
  project.provide('temporalNamespace', server.namespace);

  return async () => {
    entry.users -= 1;
    if (entry.users > 0) return;
    if (shared[KEY] === entry) delete shared[KEY];
    await server.stop();
  };
}
