/**
 * Every activity's result is measured before it goes back to Temporal: one over the payload limit fails the call at
 * once, non-retryably, naming it and the size. Temporal would refuse it anyway (over 2 MB) and retry the activity,
 * running a tool's side effects again; under its limit but over Trellis's it would still grow the run's history
 * toward the point where the server ends the run.
 */
import { ApplicationFailure, type Context } from '@temporalio/activity';
import type { ActivityInboundCallsInterceptor, ActivityInterceptors } from '@temporalio/worker';
import { jsonBytes } from '../engine/payload.js';

/**
 * The activity interceptor that fails, non-retryably (TrellisPayloadTooLarge), a result over `limitBytes` as JSON. For
 * `interceptors: { activity: [payloadLimitInterceptor(limits.payloadBytes)] }` of a Worker you create yourself;
 * `stored` says a blob store takes large payloads (so Temporal's 2 MB is not the reason), for the message.
 */
export function payloadLimitInterceptor(limitBytes: number, options: { stored?: boolean } = {}): (ctx: Context) => ActivityInterceptors {
  const why = options.stored
    ? '(TRELLIS_MAX_PAYLOAD_BYTES)'
    : '(TRELLIS_MAX_PAYLOAD_BYTES; Temporal refuses over 2 MB, and there is no blob store: TRELLIS_BLOB_STORE is "none")';
  return (ctx) => ({ inbound: new PayloadLimit(ctx, limitBytes, why) });
}

class PayloadLimit implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly ctx: Context,
    private readonly limit: number,
    private readonly why: string,
  ) {}

  async execute(input: { args: unknown[] }, next: (input: { args: unknown[]; headers: never }) => Promise<unknown>): Promise<unknown> {
    const result = await next(input as never);
    const bytes = jsonBytes(result);
    if (bytes > this.limit) {
      const n = (x: number) => x.toLocaleString('en-US');
      throw ApplicationFailure.nonRetryable(
        `${callName(this.ctx.info.activityType, input.args[0])} gave ${n(bytes)} bytes, over the payload limit of ${n(this.limit)} bytes ${this.why}: ` +
          'it is not called again; return less, or select what the run needs',
        'TrellisPayloadTooLarge',
      );
    }
    return result;
  }
}

/** What was called, as the person reads it: `tool lookup_order in step big`. */
function callName(type: string, first: unknown): string {
  const call = first !== null && typeof first === 'object' ? (first as { step?: unknown; tool?: unknown }) : {};
  const step = typeof call.step === 'string' ? ` in step ${call.step}` : '';
  if (type === 'runTool' && typeof call.tool === 'string') return `tool ${call.tool}${step}`;
  if (type === 'callLlm') return `the model's reply${step}`;
  if (type === 'callAgentTurn') return `an agent turn${step}`;
  if (type === 'planGoal') return 'the planner';
  return `activity ${type}`;
}
