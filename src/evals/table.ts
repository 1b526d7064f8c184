/** The results of a suite as a table a person reads in a terminal, and the summary line. Pure. */
import { addCost, formatCost, type Cost } from '../pricing/cost.js';
import type { CaseRecord, CheckStatus } from './check.js';

export const COLUMNS = ['case', 'plan', 'tools', 'steps', 'output', 'tokens', 'cost', 'ms', 'note'] as const;

/** One row's cells, in COLUMNS order. */
export function rowCells(r: CaseRecord): string[] {
  const tries = `${r.attempts} ${r.attempts === 1 ? 'try' : 'tries'}`;
  const plan = `${r.checks.plan === 'pass' ? 'ok' : 'FAIL'}, ${tries}`;
  // tools and notTools share a column: it fails when either does.
  const tools = combine(r.checks.tools, r.checks.notTools);
  let steps = r.steps === null ? '-' : String(r.steps);
  if (r.checks.maxSteps !== undefined) steps = r.checks.maxSteps === 'skip' ? 'skip' : `${cell(r.checks.maxSteps)} (${steps})`;
  const cost = r.cost ? (r.cost.unknown ? 'unknown' : formatCost(r.cost)) : '-';
  return [r.name, plan, cell(tools), steps, cell(r.checks.output), String(r.tokens.total), cost, String(Math.round(r.ms)), r.failure ?? ''];
}

/** The records as an aligned text table, one row a case: case, plan, tools, steps, output, tokens, cost, ms, note (the first failure). */
export function renderTable(records: readonly CaseRecord[]): string {
  const rows = [[...COLUMNS] as string[], ...records.map(rowCells)];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const numeric = new Set([5, 6, 7]);
  const format = (row: string[]) =>
    row
      .map((text, i) => (i === row.length - 1 ? text : numeric.has(i) ? text.padStart(widths[i]!) : text.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w, i) => '-'.repeat(i === widths.length - 1 ? Math.max(w, 4) : w)).join('  ');
  return [format(rows[0]!), rule, ...rows.slice(1).map(format)].join('\n');
}

/** `cost: $0.0123 in all (planning and runs)`, or `unknown (no price for m)`; undefined when no case was priced. */
export function costLine(records: readonly CaseRecord[]): string | undefined {
  const priced = records.filter((r) => r.cost);
  if (priced.length === 0) return undefined;
  return `cost: ${formatCost(priced.reduce<Cost>((sum, r) => addCost(sum, r.cost), { usd: 0 }))} in all (planning and runs)`;
}

/** `2 passed, 1 failed`. */
export function summaryLine(records: readonly CaseRecord[]): string {
  const passed = records.filter((r) => r.passed).length;
  return `${passed} passed, ${records.length - passed} failed`;
}

function combine(a: CheckStatus | undefined, b: CheckStatus | undefined): CheckStatus | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a === 'fail' || b === 'fail') return 'fail';
  if (a === 'skip' || b === 'skip') return 'skip';
  return 'pass';
}

function cell(status: CheckStatus | undefined): string {
  switch (status) {
    case undefined:
      return '-';
    case 'pass':
      return 'ok';
    case 'fail':
      return 'FAIL';
    case 'skip':
      return 'skip';
  }
}
