/**
 * The document's shape: the spec's fields and each step's, by zod, with the validator's own advice for a few
 * mistakes (a map's sub-step written as a whole step, items given as JSON, an invalid id); and the step ids.
 */
import type { z } from 'zod';
import { problem, type PathSegment, type Problem } from '../problems.js';
import { MapStepSchema, SpecSchema, STEP_ID_PATTERN, STEP_KINDS, STEP_SCHEMAS, type Step } from '../schema.js';
import { describe } from '../describe.js';
import { didYouMean } from '../suggest.js';
import { article, expectedGot, knownFields, zodIssueProblems } from '../zod-issues.js';
import { isObject } from './context.js';

const ROOT_FIELDS_SCHEMA = SpecSchema.omit({ steps: true });

export interface ShapedSteps {
  /** Steps whose shape is right. */
  valid: Array<{ step: Step; index: number }>;
  /** Steps of a known kind with shape problems, without the fields that have them. */
  partial: Array<{ step: Step; index: number }>;
}

/** Checks the document's shape. */
export function checkShape(doc: unknown, problems: Problem[]): ShapedSteps {
  const none: ShapedSteps = { valid: [], partial: [] };
  if (!isObject(doc)) {
    const got = doc === null || doc === undefined ? 'the document is empty' : `got ${describe(doc)}`;
    problems.push(problem('SHAPE', [], `a spec is an object with version, name and steps; ${got}`));
    return none;
  }
  const { steps, ...rest } = doc;
  const root = ROOT_FIELDS_SCHEMA.safeParse(rest, { reportInput: true });
  if (!root.success) problems.push(...zodIssueProblems(root.error.issues, { schema: SpecSchema, special: advice(SpecSchema) }));
  if (steps === undefined) {
    problems.push(problem('SHAPE', ['steps'], 'missing; a spec needs a list of steps'));
    return none;
  }
  if (!Array.isArray(steps)) {
    problems.push(problem('SHAPE', ['steps'], `expected a list of steps, got ${describe(steps)}`));
    return none;
  }
  if (steps.length === 0) problems.push(problem('SHAPE', ['steps'], 'a spec needs at least one step'));
  const { valid, partial } = none;
  steps.forEach((raw, index) => {
    const path = ['steps', index];
    if (!isObject(raw)) {
      problems.push(problem('SHAPE', path, `a step is an object with id and kind; got ${describe(raw)}`));
      return;
    }
    const kind = raw.kind;
    if (typeof kind !== 'string') {
      problems.push(
        problem(
          'SHAPE',
          [...path, 'kind'],
          `${kind === undefined ? 'missing' : `expected a string, got ${describe(kind)}`}; one of ${STEP_KINDS.join(', ')}`,
        ),
      );
      return;
    }
    const schema = Object.hasOwn(STEP_SCHEMAS, kind) ? STEP_SCHEMAS[kind as keyof typeof STEP_SCHEMAS] : undefined;
    if (!schema) {
      problems.push(
        problem('UNKNOWN_KIND', [...path, 'kind'], `unknown kind "${kind}"${didYouMean(kind, STEP_KINDS)}; one of ${STEP_KINDS.join(', ')}`),
      );
      return;
    }
    const parsed = schema.safeParse(raw, { reportInput: true });
    if (parsed.success) {
      // The document's own step, which is what runs: zod's copy loses an args key `__proto__` (z.record assigns it).
      valid.push({ step: raw as unknown as Step, index });
      return;
    }
    problems.push(...zodIssueProblems(parsed.error.issues, { base: path, schema, special: advice(schema) }));
    const broken = new Set(parsed.error.issues.map((i) => i.path[0]));
    if (typeof raw.id === 'string' && !broken.has('id')) {
      partial.push({ step: Object.fromEntries(Object.entries(raw).filter(([k]) => !broken.has(k))) as unknown as Step, index });
    }
  });
  return none;
}

/**
 * The validator's own advice for some issues of `schema` (the spec's root fields or a step): an invalid id or spec
 * name, a map's items given as JSON, a whole step's field in a map's sub-step.
 */
function advice(schema: z.ZodType): (issue: z.core.$ZodIssue, path: PathSegment[], input: unknown) => Problem[] | undefined {
  return (issue, path, input) => {
    const last = path[path.length - 1];
    if (issue.code === 'invalid_format' && issue.format === 'regex') {
      if (last === 'id')
        return [problem('INVALID_ID', path, `invalid id ${JSON.stringify(input)}: use lower case letters, digits and _, starting with a letter`)];
      if (last === 'spec') {
        return [
          problem(
            'SHAPE',
            path,
            `invalid spec name ${JSON.stringify(input)}: use lower case letters, digits, _ and -, starting with a letter or digit`,
          ),
        ];
      }
    }
    if (issue.code === 'invalid_type' && isMapField(schema, issue.path, 'items')) {
      return [problem('SHAPE', path, `${expectedGot(article(issue.expected), input)}; ${ITEMS_HELP}`)];
    }
    if (issue.code === 'unrecognized_keys' && isMapField(schema, issue.path, 'step')) {
      const known = knownFields(schema, issue.path, input);
      return issue.keys.map((key) =>
        problem(
          'SHAPE',
          [...path, key],
          Object.hasOwn(SUB_STEP_FIELDS, key) ? SUB_STEP_FIELDS[key]! : `unknown field "${key}"${didYouMean(key, known)}`,
        ),
      );
    }
    return undefined;
  };
}

/** Whether an issue's path is this field of a map step, the schema parsed being a step's. */
function isMapField(schema: z.ZodType, issuePath: readonly PropertyKey[], field: string): boolean {
  return schema === MapStepSchema && issuePath.length === 1 && issuePath[0] === field;
}

const ITEMS_HELP = 'items is a CEL expression that gives a list, e.g. "[1, 2]" or "steps.search.results"';

/** Fields of a whole step written into a map's sub-step, with what to do instead. */
const SUB_STEP_FIELDS: Readonly<Record<string, string>> = {
  id: "a map's sub-step has no id: the map step's id addresses it, and its expressions use item and index",
  when:
    "a map's sub-step has no when: the map step's when runs or skips all its items; to run only some items, " +
    'filter them in items, e.g. "steps.search.results.filter(r, r.score > 0.5)"',
};

/** id -> index of its first step; reports bad and duplicate ids of every step, well-shaped or not. */
export function collectIds(doc: unknown, problems: Problem[]): Map<string, number> {
  const ids = new Map<string, number>();
  if (!isObject(doc) || !Array.isArray(doc.steps)) return ids;
  doc.steps.forEach((raw, index) => {
    const id = isObject(raw) ? raw.id : undefined;
    if (typeof id !== 'string') return;
    const first = ids.get(id);
    if (first !== undefined) problems.push(problem('DUPLICATE_ID', ['steps', index, 'id'], `duplicate id "${id}" (also steps[${first}])`));
    else ids.set(id, index);
  });
  // Steps whose kind is unknown were not shape-checked: their ids still need the pattern.
  doc.steps.forEach((raw, index) => {
    const id = isObject(raw) ? raw.id : undefined;
    if (
      typeof id === 'string' &&
      !STEP_ID_PATTERN.test(id) &&
      !(isObject(raw) && typeof raw.kind === 'string' && Object.hasOwn(STEP_SCHEMAS, raw.kind))
    ) {
      problems.push(
        problem(
          'INVALID_ID',
          ['steps', index, 'id'],
          `invalid id ${JSON.stringify(id)}: use lower case letters, digits and _, starting with a letter`,
        ),
      );
    }
  });
  return ids;
}
