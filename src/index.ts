/**
 * trellis: the spec language (validator, expressions, graph), tools, the interpreter's decisions and the
 * planner. Light on purpose: a tools module imports `defineTool` from here, so this entry must not load
 * Temporal or the model client. The client is `trellis/client`, the worker and activities `trellis/worker`,
 * the dev server `trellis/temporal`.
 */
export * from './spec/index.js';
export * from './tools/index.js';
export * from './engine/state.js';
export * from './engine/messages.js';
export * from './engine/schedule.js';
export * from './config.js';
export * from './errors.js';
export { parseMockScript, type MockRule } from './llm/mock-script.js';
export * from './planner/index.js';
