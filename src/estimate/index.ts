/** A spec's estimate before it runs: model calls, tool calls, tokens, money and latency, as ranges. */
export { ASSUMPTIONS, estimateSpec, schemaTokens, type EstimateOptions, type Figures, type SpecEstimate, type StepEstimate } from './estimate.js';
export { estimateLines, estimateSummary, formatCostRange, formatRange, stepLine } from './format.js';
export type { Range } from './range.js';
