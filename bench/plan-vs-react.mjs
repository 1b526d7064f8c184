/**
 * Plan-then-execute against a ReAct loop: the same five tasks (bench/fixtures/plan-tasks.mjs, some with
 * independent sub-tasks) over the same tools (bench/fixtures/plan-tools.mjs, a fixed latency each), against
 * the same mock LLM (a fixed latency per call), done these ways:
 *
 *   plan     Trellis: a goal run on a real Temporal dev server (TrellisClient.startGoal: the planner writes a
 *            spec, the validator checks it, the interpreter runs it, independent steps in parallel).
 *   saved    Trellis, the plan promoted: the spec the planner wrote for the task, run again as a fixed spec
 *            (TrellisClient.start), with no planning call: what every later run of the same task costs.
 *   react    a ReAct loop written with the same openai client (bench/lib/react-loop.mjs): system prompt, the
 *            goal and the tool schemas on every call, the model called again after every tool result.
 *   langgraph  @langchain/langgraph's prebuilt ReAct agent (bench/langgraph/), installed there on first use
 *            (npm ci --prefix bench/langgraph); when it does not install, the column is skipped with a line saying why.
 *
 * LLM calls and tokens come from the mock's request log (the tokens each answer billed: every message, tool
 * calls and tool results included, plus `tools` and `response_format`), counted the same way for every style.
 * Wall time runs from the start of a task to its output. Goals (the issue's): at least 5x fewer tokens and
 * at least 3x less wall time than the ReAct loop. Figures come from one run and are printed, never asserted.
 *
 *   npm run build && node bench/plan-vs-react.mjs        (or: node --expose-gc bench/run.mjs plan-vs-react)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { formatUsd } from '../dist/pricing/index.js';
import { parseMockScript, startMockLlm } from '../dist/testing.js';
import TOOLS, { calls as toolLog, TOOL_LATENCY_MS } from './fixtures/plan-tools.mjs';
import { REACT_SYSTEM, reactPrompt, scaledTriage, TASKS } from './fixtures/plan-tasks.mjs';
import { openAiTools, reactLoop } from './lib/react-loop.mjs';
import { startServer, withTrellisWorker } from './lib/stack.mjs';
import { gc, int, median, ms, ratio, table } from './lib/stats.mjs';

export const name = 'plan-vs-react';

const LLM_LATENCY_MS = 300; // the mock's latency per model call
const WARMUP = 1; // untimed passes over the five tasks, every style
const REPEATS = 3; // timed passes; wall time is the median per task
const SCALE = [10, 20, 40]; // orders in the scaling part's triage task (one pass each, plan and our ReAct loop)
const MODEL = 'mock-model';
// Money next to tokens: every style's tokens priced as gpt-4o-mini's (USD per million tokens, src/pricing/defaults.ts).
const PRICE = { input: 0.15, output: 0.6 };
const usd = (f) => (f.prompt * PRICE.input + f.completion * PRICE.output) / 1e6;
const TOKEN_GOAL = 5;
const WALL_GOAL = 3;
const LANGGRAPH_DIR = fileURLToPath(new URL('./langgraph/', import.meta.url));

export class BenchmarkFailure extends Error {}

export default async function run() {
  const scaled = SCALE.map(scaledTriage);
  const mock = await startMockLlm({ rules: parseMockScript(script([...TASKS, ...scaled])), latencyMs: LLM_LATENCY_MS });
  console.log(
    `plan-vs-react: ${TASKS.length} tasks, ${TOOLS.length} tools of ${TOOL_LATENCY_MS} ms each; one mock LLM at ${LLM_LATENCY_MS} ms per call for every style; ` +
      `${WARMUP} warm-up pass, then ${REPEATS} timed passes (wall: median per task).`,
  );
  console.log('tokens: as the mock bills them (prompt + completion, about 4 characters a token; prompts include tools and response_format).');

  const server = await startServer();
  const openai = new OpenAI({ baseURL: mock.baseUrl, apiKey: 'x', maxRetries: 0 });
  try {
    await withTrellisWorker({ server, mock, tools: TOOLS, model: MODEL, name: 'plan' }, async (client) => {
      /** The spec each task's goal run planned, by task id: the `saved` style runs it again. */
      const planned = new Map();

      const styles = [
        {
          key: 'plan',
          label: 'plan-then-execute (Trellis on Temporal)',
          run: async (task) => {
            // One durable run: the planner activity writes the spec, the interpreter runs it.
            const { runId } = await client.startGoal(task.goal, task.input === undefined ? {} : { input: task.input });
            const result = await completed(task, await client.result(runId));
            planned.set(task.id, result.spec);
            return result.output;
          },
        },
        {
          key: 'saved',
          label: 'the same plan, saved and run again (no planning call)',
          run: async (task) => {
            const spec = planned.get(task.id);
            if (!spec) throw new BenchmarkFailure(`${task.id}: no plan to run again`);
            const { runId } = await client.start(spec, task.input === undefined ? {} : { input: task.input });
            return (await completed(task, await client.result(runId))).output;
          },
        },
        {
          key: 'react',
          label: 'ReAct loop (openai client)',
          run: async (task) => {
            const r = await reactLoop({ openai, model: MODEL, system: REACT_SYSTEM, prompt: reactPrompt(task), tools: TOOLS, maxTurns: 100 });
            return r.answer;
          },
        },
      ];
      const langgraph = await loadLangGraph(mock.baseUrl);
      if (langgraph.run) styles.push({ key: 'langgraph', label: 'LangGraph createReactAgent', run: langgraph.run });
      console.log(`langgraph: ${langgraph.note}`);
      console.log(`Temporal CLI from ${server.source}`);
      console.log('');

      // figures[style][task] = { calls, prompt, completion, tokens, walls: [], toolCalls }
      const figures = Object.fromEntries(styles.map((s) => [s.key, Object.fromEntries(TASKS.map((t) => [t.id, { walls: [] }]))]));
      for (let pass = 0; pass < WARMUP + REPEATS; pass++) {
        for (const task of TASKS) {
          for (const style of [...styles]) {
            let m;
            try {
              m = await measure(mock, style, task);
            } catch (e) {
              if (style.key !== 'langgraph') throw e;
              // The third column is optional: say why it stopped, and go on without it.
              console.log(`langgraph: dropped, it failed on task ${task.id}: ${e instanceof Error ? e.message : String(e)}`);
              styles.splice(styles.indexOf(style), 1);
              delete figures.langgraph;
              continue;
            }
            const f = figures[style.key][task.id];
            if (pass >= WARMUP) f.walls.push(m.wall);
            if (f.tokens === undefined) Object.assign(f, m);
            else if (f.tokens !== m.tokens || f.calls !== m.calls) f.varies = true;
          }
        }
      }
      report(styles, figures);
      await scaling(
        styles.filter((s) => s.key !== 'langgraph'),
        scaled,
        mock,
      );
      console.log(`   (the mock served ${mock.requests.length} calls in all, warm-ups included)`);
    });
  } finally {
    await server.stop();
    await mock.close();
  }
}

/** A run's result, once every step completed (a plan that skipped work did not do the task). */
function completed(task, result) {
  const notDone = Object.entries(result.steps).filter(([, s]) => s.status !== 'completed');
  if (notDone.length > 0)
    throw new BenchmarkFailure(`${task.id}: steps not completed: ${notDone.map(([id, s]) => `${id} (${s.status})`).join(', ')}`);
  return result;
}

/** One task in one style: its model calls and tokens from the mock's log, its tool calls, its wall time. */
async function measure(mock, style, task) {
  const firstRequest = mock.requests.length;
  const firstTool = toolLog.length;
  gc();
  const t = performance.now();
  const output = await style.run(task);
  const wall = performance.now() - t;
  const requests = mock.requests.slice(firstRequest);
  const failed = requests.filter((r) => r.status !== 200);
  if (failed.length > 0) {
    throw new BenchmarkFailure(
      `${style.key} ${task.id}: the mock refused ${failed.length} call(s), the first on "${failed[0].lastUserMessage.slice(0, 100)}"`,
    );
  }
  const toolCalls = toolLog.slice(firstTool).map((c) => JSON.stringify([c.name, c.args]));
  const expected = task.react.filter((t) => t.tool).map((t) => JSON.stringify([t.tool, TOOLS.find((x) => x.name === t.tool).input.parse(t.args)]));
  if (JSON.stringify([...toolCalls].sort()) !== JSON.stringify([...expected].sort())) {
    throw new BenchmarkFailure(
      `${style.key} ${task.id}: did other work than the task's tool calls:\n  got      ${toolCalls.join('\n           ')}\n  expected ${expected.join('\n           ')}`,
    );
  }
  if (output === undefined || output === null || output === '') throw new BenchmarkFailure(`${style.key} ${task.id}: no output`);
  const prompt = requests.reduce((sum, r) => sum + r.usage.prompt, 0);
  const completion = requests.reduce((sum, r) => sum + r.usage.completion, 0);
  return { wall, calls: requests.length, prompt, completion, tokens: prompt + completion, toolCalls: toolCalls.length, requests };
}

function report(styles, figures) {
  const has = (key) => styles.some((s) => s.key === key);
  console.log(`tasks: ${TASKS.map((t) => `${t.id} (${t.shape})`).join('; ')}`);
  const total = Object.fromEntries(styles.map((s) => [s.key, { calls: 0, tokens: 0, usd: 0, wall: 0 }]));
  const figureRows = [['task', 'tools', ...styles.flatMap((s) => [`${s.key} calls`, `${s.key} tokens`, `${s.key} $`, `${s.key} ms`])]];
  for (const task of TASKS) {
    const row = [task.id, int(figures.plan[task.id].toolCalls)];
    for (const s of styles) {
      const f = figures[s.key][task.id];
      const wall = median(f.walls);
      row.push(int(f.calls), int(f.tokens) + (f.varies ? '*' : ''), formatUsd(usd(f)), ms(wall));
      const t = total[s.key];
      Object.assign(t, { calls: t.calls + f.calls, tokens: t.tokens + f.tokens, usd: t.usd + usd(f), wall: t.wall + wall });
    }
    figureRows.push(row);
  }
  figureRows.push([
    'total',
    int(TASKS.reduce((n, t) => n + figures.plan[t.id].toolCalls, 0)),
    ...styles.flatMap((s) => [int(total[s.key].calls), int(total[s.key].tokens), formatUsd(total[s.key].usd), ms(total[s.key].wall)]),
  ]);
  console.log(
    `LLM calls, tokens (prompt + completion), their cost ($: at gpt-4o-mini's $${PRICE.input} / $${PRICE.output} per million) and wall time per task; wall = median of ${REPEATS} runs, from the start of the task to its output`,
  );
  console.log(table(figureRows));
  if (TASKS.some((t) => styles.some((s) => figures[s.key][t.id].varies)))
    console.log('   * tokens or calls differed between passes: the first pass is shown');
  console.log('');

  // How many times more the agent loops spend than Trellis, planning every run (plan) or running the saved plan (saved).
  const loops = styles.filter((s) => s.key === 'react' || s.key === 'langgraph');
  const pairs = loops.flatMap((l) => ['plan', 'saved'].map((t) => [l.key, t]));
  const ratioRows = [['task', ...pairs.flatMap(([l, t]) => [`${l}÷${t} tokens`, `${l}÷${t} wall`])]];
  const of = (key, id) => (id === 'total' ? total[key] : { tokens: figures[key][id].tokens, wall: median(figures[key][id].walls) });
  for (const id of [...TASKS.map((t) => t.id), 'total']) {
    ratioRows.push([id, ...pairs.flatMap(([l, t]) => [ratio(of(l, id).tokens / of(t, id).tokens), ratio(of(l, id).wall / of(t, id).wall)])]);
  }
  console.log(table(ratioRows));
  console.log('');

  const goal = (value, target) => `${ratio(value)} -> goal >= ${target}x: ${value >= target ? 'goal met' : 'goal missed'}`;
  for (const [t, label] of [
    ['plan', 'plan-then-execute, planning every run'],
    ['saved', 'the saved plan, run again'],
  ]) {
    console.log(
      `   ReAct loop ÷ ${label}: tokens ${goal(total.react.tokens / total[t].tokens, TOKEN_GOAL)} (${int(total.react.tokens)} vs ${int(total[t].tokens)}); ` +
        `wall ${goal(total.react.wall / total[t].wall, WALL_GOAL)} (${ms(total.react.wall)} vs ${ms(total[t].wall)} ms); LLM calls ${ratio(total.react.calls / total[t].calls)} (${total.react.calls} vs ${total[t].calls})`,
    );
  }
  if (has('langgraph')) {
    console.log(
      `   LangGraph ÷ plan-then-execute: tokens ${ratio(total.langgraph.tokens / total.plan.tokens)}, wall ${ratio(total.langgraph.wall / total.plan.wall)}, ` +
        `calls ${ratio(total.langgraph.calls / total.plan.calls)}; LangGraph ÷ our ReAct loop: tokens ${ratio(total.langgraph.tokens / total.react.tokens)}, wall ${ratio(total.langgraph.wall / total.react.wall)}`,
    );
  }
  console.log('');

  // Where the tokens go: the planner's fixed cost against the loop's growing history.
  const plannerCalls = TASKS.map((t) => figures.plan[t.id].requests.find((r) => r.responseFormat?.json_schema?.name === 'workflow_spec')).filter(
    Boolean,
  );
  const est = (text) => Math.ceil(text.length / 4);
  if (plannerCalls.length > 0) {
    const p = plannerCalls[0];
    const system = est(String(p.messages[0]?.content ?? ''));
    const schema = est(JSON.stringify(p.responseFormat));
    const plannerTokens = plannerCalls.reduce((sum, r) => sum + r.usage.prompt + r.usage.completion, 0);
    const specTokens = plannerCalls.reduce((sum, r) => sum + r.usage.completion, 0);
    console.log(
      `   where plan-then-execute's tokens go: the planner calls are ${int(plannerTokens)} of ${int(total.plan.tokens)} tokens: each prompt carries the planner's ` +
        `system prompt with the tool catalog (~${int(system)} tokens) and the spec's outline as response_format (~${int(schema)}); the specs written are ` +
        `${int(specTokens)} completion tokens in all. The rest (${int(total.plan.tokens - plannerTokens)}, the same as the saved plan's ${int(total.saved.tokens)}) are the specs' llm steps.`,
    );
    const floor = Math.min(...TASKS.map((t) => figures.react[t.id].tokens / (system + schema)));
    console.log(
      `   the least any plan can cost is one planner prompt (~${int(system + schema)} tokens): on these tasks ReAct spends ${ratio(floor)} to ` +
        `${ratio(Math.max(...TASKS.map((t) => figures.react[t.id].tokens / (system + schema))))} that, so planning every run cannot reach ${TOKEN_GOAL}x here; the scaling table shows where it does.`,
    );
  }
  const reactCalls = TASKS.flatMap((t) => figures.react[t.id].requests);
  const firstPrompts = TASKS.map((t) => figures.react[t.id].requests[0].usage.prompt);
  const lastPrompts = TASKS.map((t) => figures.react[t.id].requests.at(-1).usage.prompt);
  console.log(
    `   where the ReAct loop's tokens go: ${reactCalls.length} calls; a task's first call sends ${int(Math.min(...firstPrompts))}-${int(Math.max(...firstPrompts))} prompt tokens ` +
      `(system prompt, goal, the tools' JSON Schemas), its last ${int(Math.min(...lastPrompts))}-${int(Math.max(...lastPrompts))} (the whole history, every tool result again).`,
  );
  console.log('');
}

/** The triage task with more and more independent lookups: where the planner's fixed cost is repaid. */
async function scaling(styles, tasks, mock) {
  const keys = styles.map((s) => s.key);
  const rows = [
    [
      'orders',
      ...keys.flatMap((k) => [`${k} calls`, `${k} tokens`, `${k} ms`]),
      'react÷plan tokens',
      'react÷plan wall',
      'react÷saved tokens',
      'react÷saved wall',
    ],
  ];
  for (const task of tasks) {
    const m = {};
    for (const style of styles) m[style.key] = await measure(mock, style, task);
    rows.push([
      int(task.react.length - 2),
      ...keys.flatMap((k) => [int(m[k].calls), int(m[k].tokens), ms(m[k].wall)]),
      ratio(m.react.tokens / m.plan.tokens),
      ratio(m.react.wall / m.plan.wall),
      ratio(m.react.tokens / m.saved.tokens),
      ratio(m.react.wall / m.saved.wall),
    ]);
  }
  console.log('scaling: the triage task over more orders (independent lookups, then 1 llm step and 1 ticket), one run each');
  console.log(table(rows));
}

/** The mock's script: the planner's spec and the spec's llm steps for plan-then-execute; one tool per turn for ReAct. */
function script(tasks) {
  const rules = [];
  for (const task of tasks) {
    // The planner's last user message is "Goal: <goal>" (then the run input); it replies with the spec.
    rules.push({ match: `^Goal: ${escape(task.goal)}`, reply: task.spec });
    for (const rule of task.llm) rules.push(rule);
  }
  for (const task of tasks) {
    // ReAct: the last user message is always the goal; the last message (a tool result) says which turn it is.
    const match = `^${escape(task.goal)}`;
    let previous;
    for (const turn of task.react) {
      const rule = { match, lastMessage: previous ? resultMark(previous) : match };
      if (turn.answer !== undefined) rule.reply = turn.answer;
      else rule.toolCalls = [{ name: turn.tool, arguments: turn.args }];
      rules.push(rule);
      previous = turn;
    }
  }
  return rules;
}

/** The start of a tool's result (its JSON text), which echoes the call's key argument. */
function resultMark({ tool, args }) {
  const echo = { lookup_order: 'orderId', get_weather: 'city', search_docs: 'query', fetch_price: 'product', send_email: 'to' }[tool];
  return `^${escape(echo ? `{${JSON.stringify(echo)}:${JSON.stringify(args[echo])}` : '{"ticketId":')}`;
}

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The LangGraph column: its runner, installing bench/langgraph's packages from the registry first when they are
 * missing (apart from the main package, so its dependencies stay clean); or a note saying why there is none.
 */
async function loadLangGraph(baseURL) {
  if (!existsSync(`${LANGGRAPH_DIR}node_modules/@langchain/langgraph/package.json`)) {
    console.log('langgraph: installing bench/langgraph (npm ci --prefix bench/langgraph), once');
    const npm = spawnSync('npm', ['ci', '--prefix', LANGGRAPH_DIR, '--no-audit', '--no-fund', '--silent'], { encoding: 'utf8' });
    if (npm.status !== 0)
      return { note: `skipped: npm ci --prefix bench/langgraph failed: ${(npm.stderr || npm.error?.message || '').trim().split('\n').at(-1)}` };
  }
  try {
    const { makeLangGraphAgent, versions } = await import('./langgraph/react-agent.mjs');
    const agent = makeLangGraphAgent({ baseURL, model: MODEL, system: REACT_SYSTEM, tools: TOOLS, toolDefs: openAiTools(TOOLS) });
    return {
      run: async (task) => (await agent(reactPrompt(task))).answer,
      note: `createReactAgent (${versions()}), ChatOpenAI against the same mock`,
    };
  } catch (e) {
    return { note: `skipped: it does not load: ${e instanceof Error ? e.message : String(e)}` };
  }
}
