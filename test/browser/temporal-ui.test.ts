/**
 * The Temporal UI reading an encrypted run, in a real browser (Debian's chromium, driven by puppeteer-core): a dev
 * server whose UI is pointed at `trellis serve`'s codec endpoint (`--ui-codec-endpoint`), a worker and a client with
 * an encryption key, and a run that waits at an approval step. A person signs in to the inbox (the session cookie),
 * ticks "include cross-origin credentials" in the UI's codec settings, and the run page shows the decoded input and the
 * waiting step's title. A second dev server without a codec endpoint shows its own encrypted run as ciphertext. And a
 * browser without a session is refused by the codec (401), from the UI's origin, with CORS headers it may read.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrellisClient } from '../../src/client/index.js';
import { parseEncryptionKeys } from '../../src/codec/keys.js';
import { authConfigFromEnv } from '../../src/server/auth.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { freePort } from '../../src/temporal/dev-server.js';
import { startDevServer, type DevServer } from '../../src/temporal/index.js';
import { bundleWorkflows, createTrellisWorker } from '../../src/worker.js';
import { testLogger } from '../helpers/logs.js';
import { JWT_SECRET, personToken } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const CHROMIUM = '/usr/bin/chromium';
const HOST = '127.0.0.1';
const keys = parseEncryptionKeys(`ui:${randomBytes(32).toString('base64')}`, 'test');
/** The step's title names the input: so the rendered title is in what the run waits for, and not in its spec. */
const spec = {
  version: 1,
  name: 'ui-codec',
  input: { type: 'object' },
  steps: [{ id: 'ship', kind: 'approval', title: 'Ship crate ${input.note} to dock 9?' }],
};
const title = (note: string) => `Ship crate ${note} to dock 9?`;
const marker = (what: string) => `MARK${what}${randomBytes(4).toString('hex').toUpperCase()}`;
/** How the UI shows a payload it cannot decode: the envelope's bytes, in base64. */
const CIPHERTEXT = /[A-Za-z0-9+/]{200,}={0,2}/;
/** The UI is slow to start and to render a run: every wait on it is bounded by this, with a message that says what. */
const UI_WAIT_MS = 45_000;

/** One dev server with a worker and a client on it, all with the key. */
interface Stack {
  dev: DevServer;
  client: TrellisClient;
  worker: Worker;
  done: Promise<void>;
  close(): Promise<void>;
}

let dir: string;
let withCodec: Stack;
let withoutCodec: Stack;
let serve: RunningServer;
let browser: Browser;

async function startStack(name: string, bundle: { code: string }, uiCodecEndpoint?: string): Promise<Stack> {
  const dev = await startDevServer({
    port: 'auto',
    dbFile: path.join(dir, `${name}.db`),
    searchAttributes: { TrellisStatus: 'Keyword' },
    ...(uiCodecEndpoint !== undefined && { uiCodecEndpoint }),
  });
  const temporal = { address: dev.address, namespace: dev.namespace, taskQueue: `ui-${name}` };
  const { worker, close } = await createTrellisWorker({ tools: [], temporal, workflowBundle: bundle, logger: testLogger('warn'), encryption: keys });
  const done = worker.run();
  const client = await TrellisClient.connect(temporal, { encryption: keys });
  return {
    dev,
    client,
    worker,
    done,
    async close() {
      await client.close();
      worker.shutdown();
      await done;
      await close();
      await dev.stop();
    },
  };
}

beforeAll(async () => {
  // Fails, never skips: a browser test that did not run must not pass.
  if (!existsSync(CHROMIUM)) throw new Error('chromium not found: apt-get install -y chromium');
  dir = await mkdtemp(path.join(tmpdir(), 'trellis-ui-'));
  // The UI must know the codec's URL before it starts, and serve needs a client on that server: so the port first.
  // Both on 127.0.0.1, so the UI and serve are the same site and the SameSite=Lax session cookie goes with its calls.
  const servePort = await freePort();
  const bundle = await bundleWorkflows();
  [withCodec, withoutCodec] = await Promise.all([startStack('codec', bundle, `http://${HOST}:${servePort}/codec`), startStack('plain', bundle)]);
  serve = await startServer({
    port: servePort,
    deps: {
      client: withCodec.client,
      auth: authConfigFromEnv({ TRELLIS_JWT_SECRET: JWT_SECRET }),
      encryption: keys,
      temporalUiUrl: withCodec.dev.uiUrl!,
      logger: testLogger('warn'),
    },
  });
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
});

afterAll(async () => {
  await browser?.close();
  await serve?.close();
  await Promise.all([withCodec?.close(), withoutCodec?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function startWaiting(stack: Stack, note: string): Promise<string> {
  const { runId } = await stack.client.start(spec, { input: { note } });
  await waitFor(
    () => stack.client.status(runId),
    (v) => v.status === 'waiting',
    { what: `run ${runId} to wait at its approval step`, timeoutMs: 30_000 },
  );
  return runId;
}

/** The run's page in the UI, once it has rendered the run (its id in the page), with a clear error if it never does. */
async function openRun(page: Page, stack: Stack, runId: string): Promise<void> {
  await page.goto(`${stack.dev.uiUrl}/namespaces/${stack.dev.namespace}/workflows/${runId}`, { timeout: UI_WAIT_MS });
  await waitForText(page, runId, 'the UI to render the run');
}

async function waitForText(page: Page, text: string | RegExp, what: string): Promise<void> {
  const deadline = Date.now() + UI_WAIT_MS;
  for (;;) {
    const shown = await pageText(page);
    if (typeof text === 'string' ? shown.includes(text) : text.test(shown)) return;
    if (Date.now() > deadline) await timedOut(page, `${what} (${String(text)} never showed)`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A clear error for a wait on the UI that ran out, with a screenshot of what the page showed then. */
async function timedOut(page: Page, what: string): Promise<never> {
  const file = `/tmp/ui-timeout-${what.replace(/[^a-z]+/gi, '-').slice(0, 40)}.png`;
  await page.screenshot({ path: file, fullPage: true });
  throw new Error(`timed out after ${UI_WAIT_MS / 1000} s waiting for ${what}; see ${file}`);
}

/** What the page shows, its frames included: the UI renders a run's summary and details (markdown) in iframes. */
async function pageText(page: Page): Promise<string> {
  const texts = await Promise.all(
    page.frames().map((f) => (f.evaluate('document.body ? document.body.innerText : ""') as Promise<string>).catch(() => '')),
  );
  return texts.join('\n');
}

describe('the Temporal UI on encrypted runs', () => {
  it('shows the decoded input and the waiting step through the codec, for a person signed in to the inbox', async () => {
    const note = marker('IN');
    const runId = await startWaiting(withCodec, note);
    const page = await (await browser.createBrowserContext()).newPage();
    await page.setViewport({ width: 1280, height: 1000 });

    // Signed in to the inbox: the session cookie, which the UI's codec calls carry once credentials are included.
    await page.goto(`${serve.url}/inbox/login`);
    await page.type('#token', await personToken({ sub: 'ana', email: 'ana@example.com' }));
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    expect(page.url()).toBe(`${serve.url}/inbox`);

    // As a person does it: the UI's codec settings, "include cross-origin credentials" (the dev server cannot set it).
    await openRun(page, withCodec, runId);
    await setIncludeCredentials(page, `http://${HOST}:${new URL(serve.url).port}/codec`);
    const decodes = watchDecodes(page);
    await openRun(page, withCodec, runId);
    await waitForText(page, note, 'the decoded input');
    await page.screenshot({ path: '/tmp/ui-decoded.png', fullPage: true });
    // What the run waits for: its current details, under the run's User Metadata.
    await clickText(page, 'User Metadata');
    await waitForText(page, title(note), "the waiting step's title");
    await page.screenshot({ path: '/tmp/ui-decoded-waiting.png', fullPage: true });
    expect(decodes.statuses.length).toBeGreaterThan(0);
    expect(decodes.statuses.every((s) => s === 200)).toBe(true);
    expect(await pageText(page)).not.toMatch(CIPHERTEXT);
  }, 180_000);

  it('shows ciphertext, not the input, in a UI without a codec endpoint', async () => {
    const note = marker('PLAIN');
    const runId = await startWaiting(withoutCodec, note);
    const page = await (await browser.createBrowserContext()).newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    await openRun(page, withoutCodec, runId);
    // The input as the server keeps it: the envelope's ciphertext, in base64.
    await waitForText(page, CIPHERTEXT, 'the encrypted input');
    await page.screenshot({ path: '/tmp/ui-encrypted.png', fullPage: true });
    const text = await pageText(page);
    expect(text).not.toContain(note);
    await clickText(page, 'User Metadata');
    await page.screenshot({ path: '/tmp/ui-encrypted-waiting.png', fullPage: true });
    expect(await pageText(page)).not.toContain(title(note));
  });

  it('refuses a browser without a session at /codec/decode (401), from the UI origin, which may read the refusal', async () => {
    const page = await (await browser.createBrowserContext()).newPage();
    await page.goto(`${withCodec.dev.uiUrl}/namespaces/default/workflows`, { timeout: UI_WAIT_MS });
    const answer = await page.evaluate(async (url: string) => {
      const res = await fetch(url, {
        method: 'POST',
        credentials: 'include',
        headers: { 'content-type': 'application/json', 'x-namespace': 'default' },
        body: JSON.stringify({ payloads: [] }),
      });
      return { status: res.status, body: await res.text() };
    }, `${serve.url}/codec/decode`);
    expect(answer.status).toBe(401);
    expect(answer.body).toContain('unauthenticated');

    // The headers behind that: the UI's origin is allowed, with credentials; another origin is not.
    const uiOrigin = new URL(withCodec.dev.uiUrl!).origin;
    const preflight = await fetch(`${serve.url}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: uiOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    const refused = await fetch(`${serve.url}/codec/decode`, {
      method: 'POST',
      headers: { origin: uiOrigin, 'content-type': 'application/json' },
      body: '{"payloads":[]}',
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    const other = await fetch(`${serve.url}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

/** Clicks the tab or button whose text is `text`. */
async function clickText(page: Page, text: string): Promise<void> {
  const selector = `::-p-text(${text})`;
  try {
    await page.waitForSelector(selector, { visible: true, timeout: UI_WAIT_MS });
  } catch {
    await timedOut(page, `"${text}" to click`);
  }
  await page.click(selector);
}

/** The statuses of the UI's calls to the codec from now on. */
function watchDecodes(page: Page): { statuses: number[] } {
  const seen = { statuses: [] as number[] };
  page.on('response', (res) => {
    if (res.request().method() === 'POST' && new URL(res.url()).pathname === '/codec/decode') seen.statuses.push(res.status());
  });
  return seen;
}

/** Opens the UI's codec settings, ticks "include cross-origin credentials" for `endpoint`, and applies them. */
async function setIncludeCredentials(page: Page, endpoint: string): Promise<void> {
  const step = async (selector: string, what: string) => {
    try {
      await page.waitForSelector(selector, { visible: true, timeout: UI_WAIT_MS });
    } catch {
      await timedOut(page, `the codec settings' ${what} (${selector})`);
    }
    await page.click(selector);
  };
  await step('[data-testid^="data-encoder-status"]', 'Codec Server button');
  await step('#use-local-endpoint-radio', '"Use my browser setting"');
  await step('#data-encoder-endpoint-input', 'the browser endpoint field');
  await page.keyboard.type(endpoint);
  await step('[data-testid="data-encoder-include-credentials"]', '"Include cross-origin credentials" switch');
  await page.screenshot({ path: '/tmp/ui-codec-settings.png' });
  await step('dialog#data-encoder-settings [data-testid="confirm-modal-button"]', 'Apply');
  // What the dialog keeps in the browser: the same keys docs/encryption.md names for people who script it.
  const stored = await page.evaluate(`['overrideRemoteCodecConfiguration', 'endpoint', 'includeCredentials'].map((k) => localStorage.getItem(k))`);
  expect(stored).toEqual(['true', JSON.stringify(endpoint), 'true']);
}
