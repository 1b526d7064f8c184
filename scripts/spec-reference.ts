/**
 * The generated part of docs/spec.md: every field of a spec, with its type, whether it is required, and the
 * description its zod schema carries in src/spec/schema.ts (`.meta({ description })`). The prose around it in
 * docs/spec.md is written by hand; this part is not.
 *
 *   npx tsx scripts/spec-reference.ts            # print the generated part
 *   npx tsx scripts/spec-reference.ts --write    # put it between the markers in docs/spec.md
 *   npx tsx scripts/spec-reference.ts --check    # exit 1 when docs/spec.md is out of date
 *
 * test/unit/docs.test.ts fails when docs/spec.md differs from specReference(). To change a description, change it in
 * src/spec/schema.ts and run the --write command.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { DURATION_HELP } from '../src/spec/duration.js';
import { SpecSchema, STEP_KINDS, type StepKind } from '../src/spec/schema.js';

export const BEGIN_MARKER = '<!-- spec-reference:begin -->';
export const END_MARKER = '<!-- spec-reference:end -->';
export const SPEC_DOC = fileURLToPath(new URL('../docs/spec.md', import.meta.url));
export const REGENERATE = 'npx tsx scripts/spec-reference.ts --write';

/**
 * One sentence per step kind: what it is for and what it outputs. A kind added to src/spec/schema.ts without a line
 * here stops the generator (and so the docs test), so the reference never leaves a kind out.
 */
const KIND_SUMMARY: Record<StepKind, string> = {
  tool: 'Calls a tool of the catalog with `args`. Output: what the tool returns (checked against its output schema).',
  llm: 'One model call. Output: the reply checked against `output` when it is given, else the reply text.',
  approval: 'Waits for a person to approve or deny. Output: `{ approved, by, comment, at }` (`by` is null when the timeout answered).',
  wait: 'A durable timer. Output: `{ at }`, when the wait ended.',
  agent:
    "A bounded tool-calling loop: the model calls the step's `tools` until it answers, at most `maxTurns` model calls. Output: the final answer, as for an llm step.",
  map: "Runs one tool or llm sub-step per item of a list. Output: the list of the sub-steps' outputs, in the items' order.",
  call: "Runs a saved spec by name as a child run. Output: the child run's output.",
};

/**
 * Words for the fields src/spec/schema.ts does not describe, or describes only by their type (a duration, a template):
 * what the field is for. A description of the field's own in the schema wins over these.
 */
const FIELD_ROLE: Record<string, string> = {
  version: 'the version of the spec language: always 1',
  description: 'what the spec is for, shown to people (after the name in the run summary)',
  steps: 'the steps: each starts when the steps it depends on have ended; independent steps run in parallel',
  kind: 'the step kind',
  timeout:
    "how long one attempt of each activity may take (a tool call, a model call, an agent's turns and tool calls, a map's items; default 5m, or the tool's own); for an approval, how long it waits for an answer (no limit when absent)",
  prompt: 'the prompt, sent as the user message',
  system: 'the system message',
  temperature: "the model's sampling temperature",
  title: 'what the person is asked, one line',
  details: 'more for the person to read: what is at stake, what to check',
  duration: 'how long to wait',
  'retry.initialInterval': 'the wait before the first retry',
  'retry.backoffCoefficient': 'how much longer each wait between attempts is than the one before',
  'retry.maximumInterval': 'the longest wait between attempts',
};

/** Descriptions in the schema that say what a type is, not what a field is for: the field's row names the type. */
const TYPE_OF_DESCRIPTION: Array<{ type: string; anchor: string; matches: (description: string) => boolean }> = [
  { type: 'duration', anchor: 'duration', matches: (d) => d === DURATION_HELP },
  { type: 'template', anchor: 'template', matches: (d) => d.startsWith('text;') && d.includes('${expr}') },
];

type Schema = {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  description?: string;
  title?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  additionalProperties?: unknown;
};

/** The generated part of docs/spec.md (without the markers). */
export function specReference(): string {
  const root = z.toJSONSchema(SpecSchema, { io: 'input', unrepresentable: 'any' }) as Schema;
  const steps = root.properties!.steps!.items!.oneOf!;
  const byKind = new Map(steps.map((s) => [s.properties!.kind!.const as StepKind, s]));
  const missing = STEP_KINDS.filter((k) => KIND_SUMMARY[k] === undefined);
  if (missing.length > 0) throw new Error(`scripts/spec-reference.ts: add a KIND_SUMMARY line for the step kind(s) ${missing.join(', ')}`);

  // The fields every kind has, with the same schema: listed once.
  const first = steps[0]!;
  const common = Object.keys(first.properties!).filter(
    (name) => name !== 'kind' && steps.every((s) => JSON.stringify(s.properties![name]) === JSON.stringify(first.properties![name])),
  );

  // The types fields are described by (a duration, a template), as the schema words them: listed once, at the end.
  const types = new Map<string, string>();
  const t = (object: Schema, prefix: string, override: Record<string, string> = {}) => table(object, prefix, override, types);
  const out: string[] = [];
  // Prettier would align the tables: it leaves the generated part as generated.
  out.push(
    '<!-- prettier-ignore-start -->',
    `<!-- Generated by \`${REGENERATE}\` from the descriptions in src/spec/schema.ts. Edit those, not this part. -->`,
    '',
    '### The document',
    '',
    `A spec is an object with these fields and no others (${root.title}).`,
    '',
    ...t(root, '', { steps: 'list of [steps](#steps), at least one', budget: 'object: [budget](#budget)' }),
    '',
    '### Steps',
    '',
    `A step is an object whose \`kind\` is one of ${STEP_KINDS.map((k) => `[\`${k}\`](#${k})`).join(', ')}. No other field is allowed.`,
    '',
    '#### Fields of every step',
    '',
    ...t({ properties: Object.fromEntries(common.map((n) => [n, first.properties![n]!])), required: first.required! }, '', {
      retry: 'object: [retry](#retry)',
    }),
    '',
  );
  for (const kind of STEP_KINDS) {
    const step = byKind.get(kind)!;
    const own = Object.fromEntries(Object.entries(step.properties!).filter(([name]) => !common.includes(name)));
    out.push(
      `#### \`${kind}\``,
      '',
      KIND_SUMMARY[kind],
      '',
      ...t({ properties: own, required: step.required! }, '', { step: 'object: [map sub-step](#map-sub-step)' }),
      '',
    );
  }

  const map = byKind.get('map')!.properties!.step!;
  out.push('#### map sub-step', '', `The \`step\` of a map: ${map.description}. It is one of:`, '');
  for (const sub of map.oneOf!) {
    out.push(`- \`"kind": "${String(sub.properties!.kind!.const)}"\`:`, '', ...t(sub, '').map((line) => `  ${line}`), '');
  }

  const retry = first.properties!.retry!;
  out.push('### retry', '', `${capital(retry.description!)}: a step's \`retry\`, and a tool definition's.`, '', ...t(retry, 'retry.'), '');
  const budget = root.properties!.budget!;
  out.push('### budget', '', `${capital(budget.description!)}. Every field is optional.`, '', ...t(budget, 'budget.'), '');
  out.push('### Types', '', 'Fields above whose type links here take values of these forms.', '');
  for (const { type } of TYPE_OF_DESCRIPTION) if (types.has(type)) out.push(`#### ${type}`, '', `${capital(types.get(type)!)}.`, '');
  out.push('<!-- prettier-ignore-end -->');
  return `${out.join('\n')}\n`;
}

function table(object: Schema, prefix: string, typeOverride: Record<string, string> = {}, types?: Map<string, string>): string[] {
  const required = new Set(object.required ?? []);
  const rows = Object.entries(object.properties ?? {}).map(([name, field]) => {
    const role = FIELD_ROLE[`${prefix}${name}`] ?? FIELD_ROLE[name] ?? '';
    const typed = TYPE_OF_DESCRIPTION.find((t) => field.description !== undefined && t.matches(field.description));
    if (typed) types?.set(typed.type, field.description!);
    const type = typeOverride[name] ?? (typed ? `[${typed.type}](#${typed.anchor})` : typeText(field));
    const description = typed ? role : (field.description ?? role);
    return `| \`${name}\` | ${cell(type)} | ${required.has(name) ? 'required' : 'optional'} | ${cell(description)} |`;
  });
  return ['| field | type | | description |', '|---|---|---|---|', ...rows];
}

/** A field's type in a few words: `"tool"`, integer from 1 to 100, duration, list of strings... */
function typeText(s: Schema): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (Array.isArray(s.enum)) return s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' or ');
  switch (s.type) {
    case 'string': {
      if (s.pattern !== undefined) return `string matching \`${s.pattern}\``;
      if (s.maxLength !== undefined) return `string of ${s.minLength ?? 0} to ${s.maxLength} characters`;
      return s.minLength === 1 ? 'string, not empty' : 'string';
    }
    case 'integer':
    case 'number':
      return `${s.type === 'integer' ? 'whole number' : 'number'}${range(s)}`;
    case 'boolean':
      return 'boolean';
    case 'array': {
      const items = s.items ? typeText(s.items) : 'any';
      return `list of ${plural(items)}${s.minItems ? `, at least ${s.minItems}` : ''}`;
    }
    case 'object':
      return 'object';
  }
  if (s.oneOf ?? s.anyOf) return (s.oneOf ?? s.anyOf)!.map(typeText).join(' or ');
  return 'any JSON value';
}

function range(s: Schema): string {
  const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
  if (s.minimum !== undefined && max !== undefined) return ` from ${fmt(s.minimum)} to ${fmt(max)}`;
  if (s.minimum !== undefined) return `, at least ${fmt(s.minimum)}`;
  if (max !== undefined) return `, at most ${fmt(max)}`;
  return '';
}

const fmt = (n: number) => n.toLocaleString('en-US');
const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const plural = (type: string) => (type === 'string, not empty' ? 'non-empty strings' : type.replace(/^string/, 'strings'));
/** Text safe inside a Markdown table cell. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** docs/spec.md with its generated part replaced by `generated`; throws when the markers are missing. */
export function withReference(doc: string, generated: string): string {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (begin < 0 || end < begin) throw new Error(`docs/spec.md needs the markers ${BEGIN_MARKER} and ${END_MARKER}, in that order`);
  return `${doc.slice(0, begin + BEGIN_MARKER.length)}\n${generated}${doc.slice(end)}`;
}

/** The generated part as docs/spec.md has it now, or undefined without the markers. */
export function currentReference(doc: string): string | undefined {
  const begin = doc.indexOf(BEGIN_MARKER);
  const end = doc.indexOf(END_MARKER);
  if (begin < 0 || end < begin) return undefined;
  return doc.slice(begin + BEGIN_MARKER.length + 1, end);
}

function main(args: string[]): void {
  const generated = specReference();
  if (args.includes('--write')) {
    const doc = readFileSync(SPEC_DOC, 'utf8');
    const next = withReference(doc, generated);
    if (next !== doc) writeFileSync(SPEC_DOC, next);
    process.stderr.write(next === doc ? 'docs/spec.md is up to date\n' : 'docs/spec.md: the spec reference is regenerated\n');
  } else if (args.includes('--check')) {
    const current = currentReference(readFileSync(SPEC_DOC, 'utf8'));
    if (current !== generated) {
      process.stderr.write(`docs/spec.md is out of date with src/spec/schema.ts: run \`${REGENERATE}\`\n`);
      process.exitCode = 1;
    }
  } else {
    process.stdout.write(generated);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
