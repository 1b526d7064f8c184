/**
 * One model call through any OpenAI-compatible endpoint. With an output schema the reply is asked for as
 * JSON (response_format json_schema), parsed and checked; an invalid reply is re-asked once, showing the
 * model its error compactly (its reply and what was wrong, not the whole history).
 */
import type OpenAI from 'openai';
import { TrellisError } from '../errors.js';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { addUsage } from './usage.js';
import { tracedChat } from '../telemetry/spans.js';
import type { TokenUsage } from '../engine/state.js';
import { checkValue } from '../spec/schema-check.js';

/** One model call: a prompt, optionally a system message and a JSON Schema for the reply. */
export interface ChatRequest {
  /** The model to call, as the endpoint names it. */
  model: string;
  /** The user message. */
  prompt: string;
  /** The system message, sent first when given. */
  system?: string;
  /** JSON Schema of the reply; without it the reply is text. */
  output?: Record<string, unknown>;
  /** Sampling temperature, 0 to 2; the endpoint's default when absent. */
  temperature?: number;
}

/** What a model call gave. */
export interface ChatResult {
  /** The reply text, or with an output schema the parsed JSON value, checked against it. */
  output: unknown;
  /** The tokens of every call it took. */
  tokens: TokenUsage;
  /** The model that answered, as the endpoint names it. */
  model: string;
  /** How many model calls it took (2 when the first reply was invalid). */
  calls: number;
}

/** A structured reply still invalid after the one re-ask; `code` is LLM_INVALID_REPLY. */
export class InvalidReplyError extends TrellisError {
  constructor(
    message: string,
    /** What the two calls cost, so a caller can still count them. */
    readonly tokens: TokenUsage,
  ) {
    super('LLM_INVALID_REPLY', message);
  }
}

const MAX_REPLY_ECHO = 2_000;

/**
 * One model call through any OpenAI-compatible endpoint. With `output`, the reply is asked for as JSON, parsed and
 * checked against the schema; an invalid one is re-asked once, showing the model what was wrong. Throws
 * InvalidReplyError when the second reply is invalid too, EmptyReplyError for an answer without a message, and the
 * client's own errors (OpenAI.APIError) as they are.
 */
export async function chat(client: OpenAI, request: ChatRequest): Promise<ChatResult> {
  const messages: ChatCompletionMessageParam[] = [];
  if (request.system !== undefined) messages.push({ role: 'system', content: request.system });
  messages.push({ role: 'user', content: request.prompt });
  let tokens: TokenUsage = { prompt: 0, completion: 0, total: 0 };

  for (let call = 1; ; call++) {
    const completion = await tracedChat({ ...request, messages }, () =>
      client.chat.completions.create({
        model: request.model,
        messages,
        ...(request.temperature !== undefined && { temperature: request.temperature }),
        ...(request.output && {
          response_format: { type: 'json_schema', json_schema: { name: 'output', schema: request.output, strict: false } },
        }),
      }),
    );
    tokens = addUsage(tokens, completion.usage);
    const reply = replyMessage(completion).content ?? '';
    if (!request.output) return { output: reply, tokens, model: completion.model, calls: call };

    const problem = checkReply(reply, request.output);
    if (problem === undefined) return { output: JSON.parse(reply), tokens, model: completion.model, calls: call };
    if (call === 2) throw new InvalidReplyError(`the model's reply did not match the output schema after one re-ask: ${problem}`, tokens);
    messages.push(
      { role: 'assistant', content: reply.slice(0, MAX_REPLY_ECHO) },
      { role: 'user', content: `Your reply was not valid: ${problem}. Reply again with only the JSON value that matches the schema.` },
    );
  }
}

/** An endpoint answered 200 with something that is not a completion (`{}`, no choices): not worth a retry. `code` is MODEL_REPLY_EMPTY. */
export class EmptyReplyError extends TrellisError {
  constructor(reply: unknown) {
    const text = JSON.stringify(reply) ?? String(reply);
    super('MODEL_REPLY_EMPTY', `the model endpoint answered without a message: ${text.length > 200 ? `${text.slice(0, 197)}...` : text}`);
  }
}

/** The first choice's message of a completion, or an EmptyReplyError saying what came back instead. */
export function replyMessage(completion: OpenAI.Chat.Completions.ChatCompletion): OpenAI.Chat.Completions.ChatCompletionMessage {
  const message = (completion as { choices?: Array<{ message?: unknown }> } | null)?.choices?.[0]?.message;
  if (message === null || typeof message !== 'object') throw new EmptyReplyError(completion);
  return message as OpenAI.Chat.Completions.ChatCompletionMessage;
}

/** What is wrong with a reply, in one line; undefined when it is valid JSON matching the schema. */
export function checkReply(reply: string, schema: Record<string, unknown>): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(reply);
  } catch {
    return 'it is not JSON';
  }
  const issues = checkValue(schema, value);
  if (issues.length === 0) return undefined;
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`)
    .join('; ');
}
