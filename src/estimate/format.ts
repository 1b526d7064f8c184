/** An estimate for people: a few lines for the whole spec (`trellis estimate`, a plan under review), one per step. */
import { formatCost, type Cost } from '../pricing/cost.js';
import type { Figures, SpecEstimate, StepEstimate } from './estimate.js';
import type { Range } from './range.js';

const n = (x: number) => Math.round(x).toLocaleString('en-US');

/** `3`, `1 to 3`, `2 or more` (no known most). */
export function formatRange(r: Range, unit: (x: number) => string = n): string {
  if (r.max === null) return `${unit(r.min)} or more`;
  return r.min === r.max ? unit(r.min) : `${unit(r.min)} to ${unit(r.max)}`;
}

/** `$0.012 to $0.05`; `unknown (no price for m)` when a model has none; `$0.01 or more` without a known most. */
export function formatCostRange(cost: Figures['cost']): string {
  const unknown = (c: Cost | null) => (c?.unknown?.length ?? 0) > 0;
  if (unknown(cost.min) || unknown(cost.max)) return formatCost(unknown(cost.min) ? cost.min : cost.max!);
  if (cost.max === null) return `${formatCost(cost.min)} or more`;
  return cost.min.usd === cost.max.usd ? formatCost(cost.min) : `${formatCost(cost.min)} to ${formatCost(cost.max)}`;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The spec's figures, one a line. */
export function estimateLines(e: SpecEstimate): string[] {
  return [
    `model calls  ${formatRange(e.modelCalls)}`,
    `tool calls   ${formatRange(e.toolCalls)}`,
    `tokens       ${formatRange(e.tokens)} (input ${formatRange(e.inputTokens)}, output ${formatRange(e.outputTokens)})`,
    `cost         ${formatCostRange(e.cost)}`,
    `latency      ${formatRange(e.latencyMs, seconds)} (the critical path; people's answers not counted)`,
  ];
}

/** One line a step: `facts (llm): model calls 1, tokens 620, $0.0004`, and what it could not know. */
export function stepLine(s: StepEstimate): string {
  const calls = s.modelCalls.max !== 0;
  const parts = [
    ...(calls ? [`model calls ${formatRange(s.modelCalls)}`] : []),
    ...(s.toolCalls.max !== 0 ? [`tool calls ${formatRange(s.toolCalls)}`] : []),
    ...(calls ? [`tokens ${formatRange({ min: s.inputTokens.min + s.outputTokens.min, max: sumMax(s) })}`, formatCostRange(s.cost)] : []),
  ];
  return `${s.id} (${s.kind}): ${parts.length > 0 ? parts.join(', ') : 'no calls'}${s.notes.length > 0 ? `; ${s.notes.join('; ')}` : ''}`;
}

const sumMax = (s: StepEstimate) => (s.inputTokens.max === null || s.outputTokens.max === null ? null : s.inputTokens.max + s.outputTokens.max);

/** The estimate as a plan's reviewer reads it. */
export function estimateSummary(e: SpecEstimate): string {
  return ['Estimate (before it runs):', ...estimateLines(e).map((l) => `  ${l}`)].join('\n');
}
