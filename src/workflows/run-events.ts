/**
 * A run's event log: what the events query answers and `trellis serve` streams. Numbered from 1 in the order the
 * workflow records them, so the numbers are the same on every replay and a reader resumes after the last it saw.
 */
import type { RunEvent, RunEvents, RunEventType } from '../engine/messages.js';
import { jsonBytes } from '../engine/payload.js';

/** Events kept in memory; a reader further behind gets the oldest kept (its `seq` shows the gap). */
const MAX_KEPT = 2000;
/** Events in one answer. */
const MAX_PER_ANSWER = 500;

export class EventLog {
  private readonly kept: RunEvent[] = [];
  private seq = 0;
  private endedAt: number | undefined;

  add(type: RunEventType, at: string, step?: string, data?: Record<string, unknown>): void {
    this.kept.push({ seq: ++this.seq, type, at, ...(step !== undefined && { step }), ...(data !== undefined && { data }) });
    if (type === 'run.ended') this.endedAt = this.seq;
    if (this.kept.length > MAX_KEPT) this.kept.shift();
  }

  /**
   * The events after `after` (a seq; anything else reads as 0), within `maxBytes`. An event too big for an answer of
   * its own keeps its type and step, and its data says how big it was: `{ omitted: bytes }`.
   */
  after(after: unknown, maxBytes: number): RunEvents {
    const from = typeof after === 'number' && Number.isSafeInteger(after) && after > 0 ? after : 0;
    const events: RunEvent[] = [];
    let bytes = 100;
    for (const e of this.kept) {
      if (e.seq <= from) continue;
      const size = jsonBytes(e) + 1;
      const fits = size + 100 <= maxBytes;
      if (events.length >= MAX_PER_ANSWER || (events.length > 0 && bytes + size > maxBytes)) break;
      bytes += fits ? size : 200;
      events.push(fits ? e : { ...e, data: { omitted: size } });
    }
    const next = events.at(-1)?.seq ?? Math.min(from, this.seq);
    return { events, next, ended: this.endedAt !== undefined && next >= this.endedAt };
  }
}
