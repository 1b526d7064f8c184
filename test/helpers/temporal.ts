/** The Temporal server that test/global-setup.ts provides, and connections to it. */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { inject } from 'vitest';
import { sdkRuntimeOptions } from './logs.js';

export function temporalAddress(): string {
  return inject('temporalAddress');
}

export function temporalNamespace(): string {
  return inject('temporalNamespace');
}

/** A client on the test server; call close() when done (an open connection keeps the worker process alive). */
export async function connectClient(): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address: temporalAddress() });
  const client = new Client({ connection, namespace: temporalNamespace() });
  return { client, close: () => connection.close() };
}

/**
 * Installs the SDK runtime the tests want, before a worker (or a replay) would install the SDK's default one:
 * that logger prints every worker state change at INFO, and the failures the tests provoke at WARN, straight to
 * stderr. ./logs.ts keeps warnings and errors only, out of a passing test's output (TRELLIS_TEST_LOGS=1 shows
 * them). The runtime can be configured only before its first use, hence the check.
 */
export function installTestRuntime(): void {
  if (Runtime._instance === undefined) Runtime.install(sdkRuntimeOptions());
}

/** The connection a Worker needs (the worker side uses the SDK's native connection, not the client's). */
export function connectWorker(): Promise<NativeConnection> {
  installTestRuntime();
  return NativeConnection.connect({ address: temporalAddress() });
}
