/**
 * A run's events as they happen, read through the events query only: a query adds nothing to the run's history
 * (no signal, no update), so any number of watchers cost the run nothing but a worker's answer to each poll.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunEvent, RunEvents } from '../engine/messages.js';

/** How watch reads: where to resume, when to stop, and how often to ask while the run is quiet. */
export interface WatchOptions {
  /** Resume after this seq: only later events come. Default 0 (the whole run). */
  after?: number;
  /** Stops the watch: the iterator then ends (it does not throw). */
  signal?: AbortSignal;
  /** The first wait after a quiet answer, in ms; it doubles while the run stays quiet. Default 250. */
  minPollMs?: number;
  /** The longest wait between two asks, in ms. Default 2,000. */
  maxPollMs?: number;
}

/** What watch reads from: TrellisClient.events. */
export type EventsReader = (runId: string, after: number) => Promise<RunEvents>;

/**
 * The run's events after `options.after`, in order, each once, ending after `run.ended`. While the run is quiet it
 * asks less often (from minPollMs up to maxPollMs), and at once again after an event. A run that has ended yields
 * the events its worker still gives and ends; with no worker to answer, its `run.ended` alone (seq
 * Number.MAX_SAFE_INTEGER, from the ended run's view). Throws what `events` throws (RUN_NOT_FOUND; NO_WORKER when no
 * worker answers for a run that has not ended).
 */
export async function* watchEvents(events: EventsReader, runId: string, options: WatchOptions = {}): AsyncGenerator<RunEvent, void, undefined> {
  const minMs = options.minPollMs ?? 250;
  const maxMs = Math.max(minMs, options.maxPollMs ?? 2_000);
  const { signal } = options;
  let after = options.after ?? 0;
  let waitMs = minMs;
  while (!signal?.aborted) {
    const page = await events(runId, after);
    // Only what comes after the last one given: an answer never repeats an event, even across a worker's restart.
    const fresh = page.events.filter((e) => e.seq > after);
    for (const event of fresh) {
      after = event.seq;
      yield event;
      if (event.type === 'run.ended') return;
    }
    if (page.ended) return;
    // After events, ask again at once (more may be waiting); while quiet, wait longer each time.
    if (fresh.length > 0) {
      waitMs = minMs;
      continue;
    }
    const slept = await sleep(waitMs, true, signal ? { signal } : {}).catch(() => false);
    if (!slept) return;
    waitMs = Math.min(waitMs * 2, maxMs);
  }
}
