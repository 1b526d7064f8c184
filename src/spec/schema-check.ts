/**
 * JSON Schema checks for the validator: is a schema valid (ajv, strict, so a typo such as "requird" is
 * caught), does a literal value match one, and which fields does a schema say an object has.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { JsonSchema } from './catalog.js';
import type { PathSegment } from './problems.js';

const DRAFT_07 = /draft-07/;

// allErrors: report every mismatch at once. strict: unknown keywords are errors, not silently ignored.
// addUsedSchema: false, so a schema's $id is not remembered: one validation never depends on an earlier one.
// optimize: false: these validators check small documents once or twice; compiling fast matters more.
const AJV_OPTIONS = {
  allErrors: true,
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

const compiled = new Map<string, ValidateFunction | SchemaIssue[]>();

/** Compiles once per distinct schema text; invalid schemas give their issues instead. */
function compile(schema: JsonSchema): ValidateFunction | SchemaIssue[] {
  const key = JSON.stringify(schema);
  const hit = compiled.get(key);
  if (hit) return hit;
  if (compiled.size >= MAX_COMPILED) {
    compiled.clear();
    ajvs = { v2020: new Ajv2020(AJV_OPTIONS), v07: new Ajv(AJV_OPTIONS) };
  }
  const ajv = pickAjv(schema);
  let result: ValidateFunction | SchemaIssue[];
  try {
    result = ajv.validateSchema(schema) ? ajv.compile(schema) : schemaErrors(ajv.errors ?? []);
  } catch (e) {
    // Strict mode's findings (an unknown keyword), and a $schema that ajv does not know.
    result = [{ path: [], message: (e as Error).message.replace(/^strict mode: /, '') }];
  }
  compiled.set(key, result);
  return result;
}

/** Problems with a schema itself; empty when it is a valid JSON Schema. */
export function checkSchema(schema: JsonSchema): SchemaIssue[] {
  const r = compile(schema);
  return Array.isArray(r) ? r : [];
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

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 37)}...` : text}`;
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
