import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { MockScript, MockScriptError, parseMockScript } from '../../src/llm/mock-script.js';
import { startMockLlm } from '../../src/llm/mock-server.js';

describe('mock-llm scripts', () => {
  it('first match wins, and times counts answers down', () => {
    const script = new MockScript(
      parseMockScript([
        { match: 'hello', reply: 'first', times: 1 },
        { match: 'hel+o', reply: 'second' },
        { match: '.*', status: 503 },
      ]),
    );
    expect(script.answer('say hello')?.reply).toBe('first');
    expect(script.answer('say hello')?.reply).toBe('second');
    expect(script.answer('bye')?.status).toBe(503);
  });

  it('no rule: undefined', () => {
    expect(new MockScript(parseMockScript([{ match: '^x$', reply: 1 }])).answer('y')).toBeUndefined();
  });

  it('refuses a bad script, naming the rule and the field', () => {
    expect(() => parseMockScript({})).toThrow(MockScriptError);
    expect(() => parseMockScript([{ match: '(', reply: 'x' }])).toThrow(/\[0\]\.match: not a valid regular expression: "\("/);
    expect(() => parseMockScript([{ match: 'a', reply: 'x', status: 200 }])).toThrow(/\[0\]\.status/);
    expect(() => parseMockScript([{ match: 'a' }])).toThrow('rule 0: needs "reply", "status", "toolCalls" or "body"');
    expect(() => parseMockScript([{ match: 'a', body: {}, reply: 'x' }])).toThrow('rule 0: "body" is the whole response, so it cannot also have');
    expect(() => parseMockScript([{ match: 'a', reply: 'x', tiems: 2 }])).toThrow(/tiems/);
  });

  it('lastMessage: a bad regex is refused; both patterns must match', () => {
    expect(() => parseMockScript([{ match: 'a', lastMessage: '[', reply: 'x' }])).toThrow(/\[0\]\.lastMessage: not a valid regular expression: "\["/);
    const script = new MockScript(
      parseMockScript([
        { match: 'weather', lastMessage: '"tempC"', reply: 'done' },
        { match: 'weather', reply: 'ask' },
      ]),
    );
    expect(script.answer('weather in Oslo', '{"tempC": 4}')?.reply).toBe('done');
    expect(script.answer('weather in Oslo', 'weather in Oslo')?.reply).toBe('ask');
    expect(script.answer('weather in Oslo')?.reply).toBe('ask');
  });

  it('toolCalls: a rule with only toolCalls is valid; a bad tool call is refused', () => {
    const [rule] = parseMockScript([{ match: '.', toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A1' } }] }]);
    expect(rule!.toolCalls).toEqual([{ name: 'lookup_order', arguments: { orderId: 'A1' } }]);
    expect(() => parseMockScript([{ match: '.', toolCalls: [] }])).toThrow(/\[0\]\.toolCalls/);
    expect(() => parseMockScript([{ match: '.', toolCalls: [{ arguments: {} }] }])).toThrow(/\[0\]\.toolCalls/);
    expect(() => parseMockScript([{ match: '.', toolCalls: [{ name: 'x', args: {} }] }])).toThrow(/args/);
    expect(() => parseMockScript([{ match: '.', status: 500, toolCalls: [{ name: 'x' }] }])).toThrow('rule 0: "status"');
  });

  it('serves tool calls to the real openai client; lastMessage picks the rule; usage counts tools and tool calls', async () => {
    const mock = await startMockLlm({
      rules: parseMockScript([
        { match: 'order A1', lastMessage: '"status":"shipped"', reply: 'Order A1 has shipped.' },
        {
          match: 'order A1',
          reply: 'Let me look.',
          toolCalls: [
            { name: 'lookup_order', arguments: { orderId: 'A1' } },
            { name: 'get_weather', arguments: '{"city": "Oslo"' },
          ],
        },
      ]),
    });
    try {
      const openai = new OpenAI({ baseURL: mock.baseUrl, apiKey: 'x' });
      const tools: OpenAI.Chat.ChatCompletionTool[] = [
        {
          type: 'function',
          function: {
            name: 'lookup_order',
            description: 'Find an order',
            parameters: { type: 'object', properties: { orderId: { type: 'string' } } },
          },
        },
      ];
      const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
        { role: 'system', content: 'You help with orders.' },
        { role: 'user', content: 'Where is order A1?' },
      ];
      const first = await openai.chat.completions.create({ model: 'mock', messages, tools });
      const choice = first.choices[0]!;
      expect(choice.finish_reason).toBe('tool_calls');
      expect(choice.message.content).toBe('Let me look.');
      const calls = choice.message.tool_calls!;
      expect(calls.map((c) => c.type === 'function' && [c.id, c.function.name, c.function.arguments])).toEqual([
        ['call_1', 'lookup_order', '{"orderId":"A1"}'],
        ['call_2', 'get_weather', '{"city": "Oslo"'],
      ]);

      messages.push(choice.message);
      messages.push({ role: 'tool', tool_call_id: 'call_1', content: JSON.stringify({ orderId: 'A1', status: 'shipped' }) });
      const second = await openai.chat.completions.create({ model: 'mock', messages, tools });
      expect(second.choices[0]!.finish_reason).toBe('stop');
      expect(second.choices[0]!.message.content).toBe('Order A1 has shipped.');
      expect(second.choices[0]!.message.tool_calls).toBeUndefined();

      // ids stay unique across calls on one server
      const third = await openai.chat.completions.create({ model: 'mock', messages: messages.slice(0, 2), tools });
      expect(third.choices[0]!.message.tool_calls!.map((c) => c.id)).toEqual(['call_3', 'call_4']);

      expect(mock.requests.map((r) => r.lastMessage)).toEqual(['Where is order A1?', '{"orderId":"A1","status":"shipped"}', 'Where is order A1?']);
      expect(mock.requests[0]!.tools).toEqual(tools);
      expect(mock.requests[1]!.lastUserMessage).toBe('Where is order A1?');

      // The prompt bills every message, the assistant's tool calls, the tool result and the tools.
      const promptText = [
        'You help with orders.',
        'Where is order A1?',
        'Let me look.\nlookup_order {"orderId":"A1"}\nget_weather {"city": "Oslo"',
        '{"orderId":"A1","status":"shipped"}',
        JSON.stringify(tools),
      ].join('\n');
      expect(second.usage!.prompt_tokens).toBe(Math.ceil(promptText.length / 4));
      expect(mock.requests[1]!.usage).toEqual({ prompt: second.usage!.prompt_tokens, completion: second.usage!.completion_tokens });
      expect(first.usage!.completion_tokens).toBe(Math.ceil('Let me look.\nlookup_order {"orderId":"A1"}\nget_weather {"city": "Oslo"'.length / 4));
    } finally {
      await mock.close();
    }
  });
});
