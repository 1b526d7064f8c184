import type { CompletionUsage } from 'openai/resources/completions';
import { addTokens, type TokenUsage } from '../engine/state.js';

/** Adds one completion's usage (absent on some OpenAI-compatible servers: counted as zero) to a running total. */
export function addUsage(total: TokenUsage, usage: CompletionUsage | undefined): TokenUsage {
  return addTokens(total, { prompt: usage?.prompt_tokens ?? 0, completion: usage?.completion_tokens ?? 0, total: usage?.total_tokens ?? 0 });
}
