/**
 * The step graph: a step depends on every step it references as `steps.X` (in any of its sites: a map's items and
 * sub-step and a call's input included) and on every id in `after`. Pure functions over a spec that already passed
 * the shape check.
 */
import { compileExpression } from './expression.js';
import type { Spec, Step } from './schema.js';
import { stepSites, type ExpressionSite } from './sites.js';
import { parseTemplate } from './template.js';

/** Expression sources in a site: a condition or a bare expression (a map's items) whole, or each `${...}` of a template. */
export function siteExpressions(site: Pick<ExpressionSite, 'kind' | 'text'>): Array<{ source: string; offset: number }> {
  if (site.kind !== 'template') return [{ source: site.text, offset: 0 }];
  return parseTemplate(site.text).flatMap((p) => (typeof p === 'string' ? [] : [{ source: p.expression, offset: p.offset }]));
}

/** Ids this step waits for. Unknown ids are kept: the validator reports them, the graph ignores them. */
export function stepDependencies(step: Step, index: number): Set<string> {
  const deps = new Set<string>(step.after ?? []);
  for (const site of stepSites(step, index)) {
    for (const { source } of siteExpressions(site)) {
      for (const ref of compileExpression(source).references) deps.add(ref.step);
    }
  }
  return deps;
}

/** id -> ids it depends on (through `steps.X` references and `after`), restricted to other steps that exist. */
export function dependencyMap(spec: Spec): Map<string, string[]> {
  const ids = new Set(spec.steps.map((s) => s.id));
  const map = new Map<string, string[]>();
  spec.steps.forEach((step, i) => {
    map.set(
      step.id,
      [...stepDependencies(step, i)].filter((d) => ids.has(d) && d !== step.id),
    );
  });
  return map;
}

/**
 * Cycles, one per strongly connected component (Tarjan), each as the ids along it with the first repeated
 * at the end: ['a', 'b', 'a']. Components are listed in spec order of their first step.
 */
export function findCycles(order: readonly string[], deps: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  // Iterative, so a 1,000-step chain cannot overflow the call stack.
  for (const root of order) {
    if (index.has(root)) continue;
    const work: Array<{ id: string; next: number }> = [{ id: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const edges = deps.get(frame.id) ?? [];
      if (frame.next < edges.length) {
        const to = edges[frame.next++]!;
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ id: to, next: 0 });
        } else if (onStack.has(to)) low.set(frame.id, Math.min(low.get(frame.id)!, index.get(to)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(frame.id)!));
      if (low.get(frame.id) === index.get(frame.id)) {
        const component: string[] = [];
        let id: string;
        do {
          id = stack.pop()!;
          onStack.delete(id);
          component.push(id);
        } while (id !== frame.id);
        const selfLoop = component.length === 1 && (deps.get(component[0]!) ?? []).includes(component[0]!);
        if (component.length > 1 || selfLoop) components.push(component);
      }
    }
  }
  const position = new Map(order.map((id, i) => [id, i]));
  const first = (c: string[]) => Math.min(...c.map((id) => position.get(id) ?? Infinity));
  return components.sort((a, b) => first(a) - first(b)).map((c) => cyclePath(c, deps, order));
}

/** A walk around one component, starting at its first step in spec order. */
function cyclePath(component: string[], deps: ReadonlyMap<string, readonly string[]>, order: readonly string[]): string[] {
  const members = new Set(component);
  const start = order.find((id) => members.has(id))!;
  // Breadth-first from start's dependencies back to start gives the shortest cycle through start.
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const id = queue.shift()!;
    for (const to of deps.get(id) ?? []) {
      if (!members.has(to) || previous.has(to)) continue;
      previous.set(to, id);
      if (to === start) queue.length = 0;
      else queue.push(to);
    }
  }
  const path = [start];
  let cur = previous.get(start)!;
  while (cur !== start) {
    path.push(cur);
    cur = previous.get(cur)!;
  }
  path.push(start);
  // previous links point backwards (dependency to dependent): reverse to read "a depends on b".
  return [start, ...path.slice(1, -1).reverse(), start];
}

/**
 * Steps in an order where every step comes after its dependencies (`order` among equals): pass the spec's ids and
 * dependencyMap(spec). Steps on a cycle, and those after them, are left out; the validator reports cycles.
 */
export function topologicalOrder(order: readonly string[], deps: ReadonlyMap<string, readonly string[]>): string[] {
  const remaining = new Map(order.map((id) => [id, (deps.get(id) ?? []).length]));
  const dependents = new Map<string, string[]>();
  for (const id of order) {
    for (const d of deps.get(id) ?? []) {
      const list = dependents.get(d);
      if (list) list.push(id);
      else dependents.set(d, [id]);
    }
  }
  const out: string[] = [];
  const ready = order.filter((id) => remaining.get(id) === 0);
  while (ready.length > 0) {
    const id = ready.shift()!;
    out.push(id);
    for (const next of dependents.get(id) ?? []) {
      const left = remaining.get(next)! - 1;
      remaining.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  return out;
}
