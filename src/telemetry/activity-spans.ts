/** The attributes that place an activity's own spans (a tool call, an agent turn, a plan) in their run and step. */
import type { Attributes } from '@opentelemetry/api';
import { Context } from '@temporalio/activity';
import type { ToolCall } from '../engine/messages.js';

/** trellis.run.id (the workflow's id) and trellis.step.id of the running activity. */
export function activityAttributes(step: string): Attributes {
  const { inWorkflow, workflowExecution } = Context.current().info;
  return { ...(inWorkflow && workflowExecution && { 'trellis.run.id': workflowExecution.workflowId }), 'trellis.step.id': step };
}

/** A tool call's: its run and step, and the GenAI tool attributes. */
export function toolAttributes(call: ToolCall): Attributes {
  return { ...activityAttributes(call.step), 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': call.tool };
}
