/**
 * trellis: the public API. Every part is usable on its own: the spec language (validator, expressions,
 * graph), tools, and (as they land) the interpreter, activities and client.
 */
export * from './spec/index.js';
export * from './tools/index.js';
export * from './engine/state.js';
export * from './engine/messages.js';
export * from './engine/schedule.js';
export * from './client/index.js';
export * from './config.js';
export { createTrellisWorker, bundleWorkflows, workflowsPath, type TrellisWorkerOptions } from './worker.js';
export { createActivities, type ActivityDeps } from './activities/index.js';
export { startMockLlm, type MockLlmServer, type MockLlmOptions } from './llm/mock-server.js';
export { parseMockScript, type MockRule } from './llm/mock-script.js';
export { chat, InvalidReplyError, type ChatRequest, type ChatResult } from './llm/chat.js';
export { createLlmClient, llmConfigFromEnv, type LlmConfig } from './llm/client.js';
export { approveSignal, decideUpdate, statusQuery, WORKFLOW_TYPE } from './workflows/definitions.js';
export * from './planner/index.js';
