/**
 * The tool activity: args checked against the tool's input schema, the policy asked (a tool that needs a
 * person for these args does not run until the workflow passes the approval), the result checked against its
 * output schema. Bad args or output are not retried: trying again would give the same answer.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { z } from 'zod';
import type { ToolCall, ToolCallResult, ToolInfo } from '../engine/messages.js';
import { needsApproval, type Tool } from '../tools/define.js';

export function createToolActivities(tools: readonly Tool[]) {
  const byName = new Map(tools.map((t) => [t.name, t]));
  return {
    /** Defaults and policy of the named tools; fails (not retried) when this worker lacks one. */
    async describeTools(names: string[]): Promise<ToolInfo> {
      const missing = names.filter((n) => !byName.has(n));
      if (missing.length > 0) {
        throw ApplicationFailure.nonRetryable(
          `this worker has no tool ${missing.map((n) => `"${n}"`).join(', ')} (it has: ${[...byName.keys()].join(', ') || 'none'})`,
          'UnknownTool',
        );
      }
      return Object.fromEntries(
        names.map((n) => {
          const t = byName.get(n)!;
          const approval = t.approval === undefined ? 'never' : t.approval === 'required' ? 'required' : 'conditional';
          return [n, { approval, ...(t.timeout !== undefined && { timeout: t.timeout }), ...(t.retry !== undefined && { retry: t.retry }) }];
        }),
      );
    },

    async runTool(call: ToolCall): Promise<ToolCallResult> {
      const ctx = Context.current();
      const attempt = ctx.info.attempt;
      const tool = byName.get(call.tool);
      if (!tool) {
        throw ApplicationFailure.nonRetryable(
          `this worker has no tool "${call.tool}" (it has: ${[...byName.keys()].join(', ') || 'none'})`,
          'UnknownTool',
        );
      }
      const args = tool.input.safeParse(call.args);
      if (!args.success) throw ApplicationFailure.nonRetryable(`invalid args for ${tool.name}: ${zodSummary(args.error)}`, 'InvalidToolArgs');
      if (call.approvedBy === undefined) {
        let gated: boolean;
        try {
          gated = needsApproval(tool, args.data);
        } catch (e) {
          throw ApplicationFailure.nonRetryable(`the approval policy of ${tool.name} threw: ${(e as Error).message}`, 'ToolPolicyFailed');
        }
        if (gated) return { ran: false, needsApproval: true, attempt };
      }
      const output = await tool.run(args.data, { idempotencyKey: call.idempotencyKey, attempt, signal: ctx.cancellationSignal, logger: ctx.log });
      const checked = tool.output.safeParse(output);
      if (!checked.success)
        throw ApplicationFailure.nonRetryable(`${tool.name} returned an invalid output: ${zodSummary(checked.error)}`, 'InvalidToolOutput');
      return { ran: true, output: checked.data, attempt };
    },
  };
}

/** Compact: the model and the person both read this. */
function zodSummary(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`)
    .join('; ');
}
