/**
 * The tool activity: args checked against the tool's input schema, the policy asked (a tool that needs a
 * person for these args does not run until the workflow passes the approval), the result checked against its
 * output schema. Bad args or output are not retried: trying again would give the same answer.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { z } from 'zod';
import type { ToolCall, ToolCallResult, ToolInfo } from '../engine/messages.js';
import { approvalSetting, policyVerdict, type Tool } from '../tools/define.js';
import { toolAttributes } from '../telemetry/activity-spans.js';
import { inSpan } from '../telemetry/spans.js';

export function createToolActivities(tools: readonly Tool[]) {
  const byName = new Map(tools.map((t) => [t.name, t]));
  const missing = (names: string[]) =>
    ApplicationFailure.nonRetryable(
      `this worker has no tool ${names.map((n) => `"${n}"`).join(', ')} (it has: ${[...byName.keys()].join(', ') || 'none'})`,
      'TrellisUnknownTool',
    );
  return {
    /** Defaults and policy of the named tools; fails (not retried) when this worker lacks one. */
    async describeTools(names: string[]): Promise<ToolInfo> {
      const absent = names.filter((n) => !byName.has(n));
      if (absent.length > 0) throw missing(absent);
      return Object.fromEntries(
        names.map((n) => {
          const t = byName.get(n)!;
          return [
            n,
            {
              approval: approvalSetting(t),
              ...(t.timeout !== undefined && { timeout: t.timeout }),
              ...(t.retry !== undefined && { retry: t.retry }),
              ...(t.approvers !== undefined && { approvers: [...t.approvers] }),
            },
          ];
        }),
      );
    },

    async runTool(call: ToolCall): Promise<ToolCallResult> {
      const ctx = Context.current();
      const attempt = ctx.info.attempt;
      const tool = byName.get(call.tool);
      if (!tool) throw missing([call.tool]);
      const args = tool.input.safeParse(call.args);
      if (!args.success) throw ApplicationFailure.nonRetryable(`invalid args for ${tool.name}: ${zodSummary(args.error)}`, 'TrellisToolArgsInvalid');
      if (call.approvedBy === undefined) {
        // Policy fails closed: anything but a plain `false` (true, 'yes', undefined, a throw) means a person decides.
        const verdict = policyVerdict(tool, args.data);
        if (verdict.needsApproval)
          return { ran: false, needsApproval: true, attempt, ...(verdict.error !== undefined && { policyError: verdict.error }) };
      }
      const output = await inSpan(`execute_tool ${tool.name}`, toolAttributes(call), async () =>
        tool.run(args.data, { idempotencyKey: call.idempotencyKey, attempt, signal: ctx.cancellationSignal, logger: ctx.log }),
      );
      const checked = tool.output.safeParse(output);
      if (!checked.success)
        throw ApplicationFailure.nonRetryable(`${tool.name} returned an invalid output: ${zodSummary(checked.error)}`, 'TrellisToolOutputInvalid');
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
