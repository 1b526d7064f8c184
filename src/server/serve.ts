/** Serves the app on Node: listen, say where, and close at once (open event streams and long polls end too). */
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import { createServerApp } from './app.js';
import type { ServerDeps } from './deps.js';

export interface ServerOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1: only this machine; 0.0.0.0 to be reached from others. */
  host?: string;
  /** Without `signal` (startServer makes one, aborted by close()); without `publicUrl`, it is where the server listens. */
  deps: Omit<ServerDeps, 'signal' | 'publicUrl'> & { publicUrl?: string };
}

export interface RunningServer {
  /** Where it listens: `http://127.0.0.1:PORT`. */
  url: string;
  /** Ends the event streams and long polls, stops accepting connections and waits for the open ones to end. */
  close(): Promise<void>;
}

/** How long close() waits for requests in flight before it drops their connections. */
const CLOSE_GRACE_MS = 5_000;

/**
 * Starts the HTTP server. `deps.publicUrl` is what links say (default: where it listens); the URL it listens at
 * comes back.
 *
 * @example
 * ```ts
 * const server = await startServer({ port: 0, deps: { client, auth, publicUrl: 'https://trellis.example.com' } });
 * // ...
 * await server.close();
 * ```
 */
export async function startServer({ port = 0, host = '127.0.0.1', deps }: ServerOptions): Promise<RunningServer> {
  const closing = new AbortController();
  let app: ReturnType<typeof createServerApp> | undefined;
  // The app is made once the port is known: without a public URL, links point where the server listens.
  const server = createAdaptorServer({ fetch: (request, env) => app!.fetch(request, env) }) as Server;
  const url = await new Promise<string>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const listening = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
      app = createServerApp({ ...deps, publicUrl: deps.publicUrl ?? listening, signal: closing.signal });
      resolve(listening);
    });
  });
  let closed: Promise<void> | undefined;
  return {
    url,
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        // A connection whose stream or poll just ended stays open for keep-alive: close each once it is idle.
        const idle = setInterval(() => server.closeIdleConnections(), 50);
        server.close(() => {
          clearTimeout(force);
          clearInterval(idle);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}
