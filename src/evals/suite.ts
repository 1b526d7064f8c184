/**
 * An eval suite: goals with expectations about the plan a model writes for them (it validates, uses these
 * tools and not those, stays under N steps) and, optionally, about the output of running it. YAML or JSON,
 * checked with zod so a bad suite gets one "path: message" line per problem. Pure: no I/O.
 */
import { z } from 'zod';
import { parseSpecText } from '../spec/parse.js';
import { compareProblems, formatPath, formatProblem } from '../spec/problems.js';
import type { ToolCatalog } from '../spec/catalog.js';
import { didYouMean } from '../spec/suggest.js';
import { zodIssueProblems } from '../spec/zod-issues.js';

const toolName = z.string().min(1);

/** What a case expects of the plan (and of its run's output); each field's description says what it checks. */
export const ExpectSchema = z
  .strictObject({
    valid: z.boolean().optional().meta({ description: 'default true: the planner returns a valid spec within its repair budget' }),
    tools: z.array(toolName).optional().meta({ description: 'the plan uses at least these tools' }),
    notTools: z.array(toolName).optional().meta({ description: 'the plan uses none of these tools' }),
    maxSteps: z.int().min(1).optional().meta({ description: 'the plan has at most this many (top-level) steps' }),
    output: z.unknown().optional().meta({ description: 'the plan is run and its output must contain this (deep partial match)' }),
  })
  .superRefine((e, ctx) => {
    if (e.valid !== false) return;
    for (const key of ['tools', 'notTools', 'maxSteps', 'output'] as const) {
      if (e[key] !== undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: 'valid: false expects no plan, so there is nothing to check this against' });
    }
  });

/** One case of a suite: a named goal, its input, and what is expected. */
export const CaseSchema = z.strictObject({
  name: z.string().min(1),
  goal: z.string().min(1),
  description: z.string().optional(),
  input: z.unknown().optional().meta({ description: 'the run input: shown to the planner, and given to the run' }),
  expect: ExpectSchema.optional(),
});

/** A whole eval suite: a name, the tools module, and its cases (at least one; names unique). */
export const SuiteSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    tools: z.string().min(1).optional().meta({ description: 'the tools module, relative to the suite file; --tools overrides it' }),
    cases: z.array(CaseSchema).min(1),
  })
  .superRefine((suite, ctx) => {
    const seen = new Map<string, number>();
    suite.cases.forEach((c, i) => {
      const first = seen.get(c.name);
      if (first !== undefined)
        ctx.addIssue({ code: 'custom', path: ['cases', i, 'name'], message: `duplicate case name "${c.name}" (cases[${first}] has it)` });
      else seen.set(c.name, i);
    });
  });

/** A case's expectations (ExpectSchema). Without any, the case expects a valid plan and nothing more. */
export type Expect = z.infer<typeof ExpectSchema>;
/** One case of a suite (CaseSchema): what runSuite and runCase take. */
export type EvalCase = z.infer<typeof CaseSchema>;
/** An eval suite (SuiteSchema), as parseSuite gives it. */
export type Suite = z.infer<typeof SuiteSchema>;

/** A suite, or one "path: message" line per problem. */
export type SuiteParse = { ok: true; suite: Suite } | { ok: false; problems: string[] };

/** Suite text (YAML or JSON) to a suite, or one "path: message" line per problem. */
export function parseSuite(text: string, filename?: string): SuiteParse {
  const parsed = parseSpecText(text, filename === undefined ? {} : { filename });
  if (!parsed.ok) return { ok: false, problems: parsed.problems.map(formatProblem) };
  return checkSuite(parsed.value);
}

/** A parsed document to a suite, or one "path: message" line per problem. */
export function checkSuite(value: unknown): SuiteParse {
  const r = SuiteSchema.safeParse(value, { reportInput: true });
  if (r.success) return { ok: true, suite: r.data };
  // Sorted by path, as the validator sorts a spec's problems.
  return { ok: false, problems: zodIssueProblems(r.error.issues, { schema: SuiteSchema }).sort(compareProblems).map(formatProblem) };
}

/** Tool names in expectations that the catalog lacks: a typo there would make a case pass or fail for nothing. */
export function checkSuiteTools(suite: Suite, catalog: ToolCatalog): string[] {
  const names = [...catalog.keys()];
  const out: string[] = [];
  suite.cases.forEach((c, i) => {
    for (const key of ['tools', 'notTools'] as const) {
      c.expect?.[key]?.forEach((tool, j) => {
        if (!catalog.has(tool))
          out.push(
            `${formatPath(['cases', i, 'expect', key, j])}: unknown tool "${tool}"${didYouMean(tool, names)}${names.length === 0 ? ' (the catalog is empty: name a tools module)' : ''}`,
          );
      });
    }
  });
  return out;
}
