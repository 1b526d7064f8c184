/** `trellis estimate` as a real process: the figures of an example, its prices, and the errors of validate. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const RESEARCH = ['estimate', 'examples/research.yaml', '--tools', 'examples/tools.ts'];
// Neither the caller's model nor the caller's price file: the defaults.
const DEFAULTS = { TRELLIS_MODEL: undefined, TRELLIS_PRICES: undefined };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trellis-estimate-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('trellis estimate', () => {
  it('prints model calls, tool calls, tokens, money and latency of every path, and each step', async () => {
    const r = await runCli(RESEARCH, { env: DEFAULTS });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, 7)).toEqual([
      'research-brief: an estimate before it runs (calls that name no model: gpt-4o-mini; built-in prices of 2026-12-02)',
      '  model calls  3 to 6',
      '  tool calls   3',
      '  tokens       1,352 to 2,704 (input 1,127 to 2,254, output 225 to 450)',
      '  cost         $0.000304 to $0.0006081',
      "  latency      5.6 s to 10.6 s (the critical path; people's answers not counted)",
      'steps:',
    ]);
    expect(r.stdout).toContain('  facts (llm): model calls 1 to 2, tokens 524 to 1,048, $0.0001232 to $0.0002463\n');
  });

  it('prices with the file TRELLIS_PRICES names and the model TRELLIS_MODEL names; --json gives the figures', async () => {
    const prices = path.join(dir, 'prices.json');
    await writeFile(prices, JSON.stringify({ models: { house: { input: 1, output: 1 } } }));
    const r = await runCli([...RESEARCH, '--json'], { env: { TRELLIS_PRICES: prices, TRELLIS_MODEL: 'house' } });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { model: string; prices: string; estimate: { tokens: unknown; cost: unknown; steps: unknown[] } };
    expect(out.model).toBe('house');
    expect(out.prices).toBe(prices);
    expect(out.estimate.tokens).toEqual({ min: 1352, max: 2704 });
    // One dollar a million tokens, in and out: the cost is the tokens' count in millionths.
    expect(out.estimate.cost).toEqual({ min: { usd: expect.closeTo(0.001352, 12) }, max: { usd: expect.closeTo(0.002704, 12) } });
    expect(out.estimate.steps).toHaveLength(6);

    const unpriced = await runCli([...RESEARCH, '--model', 'elsewhere'], { env: { TRELLIS_PRICES: prices } });
    expect(unpriced.stdout).toContain('  cost         unknown (no price for elsewhere)\n');
  });

  it('refuses a bad price file (exit 2, naming it) and a bad spec with the errors of validate (exit 1)', async () => {
    const bad = path.join(dir, 'bad-prices.json');
    await writeFile(bad, JSON.stringify({ models: { house: { input: 'one' } } }));
    const r = await runCli(RESEARCH, { env: { TRELLIS_PRICES: bad } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`TRELLIS_PRICES (${bad}) is invalid:`);
    expect(r.stderr).toContain('models.house.input');

    const spec = path.join(dir, 'bad.json');
    await writeFile(spec, JSON.stringify({ version: 1, name: 'bad', steps: [{ id: 'a', kind: 'wait', duration: 'soon' }] }));
    const [estimate, validate] = await Promise.all([runCli(['estimate', spec], { env: DEFAULTS }), runCli(['validate', spec])]);
    expect(estimate.code).toBe(1);
    expect(validate.code).toBe(1);
    expect(estimate.stderr).toBe(validate.stdout);
  });
});
