/**
 * The mock LLM's script: a JSON array of rules, first match wins. Parsed with zod so a bad script says
 * which rule is wrong and how.
 */
import { z } from 'zod';

export const MockRuleSchema = z.strictObject({
  match: z.string().refine(isRegex, { error: (i) => `not a valid regular expression: ${JSON.stringify(i.input)}` }),
  reply: z.unknown().optional(),
  status: z.int().min(400).max(599).optional(),
  times: z.int().min(1).optional(),
});

export const MockScriptSchema = z.array(MockRuleSchema);

export type MockRule = z.infer<typeof MockRuleSchema>;

function isRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

export class MockScriptError extends Error {
  readonly code = 'MOCK_SCRIPT';
  constructor(message: string) {
    super(message);
    this.name = 'MockScriptError';
  }
}

export function parseMockScript(value: unknown): MockRule[] {
  const r = MockScriptSchema.safeParse(value);
  if (r.success) {
    r.data.forEach((rule, i) => {
      if (rule.reply === undefined && rule.status === undefined) throw new MockScriptError(`rule ${i}: needs "reply" or "status"`);
    });
    return r.data;
  }
  const lines = r.error.issues.map((i) => `${i.path.length ? `[${i.path.join('].')}` : '(root)'}: ${i.message}`.replace(/\]\.(\w+)/, '].$1'));
  throw new MockScriptError(`invalid mock-llm script:\n${lines.join('\n')}`);
}

/** Picks the rule for a prompt, counting down `times`; undefined when none matches. */
export class MockScript {
  private readonly used: number[];
  private readonly patterns: RegExp[];
  constructor(readonly rules: MockRule[]) {
    this.used = rules.map(() => 0);
    this.patterns = rules.map((r) => new RegExp(r.match, 's'));
  }

  answer(prompt: string): MockRule | undefined {
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      if (rule.times !== undefined && this.used[i]! >= rule.times) continue;
      if (!this.patterns[i]!.test(prompt)) continue;
      this.used[i]!++;
      return rule;
    }
    return undefined;
  }
}
