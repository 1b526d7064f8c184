export * from './client.js';
export * from './handle.js';
export * from './errors.js';
export { TrellisError } from '../errors.js';
export { FAILURES, type FailureCode, type FailureType } from '../engine/failures.js';
export { REFUSAL_CODES, type Refusal, type RefusalCode } from '../engine/decision.js';
export { approveSignal, decideUpdate, GOAL_WORKFLOW_TYPE, statusQuery, WORKFLOW_TYPE } from '../workflows/definitions.js';
