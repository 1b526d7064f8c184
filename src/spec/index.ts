/**
 * `trellis/spec`: the spec language on its own: the schema and its types, the validator, durations, expressions and
 * templates, the step graph. No Temporal, no model client.
 *
 *   import { validateSpec, formatProblem } from 'trellis/spec';
 *   const result = validateSpec(doc, { tools: catalog });
 *   if (!result.ok) console.error(result.problems.map(formatProblem).join('\n'));
 */

// The spec: its zod schemas (the validator's first check), its types and its JSON Schemas.
export {
  BudgetSchema,
  RetrySchema,
  SPEC_NAME_PATTERN,
  SpecSchema,
  STEP_ID_PATTERN,
  STEP_KINDS,
  StepSchema,
  type AgentStep,
  type ApprovalStep,
  type Budget,
  type CallStep,
  type LlmStep,
  type MapStep,
  type MapSubStep,
  type Retry,
  type Spec,
  type Step,
  type StepKind,
  type ToolStep,
  type WaitStep,
} from './schema.js';
export { specJsonSchema, specJsonSchemaForModels, specOutlineJsonSchema } from './json-schema.js';

// Validation: every problem at once, each with a path, a stable code and a message.
export { validateSpec, validateSpecText, type ValidateOptions, type ValidationResult } from './validate/index.js';
export { detectFormat, parseSpecText, type ParseResult, type SpecFormat } from './parse.js';
export { compareProblems, formatPath, formatProblem, problemWhere, type PathSegment, type Problem, type ProblemCode } from './problems.js';
export { DEFAULT_LIMITS, EXPRESSION_LIMITS, type ExpressionLimits, type Limits } from './limits.js';
export { inputProblems } from './input.js';

// What a spec needs from outside itself: tools (a catalog) and saved specs (a library).
export { catalogOf, type CatalogTool, type JsonSchema, type ToolCatalog } from './catalog.js';
export { specsCalled, toolsUsed, type SpecLibrary } from './uses.js';
export { libraryCallCycles } from './call-cycles.js';
export { stepOutputSchema } from './step-output.js';

// Durations, expressions and templates.
export { DURATION_HELP, formatDuration, MAX_DURATION_MS, parseDuration } from './duration.js';
export {
  compileExpression,
  ExpressionEvaluationError,
  ExpressionLimitError,
  ExpressionSyntaxError,
  type CompiledExpression,
  type CostMeter,
  type EvaluateOptions,
  type Scope,
} from './expression.js';
export { evaluateCondition, parseTemplate, renderTemplate, renderValue, TemplateSyntaxError, type TemplatePart } from './template.js';

// The step graph: dependencies, an order, a drawing.
export { dependencyMap, topologicalOrder } from './graph.js';
export { toMermaid } from './mermaid.js';
