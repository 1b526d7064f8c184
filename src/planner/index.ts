export * from './plan.js';
export * from './config.js';
export { catalogText } from './catalog-text.js';
export { typeText } from './type-text.js';
