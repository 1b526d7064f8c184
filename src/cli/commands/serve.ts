import type { Command } from 'commander';
import { blobSettingsFromEnv } from '../../blobs/config.js';
import { encryptionKeysFromEnv } from '../../codec/keys.js';
import { baseUrlSetting, workerConfigFromEnv } from '../../config.js';
import { withClient } from '../client.js';
import { asUsageError, loadCatalog, UsageError } from '../io.js';

interface ServeOpts {
  port: string;
  host: string;
  tools?: string;
  specs?: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('the HTTP API and the approval inbox, on the runs of TRELLIS_TASK_QUEUE; prints its base URL first, then logs')
    .option('--port <n>', 'port (0: any free port)', '8080')
    .option('--host <host>', 'address to listen on (0.0.0.0: reachable from other machines)', '127.0.0.1')
    .option('--tools <module>', 'check started specs against these tools too (default: TRELLIS_TOOLS)')
    .option('--specs <dir>', 'saved specs that `specName` names (default: TRELLIS_SPECS, else ./specs)')
    .addHelpText(
      'after',
      `\nAuth (none configured: every route but /healthz is 401):\n  TRELLIS_API_KEYS=name:secret[:scope+scope],...   services (scopes start, read, decide, admin)\n  TRELLIS_JWKS_URL (+ TRELLIS_JWT_ISSUER, TRELLIS_JWT_AUDIENCE) or TRELLIS_JWT_SECRET   people\n\nExample:\n  $ TRELLIS_API_KEYS=ci:$(openssl rand -hex 24) trellis serve --port 8080`,
    )
    .action(async (opts: ServeOpts) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, got ${opts.port}`);
      const [{ pino }, { authConfigFromEnv, authConfigured }, { startServer }] = await Promise.all([
        import('pino'),
        import('../../server/auth.js'),
        import('../../server/serve.js'),
      ]);
      const env = asUsageError(() => workerConfigFromEnv());
      const auth = asUsageError(() => authConfigFromEnv());
      const publicUrl = asUsageError(() => baseUrlFromEnv('TRELLIS_PUBLIC_URL'));
      const temporalUiUrl = asUsageError(() => baseUrlFromEnv('TRELLIS_TEMPORAL_UI_URL'));
      const encryption = asUsageError(() => encryptionKeysFromEnv());
      const blobs = asUsageError(() => blobSettingsFromEnv());
      const tools = await loadCatalog(opts.tools ?? env.toolsModule);
      const specsDir = opts.specs ?? env.specsDir;
      const logger = pino({ name: 'trellis-serve', level: env.logLevel });
      await withClient(async (client) => {
        const server = await startServer({
          port,
          host: opts.host,
          deps: {
            client,
            auth,
            logger,
            ...(publicUrl && { publicUrl }),
            ...(tools && { tools }),
            ...(specsDir !== undefined && { specsDir }),
            ...(temporalUiUrl && { temporalUiUrl }),
            ...(process.env.TRELLIS_DECISION_KEY && { decisionKey: process.env.TRELLIS_DECISION_KEY }),
            ...(encryption && { encryption }),
            ...(blobs && { blobs }),
          },
        }).catch((e: Error) => Promise.reject(new UsageError(`cannot listen on ${opts.host}:${port}: ${e.message}`)));
        // Listening for the signals before saying where: whoever reads the URL may stop the server at once.
        const stopped = new Promise<void>((resolve) => {
          const stop = () => void server.close().then(resolve);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        process.stdout.write(`${publicUrl ?? server.url}\n`);
        logger.info(
          {
            listening: server.url,
            taskQueue: client.config.taskQueue,
            apiKeys: auth.keys.map((k) => k.name),
            jwt: auth.jwt?.source ?? 'none',
            sessionKey: auth.session.source,
          },
          auth.session.source === 'random' ? 'serving; sessions end when the server stops (set TRELLIS_SESSION_KEY to keep them)' : 'serving',
        );
        if (!authConfigured(auth)) {
          logger.warn(
            'no authentication is configured: every route but /healthz answers 401. Set TRELLIS_API_KEYS, TRELLIS_JWKS_URL or TRELLIS_JWT_SECRET',
          );
        }
        await stopped;
        logger.info('stopped');
      });
    });
}

/** A base URL setting (TRELLIS_PUBLIC_URL, TRELLIS_TEMPORAL_UI_URL), checked as the worker checks it; undefined when unset. */
function baseUrlFromEnv(variable: string): string | undefined {
  const text = process.env[variable];
  return text ? baseUrlSetting(variable, text) : undefined;
}
