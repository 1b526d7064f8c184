/**
 * A ReAct-style agent loop, the baseline of bench/plan-vs-react.mjs: the plain `openai` client, the tools
 * sent as `tools` (their JSON Schemas) on every call, and the model called again after every tool result,
 * with the whole history, until it answers without tool calls. Tools run here, in process: the same tool
 * code (and latency) that the Trellis worker runs.
 */
import { toolCatalog } from '../../dist/index.js';

/** The `tools` parameter of a chat completion, from Trellis tools (defineTool). */
export function openAiTools(tools) {
  return [...toolCatalog(tools).values()].map((t) => ({
    type: 'function',
    function: { name: t.name, description: t.description, parameters: t.inputSchema },
  }));
}

/**
 * Runs one task: system prompt, the user's message, then model call / tool calls until a final answer.
 * Returns { answer, turns, toolCalls }. Throws past maxTurns.
 */
export async function reactLoop({ openai, model, system, prompt, tools, maxTurns = 20 }) {
  const byName = new Map(tools.map((t) => [t.name, t]));
  const toolDefs = openAiTools(tools);
  const messages = [
    { role: 'system', content: system },
    { role: 'user', content: prompt },
  ];
  let toolCalls = 0;
  for (let turn = 1; turn <= maxTurns; turn++) {
    const completion = await openai.chat.completions.create({ model, messages, tools: toolDefs });
    const message = completion.choices[0]?.message;
    if (!message) throw new Error('the model returned no choice');
    messages.push(message);
    if (!message.tool_calls?.length) return { answer: message.content ?? '', turns: turn, toolCalls };
    // Tool calls of one turn run in order, each answered by a tool message; then the model is asked again.
    for (const call of message.tool_calls) {
      toolCalls++;
      messages.push({ role: 'tool', tool_call_id: call.id, content: await runTool(byName, call) });
    }
  }
  throw new Error(`no final answer within ${maxTurns} turns`);
}

/** One tool call: arguments parsed and checked with the tool's zod input; errors go back to the model as text. */
async function runTool(byName, call) {
  const tool = byName.get(call.function.name);
  if (!tool) return `error: unknown tool "${call.function.name}"`;
  try {
    const args = tool.input.parse(JSON.parse(call.function.arguments || '{}'));
    const controller = new AbortController();
    const result = await tool.run(args, { idempotencyKey: call.id, attempt: 1, signal: controller.signal, logger: silent });
    return JSON.stringify(result);
  } catch (e) {
    return `error: ${e instanceof Error ? e.message : String(e)}`;
  }
}

const silent = { info() {}, warn() {}, error() {}, debug() {} };
