/**
 * Trellis's spans in activities: tool calls, model calls (GenAI semantic conventions), agent turns and planner calls.
 * They go to the process's tracer provider (startTracing); with tracing off that is OpenTelemetry's no-op one, so a
 * span costs a function call and nothing is computed for its attributes.
 *
 * Prompts and replies are recorded only when the process allowed it (allowMessageContent): as the
 * `gen_ai.input.messages` and `gen_ai.output.messages` attributes, JSON in the semantic conventions' message shape.
 */
import { SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';

const TRACER = 'trellis';
let messageContent = false;

/** Whether model spans record prompts and replies, for the whole process (startTracing sets it). */
export function allowMessageContent(allowed: boolean): void {
  messageContent = allowed;
}

/** Whether model spans record prompts and replies. */
export function recordsMessageContent(): boolean {
  return messageContent;
}

/**
 * Runs `fn` in a span named `name` (the current span's child), ended when it settles; a throw sets the span's status
 * to error, with the error's message, and `error.type`.
 */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  return trace.getTracer(TRACER).startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
      span.setAttribute('error.type', e instanceof Error ? e.name : typeof e);
      throw e;
    } finally {
      span.end();
    }
  });
}

/**
 * One chat completion in a `chat MODEL` client span with the GenAI attributes: the operation, provider, requested
 * and answering models, token usage, finish reasons, and the messages when allowed.
 */
export async function tracedChat(
  request: { model: string; messages: readonly ChatCompletionMessageParam[]; temperature?: number },
  create: () => Promise<OpenAI.Chat.Completions.ChatCompletion>,
  attributes: Attributes = {},
): Promise<OpenAI.Chat.Completions.ChatCompletion> {
  const requestAttributes: Attributes = {
    ...attributes,
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.system': 'openai',
    'gen_ai.request.model': request.model,
    ...(request.temperature !== undefined && { 'gen_ai.request.temperature': request.temperature }),
  };
  return inSpan(
    `chat ${request.model}`,
    requestAttributes,
    async (span) => {
      if (messageContent && span.isRecording()) span.setAttribute('gen_ai.input.messages', JSON.stringify(request.messages.map(inputMessage)));
      const completion = await create();
      if (span.isRecording()) span.setAttributes(responseAttributes(completion));
      return completion;
    },
    SpanKind.CLIENT,
  );
}

function responseAttributes(completion: OpenAI.Chat.Completions.ChatCompletion): Attributes {
  // An OpenAI-compatible server may leave any of these out; what it gave is recorded, nothing is made up.
  const choices = Array.isArray(completion?.choices) ? completion.choices : [];
  const reasons = choices.flatMap((c) => (typeof c?.finish_reason === 'string' ? [c.finish_reason] : []));
  return {
    ...(typeof completion?.model === 'string' && { 'gen_ai.response.model': completion.model }),
    ...(typeof completion?.id === 'string' && { 'gen_ai.response.id': completion.id }),
    ...(completion?.usage?.prompt_tokens !== undefined && { 'gen_ai.usage.input_tokens': completion.usage.prompt_tokens }),
    ...(completion?.usage?.completion_tokens !== undefined && { 'gen_ai.usage.output_tokens': completion.usage.completion_tokens }),
    ...(reasons.length > 0 && { 'gen_ai.response.finish_reasons': reasons }),
    ...(messageContent && { 'gen_ai.output.messages': JSON.stringify(choices.map(outputMessage)) }),
  };
}

type Part =
  | { type: 'text'; content: string }
  | { type: 'tool_call'; id: string; name: string; arguments: unknown }
  | { type: 'tool_call_response'; id: string; response: unknown };

/** A chat message in the semantic conventions' shape: a role and its parts. */
function inputMessage(m: ChatCompletionMessageParam): { role: string; parts: Part[] } {
  const parts: Part[] = [];
  const text = textOf(m.content);
  if (m.role === 'tool') parts.push({ type: 'tool_call_response', id: m.tool_call_id, response: text });
  else if (text !== '') parts.push({ type: 'text', content: text });
  if (m.role === 'assistant') for (const c of m.tool_calls ?? []) if (c.type === 'function') parts.push(toolCallPart(c));
  return { role: m.role, parts };
}

function outputMessage(c: OpenAI.Chat.Completions.ChatCompletion.Choice): { role: string; parts: Part[]; finish_reason: string } {
  const parts: Part[] = [];
  if (typeof c?.message?.content === 'string' && c.message.content !== '') parts.push({ type: 'text', content: c.message.content });
  for (const t of c?.message?.tool_calls ?? []) if (t.type === 'function') parts.push(toolCallPart(t));
  return { role: 'assistant', parts, finish_reason: c?.finish_reason ?? 'unknown' };
}

function toolCallPart(c: { id: string; function: { name: string; arguments: string } }): Part {
  return { type: 'tool_call', id: c.id, name: c.function.name, arguments: c.function.arguments };
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p: { text?: unknown }) => (typeof p?.text === 'string' ? p.text : '')).join('');
}
