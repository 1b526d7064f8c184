/**
 * What a notification says: the Standard Webhooks body for a webhook, a Slack message for a Slack target. Pure
 * functions of the event and the link settings, so every retry of an event sends a byte-identical body.
 */
import { GROUP_PREFIX } from '../engine/decision.js';
import type { ApprovalResult, NotifyEvent, PendingApproval } from '../engine/messages.js';
import { TrellisError } from '../errors.js';
import { signApprovalLink } from '../links/approval-link.js';
import { approvalLinkUrl, inboxRunUrl, temporalUiRunUrl } from '../links/urls.js';
import { oneLine } from '../spec/text.js';
import type { LinkSettings } from './config.js';

/** How long an approval link lasts when the step has no deadline. */
export const LINK_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

/** One approver's link. */
export interface PersonLink {
  approver: string;
  url: string;
}

export interface NotificationLinks {
  /** The run's page in the inbox. */
  inbox: string;
  /** The run in the Temporal UI. */
  run: string;
  /**
   * run.waiting with a decision key: for each approver that is a person (not `group:...`), a signed link that
   * answers as them, until the deadline (or 7 days after the event when the step has none).
   */
  approve?: PersonLink[];
  /** The same links, with the deny answer picked. */
  deny?: PersonLink[];
}

/** `data` of the Standard Webhooks body. */
export interface WebhookData {
  run: { id: string; name: string };
  /** run.waiting, run.decided: the step that waits, and what it asks. */
  step?: string;
  title?: string;
  details?: string;
  /** A policy gate's tool args: the amount the approver is asked about. */
  args?: Record<string, unknown>;
  approvers?: string[];
  deadline?: string;
  source?: PendingApproval['source'];
  askedAt?: string;
  /** run.waiting sent again before the deadline. */
  reminder?: boolean;
  /** run.decided: the answer. */
  decision?: ApprovalResult;
  /** run.failed, run.cancelled: why. */
  error?: string;
  links: NotificationLinks;
}

/** The Standard Webhooks body: `{ type, timestamp, data }`, timestamp the event's time (not the delivery's). */
export interface WebhookBody {
  type: NotifyEvent['type'];
  timestamp: string;
  data: WebhookData;
}

/** Slack's text object (mrkdwn for a section, plain_text for a button label). */
export interface SlackText {
  type: 'mrkdwn' | 'plain_text';
  text: string;
}

export interface SlackButton {
  type: 'button';
  action_id: string;
  text: SlackText;
  url: string;
  style?: 'primary' | 'danger';
}

export type SlackBlock = { type: 'section'; text: SlackText } | { type: 'actions'; elements: SlackButton[] };

/** A Slack incoming-webhook message: `text` is the notification's fallback, `blocks` what the channel shows. */
export interface SlackBody {
  text: string;
  blocks: SlackBlock[];
}

/** Slack's limits: a section's text, a button's label, the buttons of one actions block. */
const SLACK_SECTION = 3000;
const SLACK_LABEL = 75;
const SLACK_BUTTONS = 25;
/** The links buttons that every message ends with: the inbox and the Temporal UI. */
const LINK_BUTTONS = 2;

/** The Standard Webhooks body of `event`. */
export function webhookBody(event: NotifyEvent, links: LinkSettings): WebhookBody {
  const p = event.pending;
  const data: WebhookData = {
    run: { id: event.run.id, name: event.run.name },
    ...(p && {
      step: p.step,
      title: p.title,
      ...(p.details !== undefined && { details: p.details }),
      ...(p.args !== undefined && { args: p.args }),
      ...(p.approvers !== undefined && { approvers: p.approvers }),
      ...(p.deadline !== undefined && { deadline: p.deadline }),
      source: p.source,
      ...(p.askedAt !== undefined && { askedAt: p.askedAt }),
    }),
    ...(event.reminder && { reminder: true }),
    ...(event.decision && { decision: event.decision }),
    ...(event.error !== undefined && { error: event.error }),
    links: notificationLinks(event, links),
  };
  return { type: event.type, timestamp: event.at, data };
}

/** The links of `event`: the inbox and the Temporal UI always, each person's approve and deny links for run.waiting. */
export function notificationLinks(event: NotifyEvent, links: LinkSettings): NotificationLinks {
  const base = { inbox: inboxRunUrl(links.publicUrl, event.run.id), run: temporalUiRunUrl(links.temporalUiUrl, links.namespace, event.run.id) };
  const tokens = approvalTokens(event, links);
  if (tokens.length === 0) return base;
  return {
    ...base,
    approve: tokens.map(({ approver, token }) => ({ approver, url: approvalLinkUrl(links.publicUrl, token, 'approve') })),
    deny: tokens.map(({ approver, token }) => ({ approver, url: approvalLinkUrl(links.publicUrl, token, 'deny') })),
  };
}

/** The Slack message of `event`: a headline, the question, and buttons (Approve and Deny per approver for run.waiting). */
export function slackBody(event: NotifyEvent, links: LinkSettings): SlackBody {
  const all = notificationLinks(event, links);
  const name = event.run.name || event.run.id;
  const lines = [
    `*${slackEscape(headline(event))}*`,
    `Run <${all.inbox}|${slackEscape(oneLine(name, 200))}> (\`${slackEscape(oneLine(event.run.id, 200))}\`)`,
  ];
  const p = event.pending;
  if (p) {
    lines.push(`Step \`${slackEscape(p.step)}\`: ${slackEscape(oneLine(p.title, 300))}`);
    if (p.details !== undefined) lines.push(slackEscape(cut(p.details, 800)));
    if (p.args !== undefined) lines.push(`\`\`\`${slackEscape(cut(JSON.stringify(p.args, null, 2), 1200))}\`\`\``);
    if (p.approvers?.length) lines.push(`Approvers: ${slackEscape(oneLine(p.approvers.join(', '), 300))}`);
    if (p.deadline !== undefined) lines.push(`Deadline: ${slackEscape(p.deadline)}`);
  }
  if (event.decision?.comment) lines.push(`Comment: ${slackEscape(cut(event.decision.comment, 500))}`);
  if (event.error !== undefined) lines.push(`Error: ${slackEscape(cut(event.error, 500))}`);

  // Each approver takes two buttons; those who do not fit answer in the inbox, which is always linked.
  const people = Math.floor((SLACK_BUTTONS - LINK_BUTTONS) / 2);
  const approve = (all.approve ?? []).slice(0, people);
  const deny = all.deny ?? [];
  const buttons: SlackButton[] = [
    ...approve.flatMap((link, i): SlackButton[] => [
      button(`approve-${i}`, `Approve as ${link.approver}`, link.url, 'primary'),
      button(`deny-${i}`, `Deny as ${link.approver}`, deny[i]!.url, 'danger'),
    ]),
    button('inbox', 'Open in the inbox', all.inbox),
    button('temporal-ui', 'Run in the Temporal UI', all.run),
  ];
  return {
    text: slackEscape(headline(event)),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: fitLines(lines, SLACK_SECTION) } },
      { type: 'actions', elements: buttons },
    ],
  };
}

/** Slack's escaping for text it formats: `&`, `<` and `>` as entities, so nothing in the data becomes a link or a mention. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** What happened, in one line, for a person. */
function headline(event: NotifyEvent): string {
  const name = oneLine(event.run.name || event.run.id, 200);
  const title = oneLine(event.pending?.title ?? name, 200);
  switch (event.type) {
    case 'run.waiting':
      return `${event.reminder ? 'Reminder: approval still needed' : 'Approval needed'}: ${title}`;
    case 'run.decided': {
      const d = event.decision;
      const who = d ? (d.by === null ? 'its timeout' : oneLine(d.by, 200)) : 'someone';
      return `${d?.approved ? 'Approved' : 'Denied'} by ${who}: ${title}`;
    }
    case 'run.completed':
      return `Run completed: ${name}`;
    case 'run.failed':
      return `Run failed: ${name}`;
    case 'run.cancelled':
      return `Run cancelled: ${name}`;
  }
}

/** A signed token for each person among the approvers of a run.waiting event, when there is a link key. */
function approvalTokens(event: NotifyEvent, links: LinkSettings): Array<{ approver: string; token: string }> {
  const p = event.pending;
  if (event.type !== 'run.waiting' || !p?.approvers || p.askedAt === undefined || links.linkKey === undefined) return [];
  const asked = p.askedAt;
  const expires = linkExpiry(event.at, p.deadline);
  if (expires === undefined) return [];
  const people = [...new Set(p.approvers)].filter((a) => !a.startsWith(GROUP_PREFIX));
  return people.flatMap((approver) => {
    try {
      return [{ approver, token: signApprovalLink(links.linkKey!, { run: event.run.id, step: p.step, approver, asked, expires }) }];
    } catch (error) {
      // A link that cannot be made (a run id too long for a token) leaves the inbox link, which always works.
      if (error instanceof TrellisError && error.code === 'LINK_INVALID') return [];
      throw error;
    }
  });
}

/** The deadline, or 7 days after the event; undefined when neither is a time. */
function linkExpiry(at: string, deadline: string | undefined): string | undefined {
  const ms = deadline !== undefined ? Date.parse(deadline) : Date.parse(at) + LINK_LIFETIME_MS;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

function button(actionId: string, label: string, url: string, style?: 'primary' | 'danger'): SlackButton {
  return { type: 'button', action_id: actionId, text: { type: 'plain_text', text: oneLine(label, SLACK_LABEL) }, url, ...(style && { style }) };
}

/** `text` cut to `max` characters with an ellipsis. */
function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * The parts (a line, or a block such as the args) that fit in `max` characters, whole, joined by newlines, then an
 * ellipsis: escaped text is cut between parts, so no entity (`&amp;`) or code fence is cut in half. Only a first
 * part too long by itself is cut inside.
 */
function fitLines(lines: string[], max: number): string {
  let text = '';
  for (const line of lines) {
    const next = text === '' ? line : `${text}\n${line}`;
    if (next.length > max - 2) return text === '' ? cut(line, max) : `${text}\n…`;
    text = next;
  }
  return text;
}
