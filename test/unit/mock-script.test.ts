import { describe, expect, it } from 'vitest';
import { MockScript, MockScriptError, parseMockScript } from '../../src/llm/mock-script.js';

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
    expect(() => parseMockScript([{ match: 'a' }])).toThrow('rule 0: needs "reply" or "status"');
    expect(() => parseMockScript([{ match: 'a', reply: 'x', tiems: 2 }])).toThrow(/tiems/);
  });
});
