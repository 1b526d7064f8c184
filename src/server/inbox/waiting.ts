/**
 * What waits for a person: every waiting run's pending questions that they may answer (listed by their sub or
 * email, by one of their groups as `group:NAME`, or open to anyone), oldest first.
 */
import type { TrellisClient } from '../../client/client.js';
import { TrellisClientError } from '../../client/errors.js';
import type { PendingApproval, RunView } from '../../engine/messages.js';
import { withPending, type ListedRun } from '../pending.js';
import { mayAnswer, type Principal } from '../auth.js';

/** One question in the inbox, with the run it belongs to. */
export interface WaitingItem {
  run: ListedRun;
  pending: PendingApproval;
}

/** The most waiting runs one listing reads. */
export const MAX_WAITING_RUNS = 1000;

/**
 * The questions `principal` may answer, oldest first (those without askedAt last), and how many waiting runs were
 * read (at most MAX_WAITING_RUNS). What each waits for comes from its memo (withPending): no worker is asked.
 */
export async function waitingFor(client: TrellisClient, principal: Principal): Promise<{ items: WaitingItem[]; runs: number }> {
  const runs = await withPending(client, await client.list({ status: 'waiting', limit: MAX_WAITING_RUNS }));
  const items = runs.flatMap((run) => run.pending.filter((p) => mayAnswer(principal, p.approvers)).map((pending) => ({ run, pending })));
  items.sort((a, b) => (a.pending.askedAt ?? '\uffff').localeCompare(b.pending.askedAt ?? '\uffff'));
  return { items, runs: runs.length };
}

/** The run's status view; undefined when there is no such run. */
export async function runOrUndefined(client: TrellisClient, runId: string): Promise<RunView | undefined> {
  try {
    return await client.status(runId);
  } catch (e) {
    if (e instanceof TrellisClientError && e.code === 'RUN_NOT_FOUND') return undefined;
    throw e;
  }
}
