/**
 * Example tools for the example specs: an order desk, a web search and a support desk.
 *
 * Every tool returns deterministic fake data derived from its input (no network, no clock, no randomness),
 * so the examples validate, graph and run the same way everywhere. Tools with side effects put
 * `ctx.idempotencyKey` into the ids they return: a real implementation would pass it to the service it
 * calls, so that a retried step makes its side effect once.
 *
 *   trellis validate examples/refund.json --tools examples/tools.ts
 */
import { defineTool } from 'trellis';
import { z } from 'zod';

/** A small stable number from a string (FNV-1a), so fake data differs per input but never per run. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const pick = <T>(list: readonly T[], seed: string): T => list[hash(seed) % list.length]!;

const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40) || 'topic';

// ---- orders ------------------------------------------------------------------------------------------------

const ITEMS = ['ceramic mug', 'desk lamp', 'wool blanket', 'bluetooth speaker', 'chef knife', 'backpack'] as const;
const NOTES = [
  'The box arrived crushed and the item inside is broken.',
  'Arrived on time, but I ordered the wrong colour.',
  'The glass was shattered when I opened the parcel.',
  'Works fine, I just changed my mind.',
] as const;

export const lookupOrder = defineTool({
  name: 'lookup_order',
  description: 'Look up an order by id: customer, items, total in USD, the customer note, and status.',
  input: z.object({ orderId: z.string().min(1).describe('the order id, e.g. "A-1001"') }),
  output: z.object({
    orderId: z.string(),
    customer: z.string(),
    items: z.array(z.object({ sku: z.string(), name: z.string(), quantity: z.number().int(), price: z.number() })),
    total: z.number().describe('order total in USD'),
    note: z.string().describe("the customer's note about the delivery"),
    status: z.enum(['processing', 'shipped', 'delivered', 'refunded']),
  }),
  run: ({ orderId }) => {
    const h = hash(orderId);
    const items = [0, 1].slice(0, 1 + (h % 2)).map((i) => {
      const name = ITEMS[(h + i * 7) % ITEMS.length]!;
      return { sku: `SKU-${((h >>> (i * 4)) % 9000) + 1000}`, name, quantity: 1 + ((h >>> (8 + i)) % 2), price: 15 + ((h >>> (12 + i * 3)) % 140) };
    });
    return {
      orderId,
      customer: pick(['Ada Byron', 'Grace Hopper', 'Alan Kay', 'Barbara Liskov'], orderId),
      items,
      total: items.reduce((sum, item) => sum + item.quantity * item.price, 0),
      note: pick(NOTES, `note:${orderId}`),
      status: 'delivered' as const,
    };
  },
});

export const refundOrder = defineTool({
  name: 'refund_order',
  description: 'Refund an amount in USD on an order. Refunds over 100 USD need a person to approve them.',
  input: z.object({ orderId: z.string().min(1), amount: z.number().positive().describe('amount in USD') }),
  output: z.object({ refundId: z.string(), amount: z.number() }),
  // Policy in code: the interpreter asks a person before any refund over 100, whatever the spec says.
  approval: (args) => args.amount > 100,
  retry: { maxAttempts: 5, initialInterval: '1s' },
  run: ({ orderId, amount }, ctx) => {
    ctx.logger.info('refund issued', { orderId, amount });
    return { refundId: `rf_${orderId}_${ctx.idempotencyKey}`, amount };
  },
});

// ---- research ----------------------------------------------------------------------------------------------

const SOURCES = ['example.org/wiki', 'news.example.com', 'papers.example.edu', 'blog.example.net', 'docs.example.io'] as const;

export const webSearch = defineTool({
  name: 'web_search',
  description: 'Search the web; returns titles, urls and snippets of the best results.',
  input: z.object({
    query: z.string().min(1),
    limit: z.number().int().min(1).max(10).optional().describe('how many results (default 3)'),
  }),
  output: z.object({
    results: z.array(z.object({ title: z.string(), url: z.string(), snippet: z.string() })),
  }),
  timeout: '30s',
  run: ({ query, limit = 3 }) => ({
    results: Array.from({ length: limit }, (_, i) => {
      const source = SOURCES[(hash(query) + i) % SOURCES.length]!;
      return {
        title: `${query}: result ${i + 1}`,
        url: `https://${source}/${slug(query)}/${i + 1}`,
        snippet: `What ${source} says about ${query} (result ${i + 1} of ${limit}).`,
      };
    }),
  }),
});

// ---- support -----------------------------------------------------------------------------------------------

const TICKETS = [
  { subject: 'Charged twice this month', body: 'My card was charged twice for the March invoice. Please refund one of them.' },
  { subject: 'Cannot log in', body: 'Since this morning the login page says my password is wrong, and the reset email never arrives.' },
  { subject: 'Production API down', body: 'All our calls to your API return 503 since 09:10 UTC. Our checkout is down. This is urgent.' },
  { subject: 'Feature request: dark mode', body: 'Would love a dark mode in the dashboard. Not urgent at all.' },
] as const;

export const fetchTicket = defineTool({
  name: 'fetch_ticket',
  description: 'Fetch a support ticket: the customer email, subject, body and the customer plan.',
  input: z.object({ ticketId: z.string().min(1) }),
  output: z.object({
    ticketId: z.string(),
    customerEmail: z.string(),
    subject: z.string(),
    body: z.string(),
    plan: z.enum(['free', 'pro', 'enterprise']),
  }),
  run: ({ ticketId }) => {
    const ticket = pick(TICKETS, ticketId);
    return {
      ticketId,
      customerEmail: `customer-${hash(ticketId) % 1000}@example.com`,
      subject: ticket.subject,
      body: ticket.body,
      plan: pick(['free', 'pro', 'enterprise'] as const, `plan:${ticketId}`),
    };
  },
});

export const sendReply = defineTool({
  name: 'send_reply',
  description: 'Send a reply to the customer on a support ticket.',
  input: z.object({ ticketId: z.string().min(1), body: z.string().min(1) }),
  output: z.object({ messageId: z.string() }),
  run: ({ ticketId, body }, ctx) => {
    ctx.logger.info('reply sent', { ticketId, characters: body.length });
    return { messageId: `msg_${ticketId}_${ctx.idempotencyKey}` };
  },
});

export const escalateTicket = defineTool({
  name: 'escalate_ticket',
  description: 'Escalate a support ticket to a team (billing, engineering, security), with the reason.',
  input: z.object({ ticketId: z.string().min(1), team: z.string().min(1), reason: z.string().min(1) }),
  output: z.object({ escalationId: z.string() }),
  // Every escalation pages a team: a person confirms it first.
  approval: 'required',
  run: ({ ticketId, team }, ctx) => ({ escalationId: `esc_${slug(team)}_${ticketId}_${ctx.idempotencyKey}` }),
});

export default [lookupOrder, refundOrder, webSearch, fetchTicket, sendReply, escalateTicket];
