/**
 * Traces to a real OpenTelemetry Collector (built from the Go module proxy on first use: minutes, once): a worker and
 * a client that trace from the OTEL_* variables, over OTLP http/protobuf, run a spec with a tool step, an llm step
 * against the mock LLM and an approval. The collector's file must hold the run's spans in one trace, from the
 * client's StartWorkflow down to the model call, with Trellis's and the GenAI attributes, and no message content
 * (not asked for), each span once although the worker keeps no run in its cache. Then the run's history replays with
 * the same sinks and exports nothing.
 */
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flushTracing, startTracing } from '../../src/telemetry/setup.js';
import { withTracingFlag, workflowSpanSinks } from '../../src/telemetry/temporal.js';
import { bundleWorkflows } from '../../src/worker.js';
import tools from '../fixtures/run-tools.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { OTELCOL_BUILD_TIMEOUT_MS, startOtelcol, type CollectedSpan, type Collector } from '../helpers/otelcol.js';
import { waitFor } from '../helpers/wait.js';

const spec = {
  version: 1,
  name: 'traced-order',
  steps: [
    { id: 'lookup', kind: 'tool', tool: 'lookup_order', args: { orderId: 'T1' } },
    { id: 'summary', kind: 'llm', prompt: 'Trace: summarise order ${steps.lookup.orderId}' },
    { id: 'ok', kind: 'approval', title: 'Ship it?', after: ['summary'] },
  ],
  output: { summary: '${steps.summary}' },
};

let collector: Collector;
let h: Harness;
let runId: string;
let trace: CollectedSpan[];

beforeAll(async () => {
  collector = await startOtelcol();
  Object.assign(process.env, { OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_SERVICE_NAME: 'trellis-tracing-test' });
  delete process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
  delete process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT;
  // No cache: every workflow task replays the run so far, so a span exported twice, or with ids that differ between
  // replays, would show below (each name once, each parent found).
  h = await startHarness({ tools, rules: [{ match: 'Trace: summarise', reply: 'order T1 is fine' }], maxCachedWorkflows: 0 });
  const run = await h.client.start(spec);
  runId = run.runId;
  await waitFor(
    () => h.client.status(runId),
    (s) => s.status === 'waiting',
    { what: 'the run to wait for its approval' },
  );
  await h.client.approve(runId, 'ok', { by: 'ann' });
  expect((await h.client.result(runId)).output).toEqual({ summary: 'order T1 is fine' });
  // The run's spans, once the collector has them all (the workflow's last span is exported as its last task ends).
  trace = await waitFor(
    async () => {
      await flushTracing();
      const spans = await collector.spans();
      const root = spans.find((s) => s.name === 'run traced-order' && s.attributes['trellis.run.id'] === runId);
      return root ? spans.filter((s) => s.traceId === root.traceId) : [];
    },
    (spans) =>
      ['RunWorkflow:trellisRun', 'StartWorkflow:trellisRun', 'chat mock-model', 'approval wait ok'].every((n) => spans.some((s) => s.name === n)),
    { timeoutMs: 30_000, what: "the run's spans in the collector" },
  );
}, OTELCOL_BUILD_TIMEOUT_MS + 120_000);

afterAll(async () => {
  await h?.stop();
  await collector?.stop();
});

const named = (name: string) => {
  const found = trace.filter((s) => s.name === name);
  expect(
    found.map((s) => s.name),
    name,
  ).toEqual([name]);
  return found[0]!;
};
const parentOf = (span: CollectedSpan) => trace.find((s) => s.spanId === span.parentSpanId)?.name;

describe('a traced run, as the collector received it over http/protobuf', () => {
  it('is one trace from the client down to the model call and the tool', () => {
    expect(new Set(trace.map((s) => s.traceId)).size).toBe(1);
    const chain = ['chat mock-model', 'RunActivity:callLlm', 'StartActivity:callLlm', 'step summary', 'run traced-order', 'RunWorkflow:trellisRun'];
    for (let i = 0; i < chain.length - 1; i++) expect(parentOf(named(chain[i]!)), chain[i]).toBe(chain[i + 1]);
    expect(parentOf(named('RunWorkflow:trellisRun'))).toBe('StartWorkflow:trellisRun');
    expect(named('StartWorkflow:trellisRun').parentSpanId).toBe('');
    expect(parentOf(named('execute_tool lookup_order'))).toBe('RunActivity:runTool');
    expect(parentOf(named('StartActivity:runTool'))).toBe('step lookup');
    expect(parentOf(named('approval wait ok'))).toBe('step ok');
    expect(parentOf(named('step ok'))).toBe('run traced-order');
  });

  it("carries Trellis's attributes, the instrumentation scopes and the service's resource", () => {
    for (const [step, kind] of [
      ['lookup', 'tool'],
      ['summary', 'llm'],
      ['ok', 'approval'],
    ]) {
      expect(named(`step ${step}`).attributes).toMatchObject({ 'trellis.run.id': runId, 'trellis.step.id': step, 'trellis.step.kind': kind });
    }
    expect(named('run traced-order').attributes).toMatchObject({ 'trellis.run.id': runId, 'trellis.spec.name': 'traced-order' });
    expect(named('execute_tool lookup_order').attributes).toMatchObject({
      'trellis.run.id': runId,
      'trellis.step.id': 'lookup',
      'gen_ai.tool.name': 'lookup_order',
    });
    // Workflow spans crossed from the sandbox's SDK 1.x shape: their scope and the workflow's ids survived.
    expect(named('RunWorkflow:trellisRun').scope).toBe('@temporalio/interceptor-workflow');
    expect(named('RunWorkflow:trellisRun').attributes).toMatchObject({ temporalWorkflowId: runId });
    expect(named('step summary').scope).toBe('trellis');
    expect(named('RunActivity:callLlm').scope).toBe('@temporalio/interceptor-activity');
    for (const s of trace) expect(s.resource['service.name'], s.name).toBe('trellis-tracing-test');
  });

  it('describes the model call with the GenAI conventions, its tokens those the mock billed, and no content', () => {
    const chat = named('chat mock-model');
    const billed = h.mock.requests.find((r) => r.lastUserMessage.startsWith('Trace: summarise'))!.usage!;
    expect(chat.kind).toBe(3); // CLIENT
    expect(chat.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'mock-model',
      'gen_ai.response.model': 'mock-model',
      'gen_ai.usage.input_tokens': billed.prompt,
      'gen_ai.usage.output_tokens': billed.completion,
      'gen_ai.response.finish_reasons': ['stop'],
    });
    expect(billed.prompt).toBeGreaterThan(0);
    for (const s of trace) {
      expect(
        Object.keys(s.attributes).filter((k) => k.endsWith('.messages')),
        s.name,
      ).toEqual([]);
      expect(JSON.stringify(s)).not.toContain('order T1 is fine');
    }
  });
});

describe('replay', () => {
  it("exports no span when the run's history replays with the tracing sinks", async () => {
    const history = await h.client.temporal.workflow.getHandle(runId).fetchHistory();
    const workflowBundle = withTracingFlag(await bundleWorkflows());
    const tracing = (await startTracing())!;
    const replayed = new InMemorySpanExporter();
    const sinks = workflowSpanSinks(new SimpleSpanProcessor(replayed), tracing.resource);
    await Worker.runReplayHistory({ workflowBundle, sinks }, history, runId);
    expect(replayed.getFinishedSpans()).toEqual([]);
    // The control: the same replay with the sink called during replay too gives the run's workflow spans, so the
    // assertion above sees Temporal's guard, not a sink that exports nothing.
    const control = new InMemorySpanExporter();
    const always = workflowSpanSinks(new SimpleSpanProcessor(control), tracing.resource);
    await Worker.runReplayHistory(
      { workflowBundle, sinks: { exporter: { export: { ...always.exporter.export, callDuringReplay: true } } } },
      history,
      runId,
    );
    const names = control.getFinishedSpans().map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['run traced-order', 'step summary', 'approval wait ok', 'RunWorkflow:trellisRun']));
    // Deterministic ids: the replay made the spans the live run exported, id for id.
    const replayedRun = control.getFinishedSpans().find((s) => s.name === 'run traced-order')!;
    expect(replayedRun.spanContext().spanId).toBe(named('run traced-order').spanId);
  }, 120_000);
});
