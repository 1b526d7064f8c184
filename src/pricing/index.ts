/** Prices and money: the table, what a call costs, and the worker's table from TRELLIS_PRICES. */
export { addCost, costOf, formatCost, formatUsd, isUnknown, priceFor, type Cost, type ModelPrice, type PriceTable } from './cost.js';
export { DEFAULT_PRICES, DEFAULT_PRICES_DATE } from './defaults.js';
export { parsePriceFile, pricesFromEnv, PriceFileSchema } from './config.js';
