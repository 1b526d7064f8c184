/**
 * The spec language: pure and deterministic (no I/O, clocks or randomness), so workflow code can import it.
 */
export * from './schema.js';
export * from './problems.js';
export * from './limits.js';
export * from './duration.js';
export * from './catalog.js';
export * from './expression.js';
export * from './template.js';
export * from './sites.js';
export * from './graph.js';
export * from './uses.js';
export * from './call-cycles.js';
export * from './step-output.js';
export * from './parse.js';
export * from './validate/index.js';
export * from './mermaid.js';
export { specJsonSchema, specJsonSchemaForModels, specOutlineJsonSchema } from './json-schema.js';
