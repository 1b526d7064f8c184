/**
 * An OpenAI-compatible chat completions server that answers from a script: tests and the demo use it with
 * the real `openai` client. It also keeps a log of the requests it served (GET /_mock/requests) so a test can
 * check what the model was asked.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockScript, type MockRule, type MockToolCall } from './mock-script.js';

/** What startMockLlm answers with, and where it listens. */
export interface MockLlmOptions {
  /** The script: the first rule that matches a request answers it. Not checked here: parseMockScript checks a script. */
  rules: MockRule[];
  /** Default 0: a free port (baseUrl says which). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Added to every answer, to model a real endpoint's latency. */
  latencyMs?: number;
}

/** A running mock LLM. */
export interface MockLlmServer {
  /** For OPENAI_BASE_URL: http://127.0.0.1:PORT/v1 */
  baseUrl: string;
  /** Every chat request served, in the order answered (kept up to date; GET /_mock/requests gives the same). */
  requests: LoggedRequest[];
  /** Stops the server. */
  close(): Promise<void>;
}

/** One chat request the mock served, and how it answered. */
export interface LoggedRequest {
  /** The model the request named. */
  model: string;
  /** The text of the last user message (what `match` tests). */
  lastUserMessage: string;
  /** The text of the last message whatever its role (what `lastMessage` tests). */
  lastMessage: string;
  /** The request's messages, as sent. */
  messages: unknown[];
  /** The request's `response_format`, as sent. */
  responseFormat?: unknown;
  /** The request's `tools`, when it sent any. */
  tools?: unknown;
  /** The HTTP status of the answer: 200, a rule's `status`, or 500 when no rule matched. */
  status: number;
  /** The tokens billed for an answered request (the `usage` the answer carried). */
  usage?: { prompt: number; completion: number };
}

interface RequestMessage {
  role: string;
  content?: unknown;
  tool_calls?: Array<{ function?: { name?: unknown; arguments?: unknown } }>;
}

interface ChatBody {
  model?: string;
  messages?: RequestMessage[];
  response_format?: unknown;
  tools?: unknown;
}

/** Ids the server hands out, counted across its requests. */
interface Counters {
  completions: number;
  toolCalls: number;
}

/**
 * Starts an OpenAI-compatible server (POST /v1/chat/completions, GET /v1/models) that answers from `rules`: the first
 * rule whose `match` (and `lastMessage`) fits a request answers it, and a request no rule fits gets HTTP 500. Answers
 * carry token usage of about four characters a token.
 *
 * @example
 * ```ts
 * const mock = await startMockLlm({ rules: parseMockScript(JSON.parse(await readFile('mock-llm.json', 'utf8'))) });
 * const { worker } = await createTrellisWorker({ tools, llm: { baseURL: mock.baseUrl, model: 'mock' } });
 * // ... run, read mock.requests, then:
 * await mock.close();
 * ```
 */
export async function startMockLlm(options: MockLlmOptions): Promise<MockLlmServer> {
  const script = new MockScript(options.rules);
  const requests: LoggedRequest[] = [];
  const counters: Counters = { completions: 0, toolCalls: 0 };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = (req.url ?? '').replace(/\/+$/, '');
    if (req.method === 'GET' && url.endsWith('/models'))
      return send(res, 200, { object: 'list', data: [{ id: 'mock', object: 'model', owned_by: 'trellis' }] });
    if (req.method === 'GET' && url === '/_mock/requests') return send(res, 200, requests);
    if (req.method !== 'POST' || !url.endsWith('/chat/completions'))
      return send(res, 404, errorBody(`mock-llm serves POST /v1/chat/completions, not ${req.method} ${req.url}`, 'not_found'));
    const body = JSON.parse(await readBody(req)) as ChatBody;
    // The rule is chosen on arrival (a `times` rule counts requests in the order they came), then answered late.
    const reply = chatReply(body, script, counters);
    if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
    requests.push(reply.logged);
    send(res, reply.status, reply.body);
  };
  const server: Server = createServer((req, res) => {
    route(req, res).catch((e: unknown) => send(res, 500, errorBody(`mock-llm: ${(e as Error).message}`, 'server_error')));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  return {
    baseUrl: `http://${address}:${port}/v1`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The script's answer to one chat request: the status and body to send, and what the request log keeps. */
function chatReply(body: ChatBody, script: MockScript, counters: Counters): { status: number; body: unknown; logged: LoggedRequest } {
  const messages = body.messages ?? [];
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const prompt = contentText(lastUser?.content);
  const lastMessage = messages.length ? messageText(messages[messages.length - 1]!) : '';
  const rule = script.answer(prompt, lastMessage);
  const logged = (status: number, usage?: { prompt: number; completion: number }): LoggedRequest => ({
    model: body.model ?? '',
    lastUserMessage: prompt,
    lastMessage,
    messages,
    responseFormat: body.response_format,
    ...(body.tools !== undefined ? { tools: body.tools } : {}),
    status,
    ...(usage && { usage }),
  });
  if (!rule) {
    const message = `mock-llm: no rule matches the prompt "${prompt.slice(0, 120)}${prompt.length > 120 ? '...' : ''}"`;
    return { status: 500, body: errorBody(message, 'server_error'), logged: logged(500) };
  }
  if (rule.body !== undefined) return { status: 200, body: rule.body, logged: logged(200) };
  if (rule.status !== undefined) {
    const message = typeof rule.reply === 'string' ? rule.reply : `mock-llm: scripted status ${rule.status}`;
    return { status: rule.status, body: errorBody(message, 'server_error'), logged: logged(rule.status) };
  }
  const answer = completion(rule, body, messages, counters);
  return { status: 200, body: answer, logged: logged(200, { prompt: answer.usage.prompt_tokens, completion: answer.usage.completion_tokens }) };
}

/** A chat completion with the rule's reply or tool calls, and usage as a real endpoint would bill it. */
function completion(rule: MockRule, body: ChatBody, messages: RequestMessage[], counters: Counters) {
  const content = rule.reply === undefined ? null : typeof rule.reply === 'string' ? rule.reply : JSON.stringify(rule.reply);
  const toolCalls = rule.toolCalls?.map((c) => ({
    id: `call_${++counters.toolCalls}`,
    type: 'function' as const,
    function: { name: c.name, arguments: toolArguments(c) },
  }));
  // What a real endpoint bills as prompt: every message (tool calls and tool results included), the tools and
  // the response format.
  const promptText = [
    ...messages.map(messageText),
    ...(body.tools !== undefined ? [JSON.stringify(body.tools)] : []),
    ...(body.response_format !== undefined ? [JSON.stringify(body.response_format)] : []),
  ].join('\n');
  const promptTokens = estimateTokens(promptText);
  const completionTokens = estimateTokens(
    [content ?? '', ...(toolCalls ?? []).map((c) => `${c.function.name} ${c.function.arguments}`)].filter(Boolean).join('\n'),
  );
  const message = toolCalls ? { role: 'assistant', content, refusal: null, tool_calls: toolCalls } : { role: 'assistant', content, refusal: null };
  return {
    id: `chatcmpl-mock-${++counters.completions}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: body.model ?? 'mock',
    choices: [{ index: 0, message, finish_reason: toolCalls ? 'tool_calls' : 'stop', logprobs: null }],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}

/** About four characters a token: close enough for usage accounting in tests. */
function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function toolArguments(call: MockToolCall): string {
  if (typeof call.arguments === 'string') return call.arguments;
  return JSON.stringify(call.arguments ?? {});
}

/** A message's text: its content, and for an assistant message its tool calls' names and arguments. */
function messageText(m: RequestMessage): string {
  const calls = Array.isArray(m.tool_calls)
    ? m.tool_calls.map(
        (c) =>
          `${String(c.function?.name ?? '')} ${typeof c.function?.arguments === 'string' ? c.function.arguments : JSON.stringify(c.function?.arguments ?? '')}`,
      )
    : [];
  return [contentText(m.content), ...calls].filter((t) => t !== '').join('\n');
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((p) => (typeof p === 'object' && p && 'text' in p ? String((p as { text: unknown }).text) : '')).join('');
  return '';
}

function errorBody(message: string, type: string) {
  return { error: { message, type, param: null, code: null } };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
