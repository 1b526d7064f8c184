/** The OpenAI-compatible client, configured from the environment (OPENAI_BASE_URL, OPENAI_API_KEY, TRELLIS_MODEL). */
import OpenAI from 'openai';

/** The model endpoint and the default model; llmConfigFromEnv reads them. */
export interface LlmConfig {
  /** The endpoint's base URL, `.../v1` (OPENAI_BASE_URL). Default: OpenAI's. */
  baseURL?: string;
  /** The endpoint's key (OPENAI_API_KEY). A local endpoint needs none: a placeholder is sent. */
  apiKey?: string;
  /** The model for steps that name none, and for the planner: TRELLIS_MODEL, else gpt-4o-mini. */
  model: string;
}

export const DEFAULT_MODEL = 'gpt-4o-mini';

/** OPENAI_BASE_URL, OPENAI_API_KEY and TRELLIS_MODEL (default gpt-4o-mini) as an LlmConfig; unset or empty ones are left out. */
export function llmConfigFromEnv(env: NodeJS.ProcessEnv = process.env): LlmConfig {
  return {
    ...(env.OPENAI_BASE_URL && { baseURL: env.OPENAI_BASE_URL }),
    ...(env.OPENAI_API_KEY && { apiKey: env.OPENAI_API_KEY }),
    model: env.TRELLIS_MODEL || DEFAULT_MODEL,
  };
}

/**
 * The OpenAI client for a config: it makes no retries of its own (Temporal retries the activity, and records each
 * attempt) and gives a request 120 s.
 */
export function createLlmClient(config: LlmConfig): OpenAI {
  // Temporal retries the activity (and records each attempt in history), so the client does not retry itself.
  // A local endpoint needs no key; the client insists on one, so a placeholder stands in.
  return new OpenAI({ baseURL: config.baseURL, apiKey: config.apiKey ?? 'not-needed', maxRetries: 0, timeout: 120_000 });
}
