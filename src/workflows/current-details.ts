/**
 * What the Temporal UI's current details say while a run waits: each gate's step, what it asks, of whom, until
 * when, and how to answer; a plan under review whole; the latest refused answers. Markdown, as the UI renders it.
 */
import type { PendingApproval, RefusedAnswer, RunUsage } from '../engine/messages.js';
import { formatCost } from '../pricing/cost.js';
import { oneLine } from '../spec/text.js';

/**
 * What each gate asks, of whom, until when, and how to answer, as the Temporal UI's current details (markdown). With
 * `signed`, the worker takes only signed answers, which the UI's "Send an Update" cannot make: people answer in the inbox.
 */
export function waitingDetails(runId: string, waiting: readonly PendingApproval[], signed = false): string {
  const lines = ['**Waiting for a person**', ''];
  for (const g of waiting) {
    const kind = g.source === 'policy' ? 'a tool that needs approval' : g.source === 'plan' ? 'the plan' : 'approval';
    lines.push(`- **${g.step}** (${kind}): ${oneLine(g.title, 300)}`);
    if (g.details && g.source !== 'plan') lines.push(`  - asks: ${oneLine(g.details, 2000)}`);
    if (g.approvers) lines.push(`  - approvers: ${g.approvers.join(', ')}`);
    if (g.deadline) lines.push(`  - deadline: ${g.deadline}`);
    lines.push(
      signed
        ? `  - answer: in the inbox of trellis serve (this worker takes only signed answers, so "Send an Update" here is refused), or \`trellis approve ${runId} ${g.step} --by NAME\` with TRELLIS_DECISION_KEY`
        : `  - answer: \`trellis approve ${runId} ${g.step} --by NAME\` (\`--deny\` to refuse), or the update \`decide\` with \`{"step":"${g.step}","approved":true,"by":"NAME"}\``,
    );
  }
  const plan = waiting.find((g) => g.source === 'plan');
  // A plan under review is shown whole, so the reviewer can read it there.
  if (plan?.details) lines.push('', '**Plan**', '', plan.details);
  return lines.join('\n');
}

export function refusedDetails(refused: readonly RefusedAnswer[]): string {
  const newest = refused.slice(-5).reverse();
  return [
    '**Refused answers** (newest first)',
    '',
    ...newest.map((r) => `- ${r.at} ${r.via}${r.step ? ` for ${r.step}` : ''}${r.by ? ` by ${r.by}` : ''}: ${r.code}: ${r.message}`),
  ].join('\n');
}

/** What the run used, for the details of an ended run: `**Used** 1,234 LLM tokens, $0.0123`. */
export function usageDetails(usage: Pick<RunUsage, 'tokens' | 'cost'>): string {
  return `**Used** ${usage.tokens.total.toLocaleString('en-US')} LLM tokens, ${usage.cost ? formatCost(usage.cost) : 'no model calls'}`;
}
