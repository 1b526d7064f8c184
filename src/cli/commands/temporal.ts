import type { Command } from 'commander';
import { UsageError } from '../io.js';

export function registerTemporal(program: Command): void {
  program
    .command('temporal')
    .description('run a real Temporal dev server (state kept on disk) until Ctrl-C; installs the Temporal CLI into .trellis/ when none is found')
    .option('--port <n>', 'gRPC port (0: any free port)', '7233')
    .option('--db <file>', 'the database file that keeps runs across restarts (default .trellis/dev.db)')
    .option('--headless', 'no web UI')
    .option('--install-only', 'find or install the Temporal CLI, print its path, and exit')
    .addHelpText(
      'after',
      '\nExamples:\n  $ trellis temporal                # then TEMPORAL_ADDRESS=127.0.0.1:7233\n  $ trellis temporal --install-only',
    )
    .action(async (opts: { port: string; db?: string; headless?: boolean; installOnly?: boolean }) => {
      // Loaded here, not at the top: every trellis command would otherwise pay for Temporal's modules.
      const { DevServerError, TemporalCliError } = await import('../../temporal/index.js');
      try {
        await runTemporal(opts);
      } catch (e) {
        // No CLI, a taken port, a server that would not start: the machine's setup, not the work, so exit 2.
        if (e instanceof TemporalCliError || e instanceof DevServerError) throw new UsageError(e.message);
        throw e;
      }
    });
}

async function runTemporal(opts: { port: string; db?: string; headless?: boolean; installOnly?: boolean }): Promise<void> {
  const { locateTemporalCli, startDevServer } = await import('../../temporal/index.js');
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (opts.installOnly) {
    const cli = await locateTemporalCli({ log });
    if (cli.kind === 'server') {
      await cli.env.teardown();
      throw new UsageError('only the SDK download of the Temporal CLI works here; it gives a server, not a path');
    }
    process.stdout.write(`${cli.path}\n`);
    return;
  }
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, got ${JSON.stringify(opts.port)}`);
  const server = await startDevServer({
    port,
    ui: !opts.headless,
    ...(opts.db !== undefined && { dbFile: opts.db }),
    searchAttributes: { TrellisStatus: 'Keyword' },
    log,
  });
  process.stdout.write(`Temporal dev server at ${server.address} (namespace ${server.namespace}, CLI from ${server.source})\n`);
  if (server.uiUrl) process.stdout.write(`Web UI: ${server.uiUrl}\n`);
  process.stdout.write(`Database: ${server.dbFile}\nStop with Ctrl-C.\n`);
  await new Promise<void>((resolve) => {
    const stop = () => void server.stop().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
