/**
 * One step's execution, by kind, once the engine has resolved its inputs: a tool or model call (an activity), a
 * wait for a person or a durable timer, an agent loop, a map's items, or a saved spec as a child run.
 */
import * as wf from '@temporalio/workflow';
import type { ResolvedStep } from '../engine/schedule.js';
import { formatDuration } from '../spec/duration.js';
import type { Spec } from '../spec/schema.js';
import { runAgent } from './agent.js';
import { runCall } from './call.js';
import { runMap } from './map.js';
import { Withdrawn, workflowClockMs, workflowNow } from './session.js';
import { callModel, callTool, type StepContext } from './step-context.js';

/** Runs the step to its output; throws what failed it (GateDenied and Withdrawn are answers, not failures). */
export async function executeStep(ctx: StepContext, resolved: ResolvedStep, library: Readonly<Record<string, Spec>>): Promise<unknown> {
  const { id, session } = ctx;
  const state = session.steps[id]!;
  switch (resolved.kind) {
    case 'tool': {
      const result = await callTool(ctx, resolved.tool, resolved.args, ctx.key, `tool ${resolved.tool}`);
      state.attempts = result.attempts;
      return result.output;
    }
    case 'llm': {
      const { kind: _kind, ...call } = resolved;
      const result = await callModel(ctx, call, `llm ${id}`, `llm step "${id}"`);
      state.attempts = result.attempt;
      return result.output;
    }
    case 'approval': {
      const decision = await session.waitForPerson(
        {
          step: id,
          title: resolved.title,
          ...(resolved.details !== undefined && { details: resolved.details }),
          ...(resolved.approvers !== undefined && { approvers: resolved.approvers }),
          ...(resolved.timeoutMs !== undefined && { deadline: new Date(workflowClockMs() + resolved.timeoutMs).toISOString() }),
          ...(resolved.remindMs !== undefined && { remindMs: resolved.remindMs }),
          source: 'approval',
        },
        resolved.timeoutMs,
        resolved.onTimeout,
      );
      if (!decision) throw wf.ApplicationFailure.nonRetryable(`no answer within ${formatDuration(resolved.timeoutMs!)} (onTimeout: fail)`);
      return decision;
    }
    case 'wait': {
      // A durable timer that a request for a new plan ends early.
      const summary = `wait ${id} ${formatDuration(resolved.durationMs)}`;
      if (await wf.condition(session.stopping, resolved.durationMs, { summary })) throw new Withdrawn();
      return { at: workflowNow() };
    }
    case 'agent':
      return runAgent(ctx, resolved);
    case 'map':
      return runMap(ctx, resolved);
    case 'call':
      return runCall(ctx, library[resolved.spec]!, resolved.input);
  }
}
