/**
 * The model endpoint as the commands that call it (plan, eval, worker) see it: its settings from the
 * environment, checked before any call, and one reading of its errors into an exit code and a message.
 */
import OpenAI from 'openai';
import { isSetupError } from '../llm/errors.js';
import { llmConfigFromEnv, type LlmConfig } from '../llm/client.js';
import { EXIT, UsageError } from './io.js';

/** OPENAI_BASE_URL, OPENAI_API_KEY, TRELLIS_MODEL; a base URL that is not an http(s) URL is bad usage. */
export function modelConfig(): LlmConfig {
  const config = llmConfigFromEnv();
  if (config.baseURL !== undefined && !isHttpUrl(config.baseURL)) {
    throw new UsageError(`OPENAI_BASE_URL is not a URL: "${config.baseURL}"; set it to the endpoint's base, such as http://127.0.0.1:8787/v1`);
  }
  return config;
}

function isHttpUrl(text: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

export function endpointName(config: LlmConfig): string {
  return config.baseURL ?? 'the OpenAI API';
}

/**
 * A failed model call, as the CLI reports it: no endpoint, or one that refuses the key or the model, is a setup
 * problem (exit 2); any other error of the endpoint (a 500, say) is the work failing (exit 1). Undefined for an
 * error that did not come from the endpoint.
 */
export function modelFailure(e: unknown, config: LlmConfig): { exit: number; message: string } | undefined {
  const where = endpointName(config);
  if (e instanceof OpenAI.APIConnectionError)
    return { exit: EXIT.usage, message: `cannot reach the model at ${where}: ${e.message}; set OPENAI_BASE_URL` };
  if (isSetupError(e))
    return {
      exit: EXIT.usage,
      message: `the model endpoint at ${where} refused the call: ${(e as Error).message}${hint((e as { status?: number }).status)}`,
    };
  if (e instanceof OpenAI.APIError) return { exit: EXIT.failed, message: `the model endpoint at ${where} failed: ${e.message}` };
  return undefined;
}

/** What to check for a refusal: 404 is an unknown model (or a wrong path), 401 and 403 the key. */
function hint(status: number | undefined): string {
  return status === 404 ? '; check TRELLIS_MODEL and OPENAI_BASE_URL' : '; check OPENAI_API_KEY';
}
