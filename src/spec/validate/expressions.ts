/** The expressions of one site: they parse, read only names in scope, and select fields their steps can have. */
import type { JsonSchema } from '../catalog.js';
import { compileExpression, ExpressionSyntaxError, ITEM_VARIABLES, SCOPE_VARIABLES, type CompiledExpression } from '../expression.js';
import { siteExpressions } from '../graph.js';
import { problem, type PathSegment, type Problem } from '../problems.js';
import { regexProblem } from '../regex.js';
import type { Step } from '../schema.js';
import { selectField, type FieldLookup } from '../schema-check.js';
import type { ExpressionSite } from '../sites.js';
import { stepOutputSchema } from '../step-output.js';
import { closest, didYouMean } from '../suggest.js';
import { TemplateSyntaxError } from '../template.js';
import { article } from '../zod-issues.js';
import { addDependency, type Context } from './context.js';

/** Parses the expressions of one site and checks what they reference. `step` is undefined for the run output. */
export function checkSite(site: ExpressionSite, step: Step | undefined, ctx: Context): void {
  if (site.kind !== 'template' && site.text.includes('${')) {
    const single = /^\s*\$\{([^{}]*)\}\s*$/.exec(site.text);
    const hint = single ? `write ${single[1]!.trim()}` : 'write it';
    const field = String(site.path[site.path.length - 1]); // when, or a map's items
    ctx.problems.push(problem('EXPRESSION', site.path, `"${field}" is an expression already: ${hint} without \${...}`));
    return;
  }
  let expressions: Array<{ source: string; offset: number }>;
  try {
    expressions = siteExpressions(site);
  } catch (e) {
    if (!(e instanceof TemplateSyntaxError)) throw e;
    ctx.problems.push(problem('EXPRESSION', site.path, `${e.reason} (at column ${e.offset + 1})`));
    return;
  }
  for (const { source } of expressions) {
    let compiled: CompiledExpression;
    try {
      compiled = compileExpression(source);
    } catch (e) {
      if (!(e instanceof ExpressionSyntaxError)) throw e;
      ctx.problems.push(problem('EXPRESSION', site.path, e.message));
      continue;
    }
    for (const pattern of compiled.regexLiterals) {
      const invalid = regexProblem(pattern);
      if (invalid) ctx.problems.push(problem('EXPRESSION', site.path, invalid.message));
    }
    checkReferences(compiled, site, step, ctx);
  }
}

const ITEM_SCOPE_VARIABLES: readonly string[] = [...SCOPE_VARIABLES, ...ITEM_VARIABLES];

function checkReferences(expr: CompiledExpression, site: ExpressionSite, step: Step | undefined, ctx: Context): void {
  const path = site.path;
  for (const name of expr.variables) {
    const unknown = unknownVariable(name, expr.source, site);
    if (unknown) ctx.problems.push(unknown);
  }
  // `item.field` is not checked against the list's item schema (see checkItemsAreList).
  for (const ref of expr.references) {
    if (step && ref.step === step.id) {
      ctx.problems.push(problem('SELF_REFERENCE', path, `step "${step.id}" cannot reference its own output (steps.${ref.step})`));
      continue;
    }
    const target = ctx.steps.get(ref.step);
    if (step) addDependency(ctx, step, ref.step);
    if (!ctx.ids.has(ref.step)) {
      ctx.problems.push(problem('UNKNOWN_STEP', path, `unknown step "${ref.step}" in steps.${ref.step}${didYouMean(ref.step, ctx.ids.keys())}`));
      continue;
    }
    if (!target || ref.fields.length === 0) continue;
    const schema = stepOutputSchema(target, ctx.tools, ctx.specs);
    if (schema) checkFields(schema, ['steps', ref.step], ref.fields, path, describeStepOutput(target), ctx.problems);
  }
  if (ctx.inputSchema) {
    for (const ref of expr.inputReferences) checkFields(ctx.inputSchema, ['input'], ref.fields, path, 'the input schema', ctx.problems);
  }
}

/** A name an expression reads must be in its scope: input, steps, run, and inside a map's step item and index. */
function unknownVariable(name: string, source: string, site: ExpressionSite): Problem | undefined {
  const allowed = site.itemScope ? ITEM_SCOPE_VARIABLES : SCOPE_VARIABLES;
  if (allowed.includes(name)) return undefined;
  const where = `unknown name "${name}" in ${JSON.stringify(source)}`;
  const why = (ITEM_VARIABLES as readonly string[]).includes(name)
    ? `: item and index exist only inside a map's step; here expressions can use`
    : `${didYouMean(name, allowed)}; expressions can use`;
  return problem('UNKNOWN_VARIABLE', site.path, `${where}${why} ${allowed.join(', ')}`);
}

export function describeStepOutput(step: Step): string {
  if ((step.kind === 'llm' || step.kind === 'agent') && !step.output)
    return `the reply text of ${step.kind} step "${step.id}" (it has no output schema)`;
  if (step.kind === 'tool') return `the output of tool ${step.tool}`;
  return `the output of ${step.kind} step "${step.id}"`;
}

/** Walks `steps.x.a.b` through an output schema, reporting the first field that cannot exist. */
function checkFields(schema: JsonSchema, prefix: string[], fields: string[], path: PathSegment[], origin: string, problems: Problem[]): void {
  const reached = walkFields(schema, prefix, fields, origin);
  if ('problem' in reached) problems.push(problem('TYPE', path, reached.problem));
}

type Walk =
  | { found: JsonSchema; /** `steps.x.a is a string`: the chain with a type, for a message */ says: (type: string) => string }
  | { problem: string }
  | { unknown: true };

/** The schema at the end of `prefix.fields`, or why no value can be there, or unknown (the schema does not say). */
export function walkFields(schema: JsonSchema, prefix: string[], fields: string[], origin: string): Walk {
  let current = schema;
  const walked = [...prefix];
  const says = (type: string) => {
    const name = walked.join('.');
    return walked.length === prefix.length ? `${name} is ${origin}, ${article(type)}` : `${name} is ${article(type)}`;
  };
  for (const field of fields) {
    const r: FieldLookup = selectField(current, field);
    if ('missing' in r) {
      const hint = closest(field, r.missing);
      const known = r.missing.length > 0 ? `fields: ${r.missing.join(', ')}` : 'it has no fields';
      return { problem: `${walked.join('.')} has no field "${field}" (${hint ? `did you mean "${hint}"? ` : ''}${known})` };
    }
    if ('notAnObject' in r) return { problem: `${says(r.notAnObject)}; it has no field "${field}"` };
    if ('unknown' in r) return { unknown: true };
    current = r.found;
    walked.push(field);
  }
  return { found: current, says };
}
