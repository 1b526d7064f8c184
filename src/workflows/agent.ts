/**
 * The agent step: a bounded tool-calling loop. Every model turn and every tool call is its own activity, so a
 * crash resumes mid-loop; gated tools still wait for a person; a tool's error or a person's denial goes back
 * to the model as the tool's result, compactly; more than maxTurns model calls fail the step. The tool calls of
 * one turn run at most the run's parallel limit at once, and the conversation (sent whole with every turn, so
 * kept in the history each time) is capped in size.
 */
import * as wf from '@temporalio/workflow';
import type { AgentMessage, AgentToolCall, AgentTurnCall } from '../engine/messages.js';
import type { ResolvedStep } from '../engine/schedule.js';
import { BudgetExceeded } from './budget.js';
import { Withdrawn } from './session.js';
import { activityOptions, callTool, checkPayload, describeError, GateDenied, inLanes, spend, type StepContext } from './step-context.js';

type AgentStep = Extract<ResolvedStep, { kind: 'agent' }>;

/** Longest tool result sent back to the model: the rest is cut with a note. */
const MAX_RESULT_CHARS = 8_000;

/**
 * Largest conversation an agent turn sends, in characters of JSON. Without a blob store, each turn's input stays in
 * the history (Temporal refuses payloads over 2 MB and warns over 512 KB), so 50 turns stay far inside its 50 MB too.
 * With one, a conversation over its threshold is a reference in the history, and memory is what bounds it.
 */
export const MAX_CONVERSATION_CHARS = 400_000;
export const MAX_STORED_CONVERSATION_CHARS = 4_000_000;

export async function runAgent(ctx: StepContext, agent: AgentStep): Promise<unknown> {
  const messages: AgentMessage[] = [];
  if (agent.system !== undefined) messages.push({ role: 'system', content: agent.system });
  messages.push({ role: 'user', content: agent.prompt });
  const state = ctx.session.steps[ctx.id]!;
  let calls = 0;
  let asked: string[] = [];
  for (let turn = 1; turn <= agent.maxTurns; turn++) {
    if (ctx.session.stopping()) throw new Withdrawn();
    ctx.session.budget.checkTokens(`turn ${turn} of agent step "${ctx.id}"`, agent.model);
    const size = JSON.stringify(messages).length;
    const most = ctx.session.worker.limits.storedAboveBytes === undefined ? MAX_CONVERSATION_CHARS : MAX_STORED_CONVERSATION_CHARS;
    if (size > most) {
      throw wf.ApplicationFailure.nonRetryable(
        `agent step "${ctx.id}": its conversation is ${size} characters before turn ${turn}, over the ${most} an agent may send; ` +
          'give it fewer turns, or tools that return less',
        'TrellisAgentTooLong',
      );
    }
    const call: AgentTurnCall = {
      step: ctx.id,
      messages,
      tools: agent.tools,
      ...(agent.output !== undefined && { output: agent.output }),
      ...(agent.model !== undefined && { model: agent.model }),
      ...(agent.temperature !== undefined && { temperature: agent.temperature }),
    };
    checkPayload(ctx.session, `the conversation of agent step "${ctx.id}" before turn ${turn}`, call);
    const reply = await ctx.acts.callAgentTurn.executeWithOptions(activityOptions(ctx.step, `agent ${ctx.id} turn ${turn}`), [call]);
    state.attempts += reply.attempt;
    spend(ctx, reply.tokens, reply.model ?? agent.model ?? ctx.session.worker.model, `turn ${turn} of agent step "${ctx.id}"`);
    if (reply.toolCalls.length === 0) {
      if (reply.problem === undefined) return reply.output;
      if (turn === agent.maxTurns) throw maxTurns(ctx, agent, `its last answer did not match the output schema: ${reply.problem}`);
      // A final answer that does not match the output schema: say so, and let the next turn fix it.
      messages.push(
        { role: 'assistant', content: reply.content },
        { role: 'user', content: `Your answer was not valid: ${reply.problem}. Answer again with only the JSON value that matches the schema.` },
      );
      continue;
    }
    asked = reply.toolCalls.map((c) => c.name);
    if (turn === agent.maxTurns) break;
    messages.push({ role: 'assistant', content: reply.content, toolCalls: reply.toolCalls });
    const first = calls;
    calls += reply.toolCalls.length;
    const results: string[] = [];
    // A budget run out or a withdrawal ends the step, but only once the calls already running have finished.
    let stop: unknown;
    await inLanes(
      reply.toolCalls.length,
      ctx.maxParallel,
      async (i) => {
        try {
          results[i] = await runCall(ctx, agent, reply.toolCalls[i]!, `${ctx.key}/t${turn}.${first + i + 1}`);
        } catch (e) {
          stop ??= e;
        }
      },
      () => stop !== undefined,
    );
    if (stop !== undefined) throw stop;
    reply.toolCalls.forEach((call, i) => messages.push({ role: 'tool', toolCallId: call.id, content: results[i]! }));
  }
  throw maxTurns(ctx, agent, `its last turn still asked for ${[...new Set(asked)].join(', ')}`);
}

function maxTurns(ctx: StepContext, agent: AgentStep, why: string): Error {
  return wf.ApplicationFailure.nonRetryable(
    `agent step "${ctx.id}" did not finish within maxTurns (${agent.maxTurns}): ${why}`,
    'TrellisAgentMaxTurns',
  );
}

/** One tool call the model asked for; its result (or what went wrong) as the text the model reads next. */
async function runCall(ctx: StepContext, agent: AgentStep, call: AgentToolCall, key: string): Promise<string> {
  if (!agent.tools.includes(call.name)) return `error: "${call.name}" is not one of your tools (${agent.tools.join(', ')})`;
  let args: unknown;
  try {
    args = JSON.parse(call.arguments || '{}');
  } catch {
    return `error: the arguments are not JSON: ${call.arguments.slice(0, 200)}`;
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return 'error: the arguments must be a JSON object';
  ctx.session.budget.countExecution(`tool call ${call.name} of agent step "${ctx.id}"`);
  try {
    const { output } = await callTool(ctx, call.name, args as Record<string, unknown>, key, `agent ${ctx.id} tool ${call.name}`);
    const text = JSON.stringify(output) ?? 'null';
    return text.length > MAX_RESULT_CHARS ? `${text.slice(0, MAX_RESULT_CHARS)}... (cut: ${text.length} characters in all)` : text;
  } catch (e) {
    if (e instanceof BudgetExceeded || e instanceof Withdrawn || wf.isCancellation(e)) throw e;
    if (e instanceof GateDenied) return `denied: ${e.message}`;
    return `error: ${describeError(e)}`;
  }
}
