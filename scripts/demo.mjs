#!/usr/bin/env node
// The demo: a real Temporal dev server, the mock LLM, a worker with the example tools, and the refund flow
// of examples/refund.json run end to end. It waits for a person; the demo approves (unless --interactive,
// which starts `trellis serve` too, leaves the run waiting and prints the inbox, a signed approval link and the
// command for you), and prints the result. With --encrypt, every payload in the run's history is encrypted
// (TRELLIS_ENCRYPTION_KEYS or TRELLIS_ENCRYPTION_KEY_FILE when set, else the key `trellis dev --encrypt` makes once
// in .trellis/encryption.keys).
//
//   npm run demo                   # ends by itself
//   npm run demo -- --interactive  # you approve it in the inbox, by a link, or in another shell
//   npm run demo -- --encrypt      # the same, encrypted (with --interactive too)
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import { TrellisClient } from '../dist/client/index.js';
import { catalogOf, describeTool, loadToolsModule } from '../dist/index.js';
import { parseMockScript, startMockLlm } from '../dist/testing.js';
import { createTrellisWorker } from '../dist/worker.js';
import { startDevServer, trellisHome } from '../dist/temporal/index.js';
import { encryptionKeysFromEnv } from '../dist/codec/index.js';
import { ensureDevKeyFile } from '../dist/codec/dev-key.js';
import { linkKeyFrom, signApprovalLink } from '../dist/links/index.js';
import { authConfigFromEnv } from '../dist/server/auth.js';
import { startServer } from '../dist/server/serve.js';

const interactive = process.argv.includes('--interactive');
const encrypt = process.argv.includes('--encrypt');
const say = (text = '') => process.stdout.write(`${text}\n`);
if (encrypt && !process.env.TRELLIS_ENCRYPTION_KEYS && !process.env.TRELLIS_ENCRYPTION_KEY_FILE) {
  // As trellis dev --encrypt does: the key file made once, which other shells name with the same variable.
  process.env.TRELLIS_ENCRYPTION_KEY_FILE = await ensureDevKeyFile(trellisHome());
}
// Without --encrypt, the worker and the client read the environment as they always do.
const encryption = encrypt ? encryptionKeysFromEnv() : undefined;
const orderId = 'A-1004'; // the example tools say: 296 USD, "The glass was shattered when I opened the parcel."

say('Starting a Temporal dev server (state kept in .trellis/dev.db)...');
const server = await startDevServer({ port: 7233, searchAttributes: { TrellisStatus: 'Keyword' }, log: (l) => say(`  ${l}`) }).catch(async (e) => {
  if (e.code !== 'DEV_SERVER_PORT_IN_USE') throw e;
  say('  port 7233 is taken; using a free port');
  return startDevServer({ port: 'auto', searchAttributes: { TrellisStatus: 'Keyword' } });
});
const mock = await startMockLlm({ rules: parseMockScript(JSON.parse(await readFile('examples/mock-llm.json', 'utf8'))) });
const tools = await loadToolsModule('examples/tools.ts');
const temporal = { address: server.address, namespace: server.namespace, taskQueue: 'trellis-demo' };
// Interactive: answers come through trellis serve, which signs them, so the worker takes only signed ones.
const decisionKey = interactive ? randomBytes(32).toString('hex') : undefined;
const { worker, close: closeWorker } = await createTrellisWorker({
  tools,
  temporal,
  llm: { baseURL: mock.baseUrl, model: 'mock' },
  logger: pino({ level: 'warn' }),
  ...(decisionKey && { decisionKey }),
  ...(encryption && { encryption }),
});
const running = worker.run();
say(`Temporal ${server.address}; mock LLM ${mock.baseUrl}; worker on task queue ${temporal.taskQueue}`);
const keyFile = process.env.TRELLIS_ENCRYPTION_KEY_FILE;
if (encryption) {
  say(`Payloads are encrypted with the key "${encryption.current.id}"${keyFile ? ` (in ${keyFile})` : ''}: the history holds ciphertext only`);
}

const client = await TrellisClient.connect(temporal, { ...(decisionKey && { decisionKey }), ...(encryption && { encryption }) });
const spec = JSON.parse(await readFile('examples/refund.json', 'utf8'));
const { runId } = await client.start(spec, { input: { orderId }, tools: catalogOf(tools.map(describeTool)) });
const link = server.uiUrl ? `${server.uiUrl}/namespaces/${server.namespace}/workflows/${runId}` : '(no UI)';
say(`\nStarted ${runId}: ${spec.description}`);
say(`Temporal UI: ${link}`);

const waitForPersonIn = async (run, step) => {
  for (;;) {
    const view = await client.status(run);
    const pending = view.pending.find((p) => p.step === step);
    if (pending) return { view, pending };
    if (view.status !== 'running' && view.status !== 'waiting') throw new Error(`the run ended (${view.status}) before ${step} asked for a person`);
    await new Promise((r) => setTimeout(r, 200));
  }
};
const waitForPerson = (step) => waitForPersonIn(runId, step);

const { view, pending } = await waitForPerson('ok');
say(`\nThe run is ${view.status}:`);
for (const [id, s] of Object.entries(view.steps))
  say(`  ${id.padEnd(7)} ${s.status.padEnd(9)} ${s.status === 'completed' ? JSON.stringify(s.output).slice(0, 100) : ''}`);
say(`  -> "${pending.title}"`);

let http;
const shutdown = async () => {
  await http?.close();
  await client.close();
  // Ctrl-C reaches the worker too (it shuts itself down on SIGINT): shut it down only if it still runs.
  if (worker.getState() === 'RUNNING') worker.shutdown();
  await running;
  await closeWorker();
  await mock.close();
  await server.stop();
};

if (interactive) {
  const jwtSecret = randomBytes(32).toString('hex');
  const auth = authConfigFromEnv({ TRELLIS_JWT_SECRET: jwtSecret, TRELLIS_DECISION_KEY: decisionKey });
  const deps = { client, auth, decisionKey, temporalUiUrl: server.uiUrl, logger: pino({ level: 'warn' }), ...(encryption && { encryption }) };
  // trellis serve's own port when it is free, else any.
  http = await startServer({ port: 8080, deps }).catch((e) => (e.code === 'EADDRINUSE' ? startServer({ port: 0, deps }) : Promise.reject(e)));
  const token = await new SignJWT({ email: 'you@example.com' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('you')
    .setIssuedAt()
    .setExpirationTime('8h')
    .sign(new TextEncoder().encode(jwtSecret));
  const link = signApprovalLink(linkKeyFrom(decisionKey), {
    run: runId,
    step: 'ok',
    approver: 'you',
    asked: pending.askedAt,
    expires: new Date(Date.now() + 8 * 3600_000).toISOString(),
  });
  const env =
    `TEMPORAL_ADDRESS=${server.address} TRELLIS_TASK_QUEUE=${temporal.taskQueue} TRELLIS_DECISION_KEY=${decisionKey}` +
    (keyFile ? ` TRELLIS_ENCRYPTION_KEY_FILE=${keyFile}` : '');
  say(`\nIt waits for you. trellis serve is at ${http.url}: the inbox is ${http.url}/inbox`);
  say(`  sign in with this token (a JWT for "you", valid 8 h):\n  ${token}`);
  say(`Or approve by the signed link a notification would carry (it answers as "you", once):\n  ${http.url}/a/${link}`);
  say('Or from another shell (this worker takes only answers signed with its key, so the CLI needs it too):');
  say(`  ${env} node dist/cli/main.js approve ${runId} ok --by you`);
  if (encryption) {
    say(
      `To read the run in the Temporal UI: sign in to the inbox, then in the UI's Codec Server settings choose "Use my browser setting", ` +
        `endpoint ${http.url}/codec, and turn on "Include cross-origin credentials".`,
    );
  }
  say(`Then the refund (296 USD) waits again, for the refund tool's own policy (over 100 needs a person): the inbox shows it.`);
  say(`Watch it: ${env} node dist/cli/main.js status ${runId}`);
  say('Stop the demo with Ctrl-C (the run stays on disk in .trellis/dev.db).');
  await new Promise((resolve) => process.once('SIGINT', resolve));
  await shutdown();
} else {
  say('\nApproving as "demo-approver"...');
  await client.approve(runId, 'ok', { by: 'demo-approver', comment: 'photos confirm the damage' });
  const gate = await waitForPerson('refund');
  say(`The refund tool's policy asks a person too (296 USD > 100): "${gate.pending.title}" — approving.`);
  await client.approve(runId, 'refund', { by: 'demo-approver' });
  const result = await client.result(runId);
  say('\nCompleted. Output:');
  say(JSON.stringify(result.output, null, 2));
  say(
    `Steps: ${Object.entries(result.steps)
      .map(([id, s]) => `${id} ${s.status}`)
      .join(', ')}; LLM tokens: ${result.tokens.total}`,
  );

  // The same engine, with the model writing the spec: a goal run whose plan a person approves first.
  const goal = 'Tell me whether order A-1004 arrived damaged';
  say(`\nNow the model writes the plan. Goal: "${goal}" (a goal run with a review)`);
  const { runId: goalRun } = await client.startGoal(goal, { review: true });
  const review = await waitForPersonIn(goalRun, 'plan');
  say(`The plan waits for a review (step "plan"):\n${review.pending.details.replace(/^/gm, '    ')}`);
  await client.approve(goalRun, 'plan', { by: 'demo-approver' });
  const planned = await client.result(goalRun);
  say(`Completed (${planned.plans} plan, ${planned.tokens.total} LLM tokens with the planner). Output:`);
  say(JSON.stringify(planned.output, null, 2));
  say(`The runs are kept in .trellis/dev.db: \`npm run temporal\` brings the server back, then open ${link}`);
  await shutdown();
}
