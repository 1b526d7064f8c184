/**
 * The llm activity. Client errors (a bad request, a wrong key, an unknown model) and a reply still invalid after
 * its re-ask are not retried; rate limits, server errors and lost connections are, by Temporal.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import OpenAI from 'openai';
import type { LlmCall, LlmCallResult } from '../engine/messages.js';
import { chat, EmptyReplyError, InvalidReplyError } from '../llm/chat.js';

export function createLlmActivities(client: OpenAI, defaultModel: string) {
  return {
    async callLlm(call: LlmCall): Promise<LlmCallResult> {
      const { attempt } = Context.current().info;
      try {
        const r = await chat(client, {
          model: call.model ?? defaultModel,
          prompt: call.prompt,
          ...(call.system !== undefined && { system: call.system }),
          ...(call.output !== undefined && { output: call.output }),
          ...(call.temperature !== undefined && { temperature: call.temperature }),
        });
        return { output: r.output, tokens: r.tokens, model: r.model, attempt };
      } catch (e) {
        if (e instanceof InvalidReplyError) throw ApplicationFailure.nonRetryable(e.message, 'TrellisModelReplyInvalid', { tokens: e.tokens });
        if (e instanceof EmptyReplyError) throw ApplicationFailure.nonRetryable(e.message, 'TrellisModelReplyEmpty');
        throw refusedByEndpoint(e) ?? e;
      }
    },
  };
}

/** A client error (bad request, wrong key, unknown model) as a non-retryable failure; undefined for others. */
export function refusedByEndpoint(e: unknown): ApplicationFailure | undefined {
  if (e instanceof OpenAI.APIError && e.status !== undefined && e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429) {
    return ApplicationFailure.nonRetryable(`the model endpoint refused the call (HTTP ${e.status}): ${e.message}`, 'TrellisModelRefused');
  }
  return undefined;
}
