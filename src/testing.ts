/**
 * `trellis/testing`: a real OpenAI-compatible HTTP server that answers from a script, for tests and demos with the
 * real `openai` client (no network, no model). It logs every request it served, with the tokens it billed.
 *
 *   import { startMockLlm } from 'trellis/testing';
 *   const mock = await startMockLlm({ rules: [{ match: 'Is the item damaged', reply: { damaged: true } }] });
 *   process.env.OPENAI_BASE_URL = mock.baseUrl;   // ... run, then: await mock.close();
 */
export { startMockLlm, type LoggedRequest, type MockLlmOptions, type MockLlmServer } from './llm/mock-server.js';
export { MockScriptError, parseMockScript, type MockRule, type MockToolCall } from './llm/mock-script.js';
