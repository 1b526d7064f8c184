export * from './client.js';
export { approveSignal, decideUpdate, statusQuery, WORKFLOW_TYPE } from '../workflows/definitions.js';
