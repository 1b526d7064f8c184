/** Every activity a Trellis worker registers, built from its tools and its model client. */
import type OpenAI from 'openai';
import type { Tool } from '../tools/define.js';
import { createLlmActivities } from './llm.js';
import { createToolActivities } from './tools.js';

export interface ActivityDeps {
  tools: readonly Tool[];
  llm: OpenAI;
  model: string;
}

export function createActivities(deps: ActivityDeps) {
  return { ...createToolActivities(deps.tools), ...createLlmActivities(deps.llm, deps.model) };
}

export { createLlmActivities, createToolActivities };
