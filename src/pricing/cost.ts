/**
 * Money: what a model call costs from its tokens and a price table, and sums of it. Pure, so the workflow computes
 * costs itself from the table the worker gave it (WorkerFacts.prices), the same on every replay.
 */

/** What one model costs, in USD per million tokens. */
export interface ModelPrice {
  /** Per million prompt (input) tokens. */
  input: number;
  /** Per million completion (output) tokens. */
  output: number;
}

/** Prices by model name, as the endpoint names the model. */
export type PriceTable = Readonly<Record<string, ModelPrice>>;

/**
 * What something cost. `usd` sums what known prices give; `unknown` lists the models with no price, and then the
 * cost is unknown (shown as such, never as the partial sum alone).
 */
export interface Cost {
  usd: number;
  unknown?: string[];
}

/** A dated snapshot's suffix: `-2024-08-06` (OpenAI), `-20241022` (Anthropic), `@20241022` (Vertex AI). */
const SNAPSHOT = /(?:-\d{4}-\d{2}-\d{2}|[-@]\d{8}|-latest)$/;

/**
 * The price of `model`: its own entry; else, for a dated snapshot or `-latest` alias, the entry of the name without
 * that suffix (`gpt-4o-2024-08-06` is priced as `gpt-4o`); else the same for the part after a provider prefix
 * (`openai/gpt-4o`). An entry of its own always wins, so a snapshot priced differently is written in the table.
 */
export function priceFor(table: PriceTable, model: string): ModelPrice | undefined {
  const own = (name: string) => (Object.hasOwn(table, name) ? table[name] : undefined);
  const bare = model.includes('/') ? model.slice(model.lastIndexOf('/') + 1) : undefined;
  for (const name of bare === undefined ? [model] : [model, bare]) {
    const price = own(name) ?? (SNAPSHOT.test(name) ? own(name.replace(SNAPSHOT, '')) : undefined);
    if (price) return price;
  }
  return undefined;
}

/** What a call of `model` with these tokens cost; unknown when the table has no price for it. */
export function costOf(table: PriceTable, model: string, tokens: { prompt: number; completion: number }): Cost {
  const price = priceFor(table, model);
  if (!price) return { usd: 0, unknown: [model] };
  return { usd: (tokens.prompt * price.input + tokens.completion * price.output) / 1_000_000 };
}

/** The sum of two costs; the unknown models of both, each once, in the order they came. */
export function addCost(a: Cost | undefined, b: Cost | undefined): Cost {
  const unknown = [...new Set([...(a?.unknown ?? []), ...(b?.unknown ?? [])])];
  return { usd: (a?.usd ?? 0) + (b?.usd ?? 0), ...(unknown.length > 0 && { unknown }) };
}

/** True when some model of the cost had no price. */
export const isUnknown = (cost: Cost | undefined): boolean => (cost?.unknown?.length ?? 0) > 0;

/** A cost for people: `$0.0123` (formatUsd), or `unknown (no price for m1, m2)`; `-` when there is none. */
export function formatCost(cost: Cost | undefined): string {
  if (!cost) return '-';
  if (isUnknown(cost)) return `unknown (no price for ${cost.unknown!.join(', ')})`;
  return formatUsd(cost.usd);
}

/** `$0` for nothing, 4 significant digits below a dollar (`$0.01234`, `$0.0000456`), cents from a dollar up (`$12.35`). */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (Math.abs(usd) >= 1) return `$${usd.toFixed(2)}`;
  // Plain decimals (never 1e-7), trailing zeros dropped.
  const decimals = 3 - Math.floor(Math.log10(Math.abs(usd)));
  return `$${usd.toFixed(decimals).replace(/\.?0+$/, '')}`;
}
