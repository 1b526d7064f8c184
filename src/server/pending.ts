/**
 * What listed runs wait for. A waiting run keeps it in its memo, which the list gives, so a list of a thousand waiting
 * runs asks no worker; only a run without the memo (started by an older Trellis) is asked through its status.
 */
import type { RunSummary, TrellisClient } from '../client/client.js';
import { TrellisClientError } from '../client/errors.js';
import type { PendingApproval } from '../engine/messages.js';

/** A listed run with what it waits for (empty for a run that does not wait). */
export type ListedRun = RunSummary & { pending: PendingApproval[] };

/** Status queries in flight at once for runs without the memo: each is a round trip to a worker. */
const PARALLEL_QUERIES = 16;

/** `runs` with what each waits for, in order. A run that is gone by the time it is asked waits for nothing. */
export async function withPending(client: TrellisClient, runs: readonly RunSummary[]): Promise<ListedRun[]> {
  const out = new Array<ListedRun>(runs.length);
  const asked: number[] = [];
  runs.forEach((run, i) => {
    if (run.pending) out[i] = { ...run, pending: run.pending };
    else asked.push(i);
  });
  let next = 0;
  const reader = async () => {
    for (let k = next++; k < asked.length; k = next++) {
      const run = runs[asked[k]!]!;
      out[asked[k]!] = { ...run, pending: await statusPending(client, run.runId) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_QUERIES, asked.length) }, reader));
  return out;
}

async function statusPending(client: TrellisClient, runId: string): Promise<PendingApproval[]> {
  try {
    return (await client.status(runId)).pending;
  } catch (e) {
    // Listed, then gone (a namespace reset, a retention sweep): it waits for nothing.
    if (e instanceof TrellisClientError && e.code === 'RUN_NOT_FOUND') return [];
    throw e;
  }
}
