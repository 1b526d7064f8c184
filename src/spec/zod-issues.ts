/**
 * zod issues as problems a person can act on: which field, what was expected (`a whole number`, `true or false`),
 * what came (`got string "5"`), and "did you mean" for an unknown field. One translation for everything checked
 * with zod: specs (the validator), eval suites, and the arguments any Temporal client sends a run.
 */
import { z } from 'zod';
import { describe } from './describe.js';
import { getOwn } from './own.js';
import { problem, type PathSegment, type Problem } from './problems.js';
import { didYouMean } from './suggest.js';

export interface IssueOptions {
  /** Prepended to every path: where the parsed value sits in a larger document. */
  base?: PathSegment[];
  /** The schema that was parsed: an unknown field gets "did you mean" among the fields of its object. */
  schema?: z.ZodType;
  /** Advice of its own for some issues (a field with a message of its own); undefined: the general message. */
  special?: (issue: z.core.$ZodIssue, path: PathSegment[], input: unknown) => Problem[] | undefined;
}

/** Problems for zod issues (parse with `reportInput: true`, so messages can say what came). */
export function zodIssueProblems(issues: readonly z.core.$ZodIssue[], options: IssueOptions = {}): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    const path = [...(options.base ?? []), ...(issue.path as PathSegment[])];
    const input = (issue as { input?: unknown }).input;
    const special = options.special?.(issue, path, input);
    if (special) return special;
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = options.schema ? knownFields(options.schema, issue.path, input) : [];
        return issue.keys.map((key) => problem('SHAPE', [...path, key], `unknown field "${key}"${didYouMean(key, known)}`));
      }
      case 'invalid_type':
        return [problem('SHAPE', path, expectedGot(article(issue.expected), input))];
      case 'invalid_value':
        return [expectedOneOf(path, issue.values, input)];
      case 'invalid_union': {
        // A discriminated union (a map's step) reports the whole object as the input of its discriminator's path.
        const { discriminator, options: tags } = issue as { discriminator?: string; options?: unknown[] };
        if (discriminator !== undefined && tags && isObject(input)) return [expectedOneOf(path, tags, input[discriminator])];
        return [problem('SHAPE', path, issue.message)];
      }
      case 'too_small':
        if (issue.origin === 'string' && issue.minimum === 1) return [problem('SHAPE', path, 'must not be empty')];
        if (issue.origin === 'array') return [problem('SHAPE', path, `needs at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}`)];
        return [problem('SHAPE', path, `must be at least ${issue.minimum}, got ${describe(input)}`)];
      case 'too_big':
        if (issue.origin === 'string') return [problem('SHAPE', path, `must be at most ${issue.maximum} characters`)];
        return [problem('SHAPE', path, `must be at most ${issue.maximum}, got ${describe(input)}`)];
      case 'custom': {
        const code = (issue.params as { code?: Problem['code'] } | undefined)?.code ?? 'SHAPE';
        return [problem(code, path, issue.message)];
      }
      default:
        return [problem('SHAPE', path, issue.message)];
    }
  });
}

/** `missing; expected a string`, or `expected a string, got number 5`. */
export function expectedGot(expected: string, input: unknown): string {
  return input === undefined ? `missing; expected ${expected}` : `expected ${expected}, got ${describe(input)}`;
}

function expectedOneOf(path: PathSegment[], values: readonly unknown[], input: unknown): Problem {
  return problem('SHAPE', path, expectedGot(values.map((v) => JSON.stringify(v)).join(' or '), input));
}

/** A zod type name as a person reads it. */
export function article(type: string): string {
  const names: Record<string, string> = {
    int: 'a whole number',
    integer: 'a whole number',
    null: 'null',
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
    object: 'an object',
    record: 'an object',
    array: 'a list',
  };
  return getOwn(names, type) ?? type;
}

/**
 * The fields of the strict object an unknown key was found in, for "did you mean": the parsed schema walked down
 * the issue's path. `value` is the object itself; it picks the option of a discriminated union (a map's tool or
 * llm sub-step).
 */
export function knownFields(schema: z.ZodType, path: readonly PropertyKey[], value: unknown): string[] {
  let current: z.ZodType | undefined = schema;
  for (const segment of path) current = current && fieldSchema(unwrapOptional(current), segment);
  if (!current) return [];
  const object = unwrapOptional(current);
  const chosen = object instanceof z.ZodDiscriminatedUnion ? unionOption(object, value) : object;
  return chosen instanceof z.ZodObject ? Object.keys(chosen.shape) : [];
}

/** The option of a discriminated union that this value's discriminator (its kind) selects. */
function unionOption(union: z.ZodDiscriminatedUnion, value: unknown): z.ZodType | undefined {
  const key = union.def.discriminator;
  const tag = isObject(value) ? value[key] : undefined;
  return (union.options as z.ZodType[]).find((o) => o instanceof z.ZodObject && (o.shape[key] as z.ZodType | undefined)?.safeParse(tag).success);
}

function unwrapOptional(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodOptional ? unwrapOptional(schema.unwrap() as z.ZodType) : schema;
}

function fieldSchema(schema: z.ZodType, segment: PropertyKey): z.ZodType | undefined {
  if (schema instanceof z.ZodObject && typeof segment === 'string' && Object.hasOwn(schema.shape, segment)) return schema.shape[segment] as z.ZodType;
  if (schema instanceof z.ZodArray && typeof segment === 'number') return schema.element as z.ZodType;
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
