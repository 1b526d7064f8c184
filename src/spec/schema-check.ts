/**
 * JSON Schema checks for the validator: is a schema valid (ajv, strict, so a typo such as "requird" is
 * caught), does a literal value match one, and which fields does a schema say an object has.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { JsonSchema } from './catalog.js';
import type { PathSegment } from './problems.js';
import { describe } from './describe.js';
import { closest } from './suggest.js';

export { describe };

const DRAFT_07 = /draft-07/;

// allErrors: report every mismatch at once. strict: unknown keywords are errors, not silently ignored.
// addUsedSchema: false, so a schema's $id is not remembered: one validation never depends on an earlier one.
// optimize: false: these validators check small documents once or twice; compiling fast matters more.
// ownProperties: data keys named like Object.prototype's (`constructor`, `toString`) are checked as keys: without
// it, `required: ["constructor"]` is met by every object and `properties.constructor` reads Object's function.
const AJV_OPTIONS = {
  allErrors: true,
  ownProperties: true,
  strict: true,
  validateFormats: false,
  verbose: true,
  addUsedSchema: false,
  code: { optimize: false },
} as const;
let ajvs = { v2020: new Ajv2020(AJV_OPTIONS), v07: new Ajv(AJV_OPTIONS) };

const pickAjv = (schema: JsonSchema) => (typeof schema.$schema === 'string' && DRAFT_07.test(schema.$schema) ? ajvs.v07 : ajvs.v2020);

/** Distinct schemas kept compiled; past it the cache (and ajv's own) starts over, so a long-lived worker does not grow. */
const MAX_COMPILED = 500;

export interface SchemaIssue {
  /** Inside the schema or the value checked, as path segments. */
  path: PathSegment[];
  message: string;
}

const checked = new Map<string, SchemaIssue[]>();
const compiled = new Map<string, ValidateFunction | SchemaIssue[]>();

function startOverWhenFull(): void {
  if (checked.size + compiled.size < MAX_COMPILED) return;
  checked.clear();
  compiled.clear();
  ajvs = { v2020: new Ajv2020(AJV_OPTIONS), v07: new Ajv(AJV_OPTIONS) };
}

/**
 * Problems with a schema itself; empty when it is a valid JSON Schema. The meta-schema plus a walk for unknown
 * keywords (a typo such as "requird" is caught) is about three times faster than compiling a validator, which
 * only schemas that check values need.
 */
export function checkSchema(schema: JsonSchema): SchemaIssue[] {
  const key = JSON.stringify(schema);
  const hit = checked.get(key);
  if (hit) return hit;
  startOverWhenFull();
  const ajv = pickAjv(schema);
  let issues: SchemaIssue[];
  try {
    issues = ajv.validateSchema(schema) ? unknownKeywords(schema, Object.keys(ajv.RULES.keywords)) : schemaErrors(ajv.errors ?? []);
  } catch (e) {
    // A $schema that ajv does not know.
    issues = [{ path: [], message: (e as Error).message }];
  }
  checked.set(key, issues);
  return issues;
}

/** Keywords whose value is a schema, a list of schemas, or a map of name to schema. */
const SCHEMA_VALUED = [
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
  'additionalProperties',
  'additionalItems',
  'unevaluatedProperties',
  'unevaluatedItems',
  'items',
  'contentSchema',
];
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
const SCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];

function unknownKeywords(root: JsonSchema, known: string[]): SchemaIssue[] {
  const keywords = new Set(known);
  const issues: SchemaIssue[] = [];
  const stack: Array<{ schema: unknown; path: PathSegment[] }> = [{ schema: root, path: [] }];
  while (stack.length > 0) {
    const { schema, path } = stack.pop()!;
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) continue;
    for (const [k, v] of Object.entries(schema)) {
      if (!keywords.has(k)) {
        const hint = closest(k, keywords);
        issues.push({ path: [...path, k], message: `unknown keyword "${k}"${hint ? ` (did you mean "${hint}"?)` : ''}` });
      } else if (SCHEMA_MAPS.includes(k) && v && typeof v === 'object') {
        for (const [name, sub] of Object.entries(v)) stack.push({ schema: sub, path: [...path, k, name] });
      } else if (SCHEMA_LISTS.includes(k) && Array.isArray(v)) {
        v.forEach((sub, i) => stack.push({ schema: sub, path: [...path, k, i] }));
      } else if (SCHEMA_VALUED.includes(k)) {
        stack.push({ schema: v, path: [...path, k] });
      }
    }
  }
  return issues;
}

/** A validator for a schema, compiled once per distinct schema text; an invalid schema gives its issues. */
function compile(schema: JsonSchema): ValidateFunction | SchemaIssue[] {
  const key = JSON.stringify(schema);
  const hit = compiled.get(key);
  if (hit) return hit;
  const issues = checkSchema(schema);
  let result: ValidateFunction | SchemaIssue[] = issues;
  if (issues.length === 0) {
    try {
      result = pickAjv(schema).compile(schema);
    } catch (e) {
      result = [{ path: [], message: (e as Error).message.replace(/^strict mode: /, '') }];
    }
  }
  compiled.set(key, result);
  return result;
}

/** Mismatches of a value against a (valid) schema. */
export function checkValue(schema: JsonSchema, value: unknown): SchemaIssue[] {
  const r = compile(schema);
  if (Array.isArray(r)) return [];
  if (r(value)) return [];
  return (r.errors ?? []).map((e) => ({ path: pointerPath(e.instancePath), message: valueMessage(e) }));
}

function schemaErrors(errors: ErrorObject[]): SchemaIssue[] {
  // The meta-schema reports one mistake several ways (enum, then anyOf of the alternatives): keep the first per place.
  const seen = new Set<string>();
  const out: SchemaIssue[] = [];
  for (const e of errors) {
    if (seen.has(e.instancePath)) continue;
    seen.add(e.instancePath);
    const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues;
    const message = allowed ? `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}` : (e.message ?? 'is invalid');
    out.push({ path: pointerPath(e.instancePath), message: `not valid JSON Schema: ${message}` });
  }
  return out;
}

function valueMessage(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type':
      return `expected ${String(p.type)}, got ${describe(e.data)}`;
    case 'required':
      return `missing required field "${String(p.missingProperty)}"`;
    case 'additionalProperties':
      return `unknown field "${String(p.additionalProperty)}"`;
    case 'enum':
      return `expected one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${describe(e.data)}`;
    case 'const':
      return `expected ${JSON.stringify(p.allowedValue)}, got ${describe(e.data)}`;
    default:
      return `${e.message ?? 'is invalid'}${e.data === undefined ? '' : `, got ${describe(e.data)}`}`;
  }
}

function pointerPath(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** What selecting one field from a value of this schema gives. */
export type FieldLookup =
  | { found: JsonSchema }
  | { missing: string[] } // the schema lists its fields and this is not one of them
  | { notAnObject: string } // the schema says the value is a string, a list...
  | { unknown: true }; // the schema does not say (open object, $ref, no type)

export function selectField(schema: JsonSchema, field: string): FieldLookup {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return { unknown: true };
  const alternatives = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(alternatives)) {
    const results = alternatives.map((s) => selectField(s, field)).filter((r) => !('notAnObject' in r && r.notAnObject === 'null'));
    const found = results.filter((r): r is { found: JsonSchema } => 'found' in r);
    if (found.length === 1) return found[0]!;
    if (found.length > 1) return { found: { anyOf: found.map((r) => r.found) } };
    if (results.some((r) => 'unknown' in r) || results.length === 0) return { unknown: true };
    const missing = results.flatMap((r) => ('missing' in r ? r.missing : []));
    return missing.length > 0 ? { missing: [...new Set(missing)] } : results[0]!;
  }
  if (typeof schema.$ref === 'string' || Array.isArray(schema.allOf)) return { unknown: true };
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : [];
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  const isObject = types.includes('object') || (types.length === 0 && properties !== undefined);
  if (!isObject) {
    const type = types.find((t) => t !== 'null');
    return type ? { notAnObject: type } : { unknown: true };
  }
  if (properties && Object.hasOwn(properties, field)) return { found: properties[field]! };
  const extra = schema.additionalProperties;
  if (extra && typeof extra === 'object') return { found: extra as JsonSchema };
  // An object schema that lists its properties is taken as closed unless it says otherwise, so a typo is caught.
  if (properties && extra !== true && schema.patternProperties === undefined) return { missing: Object.keys(properties) };
  return { unknown: true };
}
