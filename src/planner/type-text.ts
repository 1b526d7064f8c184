/**
 * JSON Schema written as a TypeScript-like type, for the planner's prompt: `{ orderId: string; total: number }`
 * says what `{"type":"object","properties":{...},"required":[...],"additionalProperties":false}` says, in about
 * a third of the tokens, and models read it at least as well. Constraints a caller must respect stay (ranges,
 * lengths, patterns, formats, defaults, property descriptions); a keyword this file does not know is never
 * dropped silently: that part of the schema is written as its JSON instead.
 */
import type { JsonSchema } from '../spec/catalog.js';

/** Bounds zod writes for every int: they say nothing to a reader. */
const SAFE_INT = Number.MAX_SAFE_INTEGER;

/** Keywords read below; anything else (if, not, dependentSchemas...) falls back to the JSON itself. */
const KNOWN = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'prefixItems',
  'enum',
  'const',
  'anyOf',
  'oneOf',
  'allOf',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minItems',
  'maxItems',
  'uniqueItems',
  'default',
  'description',
  'title',
  'examples',
  '$schema',
  '$id',
  'propertyNames',
  'nullable',
]);

export function typeText(schema: unknown): string {
  if (schema === true || schema === undefined) return 'any';
  if (schema === false) return 'never';
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return JSON.stringify(schema);
  const s = schema as JsonSchema;
  if (Object.keys(s).some((k) => !KNOWN.has(k))) return JSON.stringify(withoutDescriptions(s));
  if ('const' in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  const union = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(union)) return union.map(grouped).join(' | ');
  if (Array.isArray(s.allOf)) return s.allOf.map(grouped).join(' & ');
  const types = Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === 'string' ? [s.type] : [];
  if (types.length === 0) return 'properties' in s ? objectText(s) : 'any';
  return types.map((t) => typeOf(t, s)).join(' | ') + (s.nullable === true ? ' | null' : '');
}

function typeOf(type: string, s: JsonSchema): string {
  switch (type) {
    case 'object':
      return objectText(s);
    case 'array':
      return arrayText(s);
    case 'string':
      return constrained('string', [
        range(s.minLength, s.maxLength, 'chars'),
        typeof s.pattern === 'string' ? `matching /${s.pattern}/` : undefined,
        typeof s.format === 'string' ? s.format : undefined,
      ]);
    case 'number':
    case 'integer':
      return constrained(type, [
        bound('>=', s.minimum),
        bound('>', s.exclusiveMinimum),
        bound('<=', s.maximum),
        bound('<', s.exclusiveMaximum),
        typeof s.multipleOf === 'number' ? `multiple of ${s.multipleOf}` : undefined,
      ]);
    default:
      return type; // boolean, null
  }
}

function objectText(s: JsonSchema): string {
  const props = (s.properties ?? {}) as Record<string, unknown>;
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  const fields = Object.entries(props).map(([name, sub]) => {
    const key = /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
    return `${key}${required.has(name) ? '' : '?'}: ${typeText(sub)}${notes(sub)}`;
  });
  const extra = s.additionalProperties;
  if (extra !== undefined && extra !== false && !(extra === true && fields.length > 0)) {
    fields.push(`[key: string]: ${typeText(extra)}`);
  } else if (fields.length === 0) return 'object';
  return `{ ${fields.join('; ')} }`;
}

function arrayText(s: JsonSchema): string {
  const tuple = Array.isArray(s.prefixItems) ? `[${s.prefixItems.map(typeText).join(', ')}]` : undefined;
  const list = tuple ?? `${grouped(s.items ?? true)}[]`;
  return constrained(list, [range(s.minItems, s.maxItems, 'items'), s.uniqueItems === true ? 'unique' : undefined]);
}

/** A property's default and description, as a comment after its type. */
function notes(sub: unknown): string {
  if (sub === null || typeof sub !== 'object') return '';
  const s = sub as JsonSchema;
  const parts = [
    'default' in s ? `default ${JSON.stringify(s.default)}` : undefined,
    typeof s.description === 'string' ? s.description : undefined,
  ].filter(Boolean);
  return parts.length === 0 ? '' : ` /* ${parts.join('; ')} */`;
}

function constrained(type: string, constraints: (string | undefined)[]): string {
  const said = constraints.filter((c): c is string => c !== undefined);
  return said.length === 0 ? type : `${type} (${said.join(', ')})`;
}

function bound(op: string, value: unknown): string | undefined {
  return typeof value === 'number' && Math.abs(value) < SAFE_INT ? `${op} ${value}` : undefined;
}

function range(min: unknown, max: unknown, unit: string): string | undefined {
  const lo = typeof min === 'number' && min > 0 ? min : undefined;
  const hi = typeof max === 'number' ? max : undefined;
  if (lo !== undefined && hi !== undefined) return lo === hi ? `${lo} ${unit}` : `${lo}-${hi} ${unit}`;
  if (lo !== undefined) return `at least ${lo} ${unit}`;
  if (hi !== undefined) return `at most ${hi} ${unit}`;
  return undefined;
}

/** A union or intersection inside a list, union or intersection needs parentheses: `(string | number)[]`. */
function grouped(schema: unknown): string {
  const text = typeText(schema);
  return isCompound(schema) ? `(${text})` : text;
}

function isCompound(schema: unknown): boolean {
  if (schema === null || typeof schema !== 'object' || 'const' in schema) return false;
  const s = schema as JsonSchema;
  const many = (v: unknown) => Array.isArray(v) && v.length > 1;
  return many(s.enum) || many(s.anyOf ?? s.oneOf) || many(s.allOf) || many(s.type) || s.nullable === true;
}

function withoutDescriptions(s: JsonSchema): JsonSchema {
  const { description: _d, title: _t, ...rest } = s;
  return rest;
}
