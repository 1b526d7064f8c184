import { z } from 'zod';
import { SpecSchema, STEP_KINDS, STEP_SCHEMAS } from './schema.js';

type JsonSchema = Record<string, unknown>;

const toJson = (schema: z.ZodType): JsonSchema => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;

/**
 * The spec's JSON Schema (draft 2020-12): for editors (`$schema`) and `trellis schema`, with a description on every
 * field. Built anew on each call.
 */
export function specJsonSchema(): JsonSchema {
  return toJson(SpecSchema);
}

let full: JsonSchema | undefined;
let outline: JsonSchema | undefined;

/**
 * The same schema without the descriptions, for a model's structured output (the planner's `full` form): it
 * accepts exactly the same documents at less than half the size (7.2 KB instead of 15.8 KB), and a provider bills
 * the schema as prompt on every call. The planner's prompt explains the fields instead. Built once: every call
 * returns the same object, so copy it before changing it.
 */
export function specJsonSchemaForModels(): JsonSchema {
  full ??= withoutDescriptions(specJsonSchema()) as JsonSchema;
  return full;
}

/**
 * The spec's outline (the planner's default `outline` form, about 1.3 KB): the top-level fields and every step
 * field by name with its JSON type, and the step kinds, but not each kind's own rules. It accepts every valid
 * spec and some invalid ones: the validator, which runs on every reply, is the authority, and its problems go
 * back to the model. An endpoint that constrains decoding to the schema still cannot emit an unknown field. Built
 * once: every call returns the same object, so copy it before changing it.
 */
export function specOutlineJsonSchema(): JsonSchema {
  outline ??= buildOutline();
  return outline;
}

function buildOutline(): JsonSchema {
  const stepFields: Record<string, JsonSchema> = {};
  for (const kind of STEP_KINDS) {
    for (const [name, field] of Object.entries(STEP_SCHEMAS[kind].shape)) stepFields[name] ??= typeOnly(toJson(field as z.ZodType));
  }
  stepFields.kind = { enum: STEP_KINDS };
  const { properties, required } = specJsonSchema() as { properties: Record<string, JsonSchema>; required: string[] };
  return {
    type: 'object',
    properties: Object.fromEntries(
      Object.entries(properties).map(([name, field]) => [
        name,
        name === 'steps'
          ? { type: 'array', minItems: 1, items: { type: 'object', properties: stepFields, required: ['id', 'kind'], additionalProperties: false } }
          : typeOnly(field),
      ]),
    ),
    required,
    additionalProperties: false,
  };
}

/** A field's type and nothing else (a list keeps its items' type); a union of objects reads as an object. */
function typeOnly(schema: JsonSchema): JsonSchema {
  if ('const' in schema) return { const: schema.const };
  if (Array.isArray(schema.enum)) return { enum: schema.enum };
  if (schema.type === 'array') return { type: 'array', ...(isSchema(schema.items) && { items: typeOnly(schema.items) }) };
  if (schema.type !== undefined) return { type: schema.type };
  const branches = (schema.oneOf ?? schema.anyOf) as JsonSchema[] | undefined;
  if (branches?.every((b) => b.type === 'object')) return { type: 'object' };
  return {};
}

const isSchema = (value: unknown): value is JsonSchema => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Drops the `description` and `title` keywords, keeping properties that happen to be named so. */
function withoutDescriptions(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutDescriptions);
  if (!isSchema(schema)) return schema;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if ((key === 'description' || key === 'title') && typeof value === 'string') continue;
    const isSchemaMap = key === 'properties' || key === '$defs' || key === 'patternProperties';
    out[key] =
      isSchemaMap && isSchema(value)
        ? Object.fromEntries(Object.entries(value).map(([name, s]) => [name, withoutDescriptions(s)]))
        : withoutDescriptions(value);
  }
  return out;
}
