/**
 * trellis: the public API. Every part is usable on its own: the spec language (validator, expressions,
 * graph), tools, and (as they land) the interpreter, activities and client.
 */
export * from './spec/index.js';
export * from './tools/index.js';
