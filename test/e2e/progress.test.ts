/**
 * Progress on stderr as real processes print it: `trellis plan` says it is planning, each model call, and the
 * verdict on each reply (a repair, then a valid spec); `trellis eval` says which case starts, its planner's steps,
 * and how it ended. Stdout stays the result alone (the spec, --json), for scripts.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlm, type MockLlmServer } from '../../src/llm/mock-server.js';
import { lines, runCli } from '../helpers/cli.js';

const good = JSON.parse(readFileSync('examples/refund.json', 'utf8'));
const typo = { ...good, steps: good.steps.map((s: { id: string }) => (s.id === 'refund' ? { ...s, tool: 'refnud_order' } : s)) };
const lookUp = { version: 1, name: 'look-up', steps: [{ id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: 'A1' } }] };

let mock: MockLlmServer;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trellis-progress-'));
  mock = await startMockLlm({
    rules: [
      { match: 'Goal: refund damaged orders.*problems', reply: good },
      { match: 'Goal: refund damaged orders', reply: typo },
      { match: 'Goal: look up', reply: lookUp },
    ],
  });
});
afterAll(async () => {
  await mock?.close();
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ OPENAI_BASE_URL: mock.baseUrl, TRELLIS_MODEL: 'mock-planner' });
const tokens = String.raw`\(\d+ tokens so far\)`;

describe('progress lines', () => {
  it('trellis plan: planning, each model call, a repair, the valid spec; the spec alone on stdout', async () => {
    const r = await runCli(['plan', 'refund damaged orders', '--tools', 'examples/tools.ts'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(good);
    expect(lines(r.stderr)).toEqual([
      'planning with mock-planner',
      '  model call 1 of 3',
      expect.stringMatching(new RegExp(`^  call 1: 1 problem in the reply; asking for a repair ${tokens}$`)),
      '  model call 2 of 3 (a repair)',
      expect.stringMatching(new RegExp(`^  call 2: a valid spec ${tokens}$`)),
    ]);
    // --json keeps stdout one JSON document; the progress is on stderr all the same.
    const json = await runCli(['plan', 'refund damaged orders', '--tools', 'examples/tools.ts', '--json', '--attempts', '1'], { env: env() });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, attempts: 1 });
    expect(lines(json.stderr)).toEqual([
      'planning with mock-planner',
      '  model call 1 of 1',
      expect.stringMatching(new RegExp(`^  call 1: 1 problem in the reply; no attempts left ${tokens}$`)),
    ]);
  });

  it('trellis eval: each case as it starts, its planner steps, and its verdict, in order', async () => {
    const suite = path.join(dir, 'suite.yaml');
    await writeFile(
      suite,
      [
        'name: progress',
        'cases:',
        '  - { name: look, goal: look up order A1, expect: { tools: [lookup_order] } }',
        '  - { name: fix, goal: refund damaged orders, expect: { tools: [refund_order] } }',
        '  - { name: never, goal: refund damaged orders, expect: { notTools: [refund_order] } }',
      ].join('\n'),
    );
    const r = await runCli(['eval', suite, '--tools', 'examples/tools.ts', '--json'], { env: env() });
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ suite: 'progress', passed: 2, failed: 1 });
    expect(lines(r.stderr)).toEqual([
      '[1/3] look: planning',
      '  look: model call 1 of 3',
      expect.stringMatching(new RegExp(`^  look: call 1: a valid spec ${tokens}$`)),
      expect.stringMatching(/^\[1\/3\] look: passed \(\d+\.\d s\)$/),
      '[2/3] fix: planning',
      '  fix: model call 1 of 3',
      expect.stringMatching(new RegExp(`^  fix: call 1: 1 problem in the reply; asking for a repair ${tokens}$`)),
      '  fix: model call 2 of 3 (a repair)',
      expect.stringMatching(new RegExp(`^  fix: call 2: a valid spec ${tokens}$`)),
      expect.stringMatching(/^\[2\/3\] fix: passed/),
      '[3/3] never: planning',
      '  never: model call 1 of 3',
      expect.stringMatching(/^ {2}never: call 1: 1 problem/),
      '  never: model call 2 of 3 (a repair)',
      expect.stringMatching(/^ {2}never: call 2: a valid spec/),
      expect.stringMatching(/^\[3\/3\] never: FAILED: /),
    ]);
  });
});
