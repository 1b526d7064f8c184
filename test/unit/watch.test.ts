/**
 * watchEvents over a scripted events reader: each event once and in order even when answers overlap, the end at
 * run.ended (or at an answer that says the run has ended), a resume after a seq, and an abort that ends the watch.
 * And what `trellis watch` draws from the events: its live table (fitted to the terminal) and its piped lines.
 */
import { describe, expect, it } from 'vitest';
import { Board, eventLine } from '../../src/cli/commands/watch.js';
import { watchEvents } from '../../src/client/watch.js';
import type { RunEvent, RunEvents, RunView } from '../../src/engine/messages.js';

const ev = (seq: number, type: RunEvent['type'] = 'step.started'): RunEvent => ({ seq, type, at: '2026-12-02T00:00:00.000Z', step: `s${seq}` });

/** A reader that gives the pages in turn (the last one again once they run out), and records what it was asked. */
function scripted(pages: RunEvents[]) {
  const asked: number[] = [];
  const read = async (_runId: string, after: number) => {
    asked.push(after);
    return pages[Math.min(asked.length - 1, pages.length - 1)]!;
  };
  return { asked, read };
}

async function all(it: AsyncIterable<RunEvent>): Promise<number[]> {
  const seqs: number[] = [];
  for await (const e of it) seqs.push(e.seq);
  return seqs;
}

const fast = { minPollMs: 1, maxPollMs: 2 };

describe('watchEvents', () => {
  it('gives each event once, in order, across overlapping and empty answers, and ends after run.ended', async () => {
    const { asked, read } = scripted([
      { events: [ev(1), ev(2)], next: 2, ended: false },
      { events: [ev(2), ev(3)], next: 3, ended: false },
      { events: [], next: 3, ended: false },
      { events: [ev(3), ev(4), ev(5, 'run.ended')], next: 5, ended: true },
    ]);
    expect(await all(watchEvents(read, 'r', fast))).toEqual([1, 2, 3, 4, 5]);
    // Each ask is after the last event given.
    expect(asked).toEqual([0, 2, 3, 3]);
  });

  it('resumes after a seq, and ends at once when the run has ended and nothing comes after it', async () => {
    const { asked, read } = scripted([{ events: [ev(7), ev(8, 'run.ended')], next: 8, ended: true }]);
    expect(await all(watchEvents(read, 'r', { ...fast, after: 7 }))).toEqual([8]);
    expect(asked).toEqual([7]);
    const done = scripted([{ events: [], next: 8, ended: true }]);
    expect(await all(watchEvents(done.read, 'r', { ...fast, after: 8 }))).toEqual([]);
  });

  it('stops asking when its signal aborts: the iteration ends, without an error', async () => {
    const quiet = scripted([{ events: [ev(1)], next: 1, ended: false }]);
    const abort = new AbortController();
    const seen: number[] = [];
    for await (const e of watchEvents(quiet.read, 'r', { ...fast, signal: abort.signal })) {
      seen.push(e.seq);
      abort.abort();
    }
    expect(seen).toEqual([1]);
    expect(quiet.asked).toEqual([0]);
  });

  it('passes on what the reader throws (no such run, no worker)', async () => {
    const failing = async () => Promise.reject(new Error('no run "r"'));
    await expect(all(watchEvents(failing, 'r', fast))).rejects.toThrow('no run "r"');
  });
});

describe("trellis watch's live view", () => {
  const view = (steps: number): RunView => ({
    runId: 'r-1',
    temporalRunId: 't',
    name: 'many',
    status: 'running',
    steps: Object.fromEntries(Array.from({ length: steps }, (_, i) => [`s${i}`, { status: 'pending', output: null, attempts: 0 }])),
    pending: [],
    output: null,
    tokens: { prompt: 0, completion: 0, total: 0 },
    executed: 0,
  });
  const at = '2026-12-02T00:00:00.000Z';

  it('follows the events: a step running, waiting for a person, answered, and the run ended', () => {
    const board = new Board(view(2), undefined);
    board.apply({ seq: 1, type: 'step.started', at, step: 's0', data: { kind: 'approval' } });
    board.apply({ seq: 2, type: 'step.waiting', at, step: 's0', data: { step: 's0', title: 'Go on?', source: 'approval' } });
    expect(board.lines(200, 40)).toEqual([
      'r-1 (many): waiting',
      '',
      'STEP  KIND      STATUS   ATTEMPTS  TOKENS  COST',
      's0    approval  waiting  0         -       -',
      's1              pending  0         -       -',
      '',
      'waiting for a person: s0: Go on?  (trellis approve r-1 s0 --by NAME)',
      'tokens 0, cost -',
    ]);
    board.apply({ seq: 3, type: 'step.decided', at, step: 's0', data: { approved: true, by: 'alice' } });
    const usage = { tokens: { prompt: 70, completion: 30, total: 100 }, cost: { usd: 0.25 } };
    board.apply({ seq: 4, type: 'step.completed', at, step: 's1', data: { status: 'completed', tokens: usage.tokens, cost: usage.cost, usage } });
    board.apply({ seq: 5, type: 'run.ended', at, data: { status: 'failed', error: 'step s0 failed', usage } });
    const ended = board.lines(200, 40);
    expect(ended[0]).toBe('r-1 (many): failed — step s0 failed');
    expect(ended).toContain('s1              completed  0         100     $0.25');
    expect(ended).not.toContain('waiting for a person');
    expect(ended.at(-1)).toBe('tokens 100, cost $0.25');
  });

  it('fits a small terminal: running and waiting steps first, the rest counted, no line wider than the screen', () => {
    const board = new Board(view(30), undefined);
    board.apply({ seq: 1, type: 'step.started', at, step: 's25', data: { kind: 'tool' } });
    const lines = board.lines(30, 10);
    expect(lines).toHaveLength(10);
    expect(lines.some((l) => l.startsWith('s25 '))).toBe(true);
    expect(lines).toContain('… and 26 more steps (trellis…');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(30);
  });

  it('prints one line per event when piped', () => {
    expect(eventLine({ seq: 4, type: 'step.waiting', at, step: 'ok', data: { step: 'ok', title: 'Refund 80?', source: 'approval' } })).toBe(
      `${at} step.waiting ok: Refund 80? (approval)`,
    );
    const usage = { tokens: { prompt: 1, completion: 2, total: 3 }, cost: { usd: 0, unknown: ['m1'] } };
    expect(eventLine({ seq: 9, type: 'run.ended', at, data: { status: 'completed', usage } })).toBe(
      `${at} run.ended: completed (3 tokens, unknown (no price for m1))`,
    );
  });
});
