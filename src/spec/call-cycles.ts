/**
 * Cycles among saved specs through their call steps. A spec that calls itself, directly or through others, stops
 * only at the nesting limit, after starting child runs at every level: it is invalid, as a cycle of steps is. Found
 * with the step graph's findCycles, over a graph of spec names.
 */
import { findCycles } from './graph.js';
import { problem, type Problem } from './problems.js';
import type { CallStep } from './schema.js';
import { specsCalled, type SpecLibrary } from './uses.js';

/** name -> names of the library's specs that its call steps run (a name the library lacks is no edge). */
function callGraph(library: SpecLibrary): Map<string, string[]> {
  return new Map([...library].map(([name, spec]) => [name, specsCalled(spec).filter((n) => library.has(n))]));
}

/**
 * Every cycle of calls among the library's specs, each once, as names: ['refund', 'notify', 'refund']. A loader
 * refuses a library with any: none of the specs on a cycle can finish.
 */
export function libraryCallCycles(library: SpecLibrary): string[][] {
  return findCycles([...library.keys()], callGraph(library));
}

/**
 * Cycles that a spec's call steps lead into, each reported at the `spec` of every call step that reaches it.
 * `savedAs` is the spec's own name in the library when it is a saved spec: it stands for the library's copy, so a
 * call back to it is a cycle (`refund -> notify -> refund`) even before this version is saved.
 */
export function callCycleProblems(calls: ReadonlyArray<{ step: CallStep; index: number }>, library: SpecLibrary, savedAs?: string): Problem[] {
  const graph = callGraph(library);
  const here = [...new Set(calls.map((c) => c.step.spec))].filter((n) => library.has(n) || n === savedAs);
  if (savedAs !== undefined) graph.set(savedAs, here);
  // Cycles start at the first name in this order: this spec, then the specs it calls, as a person reads the chain.
  const order = [...new Set([...(savedAs === undefined ? [] : [savedAs]), ...here, ...library.keys()])];
  const cycles = findCycles(order, graph);
  if (cycles.length === 0) return [];
  return calls.flatMap(({ step, index }) => {
    if (!graph.has(step.spec)) return [];
    const reached = reachable(graph, step.spec);
    return cycles
      .filter((cycle) => reached.has(cycle[0]!))
      .map((cycle) => {
        const through = cycle.includes(step.spec) ? '' : ` (reached through "${step.spec}")`;
        return problem('CYCLE', ['steps', index, 'spec'], `cycle: ${cycle.join(' -> ')}${through}`);
      });
  });
}

/** Names reachable from `from` along calls, `from` included. */
function reachable(graph: ReadonlyMap<string, readonly string[]>, from: string): Set<string> {
  const seen = new Set([from]);
  const queue = [from];
  while (queue.length > 0) {
    for (const next of graph.get(queue.shift()!) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}
