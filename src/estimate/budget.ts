/** Whether a plan's estimate fits what is left of a run's budget: a goal run refuses a plan that cannot. */
import { formatCost, formatUsd, isUnknown } from '../pricing/cost.js';
import type { SpecEstimate } from './estimate.js';

/**
 * Why the plan cannot run within what is left (`tokens` and `usd`: undefined without that cap), or undefined when
 * it may. Only the estimate's least counts: a plan is refused when even its cheapest path is over, never on a guess
 * of its dearest. Under a cost cap, a plan whose cost is unknown (a model without a price) is refused too.
 */
export function overBudget(estimate: SpecEstimate, left: { tokens: number | undefined; usd: number | undefined }): string | undefined {
  const least = estimate.tokens.min;
  if (left.tokens !== undefined && least > left.tokens) {
    return `the plan's estimate is at least ${count(least)} LLM tokens, and the run's maxTokens leaves ${count(left.tokens)}`;
  }
  if (left.usd === undefined) return undefined;
  const cost = estimate.cost.min;
  if (isUnknown(cost))
    return `the plan's cost cannot be estimated under the run's maxCost: ${formatCost(cost)} (add it to the file TRELLIS_PRICES names)`;
  if (cost.usd > left.usd) return `the plan's estimate is at least ${formatUsd(cost.usd)}, and the run's maxCost leaves ${formatUsd(left.usd)}`;
  return undefined;
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');
