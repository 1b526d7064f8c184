/** The workflows a Trellis worker registers. Only deterministic code is reachable from here. */
export { trellisRun } from './interpreter.js';
export { trellisGoal } from './goal.js';
