import type { Command } from 'commander';
import type { StepState } from '../../engine/state.js';
import { oneLine } from '../../spec/text.js';
import { withClient } from '../client.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description("a run's status, each step's status and output, and the approvals it waits for")
    .argument('<run>', 'the run id')
    .option('--json', 'print { "runId", "status", "steps": { id: { "status", "output" } }, "pending": [{ "step", "title" }], "output" }')
    .addHelpText('after', '\nExample:\n  $ trellis status refund-damaged-order-1a2b3c4d --json')
    .action(async (run: string, opts: { json?: boolean }) => {
      await withClient(async (client) => {
        const view = await client.status(run);
        if (opts.json) {
          const steps = Object.fromEntries(
            Object.entries(view.steps).map(([id, s]) => [
              id,
              {
                status: s.status,
                output: s.output,
                ...(s.reason && { reason: s.reason }),
                attempts: s.attempts,
                ...(s.tokens && { tokens: s.tokens }),
                ...(s.run && { run: s.run }),
              },
            ]),
          );
          const pending = view.pending.map((p) => ({
            step: p.step,
            title: p.title,
            ...(p.details && { details: p.details }),
            ...(p.approvers && { approvers: p.approvers }),
            ...(p.deadline && { deadline: p.deadline }),
          }));
          const goal =
            view.goal !== undefined
              ? { goal: view.goal, ...(view.spec && { spec: view.spec }), ...(view.earlierPlans && { earlierPlans: view.earlierPlans }) }
              : {};
          const json = {
            runId: view.workflowId,
            status: view.status,
            steps,
            pending,
            output: view.output,
            ...(view.error && { error: view.error }),
            tokens: view.tokens,
            executed: view.executed,
            ...goal,
          };
          process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
          return;
        }
        const lines = [`${view.workflowId} (${view.name}): ${view.status}${view.error ? ` — ${view.error}` : ''}`];
        if (view.goal !== undefined) lines.push(`  goal: ${view.goal}`);
        for (const earlier of view.earlierPlans ?? []) {
          const { step, comment } = earlier.replacedBecause;
          lines.push(`  plan ${earlier.plan} (${earlier.spec.name}), replaced: ${step} denied with "${oneLine(comment, 80)}"`);
          for (const [id, s] of Object.entries(earlier.steps)) lines.push(stepLine(id, s, '    '));
        }
        if (view.earlierPlans) lines.push(`  plan ${view.earlierPlans.length + 1}${view.spec ? ` (${view.spec.name})` : ''}:`);
        for (const [id, s] of Object.entries(view.steps)) lines.push(stepLine(id, s, '  '));
        for (const p of view.pending) {
          if (p.source === 'plan' && p.details) lines.push(`  the plan:\n${p.details.replace(/^/gm, '    ')}`);
          const who = p.approvers ? ` (approvers: ${p.approvers.join(', ')})` : '';
          const deny = p.source === 'plan' ? '[--deny --comment "what to change"]' : '[--deny]';
          lines.push(`  waiting for a person: ${p.step}: ${p.title}${who}\n    trellis approve ${view.workflowId} ${p.step} ${deny} [--by NAME]`);
        }
        if (view.status === 'completed') lines.push(`  output: ${JSON.stringify(view.output)}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    });
}

function stepLine(id: string, s: StepState, indent: string): string {
  const detail =
    s.status === 'completed'
      ? ` ${oneLine(JSON.stringify(s.output) ?? 'null', 80)}`
      : s.reason
        ? ` (${s.reason})`
        : s.run
          ? ` (child run ${s.run})`
          : '';
  return `${indent}${id.padEnd(16)} ${s.status.padEnd(9)}${detail}`;
}
