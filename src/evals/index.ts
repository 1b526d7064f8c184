/**
 * `trellis/evals`: does the model still plan well? A suite is a list of goals with expectations about the plan the
 * model writes for each (and, optionally, what the plan outputs when it runs). The suite's schema, the checks and
 * the table are pure; runSuite takes the model client and a runner (Temporal's, or your own).
 *
 *   import { parseSuite, runSuite, renderTable } from 'trellis/evals';
 *   const parsed = parseSuite(text, 'support.yaml');
 *   if (parsed.ok) console.log(renderTable(await runSuite(parsed.suite.cases, { llm, model, catalog })));
 */
export {
  CaseSchema,
  checkSuite,
  checkSuiteTools,
  ExpectSchema,
  parseSuite,
  SuiteSchema,
  type EvalCase,
  type Expect,
  type Suite,
  type SuiteParse,
} from './suite.js';
export { partialMatch } from './match.js';
export {
  casePassed,
  checkOutput,
  checkPlan,
  type CaseChecks,
  type CaseRecord,
  type CheckStatus,
  type PlanChecks,
  type PlanOutcome,
  type RunOutcome,
} from './check.js';
export { renderTable, summaryLine } from './table.js';
export {
  runCase,
  runSuite,
  SuiteStopped,
  temporalRunner,
  type EvalOptions,
  type EvalProgress,
  type SpecRunner,
  type TemporalRunnerOptions,
} from './run.js';
