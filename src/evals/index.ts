/** Evals: suites of goals with expectations about the plans a model writes for them, and their runs. */
export * from './suite.js';
export * from './match.js';
export * from './check.js';
export * from './table.js';
export * from './run.js';
