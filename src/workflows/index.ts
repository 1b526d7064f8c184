/** The workflows a Trellis worker registers. Only deterministic code is reachable from here. */
// Not setWorkflowOptions({ versioningBehavior }): an unversioned worker's every task then fails ("versioning behavior
// cannot be specified without deployment options"). A versioned worker pins its runs by defaultVersioningBehavior.
export { trellisRun } from './interpreter.js';
export { trellisGoal } from './goal.js';
