/**
 * Every failure type a Trellis run, step or answer can end with, as Temporal ApplicationFailure types, with the
 * stable code the client maps it to. One table: the workflow and activities throw these types, the client reads
 * them, docs/temporal-api.md lists them, and any Temporal client (Python, Go, the CLI) can switch on them.
 */
export const FAILURES = {
  // A run: its failure (WorkflowExecutionFailed); details[0] is a RunFailureDetails.
  TrellisRunInvalid: {
    code: 'RUN_INVALID',
    about: "the worker refused the run's argument (spec, input or options) before any step; details[0].problems lists each",
  },
  TrellisStepFailed: { code: 'STEP_FAILED', about: 'a step failed (and its onError is fail); details[0].step and .reason say which and why' },
  TrellisBudgetExceeded: {
    code: 'BUDGET_EXCEEDED',
    about: 'a budget ran out: maxTokens, maxCost, maxSteps, or the history budget (maxHistoryBytes, maxHistoryEvents)',
  },
  TrellisOutputFailed: { code: 'OUTPUT_FAILED', about: "the spec's output could not be evaluated" },
  TrellisResultTooLarge: { code: 'RESULT_TOO_LARGE', about: "the run's result is over the payload limit" },
  TrellisRunFailed: { code: 'RUN_FAILED', about: 'the run failed for another reason, named in the message' },
  TrellisPlanDenied: { code: 'PLAN_DENIED', about: 'goal runs: a person denied the plan without a comment (or no plans were left)' },
  TrellisPlanFailed: { code: 'PLAN_FAILED', about: 'goal runs: the planner could not make a plan (its model endpoint failed)' },
  TrellisPlanInvalid: { code: 'PLAN_INVALID', about: 'goal runs: no valid plan within the repair budget; details[0].problems' },
  // A refused answer: the decide update's failure.
  TrellisDecisionRefused: { code: 'DECISION_REFUSED', about: 'an answer was refused; details[0] = { code, message }, code one of REFUSAL_CODES' },
  // A step's cause (inside ActivityFailure or ChildWorkflowFailure, or thrown by the workflow for the step).
  TrellisPayloadTooLarge: {
    code: 'PAYLOAD_TOO_LARGE',
    about: "a step's input or output is over the payload limit; the call is not made or repeated",
  },
  TrellisUnknownTool: { code: 'UNKNOWN_TOOL', about: 'the worker has no such tool' },
  TrellisToolArgsInvalid: { code: 'TOOL_ARGS_INVALID', about: "the args do not match the tool's input schema" },
  TrellisToolOutputInvalid: { code: 'TOOL_OUTPUT_INVALID', about: "the tool's output does not match its output schema" },
  TrellisModelReplyInvalid: {
    code: 'MODEL_REPLY_INVALID',
    about: "the model's reply did not match the output schema after one re-ask; details[0].tokens",
  },
  TrellisModelReplyEmpty: { code: 'MODEL_REPLY_EMPTY', about: 'the model endpoint answered without a message (no choices)' },
  TrellisModelRefused: { code: 'MODEL_REFUSED', about: 'the model endpoint refused the call (HTTP 4xx other than 408 and 429)' },
  TrellisUnknownSpec: { code: 'UNKNOWN_SPEC', about: 'a call step names a saved spec the worker does not have' },
  TrellisSpecInvalid: { code: 'SPEC_INVALID', about: 'a saved spec that a call step names is invalid' },
  TrellisInputInvalid: { code: 'INPUT_INVALID', about: "a call step's input does not match the called spec's input schema" },
  TrellisAgentTooLong: { code: 'AGENT_TOO_LONG', about: "an agent step's conversation grew past its limit" },
  TrellisAgentMaxTurns: { code: 'AGENT_MAX_TURNS', about: 'an agent step did not finish within maxTurns' },
  TrellisCallTooDeep: { code: 'CALL_TOO_DEEP', about: 'call steps nest more than 5 deep' },
  // A notification that some webhook did not take yet: the notify activity's failure, retried; it never fails a run.
  TrellisNotifyFailed: { code: 'NOTIFY_FAILED', about: 'a webhook did not take a notification (retried; never fails the run)' },
} as const;

/** A Trellis ApplicationFailure type (`TrellisStepFailed`, ...), as any Temporal client sees it. */
export type FailureType = keyof typeof FAILURES;
/** The stable code of a failure type (`STEP_FAILED`, ...): TrellisRunError.code and RunFailureDetails.code. */
export type FailureCode = (typeof FAILURES)[FailureType]['code'];

/** The code of a failure type, or undefined for a type that is not Trellis's. */
export function failureCode(type: string | undefined | null): FailureCode | undefined {
  return type && Object.hasOwn(FAILURES, type) ? FAILURES[type as FailureType].code : undefined;
}
