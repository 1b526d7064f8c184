/**
 * `trellis watch RUN`: a run's progress as it happens, from its events (the client's watch: no history added). On a
 * terminal, a table of its steps redrawn in place; otherwise one line per event (or NDJSON with --json). Exits as
 * `trellis run --wait` does once the run ends.
 */
import type { Command } from 'commander';
import type { TrellisClient } from '../../client/index.js';
import type { PendingApproval, RunEvent, RunView } from '../../engine/messages.js';
import type { TokenUsage } from '../../engine/state.js';
import { formatCost, formatUsd, isUnknown, type Cost } from '../../pricing/cost.js';
import type { Spec } from '../../spec/schema.js';
import { oneLine } from '../../spec/text.js';
import { exitFor, withClient, WorkFailed } from '../client.js';

export function registerWatch(program: Command): void {
  program
    .command('watch')
    .description("follow a run's steps, approvals and usage as they happen, until it ends (exit 0 when it completed, 1 otherwise)")
    .argument('<run>', 'the run id')
    .option('--json', 'print each event as one line of JSON: { "seq", "type", "at", "step", "data" }')
    .addHelpText(
      'after',
      '\nOn a terminal the step table is redrawn in place; piped, each event is one line.\n\nExample:\n  $ trellis watch refund-damaged-order-1a2b3c4d',
    )
    .action(async (run: string, opts: { json?: boolean }) => {
      await withClient(async (client) => {
        const ended = opts.json
          ? await printEvents(client, run, (e) => JSON.stringify(e))
          : process.stdout.isTTY
            ? await liveView(client, run)
            : await printEvents(client, run, eventLine);
        if (ended === undefined) throw new WorkFailed(`the events of ${run} stopped before the run ended`);
        process.exitCode = exitFor(ended);
      });
    });
}

/** One line per event, as they come; the run's end status. */
async function printEvents(client: TrellisClient, runId: string, line: (e: RunEvent) => string): Promise<string | undefined> {
  for await (const e of client.watch(runId)) {
    process.stdout.write(`${line(e)}\n`);
    if (e.type === 'run.ended') return String(e.data?.status);
  }
  return undefined;
}

/** `2026-12-02T07:30:00.000Z step.waiting ok: Refund 80? (approval)`: what a person reads in a log. */
export function eventLine(e: RunEvent): string {
  const d = e.data ?? {};
  const head = `${e.at} ${e.type}${e.step !== undefined ? ` ${e.step}` : ''}`;
  switch (e.type) {
    case 'step.started':
      return `${head}: ${String(d.kind)}`;
    case 'step.completed':
      return `${head}: ${String(d.status ?? 'completed')}${usageText(d.tokens, d.cost)}`;
    case 'step.failed':
      return `${head}: ${oneLine(String(d.reason ?? 'failed'), 200)}${usageText(d.tokens, d.cost)}`;
    case 'step.waiting':
      return `${head}: ${oneLine(String(d.title ?? ''), 200)}${d.source ? ` (${String(d.source)})` : ''}`;
    case 'step.decided':
      return `${head}: ${d.approved ? 'approved' : 'denied'} by ${String(d.by ?? 'the timeout')}${d.comment ? `: ${oneLine(String(d.comment), 200)}` : ''}`;
    case 'run.ended': {
      const usage = d.usage as { tokens?: TokenUsage; cost?: Cost } | undefined;
      return `${head}: ${String(d.status)}${d.error ? `: ${oneLine(String(d.error), 300)}` : ''}${usageText(usage?.tokens, usage?.cost)}`;
    }
  }
}

/** ` (120 tokens, $0.0012)`; nothing without tokens. */
function usageText(tokens: unknown, cost: unknown): string {
  const total = (tokens as TokenUsage | undefined)?.total;
  if (total === undefined) return '';
  return ` (${total} tokens${cost ? `, ${formatCost(cost as Cost)}` : ''})`;
}

interface Row {
  kind: string;
  status: string;
  attempts?: number;
  tokens?: number;
  cost?: Cost;
}

/** What the live view shows: each step, what the run waits for, its usage so far, and how it ended. */
export class Board {
  readonly rows = new Map<string, Row>();
  status: string;
  pending: PendingApproval[];
  tokens: number;
  cost: Cost | undefined;
  error: string | undefined;

  constructor(
    readonly view: RunView,
    spec: Spec | undefined,
  ) {
    this.status = view.status;
    this.pending = [...view.pending];
    this.tokens = view.tokens.total;
    this.cost = view.cost;
    this.error = view.error;
    for (const s of spec?.steps ?? []) this.rows.set(s.id, { kind: s.kind, status: 'pending' });
    this.takeSteps(view);
  }

  /** Attempts, tokens and cost of each step, from a status view. */
  takeSteps(view: RunView): void {
    for (const [id, s] of Object.entries(view.steps)) {
      const row = this.row(id);
      row.status = s.status;
      row.attempts = s.attempts;
      if (s.tokens) row.tokens = s.tokens.total;
      if (s.cost) row.cost = s.cost;
    }
  }

  apply(e: RunEvent): void {
    const d = e.data ?? {};
    const row = e.step === undefined ? undefined : this.row(e.step);
    if (row && typeof d.kind === 'string') row.kind = d.kind;
    if (row && (d.tokens as TokenUsage | undefined)?.total !== undefined) row.tokens = (d.tokens as TokenUsage).total;
    if (row && d.cost) row.cost = d.cost as Cost;
    const usage = d.usage as { tokens?: TokenUsage; cost?: Cost } | undefined;
    if (usage?.tokens) this.tokens = usage.tokens.total;
    if (usage?.cost) this.cost = usage.cost;
    switch (e.type) {
      case 'step.started':
        row!.status = 'running';
        break;
      case 'step.completed':
        row!.status = String(d.status ?? 'completed');
        break;
      case 'step.failed':
        row!.status = 'failed';
        break;
      case 'step.waiting':
        row!.status = 'waiting';
        // An event too large for the events query keeps only its size: the status view has the title then.
        this.pending = [
          ...this.pending.filter((p) => p.step !== e.step),
          {
            ...(d as unknown as PendingApproval),
            step: e.step!,
            title: typeof d.title === 'string' ? d.title : `(see trellis status ${this.view.runId})`,
          },
        ];
        this.status = 'waiting';
        break;
      case 'step.decided':
        row!.status = 'running';
        this.pending = this.pending.filter((p) => p.step !== e.step);
        if (this.pending.length === 0) this.status = 'running';
        break;
      case 'run.ended':
        this.status = String(d.status);
        this.error = typeof d.error === 'string' ? d.error : undefined;
        this.pending = [];
        break;
    }
  }

  /** The drawing, within `width` columns and `height` lines: a cursor cannot move back above the screen's top. */
  lines(width: number, height: number): string[] {
    const { runId, name } = this.view;
    const head = [`${runId} (${name}): ${this.status}${this.error ? ` — ${oneLine(this.error, 200)}` : ''}`, ''];
    const foot = [
      '',
      ...this.pending.map((p) => `waiting for a person: ${p.step}: ${oneLine(p.title, 120)}  (trellis approve ${runId} ${p.step} --by NAME)`),
      `tokens ${this.tokens}, cost ${formatCost(this.cost)}`,
    ];
    let rows = [...this.rows];
    const room = Math.max(1, height - head.length - foot.length - 2);
    let hidden = 0;
    if (rows.length > room) {
      // The steps that moved are the ones worth the room: running and waiting first, then the latest to end.
      const rank = (r: Row) => (r.status === 'running' || r.status === 'waiting' ? 0 : r.status === 'pending' ? 2 : 1);
      const kept = new Set(
        rows
          .map(([id, r], i) => ({ id, r, i }))
          .sort((a, b) => rank(a.r) - rank(b.r) || b.i - a.i)
          .slice(0, room)
          .map((x) => x.id),
      );
      hidden = rows.length - kept.size;
      rows = rows.filter(([id]) => kept.has(id));
    }
    const table = [['STEP', 'KIND', 'STATUS', 'ATTEMPTS', 'TOKENS', 'COST']];
    for (const [id, r] of rows) {
      const cost = r.cost ? (isUnknown(r.cost) ? 'unknown' : formatUsd(r.cost.usd)) : '-';
      table.push([id, r.kind, r.status, r.attempts === undefined ? '-' : String(r.attempts), r.tokens === undefined ? '-' : String(r.tokens), cost]);
    }
    const widths = table[0]!.map((_, i) => Math.max(...table.map((cells) => cells[i]!.length)));
    const body = table.map((cells) =>
      cells
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
    if (hidden > 0) body.push(`… and ${hidden} more step${hidden === 1 ? '' : 's'} (trellis status ${runId})`);
    // A line longer than the terminal would wrap, and the next redraw would move up too few lines.
    return [...head, ...body, ...foot].slice(0, Math.max(1, height)).map((l) => (l.length >= width ? `${l.slice(0, Math.max(1, width - 2))}…` : l));
  }

  row(id: string): Row {
    let row = this.rows.get(id);
    if (!row) this.rows.set(id, (row = { kind: id === 'plan' ? 'plan' : '', status: 'pending' }));
    return row;
  }
}

/** Redraws by moving the cursor back up over the last drawing and clearing below it: plain ANSI, no dependency. */
async function liveView(client: TrellisClient, runId: string): Promise<string | undefined> {
  const view = await client.status(runId);
  const spec = await client.spec(runId).catch(() => undefined);
  const board = new Board(view, spec);
  let drawn = 0;
  const draw = () => {
    const lines = board.lines(process.stdout.columns || 100, (process.stdout.rows || 40) - 1);
    process.stdout.write(`${drawn > 0 ? `\x1b[${drawn}F` : ''}\x1b[J${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  draw();
  // A burst of events (catching up, say) redraws once, and asks the status view once for the steps' attempts,
  // which events do not carry.
  let stale = false;
  let queued: Promise<void> | undefined;
  // Every redraw begun, its status read included: the client closes only after the last has drawn.
  let drawing: Promise<unknown> = Promise.resolve();
  const redraw = () => {
    if (queued) return;
    queued = new Promise<void>((resolve) => setTimeout(resolve, 50)).then(async () => {
      queued = undefined;
      if (stale) {
        stale = false;
        const now = await client.status(runId).catch(() => undefined);
        if (now) board.takeSteps(now);
      }
      draw();
    });
    drawing = Promise.all([drawing, queued]);
  };
  let ended: string | undefined;
  for await (const e of client.watch(runId)) {
    board.apply(e);
    if (e.type === 'step.completed' || e.type === 'step.failed' || e.type === 'run.ended') stale = true;
    if (e.type === 'run.ended') ended = board.status;
    redraw();
  }
  await drawing;
  return ended;
}
