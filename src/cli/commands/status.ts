import type { Command } from 'commander';
import type { StepState, TokenUsage } from '../../engine/state.js';
import { formatCost, type Cost } from '../../pricing/cost.js';
import { oneLine } from '../../spec/text.js';
import { withClient } from '../client.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("a run's status, each step's status and output, and the approvals it waits for (an ended run's needs no worker)")
    .argument('<run>', 'the run id')
    .option(
      '--json',
      'print the status view: { "runId", "status", "steps": { id: { "status", "output", ... } }, "pending", "output", ... } (trellis schema --status)',
    )
    .addHelpText('after', '\nExample:\n  $ trellis status refund-damaged-order-1a2b3c4d --json')
    .action(async (run: string, opts: { json?: boolean }) => {
      await withClient(async (client) => {
        const view = await client.status(run);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
          return;
        }
        const lines = [`${view.runId} (${view.name}): ${view.status}${view.error ? ` — ${view.error}` : ''}`];
        if (view.goal !== undefined) lines.push(`  goal: ${view.goal}`);
        lines.push(`  used: ${usageText(view)}, ${view.executed.toLocaleString('en-US')} step executions`);
        for (const earlier of view.earlierPlans ?? []) {
          const { step, comment } = earlier.replacedBecause;
          lines.push(`  plan ${earlier.plan} (${earlier.spec.name}), replaced: ${step} denied with "${oneLine(comment, 80)}"`);
          for (const [id, s] of Object.entries(earlier.steps)) lines.push(stepLine(id, s, '    '));
        }
        if (view.earlierPlans) lines.push(`  plan ${view.earlierPlans.length + 1}${view.spec ? ` (${view.spec.name})` : ''}:`);
        for (const [id, s] of Object.entries(view.steps)) lines.push(stepLine(id, s, '  '));
        for (const p of view.pending) {
          if (p.source === 'plan' && p.details) lines.push(`  the plan:\n${p.details.replace(/^/gm, '    ')}`);
          else if (p.details) lines.push(`  asks: ${oneLine(p.details, 200)}`);
          const who = p.approvers ? ` (approvers: ${p.approvers.join(', ')})` : '';
          const until = p.deadline ? ` (until ${p.deadline})` : '';
          const deny = p.source === 'plan' ? '[--deny --comment "what to change"]' : '[--deny]';
          lines.push(`  waiting for a person: ${p.step}: ${p.title}${who}${until}\n    trellis approve ${view.runId} ${p.step} --by NAME ${deny}`);
        }
        for (const r of view.refused ?? []) lines.push(`  refused answer (${r.via}, ${r.at}${r.by ? `, by ${r.by}` : ''}): ${r.code}: ${r.message}`);
        if (view.status === 'completed') lines.push(`  output: ${JSON.stringify(view.output)}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    });
}

function stepLine(id: string, s: StepState, indent: string): string {
  const detail =
    s.status === 'completed'
      ? s.omitted !== undefined
        ? ` (output of ${s.omitted.toLocaleString('en-US')} bytes left out: over the payload limit)`
        : ` ${oneLine(JSON.stringify(s.output) ?? 'null', 80)}`
      : s.reason
        ? ` (${s.reason})`
        : s.run
          ? ` (child run ${s.run})`
          : '';
  return `${indent}${id.padEnd(16)} ${s.status.padEnd(9)}${detail}${s.tokens ? ` [${usageText({ tokens: s.tokens, ...(s.cost && { cost: s.cost }) })}]` : ''}`;
}

/** `1,234 LLM tokens, $0.0123` (the cost: `unknown (no price for m)` when a model had none). */
function usageText(u: { tokens: TokenUsage; cost?: Cost }): string {
  return `${u.tokens.total.toLocaleString('en-US')} LLM tokens${u.cost ? `, ${formatCost(u.cost)}` : ''}`;
}
