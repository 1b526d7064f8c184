/**
 * Realistic specs of any size, for the benchmarks. Deterministic (a seeded generator, no Math.random), so two
 * runs measure the same documents.
 *
 * A spec is a chain of groups of 12 steps, each group handling one order the way a real support workflow
 * does: a tool lookup, a fan-out (customer, knowledge base, two llm reads of the order) that joins in an
 * approval gated by `when`, a wait, the refund, a ticket, an extraction, a draft that joins everything and
 * the email that sends it. Each group waits for the previous one (`after`), so a 1,000-step spec is one
 * long dependency chain with a fan-out in every link. Llm steps use output schemas from a small shared pool
 * (as real specs reuse them) and every third group has a schema of its own. Tool args mix templates
 * (`${steps.x.field}`) and literal values, which the type check validates against the tool's input schema.
 *
 * `variant` changes every step id and the unique schemas, so each variant's expressions and schemas are new
 * text: the validator's caches (compiled expressions, compiled JSON Schemas) cannot serve them.
 */

/** The tools a validation is type-checked against: plain JSON Schemas, as catalogOf takes them. */
export const TOOLS = [
  {
    name: 'lookup_order',
    description: 'Look up an order by id.',
    inputSchema: { type: 'object', properties: { orderId: { type: 'string', minLength: 1 } }, required: ['orderId'], additionalProperties: false },
    outputSchema: {
      type: 'object',
      properties: {
        orderId: { type: 'string' },
        total: { type: 'number' },
        currency: { type: 'string', enum: ['EUR', 'USD', 'GBP'] },
        note: { type: 'string' },
        customer: {
          type: 'object',
          properties: { id: { type: 'string' }, email: { type: 'string' }, tier: { type: 'string', enum: ['basic', 'plus', 'pro'] } },
          required: ['id', 'email', 'tier'],
          additionalProperties: false,
        },
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 }, price: { type: 'number' } },
            required: ['sku', 'qty', 'price'],
            additionalProperties: false,
          },
        },
      },
      required: ['orderId', 'total', 'currency', 'note', 'customer', 'items'],
      additionalProperties: false,
    },
    approval: 'never',
  },
  {
    name: 'fetch_customer',
    description: 'A customer record.',
    inputSchema: {
      type: 'object',
      properties: {
        customerId: { type: 'string' },
        fields: { type: 'array', items: { type: 'string', enum: ['email', 'tier', 'flags', 'lifetimeValue'] }, uniqueItems: true },
      },
      required: ['customerId'],
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        name: { type: 'string' },
        email: { type: 'string' },
        tier: { type: 'string' },
        lifetimeValue: { type: 'number' },
        flags: {
          type: 'object',
          properties: { vip: { type: 'boolean' }, fraud: { type: 'boolean' } },
          required: ['vip', 'fraud'],
          additionalProperties: false,
        },
      },
      required: ['id', 'name', 'email', 'tier', 'lifetimeValue', 'flags'],
      additionalProperties: false,
    },
    approval: 'never',
  },
  {
    name: 'search_kb',
    description: 'Search the knowledge base.',
    inputSchema: {
      type: 'object',
      properties: {
        query: { type: 'string', minLength: 1 },
        limit: { type: 'integer', minimum: 1, maximum: 50 },
        lang: { type: 'string', enum: ['en', 'de', 'fr'] },
      },
      required: ['query'],
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: {
        total: { type: 'integer' },
        hits: {
          type: 'array',
          items: {
            type: 'object',
            properties: { title: { type: 'string' }, url: { type: 'string' }, score: { type: 'number' } },
            required: ['title', 'url', 'score'],
          },
        },
      },
      required: ['total', 'hits'],
      additionalProperties: false,
    },
    approval: 'never',
  },
  {
    name: 'refund_order',
    description: 'Refund an order, in full or in part.',
    inputSchema: {
      type: 'object',
      properties: { orderId: { type: 'string' }, amount: { type: 'number', minimum: 0 }, reason: { type: 'string', maxLength: 500 } },
      required: ['orderId', 'amount'],
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: { refundId: { type: 'string' }, status: { type: 'string', enum: ['pending', 'done'] } },
      required: ['refundId', 'status'],
      additionalProperties: false,
    },
    approval: 'conditional',
  },
  {
    name: 'create_ticket',
    description: 'Open a support ticket.',
    inputSchema: {
      type: 'object',
      properties: {
        title: { type: 'string', minLength: 1, maxLength: 200 },
        priority: { type: 'string', enum: ['low', 'normal', 'high', 'urgent'] },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 10 },
        assignee: { type: ['string', 'null'] },
      },
      required: ['title', 'priority'],
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: { ticketId: { type: 'string' }, url: { type: 'string' } },
      required: ['ticketId', 'url'],
      additionalProperties: false,
    },
    approval: 'never',
  },
  {
    name: 'send_email',
    description: 'Send an email.',
    inputSchema: {
      type: 'object',
      properties: {
        to: { type: 'string' },
        subject: { type: 'string', maxLength: 200 },
        body: { type: 'string' },
        cc: { type: 'array', items: { type: 'string' } },
      },
      required: ['to', 'subject', 'body'],
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: { messageId: { type: 'string' }, queued: { type: 'boolean' } },
      required: ['messageId', 'queued'],
      additionalProperties: false,
    },
    approval: 'never',
  },
];

const INPUT_SCHEMA = {
  type: 'object',
  properties: {
    orderId: { type: 'string' },
    threshold: { type: 'number' },
    region: { type: 'string', enum: ['eu', 'us', 'uk'] },
    lang: { type: 'string' },
  },
  required: ['orderId'],
  additionalProperties: false,
};

// The shared pool of llm output schemas (reused across groups, as real specs do).
const ASSESS = {
  type: 'object',
  properties: { damaged: { type: 'boolean' }, reason: { type: 'string' }, confidence: { type: 'number', minimum: 0, maximum: 1 } },
  required: ['damaged', 'reason', 'confidence'],
  additionalProperties: false,
};
const CLASSIFY = {
  type: 'object',
  properties: {
    category: { type: 'string', enum: ['damage', 'late', 'wrong_item', 'billing', 'other'] },
    urgency: { type: 'integer', minimum: 1, maximum: 5 },
    summary: { type: 'string' },
  },
  required: ['category', 'urgency', 'summary'],
  additionalProperties: false,
};
const CLASSIFY_BRIEF = {
  type: 'object',
  properties: { category: { type: 'string' }, urgency: { type: 'integer' }, summary: { type: 'string' }, language: { type: 'string' } },
  required: ['category', 'urgency', 'summary', 'language'],
  additionalProperties: false,
};
const EXTRACT = {
  type: 'object',
  properties: {
    findings: {
      type: 'array',
      items: {
        type: 'object',
        properties: { sku: { type: 'string' }, issue: { type: 'string' }, severity: { type: 'integer' } },
        required: ['sku', 'issue', 'severity'],
      },
    },
    count: { type: 'integer' },
    finding: { type: 'string' },
  },
  required: ['findings', 'count', 'finding'],
  additionalProperties: false,
};
const DRAFT = {
  type: 'object',
  properties: { subject: { type: 'string', maxLength: 120 }, body: { type: 'string' }, tone: { type: 'string', enum: ['formal', 'friendly'] } },
  required: ['subject', 'body', 'tone'],
  additionalProperties: false,
};
const DRAFT_SHORT = {
  type: 'object',
  properties: { subject: { type: 'string' }, body: { type: 'string' } },
  required: ['subject', 'body'],
  additionalProperties: false,
};

/** A schema of its own for one llm step (as a developer or the planner writes one per step). */
function uniqueExtractSchema(key, rand) {
  const properties = {
    findings: {
      type: 'array',
      items: { type: 'object', properties: { sku: { type: 'string' }, issue: { type: 'string' } }, required: ['sku', 'issue'] },
      maxItems: 5 + Math.floor(rand() * 20),
    },
    count: { type: 'integer', minimum: 0 },
    finding: { type: 'string', description: `what ${key} found` },
    [`score_${key}`]: { type: 'number', minimum: 0, maximum: 10 },
  };
  if (rand() < 0.5) properties.labels = { type: 'array', items: { type: 'string', enum: ['photo', 'text', 'both'] } };
  return { type: 'object', properties, required: ['findings', 'count', 'finding', `score_${key}`], additionalProperties: false };
}

/** mulberry32: a small seeded generator. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const STEPS_PER_GROUP = 12;

/** One group's 12 steps; `prev` is the id the group waits for (the previous group's last step). */
function group(p, g, prev, rand, variant) {
  const s = (name) => `${p}${name}`;
  const ref = (name, path = '') => `steps.${s(name)}${path}`;
  const uniqueSchema = g % 3 === 2;
  return [
    {
      id: s('order'),
      kind: 'tool',
      tool: 'lookup_order',
      args: { orderId: '${input.orderId}' },
      ...(prev ? { after: [prev] } : {}),
      timeout: '30s',
      retry: { maxAttempts: 5, initialInterval: '1s', backoffCoefficient: 2 },
    },
    {
      id: s('customer'),
      kind: 'tool',
      tool: 'fetch_customer',
      args: { customerId: `\${${ref('order', '.customer.id')}}`, fields: ['email', 'tier', 'flags'] },
    },
    {
      id: s('kb'),
      kind: 'tool',
      tool: 'search_kb',
      description: 'policy articles for the complaint',
      args: {
        query: `damage policy, ${'${'}${ref('order', '.currency')}} orders, ${'${'}size(${ref('order', '.items')})} items`,
        limit: 3 + (g % 7),
        lang: ['en', 'de', 'fr'][g % 3],
      },
    },
    {
      id: s('assess'),
      kind: 'llm',
      system: 'You assess customer complaints. Answer with the schema only.',
      prompt: `Customer note: \${${ref('order', '.note')}}\nCustomer tier: \${${ref('customer', '.tier')}}\nOrder total: \${${ref('order', '.total')}} \${${ref('order', '.currency')}}\nIs the item damaged?`,
      output: ASSESS,
      temperature: 0,
    },
    {
      id: s('classify'),
      kind: 'llm',
      prompt: `Classify this complaint (order \${input.orderId}, region \${input.region}): \${${ref('order', '.note')}}`,
      output: g % 2 === 0 ? CLASSIFY : CLASSIFY_BRIEF,
      model: 'gpt-4o-mini',
    },
    {
      id: s('ok'),
      kind: 'approval',
      when: `${ref('assess', '.damaged')} && ${ref('assess', '.confidence')} > 0.5 && (${ref('order', '.total')} > input.threshold || ${ref('customer', '.flags.vip')})`,
      title: `Refund \${${ref('order', '.total')}} \${${ref('order', '.currency')}} on order \${${ref('order', '.orderId')}}?`,
      details: `Reason: \${${ref('assess', '.reason')}}\nTop article: \${${ref('kb', '.hits')}.exists(h, h.score > 0.8) ? "found" : "none"}`,
      timeout: `${12 + (g % 36)}h`,
      onTimeout: 'deny',
      ...(g % 4 === 0 ? { approvers: ['support-leads', 'finance'] } : {}),
    },
    { id: s('cooloff'), kind: 'wait', when: ref('ok', '.approved'), duration: `${1 + (g % 59)}m`, after: [s('ok')] },
    {
      id: s('refund'),
      kind: 'tool',
      tool: 'refund_order',
      when: `${ref('ok', '.approved')} && !${ref('customer', '.flags.fraud')}`,
      args: { orderId: `\${${ref('order', '.orderId')}}`, amount: `\${${ref('order', '.total')}}`, reason: `\${${ref('assess', '.reason')}}` },
      after: [s('cooloff')],
      retry: { maxAttempts: 3, initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m' },
      timeout: '1m',
    },
    {
      id: s('ticket'),
      kind: 'tool',
      tool: 'create_ticket',
      when: `${ref('classify', '.urgency')} >= 4 || ${ref('classify', '.category')} == "billing"`,
      args: {
        title: `Order \${${ref('order', '.orderId')}}: \${${ref('classify', '.summary')}}`,
        priority: ['low', 'normal', 'high', 'urgent'][g % 4],
        tags: ['support', ['damage', 'late', 'billing'][g % 3]],
        assignee: null,
      },
      onError: 'continue',
    },
    {
      id: s('extract'),
      kind: 'llm',
      prompt: `List the damaged items of order \${${ref('order', '.orderId')}} (\${size(${ref('order', '.items')})} items). Note: \${${ref('order', '.note')}}`,
      output: uniqueSchema ? uniqueExtractSchema(`${variant}_${g}`, rand) : EXTRACT,
    },
    {
      id: s('draft'),
      kind: 'llm',
      prompt:
        `Write to \${${ref('customer', '.name')}} about order \${${ref('order', '.orderId')}}.\n` +
        `Refund: \${${ref('refund')} != null ? "approved" : "not approved"}. Reason: \${${ref('assess', '.reason')}}.\n` +
        `Findings: \${${ref('extract', '.finding')}} (\${${ref('extract', '.count')}}). Ticket: \${${ref('ticket')} != null ? ${ref('ticket', '.url')} : "none"}.\n` +
        `Articles: \${size(${ref('kb', '.hits')})}`,
      output: g % 5 === 4 ? DRAFT_SHORT : DRAFT,
    },
    {
      id: s('notify'),
      kind: 'tool',
      tool: 'send_email',
      args: {
        to: `\${${ref('customer', '.email')}}`,
        subject: `\${${ref('draft', '.subject')}}`,
        body: `\${${ref('draft', '.body')}}\n\n-- run \${run.workflowId}`,
        cc: ['support@example.com'],
      },
      onError: 'continue',
    },
  ];
}

/**
 * A spec of exactly `steps` steps. The last group may be cut short: every step only references earlier
 * steps of its own group or the previous group's last step, so any prefix is a valid spec.
 */
export function generateSpec(steps, { variant = 0 } = {}) {
  const rand = random(0x5eed + variant * 7919);
  const prefix = variant === 0 ? '' : `v${variant}_`;
  const out = [];
  let prev;
  for (let g = 0; out.length < steps; g++) {
    const p = `${prefix}g${g}_`;
    const list = group(p, g, prev, rand, variant);
    prev = list[list.length - 1].id;
    out.push(...list.slice(0, steps - out.length));
  }
  const first = `${prefix}g0_`;
  const last = out[out.length - 1].id;
  return {
    version: 1,
    name: `support-${steps}-steps${variant ? `-v${variant}` : ''}`,
    description: 'Handle damaged-order complaints: look up, assess, approve, refund, tell the customer.',
    input: INPUT_SCHEMA,
    steps: out,
    output: {
      order: `\${steps.${first}order.orderId}`,
      damaged: `\${steps.${first}assess.damaged}`,
      reason: `\${steps.${first}assess.reason}`,
      done: `\${steps.${last} != null}`,
      summary: `${steps} steps for order \${input.orderId}`,
    },
  };
}

/** The spec as the CLI reads it from a file: pretty-printed JSON. */
export function specText(spec) {
  return `${JSON.stringify(spec, null, 2)}\n`;
}

/** `count` minimal wait steps: a spec far over the step limit yet under the byte limit when compact. */
export function tinySpec(count) {
  const steps = [];
  for (let i = 0; i < count; i++) steps.push({ id: `w${i}`, kind: 'wait', duration: '1s' });
  return { version: 1, name: `tiny-${count}`, steps };
}
