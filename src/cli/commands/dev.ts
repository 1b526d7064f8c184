import type { Command } from 'commander';
import { deploymentFromEnv, temporalConfigFromEnv, workerConfigFromEnv } from '../../config.js';
import type { Logger } from 'pino';
import type { EncryptionKeys } from '../../codec/keys.js';
import type { Tool } from '../../tools/index.js';
import { asUsageError, loadTools, UsageError } from '../io.js';
import { runWorker } from './worker.js';

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('a Temporal dev server (runs kept on disk in .trellis/dev.db) and a worker, until Ctrl-C; prints the UI address')
    .option('--tools <module>', 'the tools module (default: TRELLIS_TOOLS)')
    .option('--port <n>', 'the Temporal port', '7233')
    .option('--db <file>', 'the database file (default .trellis/dev.db)')
    .option(
      '--encrypt',
      'encrypt every payload: with TRELLIS_ENCRYPTION_KEYS (or _FILE), else a key made once in .trellis/encryption.keys; starts trellis serve too, whose codec the UI decodes with',
    )
    .option('--serve-port <n>', 'with --encrypt: the port of trellis serve (the inbox and the codec)', '8080')
    .addHelpText('after', '\nExample:\n  $ OPENAI_BASE_URL=http://127.0.0.1:8787/v1 trellis dev --tools examples/tools.ts')
    .action(async (opts: { tools?: string; port: string; db?: string; encrypt?: boolean; servePort: string }) => {
      const [
        { pino },
        { DevServerError, startDevServer, TemporalCliError, STATUS_SEARCH_ATTRIBUTE, trellisHome },
        { createTrellisWorker, encryptionKeysFromEnv },
        { ensureDevKeyFile },
        devServe,
      ] = await Promise.all([
        import('pino'),
        import('../../temporal/index.js'),
        import('../../worker.js'),
        import('../../codec/dev-key.js'),
        import('../dev-serve.js'),
      ]);
      const env = asUsageError(() => workerConfigFromEnv());
      if (opts.encrypt && !process.env.TRELLIS_ENCRYPTION_KEYS && !process.env.TRELLIS_ENCRYPTION_KEY_FILE) {
        // The worker and every other shell read the same file: the variable says where it is.
        process.env.TRELLIS_ENCRYPTION_KEY_FILE = await ensureDevKeyFile(trellisHome());
      }
      const encryption = asUsageError(() => encryptionKeysFromEnv());
      const module = opts.tools ?? env.toolsModule;
      const tools = module ? await loadTools(module) : [];
      const log = (line: string) => process.stderr.write(`${line}\n`);
      // With --encrypt, serve's codec is how the UI reads the runs: its URL is given to the UI as the server starts.
      const servePort = opts.encrypt && encryption ? Number(opts.servePort) : undefined;
      if (servePort !== undefined) {
        if (!Number.isInteger(servePort) || servePort < 1 || servePort > 65535)
          throw new UsageError(`--serve-port must be a port number, got ${opts.servePort}`);
        await devServe.checkServePortFree(servePort);
      }
      let server;
      try {
        server = await startDevServer({
          port: Number(opts.port),
          ...(opts.db !== undefined && { dbFile: opts.db }),
          searchAttributes: { [STATUS_SEARCH_ATTRIBUTE]: 'Keyword' },
          ...(servePort !== undefined && { uiCodecEndpoint: devServe.devCodecEndpoint(servePort) }),
          log,
        });
      } catch (e) {
        if (e instanceof TemporalCliError || e instanceof DevServerError) throw new UsageError(e.message);
        throw e;
      }
      const logger = pino({ name: 'trellis-dev', level: env.logLevel });
      let serve: { lines: string[]; close(): Promise<void> } | undefined;
      try {
        const deployment = asUsageError(() => deploymentFromEnv());
        const handle = await createTrellisWorker({
          tools,
          logger,
          temporal: { address: server.address, namespace: server.namespace },
          encryption: encryption ?? null,
          deployment: deployment ?? null,
        });
        const keyFile = process.env.TRELLIS_ENCRYPTION_KEY_FILE;
        if (servePort !== undefined && encryption && server.uiUrl) {
          serve = await startServe(devServe, { port: servePort, server, encryption, tools, logger, uiUrl: server.uiUrl });
        }
        process.stdout.write(
          [
            `Temporal dev server: ${server.address} (state in ${server.dbFile})`,
            ...(server.uiUrl ? [`Temporal UI: ${server.uiUrl}`] : []),
            `Worker on task queue ${temporalConfigFromEnv().taskQueue} with tools: ${tools.map((t) => t.name).join(', ') || 'none'}`,
            ...(encryption
              ? [
                  `Payloads are encrypted with the key "${encryption.current.id}"${keyFile ? ` (in ${keyFile})` : ''}: other shells need the same setting`,
                ]
              : []),
            ...(serve?.lines ?? []),
            `In another shell: TEMPORAL_ADDRESS=${server.address}${keyFile ? ` TRELLIS_ENCRYPTION_KEY_FILE=${keyFile}` : ''} trellis run SPEC --wait`,
            'Stop with Ctrl-C.',
          ].join('\n') + '\n',
        );
        // A versioned worker gets new runs only once its version is current: dev makes it so.
        await runWorker(handle, deployment && { namespace: server.namespace, deployment, identity: 'trellis dev', logger });
      } finally {
        await serve?.close();
        await server.stop();
      }
    });
}

/** `trellis serve` beside the worker (dev-serve.ts), with its own client, and what to print about it. */
async function startServe(
  devServe: typeof import('../dev-serve.js'),
  o: {
    port: number;
    server: { address: string; namespace: string };
    uiUrl: string;
    encryption: EncryptionKeys;
    tools: readonly Tool[];
    logger: Logger;
  },
): Promise<{ lines: string[]; close(): Promise<void> }> {
  const [{ TrellisClient }, { trellisHome }, { toolCatalog }] = await Promise.all([
    import('../../client/index.js'),
    import('../../temporal/index.js'),
    import('../../tools/index.js'),
  ]);
  const client = await TrellisClient.connect({ address: o.server.address, namespace: o.server.namespace }, { encryption: o.encryption });
  try {
    const { server, signIn } = await devServe.startDevServe({
      port: o.port,
      home: trellisHome(),
      client,
      encryption: o.encryption,
      temporalUiUrl: o.uiUrl,
      tools: toolCatalog(o.tools),
      logger: o.logger,
    });
    const codec = devServe.devCodecEndpoint(o.port);
    return {
      lines: [
        `trellis serve: ${server.url} (the inbox, and the codec the UI decodes payloads with: ${codec})`,
        `Inbox: ${server.url}/inbox: ${signIn}`,
        `To read payloads in the Temporal UI: sign in to the inbox in the same browser, then in the UI's Codec Server settings choose ` +
          `"Use my browser setting", endpoint ${codec}, and turn on "Include cross-origin credentials" (the dev server cannot set it)`,
      ],
      close: async () => {
        await server.close();
        await client.close();
      },
    };
  } catch (e) {
    await client.close();
    throw e;
  }
}
