/**
 * The map step: one sub-step (a tool call or a model call) per item, at most maxParallel at once, outputs in
 * the items' order. A failed item fails the step, naming it (no new item starts after it), unless
 * onItemError is continue: then its output is null. A person's denial of a gated item is an answer: null.
 */
import type { ResolvedStep } from '../engine/schedule.js';
import { BudgetExceeded } from './session.js';
import { activityOptions, callTool, describeError, GateDenied, type StepContext } from './step-context.js';

type MapStep = Extract<ResolvedStep, { kind: 'map' }>;

export async function runMap(ctx: StepContext, map: MapStep): Promise<unknown[]> {
  const outputs: unknown[] = new Array(map.items.length).fill(null);
  const state = ctx.session.steps[ctx.id]!;
  let next = 0;
  let failed: Error | undefined;

  const runItem = async (index: number): Promise<void> => {
    const item = map.items[index]!;
    const label = `item ${index} of map step "${ctx.id}"`;
    ctx.session.countExecution(label);
    if (item.kind === 'tool') {
      const r = await callTool(ctx, item.tool, item.args, `${ctx.key}/${index}`, `map ${ctx.id}[${index}] tool ${item.tool}`);
      state.attempts += r.attempts;
      outputs[index] = r.output;
      return;
    }
    ctx.session.checkTokens(label);
    const { kind: _kind, ...call } = item;
    const r = await ctx.acts.callLlm.executeWithOptions(activityOptions(ctx.step, `map ${ctx.id}[${index}] llm`), [{ step: ctx.id, ...call }]);
    state.attempts += r.attempt;
    ctx.session.addTokens(r.tokens, label);
    outputs[index] = r.output;
  };

  // Each lane takes the next item until none are left or one failed.
  const lane = async (): Promise<void> => {
    while (failed === undefined && next < map.items.length) {
      const index = next++;
      try {
        await runItem(index);
      } catch (e) {
        if (e instanceof GateDenied) continue; // an answer: the item's output stays null
        if (e instanceof BudgetExceeded || map.onItemError === 'fail') {
          failed ??= e instanceof BudgetExceeded ? e : new Error(`item ${index}: ${describeError(e)}`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(map.maxParallel, map.items.length) }, lane));
  if (failed) throw failed;
  return outputs;
}
