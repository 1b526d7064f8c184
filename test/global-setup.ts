/**
 * One Temporal server for the whole test run: the user's own when TEMPORAL_ADDRESS is set, else a real dev
 * server started here (installing the CLI into .trellis on a fresh clone) on free ports with a throwaway db.
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

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const ownAddress = process.env.TEMPORAL_ADDRESS;
  if (ownAddress) {
    const namespace = process.env.TEMPORAL_NAMESPACE || 'default';
    project.provide('temporalAddress', ownAddress);
    project.provide('temporalNamespace', namespace);
    console.log(`Tests use your Temporal server at ${ownAddress} (TEMPORAL_ADDRESS), namespace ${namespace}.`);
    return undefined;
  }

  const dir = await mkdtemp(path.join(tmpdir(), 'trellis-test-temporal-'));
  const server = await startDevServer({
    port: 'auto',
    ui: false,
    dbFile: path.join(dir, 'dev.db'),
    searchAttributes: { TrellisStatus: 'Keyword' },
  });
  project.provide('temporalAddress', server.address);
  project.provide('temporalNamespace', server.namespace);
  console.log(`Tests use a Temporal dev server at ${server.address} (CLI from ${server.source}).`);

  return async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
