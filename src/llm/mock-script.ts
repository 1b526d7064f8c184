/**
 * The mock LLM's script: a JSON array of rules, first match wins. Parsed with zod so a bad script says
 * which rule is wrong and how.
 */
import { z } from 'zod';
import { TrellisError } from '../errors.js';

const regex = z.string().refine(isRegex, { error: (i) => `not a valid regular expression: ${JSON.stringify(i.input)}` });

/** A tool call the mock answers with: `arguments` is sent as its JSON text, or as is when it is a string. */
export const MockToolCallSchema = z.strictObject({
  /** The tool's name. */
  name: z.string().min(1),
  /** The call's arguments: sent as their JSON text, a string as it is. Default `{}`. */
  arguments: z.unknown().optional(),
});

/** One rule of a mock script (a MockRule). */
export const MockRuleSchema = z.strictObject({
  /** A regular expression (unanchored, `.` matches newlines), tested on the text of the last user message. */
  match: regex,
  /** Also tested, when given, on the text of the last message whatever its role (a tool result, typically). */
  lastMessage: regex.optional(),
  /** The answer's message: a string as it is, any other value as its JSON text. With `status`, a string is the error's message. */
  reply: z.unknown().optional(),
  /** Fails the request with this HTTP status (400 to 599) instead of answering. */
  status: z.int().min(400).max(599).optional(),
  /** Answers with these tool calls (an agent's turn); `reply`, when given too, is the text beside them. */
  toolCalls: z.array(MockToolCallSchema).min(1).optional(),
  /** Sent as the whole response body (HTTP 200) instead of a completion: an endpoint that answers nonsense. */
  body: z.unknown().optional(),
  /** Answers this many requests, then is passed over. Default: every request it matches. */
  times: z.int().min(1).optional(),
});

/** A mock script: a list of rules, first match wins. */
export const MockScriptSchema = z.array(MockRuleSchema);

/** One rule of a mock script: when it answers (`match`, `lastMessage`, `times`) and how (`reply`, `toolCalls`, `status` or `body`). */
export type MockRule = z.infer<typeof MockRuleSchema>;
/** A tool call in a rule's answer. */
export type MockToolCall = z.infer<typeof MockToolCallSchema>;

function isRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/** A mock script parseMockScript refuses; `code` is MOCK_SCRIPT, and the message names each rule and what is wrong. */
export class MockScriptError extends TrellisError {
  constructor(message: string) {
    super('MOCK_SCRIPT', message);
  }
}

/**
 * Checks a mock script (the parsed JSON array of rules) and gives its rules: each needs an answer (`reply`, `status`,
 * `toolCalls` or `body`), `body` goes alone, and `status` goes without `toolCalls`. Throws MockScriptError.
 */
export function parseMockScript(value: unknown): MockRule[] {
  const r = MockScriptSchema.safeParse(value);
  if (r.success) {
    r.data.forEach((rule, i) => {
      if (rule.reply === undefined && rule.status === undefined && rule.toolCalls === undefined && rule.body === undefined)
        throw new MockScriptError(`rule ${i}: needs "reply", "status", "toolCalls" or "body"`);
      if (rule.body !== undefined && (rule.reply !== undefined || rule.status !== undefined || rule.toolCalls !== undefined))
        throw new MockScriptError(`rule ${i}: "body" is the whole response, so it cannot also have "reply", "status" or "toolCalls"`);
      if (rule.status !== undefined && rule.toolCalls !== undefined)
        throw new MockScriptError(`rule ${i}: "status" fails the call, so it cannot also have "toolCalls"`);
    });
    return r.data;
  }
  const lines = r.error.issues.map((i) => `${i.path.length ? `[${i.path.join('].')}` : '(root)'}: ${i.message}`.replace(/\]\.(\w+)/, '].$1'));
  throw new MockScriptError(`invalid mock-llm script:\n${lines.join('\n')}`);
}

/**
 * Picks the rule for a request, counting down `times`; undefined when none matches. `prompt` is the text of
 * the last user message (tested by `match`), `lastMessage` the text of the last message whatever its role
 * (tested by `lastMessage`; the prompt itself when not given).
 */
export class MockScript {
  private readonly used: number[];
  private readonly patterns: RegExp[];
  private readonly lastPatterns: Array<RegExp | undefined>;
  constructor(readonly rules: MockRule[]) {
    this.used = rules.map(() => 0);
    this.patterns = rules.map((r) => new RegExp(r.match, 's'));
    this.lastPatterns = rules.map((r) => (r.lastMessage === undefined ? undefined : new RegExp(r.lastMessage, 's')));
  }

  answer(prompt: string, lastMessage: string = prompt): MockRule | undefined {
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      if (rule.times !== undefined && this.used[i]! >= rule.times) continue;
      if (!this.patterns[i]!.test(prompt)) continue;
      const last = this.lastPatterns[i];
      if (last && !last.test(lastMessage)) continue;
      this.used[i]!++;
      return rule;
    }
    return undefined;
  }
}
