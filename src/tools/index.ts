export * from './define.js';
export * from './catalog.js';
export * from './load.js';
