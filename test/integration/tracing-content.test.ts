/**
 * The message-content opt-in, over OTLP http/json to the real collector (test/helpers/otelcol.ts): with
 * OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true a model span records its prompt and reply as
 * gen_ai.input.messages and gen_ai.output.messages; once a worker of the process encrypts payloads, none does,
 * whatever the variable says. Its own file: tracing is set up once per process, from the environment.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseEncryptionKeys } from '../../src/codec/keys.js';
import { flushTracing, startTracing } from '../../src/telemetry/setup.js';
import tools from '../fixtures/run-tools.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { OTELCOL_BUILD_TIMEOUT_MS, startOtelcol, type CollectedSpan, type Collector } from '../helpers/otelcol.js';
import { waitFor } from '../helpers/wait.js';

const spec = (name: string, prompt: string) => ({ version: 1, name, steps: [{ id: 'say', kind: 'llm', prompt }] });
const rules = [
  { match: 'Content: plain', reply: 'the plain reply' },
  { match: 'Content: sealed', reply: 'the sealed reply' },
];

let collector: Collector;
const harnesses: Harness[] = [];

beforeAll(async () => {
  collector = await startOtelcol();
  Object.assign(process.env, {
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
  });
}, OTELCOL_BUILD_TIMEOUT_MS + 60_000);

afterAll(async () => {
  for (const h of harnesses) await h.stop();
  await collector?.stop();
});

/** Runs the spec on `h` and gives its model span, once the collector has it. */
async function modelSpan(h: Harness, name: string, prompt: string): Promise<CollectedSpan> {
  const run = await h.client.start(spec(name, prompt));
  await h.client.result(run.runId);
  return waitFor(
    async () => {
      await flushTracing();
      const spans = await collector.spans();
      const step = spans.find((s) => s.name === 'step say' && s.attributes['trellis.run.id'] === run.runId);
      const turn = step && spans.find((s) => s.traceId === step.traceId && s.name === 'RunActivity:callLlm');
      return turn && spans.find((s) => s.parentSpanId === turn.spanId && s.name === 'chat mock-model');
    },
    (span) => span !== undefined,
    { timeoutMs: 30_000, what: `the model span of ${name}` },
  ) as Promise<CollectedSpan>;
}

it('records prompts and replies when asked, in the GenAI message shape', async () => {
  const h = await startHarness({ tools, rules });
  harnesses.push(h);
  const span = await modelSpan(h, 'content-plain', 'Content: plain question');
  expect(JSON.parse(span.attributes['gen_ai.input.messages'] as string)).toEqual([
    { role: 'user', parts: [{ type: 'text', content: 'Content: plain question' }] },
  ]);
  expect(JSON.parse(span.attributes['gen_ai.output.messages'] as string)).toEqual([
    { role: 'assistant', parts: [{ type: 'text', content: 'the plain reply' }], finish_reason: 'stop' },
  ]);
  expect(span.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
  expect((await startTracing())?.settings.protocol).toBe('http/json');
});

it('records none once a worker encrypts payloads, whatever the variable says', async () => {
  const encryption = parseEncryptionKeys(`k1:${randomBytes(32).toString('base64')}`, 'test');
  const h = await startHarness({ tools, rules, encryption });
  harnesses.push(h);
  const span = await modelSpan(h, 'content-sealed', 'Content: sealed question');
  expect(span.attributes['gen_ai.request.model']).toBe('mock-model');
  expect(Object.keys(span.attributes).filter((k) => k.endsWith('.messages'))).toEqual([]);
  expect(JSON.stringify(await collector.spans())).not.toContain('sealed question');
});
