/** What a notification says: the Standard Webhooks body and the Slack message, from the event alone. */
import { describe, expect, it } from 'vitest';
import type { NotifyEvent } from '../../src/engine/messages.js';
import { linkKeyFrom, readApprovalLink } from '../../src/links/index.js';
import { LINK_LIFETIME_MS, slackBody, slackEscape, webhookBody, type LinkSettings, type SlackButton } from '../../src/notify/index.js';

const linkKey = linkKeyFrom('decision-key');
const links: LinkSettings = { publicUrl: 'https://trellis.example.com/base', temporalUiUrl: 'http://localhost:8233', namespace: 'default', linkKey };

const waiting: NotifyEvent = {
  id: 'refund-42:notify:3',
  type: 'run.waiting',
  at: '2026-03-01T10:00:00.000Z',
  run: { id: 'refund/42', name: 'refund' },
  pending: {
    step: 'refund',
    title: 'Run tool "issue_refund"?',
    details: '{"orderId":"A-1","amount":1250}',
    args: { orderId: 'A-1', amount: 1250 },
    approvers: ['ann@example.com', 'group:finance', 'bob'],
    deadline: '2026-03-02T10:00:00.000Z',
    askedAt: '2026-03-01T10:00:00.000Z',
    source: 'policy',
  },
};

const buttons = (event: NotifyEvent, settings = links): SlackButton[] => {
  const actions = slackBody(event, settings).blocks.find((b) => b.type === 'actions');
  return actions?.type === 'actions' ? actions.elements : [];
};

describe('the webhook body', () => {
  it('is byte-identical for the same event, so every retry carries the same body', () => {
    const copy = structuredClone(waiting);
    expect(JSON.stringify(webhookBody(copy, links))).toBe(JSON.stringify(webhookBody(waiting, links)));
    expect(JSON.stringify(slackBody(copy, links))).toBe(JSON.stringify(slackBody(waiting, links)));
  });

  it('carries the run, the gate, the gated amount in data.args, and the event time as its timestamp', () => {
    const body = webhookBody(waiting, links);
    expect(body).toMatchObject({
      type: 'run.waiting',
      timestamp: waiting.at,
      data: {
        run: { id: 'refund/42', name: 'refund' },
        step: 'refund',
        title: 'Run tool "issue_refund"?',
        details: waiting.pending!.details,
        args: { orderId: 'A-1', amount: 1250 },
        approvers: ['ann@example.com', 'group:finance', 'bob'],
        deadline: '2026-03-02T10:00:00.000Z',
        source: 'policy',
      },
    });
    expect(body.data.links.inbox).toBe('https://trellis.example.com/base/inbox/runs/refund%2F42');
    expect(body.data.links.run).toBe('http://localhost:8233/namespaces/default/workflows/refund%2F42');
  });

  it('has a signed approve and deny link for each person among the approvers, not for a group, until the deadline', () => {
    const { approve, deny } = webhookBody(waiting, links).data.links;
    expect(approve?.map((l) => l.approver)).toEqual(['ann@example.com', 'bob']);
    expect(deny?.map((l) => l.approver)).toEqual(['ann@example.com', 'bob']);
    for (const [i, link] of approve!.entries()) {
      const match = /^https:\/\/trellis\.example\.com\/base\/a\/([^?]+)\?decision=approve$/.exec(link.url);
      expect(match, link.url).not.toBeNull();
      expect(deny![i]!.url).toBe(link.url.replace('=approve', '=deny'));
      const read = readApprovalLink(linkKey, match![1], new Date(waiting.at));
      expect(read).toEqual({
        ok: true,
        link: { run: 'refund/42', step: 'refund', approver: link.approver, asked: waiting.pending!.askedAt, expires: waiting.pending!.deadline },
      });
    }
  });

  it('makes links last 7 days when the step has no deadline', () => {
    const { deadline: _, ...pending } = waiting.pending!;
    const { approve } = webhookBody({ ...waiting, pending }, links).data.links;
    const token = new URL(approve![0]!.url).pathname.split('/').at(-1)!;
    const read = readApprovalLink(linkKey, token, new Date(waiting.at));
    expect(read.ok && read.link.expires).toBe(new Date(Date.parse(waiting.at) + LINK_LIFETIME_MS).toISOString());
  });

  it('has only the inbox and run links without a decision key, without approvers, or for other events', () => {
    const noKey = { ...links, linkKey: undefined };
    const { approvers: _, ...anyone } = waiting.pending!;
    const ended: NotifyEvent = { id: 'e', type: 'run.completed', at: waiting.at, run: waiting.run };
    for (const [event, settings] of [
      [waiting, noKey],
      [{ ...waiting, pending: anyone }, links],
      [ended, links],
    ] as const) {
      expect(Object.keys(webhookBody(event, settings).data.links)).toEqual(['inbox', 'run']);
    }
  });

  it('says what was decided, and why a run failed, with no gate fields it does not have', () => {
    const decided: NotifyEvent = {
      ...waiting,
      id: 'd',
      type: 'run.decided',
      decision: { approved: false, by: 'ann@example.com', comment: 'too much', at: '2026-03-01T11:00:00.000Z' },
    };
    expect(webhookBody(decided, links).data).toMatchObject({ step: 'refund', decision: decided.decision });
    const failed = webhookBody({ id: 'f', type: 'run.failed', at: waiting.at, run: waiting.run, error: 'step "pay" failed' }, links);
    expect(Object.keys(failed.data)).toEqual(['run', 'error', 'links']);
    expect(failed.data.error).toBe('step "pay" failed');
  });

  it('marks a reminder', () => {
    expect(webhookBody({ ...waiting, reminder: true }, links).data.reminder).toBe(true);
    expect(webhookBody(waiting, links).data).not.toHaveProperty('reminder');
  });
});

describe('the Slack message', () => {
  it('has Approve and Deny buttons per person for run.waiting, then the inbox and the Temporal UI', () => {
    const all = buttons(waiting);
    expect(all.map((b) => b.text.text)).toEqual([
      'Approve as ann@example.com',
      'Deny as ann@example.com',
      'Approve as bob',
      'Deny as bob',
      'Open in the inbox',
      'Run in the Temporal UI',
    ]);
    const data = webhookBody(waiting, links).data.links;
    expect(all.slice(0, 4).map((b) => b.url)).toEqual([data.approve![0]!.url, data.deny![0]!.url, data.approve![1]!.url, data.deny![1]!.url]);
    expect(all.slice(0, 2).map((b) => b.style)).toEqual(['primary', 'danger']);
    expect(new Set(all.map((b) => b.action_id)).size).toBe(all.length);
  });

  it('shows the gated amount, and has no approve buttons for a run that ended', () => {
    const section = slackBody(waiting, links).blocks[0]!;
    expect(section.type === 'section' && section.text.text).toContain('"amount": 1250');
    const ended: NotifyEvent = { id: 'e', type: 'run.completed', at: waiting.at, run: waiting.run };
    expect(buttons(ended).map((b) => b.text.text)).toEqual(['Open in the inbox', 'Run in the Temporal UI']);
    expect(slackBody(ended, links).text).toBe('Run completed: refund');
  });

  it('escapes <, > and & in everything it shows, so data cannot make a link or a mention', () => {
    expect(slackEscape('<@U123> & <!channel> <http://evil|click>')).toBe('&lt;@U123&gt; &amp; &lt;!channel&gt; &lt;http://evil|click&gt;');
    const hostile: NotifyEvent = {
      ...waiting,
      run: { id: 'r', name: '<!channel> & co' },
      pending: { ...waiting.pending!, title: '<http://evil|Approve me>', details: 'a > b', args: { note: '<@U1>' }, approvers: ['<!here>'] },
    };
    const body = slackBody(hostile, links);
    const section = body.blocks[0]!;
    const text = section.type === 'section' ? section.text.text : '';
    expect(text).toContain('&lt;http://evil|Approve me&gt;');
    expect(text).toContain('&lt;!channel&gt; &amp; co');
    expect(text).toContain('a &gt; b');
    expect(text).toContain('&lt;@U1&gt;');
    expect(body.text).toBe('Approval needed: &lt;http://evil|Approve me&gt;');
    // The only raw <...> in the text are the links Trellis made.
    expect(text.match(/<[^>]*>/g)).toEqual([`<${webhookBody(hostile, links).data.links.inbox}|&lt;!channel&gt; &amp; co>`]);
  });

  it("keeps within Slack's limits: 3000 characters a section, 25 buttons, 75 characters a label", () => {
    const approvers = Array.from({ length: 40 }, (_, i) => `person-${i}-${'x'.repeat(80)}`);
    const big: NotifyEvent = {
      ...waiting,
      pending: { ...waiting.pending!, approvers, details: '<&>'.repeat(2000), args: { blob: '&'.repeat(5000) } },
    };
    const body = slackBody(big, links);
    const section = body.blocks[0]!;
    expect(section.type === 'section' && section.text.text.length).toBeLessThanOrEqual(3000);
    expect(section.type === 'section' && section.text.text).not.toMatch(/&[a-z]{0,3}…/);
    const all = buttons(big);
    expect(all.length).toBeLessThanOrEqual(25);
    expect(all.at(-2)!.text.text).toBe('Open in the inbox');
    expect(Math.max(...all.map((b) => b.text.text.length))).toBeLessThanOrEqual(75);
  });

  it('says who decided, or that the timeout did', () => {
    const decided = (by: string | null, approved: boolean): NotifyEvent => ({
      ...waiting,
      type: 'run.decided',
      decision: { approved, by, comment: null, at: waiting.at },
    });
    expect(slackBody(decided('ann', true), links).text).toBe('Approved by ann: Run tool "issue_refund"?');
    expect(slackBody(decided(null, false), links).text).toBe('Denied by its timeout: Run tool "issue_refund"?');
    expect(buttons(decided('ann', true)).map((b) => b.text.text)).toEqual(['Open in the inbox', 'Run in the Temporal UI']);
  });
});
