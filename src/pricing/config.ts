/**
 * The worker's price table: the file TRELLIS_PRICES names, which replaces the default table whole, else the
 * default (defaults.ts). A file that does not read or does not match the format is a ConfigError naming the file
 * and the place in it.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../config.js';
import type { PriceTable } from './cost.js';
import { DEFAULT_PRICES } from './defaults.js';

const perMillion = z.number().min(0).meta({ description: 'USD per million tokens' });

/** A TRELLIS_PRICES file: `{ "models": { "gpt-4o": { "input": 2.5, "output": 10 } } }`, with its date and source if you like. */
export const PriceFileSchema = z.strictObject({
  date: z.string().optional().meta({ description: 'when the prices were read, for people' }),
  source: z.string().optional().meta({ description: 'where they were read, for people' }),
  models: z.record(z.string().min(1), z.strictObject({ input: perMillion, output: perMillion })),
});

/** The price table of a TRELLIS_PRICES file's text; `file` names it in the errors. Throws ConfigError. */
export function parsePriceFile(text: string, file: string): PriceTable {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`TRELLIS_PRICES (${file}): not JSON: ${(e as Error).message}`);
  }
  const r = PriceFileSchema.safeParse(value);
  if (r.success) return r.data.models;
  const lines = r.error.issues.map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : '(root)'}: ${i.message}`);
  throw new ConfigError(`TRELLIS_PRICES (${file}) is invalid:\n${lines.join('\n')}`);
}

/** The file TRELLIS_PRICES names, else the default table. Throws ConfigError for a file that does not read or parse. */
export function pricesFromEnv(env: NodeJS.ProcessEnv = process.env): PriceTable {
  const file = env.TRELLIS_PRICES || undefined;
  if (file === undefined) return DEFAULT_PRICES;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`TRELLIS_PRICES: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parsePriceFile(text, file);
}
