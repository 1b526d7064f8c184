import type { Command } from 'commander';
import { temporalConfigFromEnv, workerConfigFromEnv } from '../../config.js';
import { asUsageError, loadTools, UsageError } from '../io.js';

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('a Temporal dev server (runs kept on disk in .trellis/dev.db) and a worker, until Ctrl-C; prints the UI address')
    .option('--tools <module>', 'the tools module (default: TRELLIS_TOOLS)')
    .option('--port <n>', 'the Temporal port', '7233')
    .option('--db <file>', 'the database file (default .trellis/dev.db)')
    .option('--encrypt', 'encrypt every payload: with TRELLIS_ENCRYPTION_KEYS (or _FILE), else a key made once in .trellis/encryption.keys')
    .addHelpText('after', '\nExample:\n  $ OPENAI_BASE_URL=http://127.0.0.1:8787/v1 trellis dev --tools examples/tools.ts')
    .action(async (opts: { tools?: string; port: string; db?: string; encrypt?: boolean }) => {
      const [
        { pino },
        { DevServerError, startDevServer, TemporalCliError, STATUS_SEARCH_ATTRIBUTE, trellisHome },
        { createTrellisWorker, encryptionKeysFromEnv },
        { ensureDevKeyFile },
      ] = await Promise.all([import('pino'), import('../../temporal/index.js'), import('../../worker.js'), import('../../codec/dev-key.js')]);
      const env = asUsageError(() => workerConfigFromEnv());
      if (opts.encrypt && !process.env.TRELLIS_ENCRYPTION_KEYS && !process.env.TRELLIS_ENCRYPTION_KEY_FILE) {
        // The worker and every other shell read the same file: the variable says where it is.
        process.env.TRELLIS_ENCRYPTION_KEY_FILE = await ensureDevKeyFile(trellisHome());
      }
      const encryption = asUsageError(() => encryptionKeysFromEnv());
      const module = opts.tools ?? env.toolsModule;
      const tools = module ? await loadTools(module) : [];
      const log = (line: string) => process.stderr.write(`${line}\n`);
      let server;
      try {
        server = await startDevServer({
          port: Number(opts.port),
          ...(opts.db !== undefined && { dbFile: opts.db }),
          searchAttributes: { [STATUS_SEARCH_ATTRIBUTE]: 'Keyword' },
          log,
        });
      } catch (e) {
        if (e instanceof TemporalCliError || e instanceof DevServerError) throw new UsageError(e.message);
        throw e;
      }
      const logger = pino({ name: 'trellis-dev', level: env.logLevel });
      try {
        const { worker, close } = await createTrellisWorker({
          tools,
          logger,
          temporal: { address: server.address, namespace: server.namespace },
          encryption: encryption ?? null,
        });
        const keyFile = process.env.TRELLIS_ENCRYPTION_KEY_FILE;
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
            `In another shell: TEMPORAL_ADDRESS=${server.address}${keyFile ? ` TRELLIS_ENCRYPTION_KEY_FILE=${keyFile}` : ''} trellis run SPEC --wait`,
            'Stop with Ctrl-C.',
          ].join('\n') + '\n',
        );
        await worker.run();
        await close();
      } finally {
        await server.stop();
      }
    });
}
