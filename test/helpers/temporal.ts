/** The Temporal server that test/global-setup.ts provides, and connections to it. */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { inject } from 'vitest';

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

/** The connection a Worker needs (the worker side uses the SDK's native connection, not the client's). */
export function connectWorker(): Promise<NativeConnection> {
  // The SDK's default logger prints every worker state change at INFO; test output wants warnings only.
  // The runtime can be configured only before its first use, hence the check.
  if (Runtime._instance === undefined) Runtime.install({ logger: new DefaultLogger('WARN') });
  return NativeConnection.connect({ address: temporalAddress() });
}
