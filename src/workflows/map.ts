/**
 * The map step: one sub-step (a tool call or a model call) per item, at most maxParallel at once (and never more
 * than the run's own limit), outputs in the items' order. A failed item fails the step, naming it (no new item
 * starts after it), unless onItemError is continue: then its output is null. A person's denial of a gated item
 * is an answer: null. A map with more items than the run's budget has step executions left fails before any item
 * runs, so it is never half-run for want of budget.
 */
import type { ResolvedStep } from '../engine/schedule.js';
import { BudgetExceeded } from './budget.js';
import { Withdrawn } from './session.js';
import { callModel, callTool, describeError, GateDenied, inLanes, type StepContext } from './step-context.js';

type MapStep = Extract<ResolvedStep, { kind: 'map' }>;

export async function runMap(ctx: StepContext, map: MapStep): Promise<unknown[]> {
  const { session } = ctx;
  const left = session.budget.executionsLeft();
  if (map.items.length > left) {
    throw new BudgetExceeded(
      `maxSteps ${session.budget.caps.maxSteps}: map step "${ctx.id}" has ${map.items.length} items and the run has ${left} step executions left`,
    );
  }
  const outputs: unknown[] = new Array(map.items.length).fill(null);
  const state = session.steps[ctx.id]!;
  let failed: Error | undefined;

  const runItem = async (index: number): Promise<void> => {
    const item = map.items[index]!;
    const label = `item ${index} of map step "${ctx.id}"`;
    session.budget.countExecution(label);
    if (item.kind === 'tool') {
      const r = await callTool(ctx, item.tool, item.args, `${ctx.key}/${index}`, `map ${ctx.id}[${index}] tool ${item.tool}`);
      state.attempts += r.attempts;
      outputs[index] = r.output;
      return;
    }
    const { kind: _kind, ...call } = item;
    const r = await callModel(ctx, call, `map ${ctx.id}[${index}] llm`, label);
    state.attempts += r.attempt;
    outputs[index] = r.output;
  };

  let done = 0;
  await inLanes(
    map.items.length,
    Math.min(map.maxParallel, ctx.maxParallel),
    async (index) => {
      try {
        await runItem(index);
      } catch (e) {
        if (e instanceof GateDenied) return; // an answer: the item's output stays null
        if (e instanceof BudgetExceeded || e instanceof Withdrawn) failed ??= e;
        else if (map.onItemError === 'fail') failed ??= new Error(`item ${index}: ${describeError(e)}`);
      } finally {
        done++;
      }
    },
    () => failed !== undefined || session.stopping(),
  );
  if (failed) throw failed;
  // A new plan was asked for before every item ran: the map did not finish, so it is not offered to the new plan.
  if (done < map.items.length) throw new Withdrawn();
  return outputs;
}
