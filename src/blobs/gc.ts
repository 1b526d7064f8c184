/**
 * `trellis blobs gc`: deletes the blobs no run refers to any more. Temporal deletes a run's history when the
 * namespace's retention has passed; its blobs stay until this runs. Mark and sweep: every history the namespace still
 * has (open runs and ended ones within retention) is read raw and its blob references collected; then every blob that
 * none refers to and that is older than the grace period is deleted. The grace period keeps blobs that a process
 * has just written for a payload not yet in any history (a run being started, a query's answer). If any history
 * cannot be read, nothing is deleted.
 */
import type { WorkflowService } from '@temporalio/client';
import { BLOB_REF_ENCODING, readBlobRef } from './claim-check.js';
import type { BlobStore } from './store.js';

export interface CollectOptions {
  /** Temporal's WorkflowService (a client's `workflowService`): histories are read raw, never decoded. */
  service: WorkflowService;
  namespace: string;
  store: BlobStore;
  /** Blobs younger than this are kept whether or not a history refers to them. Default one hour. */
  graceMs?: number;
  /** Count what would be deleted, delete nothing. */
  dryRun?: boolean;
  now?: Date;
}

export interface CollectReport {
  /** Run histories read. */
  runs: number;
  /** Distinct blobs those histories refer to. */
  referenced: number;
  /** Blobs in the store kept because a history refers to them. */
  kept: number;
  /** Blobs kept only because they are younger than the grace period. */
  young: number;
  /** Blobs deleted (or, with dryRun, that would be). */
  deleted: number;
  deletedBytes: number;
}

export const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000;
/** Histories read at once. */
const READERS = 8;

export async function collectBlobs(options: CollectOptions): Promise<CollectReport> {
  const { service, namespace, store } = options;
  const grace = options.graceMs ?? DEFAULT_GC_GRACE_MS;
  const now = (options.now ?? new Date()).getTime();
  const referenced = new Set<string>();
  let runs = 0;
  const listed = executions(service, namespace)[Symbol.asyncIterator]();
  // A few histories at a time: the server answers each at its own pace. An async generator queues concurrent next()s.
  const lane = async (): Promise<void> => {
    for (let next = await listed.next(); !next.done; next = await listed.next()) {
      runs++;
      for await (const history of historyPages(service, namespace, next.value)) for (const sha of referencesIn(history)) referenced.add(sha);
    }
  };
  await Promise.all(Array.from({ length: READERS }, lane));
  const report: CollectReport = { runs, referenced: referenced.size, kept: 0, young: 0, deleted: 0, deletedBytes: 0 };
  for await (const blob of store.list()) {
    if (referenced.has(blob.sha256)) report.kept++;
    else if (now - blob.modified.getTime() < grace) report.young++;
    else {
      if (!options.dryRun) await store.delete(blob.sha256);
      report.deleted++;
      report.deletedBytes += blob.size;
    }
  }
  return report;
}

/** Every execution the namespace lists, open and closed. */
async function* executions(service: WorkflowService, namespace: string): AsyncIterable<{ workflowId: string; runId: string }> {
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await service.listWorkflowExecutions({ namespace, pageSize: 1000, nextPageToken });
    for (const e of page.executions ?? []) {
      if (e.execution?.workflowId && e.execution.runId) yield { workflowId: e.execution.workflowId, runId: e.execution.runId };
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
}

/** gRPC's RESOURCE_EXHAUSTED: a page larger than the client takes (4 MB), from a history of large payloads kept inline. */
const RESOURCE_EXHAUSTED = 8;
const NOT_FOUND = 5;

/**
 * A run's history, a page at a time. Pages start at 256 events and shrink eightfold whenever one is too large for the client
 * (events hold payloads of up to 2 MB each when they are not stored); one event always fits.
 */
async function* historyPages(service: WorkflowService, namespace: string, execution: { workflowId: string; runId: string }): AsyncIterable<unknown> {
  let nextPageToken: Uint8Array | undefined;
  let maximumPageSize = 256;
  for (;;) {
    let page;
    try {
      page = await service.getWorkflowExecutionHistory({ namespace, execution, nextPageToken, maximumPageSize });
    } catch (e) {
      // Deleted since it was listed (retention runs as gc does): it refers to nothing any more.
      if ((e as { code?: number }).code === NOT_FOUND) return;
      if ((e as { code?: number }).code !== RESOURCE_EXHAUSTED || maximumPageSize === 1) throw e;
      maximumPageSize = Math.max(1, Math.floor(maximumPageSize / 8));
      continue;
    }
    yield page.history;
    if (!page.nextPageToken?.length) return;
    nextPageToken = page.nextPageToken;
  }
}

const REF_ENCODING = new TextEncoder().encode(BLOB_REF_ENCODING);

/** The blob hashes of every reference anywhere in `value` (a raw history: events, failures, memos, markers). */
export function referencesIn(value: unknown): string[] {
  const found: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) continue;
    const encoding = (v as { metadata?: Record<string, unknown> }).metadata?.encoding;
    if (encoding instanceof Uint8Array && sameBytes(encoding, REF_ENCODING)) {
      found.push(readBlobRef(v as { data?: Uint8Array }).sha256);
      continue;
    }
    for (const child of Object.values(v)) stack.push(child);
  }
  return found;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
