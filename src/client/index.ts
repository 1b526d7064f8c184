/**
 * `trellis/client`: the typed client services use to start runs (validated first), answer them, read them and wait
 * for them; and the Temporal contract's names and schemas, for code that reaches runs through Temporal itself.
 *
 *   import { TrellisClient } from 'trellis/client';
 *   const trellis = await TrellisClient.connect();              // TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TRELLIS_TASK_QUEUE
 *   const run = await trellis.start(spec, { input: { orderId: 'A-1004' } });
 *   const { output } = await run.result();
 */
export { TrellisClient, STATUS_SEARCH_ATTRIBUTE, type ClientOptions, type RunSummary } from './client.js';
export { DecryptError, parseEncryptionKeys, type EncryptionKeys } from '../codec/index.js';
export type { StartGoalOptions, StartOptions } from './start-args.js';
export { RunHandle, type Answer } from './handle.js';
export type { WatchOptions } from './watch.js';
export { TrellisClientError, TrellisRunError, type ClientErrorCode, type RunErrorCode } from './errors.js';
export { TrellisError } from '../errors.js';
export { FAILURES, type FailureCode, type FailureType } from '../engine/failures.js';
export { REFUSAL_CODES, type Refusal, type RefusalCode } from '../engine/decision.js';
export { approveSignal, decideUpdate, eventsQuery, GOAL_WORKFLOW_TYPE, statusQuery, WORKFLOW_TYPE } from '../workflows/definitions.js';
export { signDecision, verifyDecision, type SignedFields } from '../engine/decision-signature.js';
export type { RunEvent, RunEvents, RunEventType, NotifyEvent } from '../engine/messages.js';
export { CONTRACT_SCHEMAS, contractJsonSchema, DecisionSchema, GoalArgsSchema, RunArgsSchema, type ContractSchemaName } from '../contract/schemas.js';
