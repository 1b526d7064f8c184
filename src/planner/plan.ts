/**
 * The planner: a model writes a spec for a goal from a catalog of tools. One call with structured output (the
 * spec's JSON Schema); the validator (with the type check) reads the reply; its problems go back to the model as
 * a compact list, up to a repair budget. Nothing runs here: the result is a spec, or the last problems.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { replyMessage } from '../llm/chat.js';
import { addUsage } from '../llm/usage.js';
import { tracedChat } from '../telemetry/spans.js';
import type { TokenUsage } from '../engine/state.js';
import type { ToolCatalog } from '../spec/catalog.js';
import { specJsonSchemaForModels, specOutlineJsonSchema } from '../spec/json-schema.js';
import { formatProblem, problem, type Problem } from '../spec/problems.js';
import type { Spec } from '../spec/schema.js';
import { inputProblems } from '../spec/input.js';
import type { SpecLibrary } from '../spec/uses.js';
import { validateSpec } from '../spec/validate/index.js';
import { catalogText } from './catalog-text.js';
import type { PlannerSchema } from './config.js';

/** The default prompt: a file a user can read, and replace with their own (`--prompt`). */
export const DEFAULT_PROMPT_FILE = fileURLToPath(new URL('../../prompts/planner.md', import.meta.url));

/** What planSpec plans from: a goal, the tools, the model, and what bounds and shapes the plan. */
export interface PlanRequest {
  /** What the run should achieve, as a person says it. */
  goal: string;
  /** The tools the plan may use: the model sees each one's name, policy, description, args and output. */
  catalog: ToolCatalog;
  /**
   * The run input the spec will get (null: none), shown to the model so it can refer to its fields, and checked
   * against the plan's input schema: a plan its own run would refuse is sent back for repair.
   */
  input?: unknown;
  /** Saved specs that `call` steps may name: listed for the model, and checked by the validator. */
  specs?: SpecLibrary;
  /** Tokens this plan may use: no repair call is made once they are spent (the result says outOfTokens). */
  maxTokens?: number;
  /** Filled in as the model is called, so a caller knows the tries and tokens even when a call throws. */
  usage?: PlannerUsage;
  /** The model to call, as the endpoint names it. */
  model: string;
  /** Model calls in all, the first included. Default 3. */
  maxAttempts?: number;
  /** The prompt template; its first `{{catalog}}` is replaced by the catalog. Default: prompts/planner.md. */
  prompt?: string;
  /** When replanning: what a person said of the last plan, sent with the goal. */
  feedback?: string;
  /** Step ids the spec may not use (a goal run's review is the step "plan"). */
  reservedIds?: string[];
  /**
   * The JSON Schema sent as `response_format`: `outline` (default: the fields and kinds, about 330 tokens) or
   * `full` (every rule of every kind, about 1,800 tokens), for an endpoint that constrains decoding to the schema
   * and a model that needs it. The validator checks the reply either way.
   */
  schema?: PlannerSchema;
  /** Hears what the planner does as it does it: each model call, and the verdict on each reply. */
  onProgress?: (progress: PlanProgress) => void;
}

/**
 * A step of planning: `asking` before model call `attempt` (of `maxAttempts`); `checked` once its reply is
 * validated, with its problems (none: the spec is valid) and the tokens spent so far.
 */
export type PlanProgress =
  | { type: 'asking'; attempt: number; maxAttempts: number }
  | { type: 'checked'; attempt: number; maxAttempts: number; problems: number; tokens: TokenUsage };

/** Model calls made (a call that failed included) and the tokens of those answered. */
export interface PlannerUsage {
  calls: number;
  tokens: TokenUsage;
}

/**
 * A valid spec, with the model calls it took and their tokens; or the last reply's problems when none passed within
 * `maxAttempts` calls (`outOfTokens`: the tokens ran out first).
 */
export type PlanResult =
  | { ok: true; spec: Spec; attempts: number; tokens: TokenUsage }
  | { ok: false; problems: Problem[]; attempts: number; tokens: TokenUsage; outOfTokens?: boolean };

/** Reads a prompt template (default prompts/planner.md, shipped with the package); rejects with Node's error when it cannot. */
export async function loadPrompt(file = DEFAULT_PROMPT_FILE): Promise<string> {
  return readFile(file, 'utf8');
}

/**
 * Asks the model for a spec for the goal, validates each reply (against the catalog, the saved specs and the input),
 * and sends the problems back for repair, up to `maxAttempts` calls. Nothing runs: an invalid plan is a result, not
 * an error. Rejects with the client's error when the endpoint fails (OpenAI.APIError), with EmptyReplyError (code
 * MODEL_REPLY_EMPTY) when it answers without a message, and with Node's error when the default prompt is unreadable.
 *
 * @example
 * ```ts
 * const goal = 'Refund order A-1004 if it arrived damaged';
 * const plan = await planSpec(new OpenAI(), { goal, catalog: toolCatalog(tools), model: 'gpt-4o-mini' });
 * if (plan.ok) console.log(JSON.stringify(plan.spec, null, 2));
 * else console.error(plan.problems.map(formatProblem).join('\n'));
 * ```
 */
export async function planSpec(client: OpenAI, request: PlanRequest): Promise<PlanResult> {
  const template = request.prompt ?? (await loadPrompt());
  const schema = request.schema === 'full' ? specJsonSchemaForModels() : specOutlineJsonSchema();
  const goal = [
    `Goal: ${request.goal}`,
    ...(request.input === undefined || request.input === null ? [] : [`Run input: ${JSON.stringify(request.input)}`]),
    ...(request.feedback === undefined ? [] : ['', request.feedback]),
  ].join('\n');
  const messages: ChatCompletionMessageParam[] = [
    // A replacer function: `$&` or `$'` in a tool's description stays text.
    { role: 'system', content: template.replace('{{catalog}}', () => catalogText(request.catalog, request.specs)) },
    { role: 'user', content: goal },
  ];
  const maxAttempts = request.maxAttempts ?? 3;
  let tokens: TokenUsage = { prompt: 0, completion: 0, total: 0 };
  let problems: Problem[] = [];
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (request.maxTokens !== undefined && tokens.total >= request.maxTokens)
      return { ok: false, problems, attempts: attempt - 1, tokens, outOfTokens: true };
    if (request.usage) request.usage.calls++;
    request.onProgress?.({ type: 'asking', attempt, maxAttempts });
    const completion = await tracedChat({ model: request.model, messages }, () =>
      client.chat.completions.create({
        model: request.model,
        messages,
        response_format: { type: 'json_schema', json_schema: { name: 'workflow_spec', schema, strict: false } },
      }),
    );
    tokens = addUsage(tokens, completion.usage);
    if (request.usage) request.usage.tokens = addUsage(request.usage.tokens, completion.usage);
    const reply = replyMessage(completion).content ?? '';
    let doc: unknown;
    try {
      doc = JSON.parse(reply);
    } catch {
      problems = [problem('SYNTAX', [], 'the reply is not JSON')];
    }
    let spec: Spec | undefined;
    if (doc !== undefined) {
      const valid = validateSpec(doc, { tools: request.catalog, ...(request.specs && { specs: request.specs }) });
      problems = valid.ok
        ? [...reservedIdProblems(valid.spec, request.reservedIds ?? []), ...runInputProblems(valid.spec, request.input)]
        : valid.problems;
      if (valid.ok && problems.length === 0) spec = valid.spec;
    }
    request.onProgress?.({ type: 'checked', attempt, maxAttempts, problems: spec ? 0 : problems.length, tokens });
    if (spec) return { ok: true, spec, attempts: attempt, tokens };
    // The repair: the model's reply and its problems, compactly; the goal stays in the last user message.
    messages.push(
      { role: 'assistant', content: reply.slice(0, 20_000) },
      {
        role: 'user',
        content: `${goal}\n\nYour spec has these problems; reply with the whole corrected spec:\n${problems.slice(0, 30).map(formatProblem).join('\n')}`,
      },
    );
  }
  return { ok: false, problems, attempts: maxAttempts, tokens };
}

/** The run input against the plan's input schema, reported at the schema (`input`), which the model can fix. */
function runInputProblems(spec: Spec, input: unknown): Problem[] {
  if (input === undefined) return [];
  const found = inputProblems(spec.input, input);
  if (found.length === 0) return [];
  const shown = JSON.stringify(input).slice(0, 300);
  return [problem('TYPE', ['input'], `the run input ${shown} does not match this input schema: ${found.map(formatProblem).join('; ')}`)];
}

function reservedIdProblems(spec: Spec, reserved: string[]): Problem[] {
  return spec.steps.flatMap((s, i) =>
    reserved.includes(s.id) ? [problem('INVALID_ID', ['steps', i, 'id'], `the id "${s.id}" is reserved here; use another`)] : [],
  );
}
