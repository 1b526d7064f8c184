/** The OpenAI-compatible client, configured from the environment (OPENAI_BASE_URL, OPENAI_API_KEY, TRELLIS_MODEL). */
import OpenAI from 'openai';

export interface LlmConfig {
  baseURL?: string;
  apiKey?: string;
  model: string;
}

export const DEFAULT_MODEL = 'gpt-4o-mini';

export function llmConfigFromEnv(env: NodeJS.ProcessEnv = process.env): LlmConfig {
  return {
    ...(env.OPENAI_BASE_URL && { baseURL: env.OPENAI_BASE_URL }),
    ...(env.OPENAI_API_KEY && { apiKey: env.OPENAI_API_KEY }),
    model: env.TRELLIS_MODEL || DEFAULT_MODEL,
  };
}

export function createLlmClient(config: LlmConfig): OpenAI {
  // Temporal retries the activity (and records each attempt in history), so the client does not retry itself.
  // A local endpoint needs no key; the client insists on one, so a placeholder stands in.
  return new OpenAI({ baseURL: config.baseURL, apiKey: config.apiKey ?? 'not-needed', maxRetries: 0, timeout: 120_000 });
}
