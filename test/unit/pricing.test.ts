/** The price table: matching model names, what a call costs, sums, display, and TRELLIS_PRICES files. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addCost, costOf, DEFAULT_PRICES, formatCost, formatUsd, parsePriceFile, priceFor, pricesFromEnv } from '../../src/pricing/index.js';

const TABLE = { 'gpt-4o': { input: 2.5, output: 10 }, 'gpt-4o-mini': { input: 0.15, output: 0.6 }, 'gpt-4o-2024-05-13': { input: 5, output: 15 } };

describe('priceFor', () => {
  it('matches a name exactly, and a dated snapshot or -latest alias as the name without it', () => {
    expect(priceFor(TABLE, 'gpt-4o')).toEqual({ input: 2.5, output: 10 });
    expect(priceFor(TABLE, 'gpt-4o-2024-08-06')).toEqual({ input: 2.5, output: 10 });
    expect(priceFor(TABLE, 'gpt-4o-mini-2024-07-18')).toEqual({ input: 0.15, output: 0.6 });
    expect(priceFor(DEFAULT_PRICES, 'claude-3-5-sonnet-20241022')).toEqual({ input: 3, output: 15 });
    expect(priceFor(DEFAULT_PRICES, 'claude-sonnet-4@20250514')).toEqual({ input: 3, output: 15 });
    expect(priceFor(DEFAULT_PRICES, 'claude-3-5-haiku-latest')).toEqual({ input: 0.8, output: 4 });
  });

  it("prefers a snapshot's own entry, and reads past a provider prefix", () => {
    expect(priceFor(TABLE, 'gpt-4o-2024-05-13')).toEqual({ input: 5, output: 15 });
    expect(priceFor(TABLE, 'openai/gpt-4o-mini')).toEqual({ input: 0.15, output: 0.6 });
    expect(priceFor(TABLE, 'openrouter/openai/gpt-4o-2024-08-06')).toEqual({ input: 2.5, output: 10 });
  });

  it('knows nothing else: no prefix guesses, no case folding, no inherited keys', () => {
    expect(priceFor(TABLE, 'gpt-4o-audio-preview')).toBeUndefined();
    expect(priceFor(TABLE, 'GPT-4o')).toBeUndefined();
    expect(priceFor(TABLE, 'gpt-4')).toBeUndefined();
    expect(priceFor(TABLE, 'constructor')).toBeUndefined();
    expect(priceFor(TABLE, 'mock-model')).toBeUndefined();
  });
});

describe('costs', () => {
  it('prices prompt and completion tokens per million', () => {
    expect(costOf(TABLE, 'gpt-4o', { prompt: 1_000_000, completion: 0 })).toEqual({ usd: 2.5 });
    expect(costOf(TABLE, 'gpt-4o-mini', { prompt: 2000, completion: 500 }).usd).toBeCloseTo(0.0006, 12);
  });

  it('gives a model with no price an unknown cost, never a zero one', () => {
    const cost = costOf(TABLE, 'mystery', { prompt: 10, completion: 10 });
    expect(cost).toEqual({ usd: 0, unknown: ['mystery'] });
    expect(formatCost(cost)).toBe('unknown (no price for mystery)');
  });

  it('sums costs, keeping each unknown model once', () => {
    const a = costOf(TABLE, 'gpt-4o', { prompt: 1000, completion: 1000 });
    const b = costOf(TABLE, 'mystery', { prompt: 1, completion: 1 });
    const sum = addCost(addCost(addCost(undefined, a), b), b);
    expect(sum.usd).toBeCloseTo(0.0125, 12);
    expect(sum.unknown).toEqual(['mystery']);
    expect(addCost(a, a)).toEqual({ usd: 0.025 });
  });

  it('shows money with four significant digits below a dollar, cents above, and never in exponents', () => {
    expect([0, 0.015, 0.1, 0.000123456, 1.5, 1234.5678, 1.234e-7].map(formatUsd)).toEqual([
      '$0',
      '$0.015',
      '$0.1',
      '$0.0001235',
      '$1.50',
      '$1234.57',
      '$0.0000001234',
    ]);
    expect(formatCost(undefined)).toBe('-');
  });
});

describe('TRELLIS_PRICES', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-prices-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('replaces the default table with the file it names', () => {
    const path = file('ok.json', JSON.stringify({ date: '2026-12-02', source: 'https://example.com', models: { mine: { input: 1, output: 2 } } }));
    expect(pricesFromEnv({ TRELLIS_PRICES: path })).toEqual({ mine: { input: 1, output: 2 } });
    expect(pricesFromEnv({})).toBe(DEFAULT_PRICES);
  });

  it('refuses a file that does not read, is not JSON, or does not match, naming the file and the place in it', () => {
    const missing = join(dir, 'missing.json');
    expect(() => pricesFromEnv({ TRELLIS_PRICES: missing })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => pricesFromEnv({ TRELLIS_PRICES: missing })).toThrow(`TRELLIS_PRICES: cannot read ${missing}: ENOENT`);
    const broken = file('broken.json', '{ "models": ');
    expect(() => pricesFromEnv({ TRELLIS_PRICES: broken })).toThrow(new RegExp(`^TRELLIS_PRICES \\(${broken}\\): not JSON`));
    expect(() => parsePriceFile(JSON.stringify({ models: { 'gpt-4o': { input: -1, output: 'ten' } } }), 'p.json')).toThrow(
      /^TRELLIS_PRICES \(p\.json\) is invalid:\nmodels\.gpt-4o\.input: .*\nmodels\.gpt-4o\.output: /,
    );
    expect(() => parsePriceFile(JSON.stringify({ prices: {} }), 'p.json')).toThrow(/models: /);
  });

  it('the default table prices every model in USD per million tokens, as numbers', () => {
    for (const [model, price] of Object.entries(DEFAULT_PRICES)) {
      expect(price.input, model).toBeGreaterThan(0);
      expect(price.output, model).toBeGreaterThanOrEqual(price.input);
    }
  });
});
