/**
 * Model calls as metrics, counted in the activity that made them (every attempt: a retried call was billed too):
 * tokens by model and type, calls by whether the price table knows the model, and each priced call's cost, whose
 * histogram sum is the money spent. Through the activity's metric meter: nothing without a metrics endpoint.
 */
import { ApplicationFailure, metricMeter } from '@temporalio/activity';
import type { TokenUsage } from '../engine/state.js';
import { costOf, isUnknown, type PriceTable } from '../pricing/cost.js';

/** Records one model call of the current activity; `model` is the one the endpoint answered as. */
export function recordModelCall(prices: PriceTable, model: string, tokens: TokenUsage): void {
  const billed = metricMeter.createCounter('trellis_model_tokens', undefined, 'model tokens billed, by model and type (input, output)');
  billed.add(tokens.prompt, { model, type: 'input' });
  billed.add(tokens.completion, { model, type: 'output' });
  const cost = costOf(prices, model, tokens);
  const priced = !isUnknown(cost);
  metricMeter
    .createCounter('trellis_model_calls', undefined, 'model calls, by model and whether it has a price')
    .add(1, { model, priced: String(priced) });
  if (priced) {
    metricMeter
      .createHistogram('trellis_model_call_cost', 'float', 'usd', "a priced model call's cost; the sum is the money spent")
      .record(cost.usd, { model });
  }
}

/**
 * `activity` with its model calls counted: from its result's tokens and model, or from a failure that says what it
 * spent (a reply still invalid after its re-ask). `modelOf` names the model asked for, when the result names none.
 */
export function countingModelCalls<A, R extends { tokens: TokenUsage; model?: string }>(
  prices: PriceTable,
  modelOf: (call: A) => string,
  activity: (call: A) => Promise<R>,
): (call: A) => Promise<R> {
  return async (call) => {
    try {
      const result = await activity(call);
      recordModelCall(prices, result.model ?? modelOf(call), result.tokens);
      return result;
    } catch (e) {
      const spent = e instanceof ApplicationFailure ? (e.details?.[0] as { tokens?: TokenUsage } | undefined)?.tokens : undefined;
      if (spent) recordModelCall(prices, modelOf(call), spent);
      throw e;
    }
  };
}
