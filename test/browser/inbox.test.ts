/**
 * The approval inbox in a real browser (Debian's chromium, driven by puppeteer-core) against `trellis serve` on the
 * real dev server, with a worker, the mock LLM and a decision key, so every answer the pages record is signed and
 * checked by the workflow. A person signs in with a JWT, finds the item, and denies a goal run's plan with a comment
 * from the keyboard alone; the run replans and the page shows the new plan waiting. Then a signed link, at phone
 * width, approves a gated refund as the link's approver; opened again, it says it was answered.
 */
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkKeyFrom, signApprovalLink } from '../../src/links/approval-link.js';
import { authConfigFromEnv } from '../../src/server/auth.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import tools from '../fixtures/run-tools.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { JWT_SECRET, personToken } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const DECISION_KEY = 'inbox-browser-test-decision-key-0123456789';
const TEMPORAL_UI = 'http://temporal-ui.example';

const lookup = (id: string) => ({ id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: id } });
const refund = (id: string, amount: number) => ({ id: 'refund', kind: 'tool', tool: 'refund_order', args: { orderId: id, amount } });
const plan = (name: string, amount: number) => ({
  version: 1,
  name,
  steps: [lookup('B7'), refund('B7', amount)],
  output: { amount: '${steps.refund.amount}' },
});

let h: Harness;
let server: RunningServer;
let browser: Browser;
const savedKey = process.env.TRELLIS_DECISION_KEY;

beforeAll(async () => {
  // Fails, never skips: a browser test that did not run must not pass.
  if (!existsSync(CHROMIUM)) throw new Error('chromium not found: apt-get install -y chromium');
  // The worker and the harness's client read the key: the workflow then takes only answers the server signed.
  process.env.TRELLIS_DECISION_KEY = DECISION_KEY;
  h = await startHarness({
    tools,
    rules: [
      { match: '^Goal: Refund order B7.*refund only half', reply: plan('refund-b7-half', 125) },
      { match: '^Goal: Refund order B7', reply: plan('refund-b7-full', 250) },
    ],
  });
  server = await startServer({
    deps: { client: h.client, auth: authConfigFromEnv({ TRELLIS_JWT_SECRET: JWT_SECRET }), decisionKey: DECISION_KEY, temporalUiUrl: TEMPORAL_UI },
  });
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await h?.stop();
  if (savedKey === undefined) delete process.env.TRELLIS_DECISION_KEY;
  else process.env.TRELLIS_DECISION_KEY = savedKey;
});

/** Signs in on the sign-in page the browser is on, with the keyboard: Tab to the token, type it, Enter. */
async function signIn(page: Page, sub: string, claims: { email?: string; groups?: string[] }): Promise<void> {
  await tabTo(page, '#token');
  await page.keyboard.type(await personToken({ sub, ...claims }));
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
}

/** Presses Tab until the focused element matches `selector` (the keyboard's way there, in the page's order). */
async function tabTo(page: Page, selector: string, limit = 60): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(`!!document.activeElement && document.activeElement.matches(${JSON.stringify(selector)})`)) return;
  }
  throw new Error(`${limit} presses of Tab never reached ${selector}`);
}

/** Whether the focused element shows where the focus is (an outline). */
function focusShows(page: Page): Promise<boolean> {
  return page.evaluate(
    `getComputedStyle(document.activeElement).outlineStyle !== 'none' && parseFloat(getComputedStyle(document.activeElement).outlineWidth) >= 2`,
  ) as Promise<boolean>;
}

/** Reloads the page until `selector` matches: the list reads Temporal's visibility, which lags a little. */
async function reloadUntil(page: Page, selector: string, what: string): Promise<void> {
  await waitFor(
    async () => {
      await page.reload();
      return page.evaluate(`!!document.querySelector(${JSON.stringify(selector)})`);
    },
    (found) => found === true,
    { what, intervalMs: 300, timeoutMs: 30_000 },
  );
}

/** The text of the first element matching `selector`; '' without one. */
function text(page: Page, selector: string): Promise<string> {
  return page.evaluate(`document.querySelector(${JSON.stringify(selector)})?.innerText ?? ''`) as Promise<string>;
}

describe('the approval inbox, in chromium', () => {
  it('signs in with a JWT, shows the waiting plan, and denies it with a comment from the keyboard; the run replans', async () => {
    const run = await h.client.startGoal('Refund order B7', { review: true, id: `inbox-b7-${Date.now()}` });
    const page = await (await browser.createBrowserContext()).newPage();
    await page.setViewport({ width: 1024, height: 900 });

    // Unauthenticated: the inbox sends the browser to the sign-in page, not a JSON 401.
    const first = await page.goto(`${server.url}/inbox`);
    expect(page.url()).toBe(`${server.url}/inbox/login?next=%2Finbox`);
    expect(first?.headers()['content-security-policy']).toContain("script-src 'self'");
    await signIn(page, 'alice', { email: 'alice@example.com', groups: ['finance'] });
    expect(page.url()).toBe(`${server.url}/inbox`);
    expect(await text(page, '.bar')).toContain('Signed in as alice@example.com');

    const selector = `a[href="/inbox/runs/${run.runId}"]`;
    await reloadUntil(page, selector, 'the plan to show in the inbox');
    const item = await page.evaluate(`document.querySelector(${JSON.stringify(selector)}).closest('li').innerText`);
    expect(item).toContain('Run this plan for: Refund order B7');
    expect(item).toContain('"amount":250');
    await page.screenshot({ path: '/tmp/inbox-list.png', fullPage: true });

    await tabTo(page, selector);
    expect(await focusShows(page)).toBe(true);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    expect(page.url()).toBe(`${server.url}/inbox/runs/${run.runId}`);
    const question = await text(page, 'section[data-pending="plan"]');
    expect(question).toContain('refund_order {"orderId":"B7","amount":250}');
    expect(await text(page, 'main')).toContain('refund-b7-full');
    expect(await text(page, 'section[aria-labelledby="input-h"]')).toContain('The run was started without input.');
    expect(await page.evaluate(`document.querySelector('a[href^="${TEMPORAL_UI}"]').href`)).toBe(
      `${TEMPORAL_UI}/namespaces/default/workflows/${run.runId}`,
    );
    // The live progress has read the run's events so far.
    await page.waitForFunction(`document.querySelector('#progress').innerText.includes('plan waits for a person')`);
    await page.screenshot({ path: '/tmp/inbox-item.png', fullPage: true });

    // The comment, then Deny: Tab order is comment, Approve, Deny.
    await tabTo(page, 'textarea[name="comment"]');
    await page.keyboard.type('refund only half');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Approve');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Deny');
    expect(await focusShows(page)).toBe(true);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);

    expect(page.url()).toBe(`${server.url}/inbox/runs/${run.runId}`);
    expect(await text(page, '.flash.ok')).toBe('Denied "Run this plan for: Refund order B7" as alice, with your comment.');
    // The new plan: on the page already, or announced by the live progress with a link that reloads it.
    await page.waitForFunction(
      `document.querySelector('#live-notice a') || (document.querySelector('section[data-pending="plan"]')?.innerText ?? '').includes('"amount":125')`,
      {
        timeout: 30_000,
      },
    );
    await page.screenshot({ path: '/tmp/inbox-replanned.png', fullPage: true });
    if (await page.evaluate(`!!document.querySelector('#live-notice a')`)) {
      expect(await text(page, '#live-notice')).toContain('now waits for an answer');
      await tabTo(page, '#live-notice a');
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    }
    expect(await text(page, 'section[data-pending="plan"]')).toContain('refund_order {"orderId":"B7","amount":125}');
    expect(await text(page, 'main')).toContain('refund-b7-half');
    // At phone width the page is one column: nothing to scroll sideways.
    await page.setViewport({ width: 375, height: 812, isMobile: true, hasTouch: true });
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await page.screenshot({ path: '/tmp/inbox-item-phone.png', fullPage: true });

    // What the workflow recorded: the signed denial, as the person the token named.
    const decided = (await h.client.events(run.runId)).events.filter((e) => e.type === 'step.decided');
    expect(decided.map((e) => e.data)).toEqual([expect.objectContaining({ approved: false, by: 'alice', comment: 'refund only half' })]);
    await page.browserContext().close();
    await h.client.cancel(run.runId);
  });

  it('approves a gated refund through a signed link at phone width; the link then says it was answered', async () => {
    const spec = { version: 1, name: 'refund-b8', steps: [refund('B8', 250)], output: { refunded: '${steps.refund.amount}' } };
    const run = await h.client.start(spec, { id: `inbox-b8-${Date.now()}` });
    const asked = await waitFor(
      () => h.client.status(run.runId),
      (v) => v.pending.some((p) => p.step === 'refund'),
      { what: 'the refund to wait for a person' },
    );
    const askedAt = asked.pending.find((p) => p.step === 'refund')!.askedAt!;
    // A link made for an earlier wait of the same step (a replaced plan's, say) answers nothing.
    const earlier = signApprovalLink(linkKeyFrom(DECISION_KEY), {
      run: run.runId,
      step: 'refund',
      approver: 'carol@example.com',
      asked: new Date(Date.parse(askedAt) - 60_000).toISOString(),
      expires: new Date(Date.now() + 60 * 60_000).toISOString(),
    });
    const old = await fetch(`${server.url}/a/${earlier}`);
    expect(old.status).toBe(410);
    expect(await old.text()).toContain('answers an earlier question of this step');
    const token = signApprovalLink(linkKeyFrom(DECISION_KEY), {
      run: run.runId,
      step: 'refund',
      approver: 'carol@example.com',
      asked: askedAt,
      expires: new Date(Date.now() + 60 * 60_000).toISOString(),
    });
    const page = await (await browser.createBrowserContext()).newPage();
    await page.setViewport({ width: 375, height: 812, isMobile: true, hasTouch: true });

    // A GET never decides, even one that picked Approve in advance (a mail scanner fetches it like this).
    const opened = await page.goto(`${server.url}/a/${token}?decision=approve`);
    expect(opened?.status()).toBe(200);
    expect((await h.client.status(run.runId)).pending.map((p) => p.step)).toEqual(['refund']);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    const main = await text(page, 'main');
    expect(main).toContain('Allow refund_order');
    expect(main).toMatch(/amount\s+250/);
    expect(main).toContain('Recorded as carol@example.com');
    expect(main).toContain('You chose Approve in the message');
    await page.screenshot({ path: '/tmp/inbox-link.png', fullPage: true });

    await tabTo(page, 'button[value="true"]');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    expect(await text(page, '.flash.ok')).toContain('Approved "Allow refund_order');
    expect(await text(page, '.flash.ok')).toContain('as carol@example.com');
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);

    const result = await h.client.result(run.runId);
    expect(result.output).toEqual({ refunded: 250 });
    const decided = (await h.client.events(run.runId)).events.filter((e) => e.type === 'step.decided');
    expect(decided.map((e) => e.data)).toEqual([expect.objectContaining({ approved: true, by: 'carol@example.com' })]);

    // Used once: opening it again says who answered.
    await page.goto(`${server.url}/a/${token}`);
    expect(await text(page, 'main')).toContain('This was already answered by carol@example.com (approved at');
    await page.screenshot({ path: '/tmp/inbox-link-answered.png', fullPage: true });

    // A token changed by one character, and one past its time, each get a page that says so.
    const changed = await page.goto(`${server.url}/a/${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`);
    expect(changed?.status()).toBe(400);
    expect(await text(page, 'main')).toContain('its signature does not match');
    const stale = signApprovalLink(linkKeyFrom(DECISION_KEY), {
      run: run.runId,
      step: 'refund',
      approver: 'carol@example.com',
      asked: askedAt,
      expires: new Date(Date.now() - 1000).toISOString(),
    });
    const expired = await page.goto(`${server.url}/a/${stale}`);
    expect(expired?.status()).toBe(410);
    expect(await text(page, 'h1')).toBe('This link has expired');
    await page.browserContext().close();
  });

  it('lists what the person may answer, by name or group, and refuses the rest in words', async () => {
    const ask = (name: string, approvers: string[]) => ({ version: 1, name, steps: [{ id: 'ok', kind: 'approval', title: `${name}?`, approvers }] });
    const stamp = Date.now();
    const forFinance = await h.client.start(ask('pay-invoice', ['group:finance']), { id: `inbox-finance-${stamp}` });
    const forBob = await h.client.start(ask('bobs-call', ['bob@example.com']), { id: `inbox-bob-${stamp}` });
    const page = await (await browser.createBrowserContext()).newPage();
    await page.goto(`${server.url}/inbox/runs/${forBob.runId}`);
    // Signed in from a deep link, the person lands where they were going.
    await signIn(page, 'dave', { email: 'dave@example.com', groups: ['finance'] });
    expect(page.url()).toBe(`${server.url}/inbox/runs/${forBob.runId}`);
    await page.waitForFunction(`!!document.querySelector('section[data-pending="ok"]')`);
    expect(await text(page, 'section[data-pending="ok"]')).toContain('You are not one of the approvers of this step');
    expect(await page.evaluate(`!!document.querySelector('section[data-pending="ok"] form')`)).toBe(false);

    // A decision posted anyway is refused: without the session's CSRF token by the inbox, with it by the run; the
    // page it is sent back to says why.
    const post = (fields: Record<string, string>) =>
      page.evaluate(
        `fetch(location.pathname + '/decisions', { method: 'POST', body: new URLSearchParams(${JSON.stringify(fields)}) }).then(async (r) => ({ status: r.status, body: await r.text() }))`,
      ) as Promise<{ status: number; body: string }>;
    expect((await post({ step: 'ok', approved: 'true' })).status).toBe(403);
    const csrf = (await page.evaluate(`document.querySelector('input[name="csrf"]').value`)) as string;
    const refused = await post({ step: 'ok', approved: 'true', csrf });
    expect(refused.status).toBe(200);
    expect(refused.body).toContain('You are not one of the approvers of this step, so your answer was not recorded.');
    expect((await h.client.status(forBob.runId)).pending.map((p) => p.step)).toEqual(['ok']);

    await page.goto(`${server.url}/inbox`);
    await reloadUntil(page, `a[href="/inbox/runs/${forFinance.runId}"]`, 'the finance approval to show in the inbox');
    expect(await page.evaluate(`!!document.querySelector('a[href="/inbox/runs/${forBob.runId}"]')`)).toBe(false);
    await page.browserContext().close();

    // Behind a login proxy (an OIDC provider's), the person's token comes with each request: no sign-in page.
    const proxied = await (await browser.createBrowserContext()).newPage();
    await proxied.setExtraHTTPHeaders({ authorization: `Bearer ${await personToken({ sub: 'bob', email: 'bob@example.com' })}` });
    await proxied.goto(`${server.url}/inbox`);
    expect(proxied.url()).toBe(`${server.url}/inbox`);
    expect(await text(proxied, '.bar')).toContain('Signed in as bob@example.com');
    await reloadUntil(proxied, `a[href="/inbox/runs/${forBob.runId}"]`, "bob's approval to show in his inbox");
    await proxied.browserContext().close();
    await Promise.all([h.client.cancel(forFinance.runId), h.client.cancel(forBob.runId)]);
  });
});
