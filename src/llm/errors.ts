/** How a model endpoint's errors read to the code that calls it. */
import OpenAI from 'openai';

/**
 * The endpoint is not there, or refuses the key or the model (a connection error, 401, 403, 404): no later call
 * can do better, so it is a setup problem (exit 2), not a failed piece of work.
 */
export function isSetupError(e: unknown): boolean {
  if (e instanceof OpenAI.APIConnectionError) return true;
  return e instanceof OpenAI.APIError && (e.status === 401 || e.status === 403 || e.status === 404);
}
