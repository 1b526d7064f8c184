/**
 * One model turn of an agent step: the conversation so far and the step's tools (their input JSON Schemas as
 * function parameters) go to the model; its reply is either tool calls, which the workflow runs as activities,
 * or a final answer, checked here against the step's output schema.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { AgentMessage, AgentTurnCall, AgentTurnResult } from '../engine/messages.js';
import { checkReply, replyMessage } from '../llm/chat.js';
import { addUsage } from '../llm/usage.js';
import { describeTool } from '../tools/catalog.js';
import type { Tool } from '../tools/define.js';
import { refusedByEndpoint } from './llm.js';
import { activityAttributes } from '../telemetry/activity-spans.js';
import { inSpan, tracedChat } from '../telemetry/spans.js';

export function createAgentActivities(client: OpenAI, defaultModel: string, tools: readonly Tool[]) {
  const offered = new Map(
    tools.map((t) => {
      const { name, description, inputSchema } = describeTool(t);
      return [name, { type: 'function', function: { name, description, parameters: inputSchema } } satisfies ChatCompletionTool];
    }),
  );
  return {
    async callAgentTurn(call: AgentTurnCall): Promise<AgentTurnResult> {
      const { attempt } = Context.current().info;
      const missing = call.tools.filter((n) => !offered.has(n));
      if (missing.length > 0) {
        throw ApplicationFailure.nonRetryable(`this worker has no tool ${missing.map((n) => `"${n}"`).join(', ')}`, 'TrellisUnknownTool');
      }
      let completion: OpenAI.Chat.Completions.ChatCompletion;
      const request = { model: call.model ?? defaultModel, messages: call.messages.map(toOpenAi), temperature: call.temperature };
      try {
        completion = await inSpan(`agent turn ${call.step}`, activityAttributes(call.step), () =>
          tracedChat(request, () =>
            client.chat.completions.create({
              model: request.model,
              messages: request.messages,
              tools: call.tools.map((n) => offered.get(n)!),
              ...(call.temperature !== undefined && { temperature: call.temperature }),
              ...(call.output && {
                response_format: { type: 'json_schema', json_schema: { name: 'output', schema: call.output, strict: false } },
              }),
            }),
          ),
        );
      } catch (e) {
        throw refusedByEndpoint(e) ?? e;
      }
      const tokens = addUsage({ prompt: 0, completion: 0, total: 0 }, completion.usage);
      const model = completion.model;
      let message;
      try {
        message = replyMessage(completion);
      } catch (e) {
        throw ApplicationFailure.nonRetryable((e as Error).message, 'TrellisModelReplyEmpty');
      }
      const content = message?.content ?? null;
      const toolCalls = (message?.tool_calls ?? []).flatMap((c) =>
        c.type === 'function' ? [{ id: c.id, name: c.function.name, arguments: c.function.arguments }] : [],
      );
      if (toolCalls.length > 0) return { content, toolCalls, tokens, model, attempt };
      if (!call.output) return { content, toolCalls, tokens, model, attempt, output: content ?? '' };
      const problem = checkReply(content ?? '', call.output);
      return problem === undefined
        ? { content, toolCalls, tokens, model, attempt, output: JSON.parse(content!) }
        : { content, toolCalls, tokens, model, attempt, problem };
    },
  };
}

function toOpenAi(m: AgentMessage): ChatCompletionMessageParam {
  switch (m.role) {
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: m.content,
        ...(m.toolCalls &&
          m.toolCalls.length > 0 && {
            tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })),
          }),
      };
    default:
      return { role: m.role, content: m.content };
  }
}
