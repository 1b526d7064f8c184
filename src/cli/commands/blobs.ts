import type { Command } from 'commander';
import { withClient } from '../client.js';
import { asUsageError, UsageError } from '../io.js';

export function registerBlobs(program: Command): void {
  const blobs = program
    .command('blobs')
    .description('the blob store that keeps large payloads outside run histories (TRELLIS_BLOB_STORE)')
    .addHelpText('after', '\nExample:\n  $ trellis blobs gc --dry-run');
  blobs
    .command('gc')
    .description("delete the blobs no run's history refers to any more (their runs are past the namespace's retention, or deleted)")
    .option('--older-than <duration>', 'keep blobs younger than this whatever refers to them (a blob being written is in no history yet)', '1h')
    .option('--dry-run', 'count what would be deleted, delete nothing')
    .addHelpText(
      'after',
      '\nIt reads every history the namespace still has (open runs, and ended ones within retention), so run it where it can reach Temporal and the store.\n' +
        'Example:\n  $ TRELLIS_BLOB_STORE=s3://acme-trellis/blobs trellis blobs gc --older-than 24h',
    )
    .action(async (opts: { olderThan: string; dryRun?: boolean }) => {
      const [{ blobSettingsFromEnv, collectBlobs }, { parseDuration, DURATION_HELP }] = await Promise.all([
        import('../../blobs/index.js'),
        import('../../spec/duration.js'),
      ]);
      const graceMs = parseDuration(opts.olderThan);
      if (graceMs === undefined) throw new UsageError(`--older-than: ${DURATION_HELP}, got ${JSON.stringify(opts.olderThan)}`);
      const settings = asUsageError(() => blobSettingsFromEnv());
      if (!settings) throw new UsageError('TRELLIS_BLOB_STORE is "none": there is no blob store to collect');
      await withClient(async (client) => {
        const r = await collectBlobs({
          service: client.temporal.workflowService,
          namespace: client.config.namespace,
          store: settings.store,
          graceMs,
          dryRun: opts.dryRun === true,
        });
        const n = (x: number) => x.toLocaleString('en-US');
        process.stdout.write(
          [
            `${settings.store.location}: read ${n(r.runs)} run histories in namespace ${client.config.namespace}, which refer to ${n(r.referenced)} blobs`,
            `kept ${n(r.kept)} referred to, ${n(r.young)} younger than ${opts.olderThan}`,
            `${opts.dryRun ? 'would delete' : 'deleted'} ${n(r.deleted)} (${n(r.deletedBytes)} bytes)`,
          ].join('\n') + '\n',
        );
      });
    });
}
