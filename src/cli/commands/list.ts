import type { Command } from 'commander';
import { RUN_STATUSES, type RunStatus } from '../../engine/state.js';
import { formatCost } from '../../pricing/cost.js';
import type { RunSummary } from '../../client/client.js';
import { withClient } from '../client.js';
import { UsageError } from '../io.js';

const STATUSES: readonly RunStatus[] = RUN_STATUSES;

export function registerList(program: Command): void {
  program
    .command('list')
    .description('runs, newest first; --status filters with a visibility query')
    .option('--status <status>', `one of ${STATUSES.join(', ')}`)
    .option('--limit <n>', 'at most this many runs', '1000')
    .option('--json', 'print a JSON array of { "runId", "name", "status", "startedAt", "usage"? } (usage: an ended run\'s tokens and cost)')
    .addHelpText('after', '\nExample:\n  $ trellis list --status waiting')
    .action(async (opts: { status?: string; limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive whole number, got ${opts.limit}`);
      if (opts.status !== undefined && !STATUSES.includes(opts.status as RunStatus))
        throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`);
      await withClient(async (client) => {
        const runs = await client.list({ limit, ...(opts.status ? { status: opts.status as RunStatus } : {}) });
        if (opts.json) process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
        else
          for (const r of runs) process.stdout.write(`${r.runId}  ${r.status.padEnd(9)}  ${r.startedAt}  ${used(r.usage).padEnd(10)}  ${r.name}\n`);
      });
    });
}

/** An ended run's cost (`$0.0123`, `unknown`), `-` when it made no model call or has not ended. */
function used(usage: RunSummary['usage']): string {
  if (!usage?.cost) return '-';
  return usage.cost.unknown ? 'unknown' : formatCost(usage.cost);
}
