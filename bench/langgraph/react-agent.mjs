/**
 * The third column of bench/plan-vs-react.mjs: LangGraph's prebuilt ReAct agent (createReactAgent from
 * @langchain/langgraph/prebuilt) with ChatOpenAI pointed at the same mock LLM, and the same Trellis tools
 * (their JSON Schemas, their run functions, their latency). Its packages live in bench/langgraph/node_modules,
 * apart from the main package:  npm ci --prefix bench/langgraph
 */
import { readFileSync } from 'node:fs';
import { tool } from '@langchain/core/tools';
import { createReactAgent } from '@langchain/langgraph/prebuilt';
import { ChatOpenAI } from '@langchain/openai';

/**
 * An agent for `tools` (Trellis tools, made with defineTool) described by `toolDefs` (the OpenAI `tools`
 * parameter, from bench/lib/react-loop.mjs): returns run(prompt) -> { answer, turns }.
 */
export function makeLangGraphAgent({ baseURL, model, system, tools, toolDefs }) {
  const llm = new ChatOpenAI({ model, apiKey: 'x', configuration: { baseURL }, maxRetries: 0, useResponsesApi: false });
  const byName = new Map(tools.map((t) => [t.name, t]));
  const lcTools = toolDefs.map(({ function: f }) =>
    tool(
      async (args) => {
        const t = byName.get(f.name);
        const controller = new AbortController();
        const result = await t.run(t.input.parse(args), { idempotencyKey: f.name, attempt: 1, signal: controller.signal, logger: silent });
        return JSON.stringify(result);
      },
      { name: f.name, description: f.description, schema: f.parameters },
    ),
  );
  const agent = createReactAgent({ llm, tools: lcTools, prompt: system });
  return async (prompt) => {
    const state = await agent.invoke({ messages: [{ role: 'user', content: prompt }] }, { recursionLimit: 50 });
    const last = state.messages[state.messages.length - 1];
    const turns = state.messages.filter((m) => m.getType?.() === 'ai' || m._getType?.() === 'ai').length;
    return { answer: typeof last.content === 'string' ? last.content : JSON.stringify(last.content), turns };
  };
}

const silent = { info() {}, warn() {}, error() {}, debug() {} };

/** The installed versions, for the report. */
export function versions() {
  const read = (pkg) => JSON.parse(readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url), 'utf8')).version;
  return ['@langchain/langgraph', '@langchain/openai', '@langchain/core'].map((p) => `${p} ${read(p)}`).join(', ');
}
