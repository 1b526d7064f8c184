/**
 * The step graph: dependencies (references and `after`), cycles, a topological order, and the Mermaid view.
 */
import { describe, expect, it } from 'vitest';
import { findCycles, stepDependencies } from '../../src/spec/graph.js';
import { dependencyMap, specsCalled, toolsUsed, topologicalOrder, toMermaid, validateSpec, type Spec } from '../../src/spec/index.js';
import { CATALOG, agent, approval, call, expectValid, llm, map, refundSpec, spec, tool, wait, when } from './helpers.js';

const asSpec = (doc: unknown) => doc as Spec;
const deps = (entries: Record<string, string[]>) => new Map(Object.entries(entries));

/** n wait steps s0..s(n-1), each after the one before it. */
function chain(n: number): Spec {
  return asSpec(spec(Array.from({ length: n }, (_, i) => wait(`s${i}`, i === 0 ? {} : { after: [`s${i - 1}`] }))));
}

describe('dependencyMap', () => {
  it('a step depends on the steps it references and those in after', () => {
    expect(Object.fromEntries(dependencyMap(asSpec(refundSpec())))).toEqual({
      order: [],
      assess: ['order'],
      ok: ['assess', 'order'],
      refund: ['ok', 'order'],
    });
  });

  it('lists each dependency once, and leaves out unknown ids and the step itself', () => {
    const doc = asSpec(spec([wait('a'), llm('b', { prompt: '${steps.a.at} ${steps.a.at} ${steps.ghost}', after: ['a', 'b', 'nobody'] })]));
    expect(dependencyMap(doc).get('b')).toEqual(['a']);
    // stepDependencies keeps them: the validator reports them, the graph ignores them.
    expect([...stepDependencies(doc.steps[1]!, 1)].sort()).toEqual(['a', 'b', 'ghost', 'nobody']);
  });

  it('finds references in when, args, prompt, system, title and details', () => {
    const doc = asSpec(
      spec([
        wait('a'),
        wait('b'),
        wait('c'),
        wait('d'),
        wait('e'),
        wait('f'),
        tool('t', { when: 'steps.a != null', args: { orderId: '${steps.b.at}', nested: [{ x: 'n ${steps.c.at}' }] } }),
        llm('l', { prompt: '${steps.d.at}', system: '${steps.e.at}' }),
        approval('p', { title: '${steps.f.at}', details: 'see ${steps.l}' }),
      ]),
    );
    const map = dependencyMap(doc);
    expect(map.get('t')).toEqual(['a', 'b', 'c']);
    expect(map.get('l')).toEqual(['d', 'e']);
    expect(map.get('p')).toEqual(['f', 'l']);
  });

  it("finds references in a map's items and sub-step, an agent's prompt and system, and a call's input", () => {
    const doc = asSpec(
      spec([
        wait('a'),
        wait('b'),
        wait('c'),
        wait('d'),
        wait('e'),
        map('m1', {
          items: 'steps.a.at.split(",")',
          step: { kind: 'tool', tool: 'lookup_order', args: { orderId: '${item}', at: ['${steps.b.at}'] } },
        }),
        map('m2', { items: '[1]', step: { kind: 'llm', prompt: '${steps.c.at} ${item}', system: '${steps.m1}' } }),
        agent('g', { prompt: '${steps.d.at}', system: '${steps.e.at}' }),
        call('k', { when: 'steps.g != ""', input: { x: { y: ['${steps.m2}'] }, z: 'literal' } }),
      ]),
    );
    const deps = dependencyMap(doc);
    expect(deps.get('m1')).toEqual(['a', 'b']);
    expect(deps.get('m2')).toEqual(['c', 'm1']);
    expect(deps.get('g')).toEqual(['d', 'e']);
    expect(deps.get('k')).toEqual(['g', 'm2']);
    // item and index are not steps: a map's sub-step that reads only them depends on nothing.
    expect([...stepDependencies(doc.steps[6]!, 6)]).toEqual(['c', 'm1']);
  });
});

describe('toolsUsed and specsCalled', () => {
  it('lists the tools of tool steps, agents and map tool sub-steps, each once, in spec order', () => {
    const doc = asSpec(
      spec([
        tool('a', { tool: 'refund_order' }),
        agent('b', { tools: ['send_email', 'lookup_order', 'refund_order'] }),
        map('c', { step: { kind: 'tool', tool: 'archive' } }),
        map('d', { step: { kind: 'llm', prompt: '${item}' } }),
        llm('e'),
        call('f'),
        tool('g', { tool: 'send_email' }),
      ]),
    );
    expect(toolsUsed(doc)).toEqual(['refund_order', 'send_email', 'lookup_order', 'archive']);
    expect(toolsUsed(asSpec(spec([wait('w')])))).toEqual([]);
  });

  it('lists the specs that call steps run, each once, in spec order', () => {
    const doc = asSpec(spec([call('a', { spec: 'second' }), tool('t'), call('b', { spec: 'first' }), call('c', { spec: 'second' })]));
    expect(specsCalled(doc)).toEqual(['second', 'first']);
    expect(specsCalled(asSpec(spec([wait('w')])))).toEqual([]);
  });
});

describe('findCycles', () => {
  it('finds none in a graph without cycles', () => {
    expect(findCycles(['a', 'b', 'c'], deps({ a: [], b: ['a'], c: ['a', 'b'] }))).toEqual([]);
  });

  it('names each cycle along its steps, starting from its first step in spec order', () => {
    expect(findCycles(['a', 'b'], deps({ a: ['b'], b: ['a'] }))).toEqual([['a', 'b', 'a']]);
    expect(findCycles(['a', 'b', 'c'], deps({ a: ['b'], b: ['c'], c: ['a'] }))).toEqual([['a', 'b', 'c', 'a']]);
    // Order given differently: still starts from the first in spec order.
    expect(findCycles(['c', 'a', 'b'], deps({ a: ['b'], b: ['c'], c: ['a'] }))).toEqual([['c', 'a', 'b', 'c']]);
  });

  it('reports separate cycles separately, in spec order, and self-loops', () => {
    const graph = deps({ a: ['b'], b: ['a'], x: [], c: ['d'], d: ['c'], s: ['s'] });
    expect(findCycles(['x', 's', 'c', 'd', 'a', 'b'], graph)).toEqual([
      ['s', 's'],
      ['c', 'd', 'c'],
      ['a', 'b', 'a'],
    ]);
  });

  it('gives the shortest cycle through the first step when a component has several', () => {
    expect(findCycles(['a', 'b', 'c'], deps({ a: ['b'], b: ['c'], c: ['a', 'b'] }))).toEqual([['a', 'b', 'c', 'a']]);
    expect(findCycles(['a', 'b', 'c'], deps({ a: ['b', 'c'], b: ['c'], c: ['a'] }))).toEqual([['a', 'c', 'a']]);
  });

  it('handles a 1,000-step chain and a 1,000-step cycle without overflowing the stack', () => {
    const doc = chain(1000);
    const ids = doc.steps.map((s) => s.id);
    const map = dependencyMap(doc);
    expect(findCycles(ids, map)).toEqual([]);
    map.set('s0', ['s999']);
    const cycles = findCycles(ids, map);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toHaveLength(1001);
    expect(cycles[0]!.slice(0, 3)).toEqual(['s0', 's999', 's998']);
    expect(cycles[0]!.at(-1)).toBe('s0');
  });
});

describe('topologicalOrder', () => {
  it('puts every step after its dependencies, in spec order among equals', () => {
    expect(topologicalOrder(['x', 'y', 'z'], deps({ x: ['z'], y: [], z: [] }))).toEqual(['y', 'z', 'x']);
    const doc = asSpec(refundSpec());
    expect(
      topologicalOrder(
        doc.steps.map((s) => s.id),
        dependencyMap(doc),
      ),
    ).toEqual(['order', 'assess', 'ok', 'refund']);
  });

  it('leaves out the steps of a cycle and those after them', () => {
    expect(topologicalOrder(['a', 'b', 'c', 'd'], deps({ a: ['b'], b: ['a'], c: ['a'], d: [] }))).toEqual(['d']);
  });

  it('orders a 1,000-step chain, even listed backwards, without overflowing the stack', () => {
    const doc = chain(1000);
    const ids = doc.steps.map((s) => s.id);
    expect(topologicalOrder([...ids].reverse(), dependencyMap(doc))).toEqual(ids);
    expectValid(doc);
  });

  it('the validator names a 1,000-step cycle', () => {
    const doc = chain(1000);
    (doc.steps[0] as { after?: string[] }).after = ['s999'];
    const result = validateSpec(doc);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]!.code).toBe('CYCLE');
    expect(result.problems[0]!.message).toMatch(/^cycle: s0 -> s999 -> s998 -> .* -> s1 -> s0$/);
  });
});

describe('toMermaid', () => {
  const graphSpec = () =>
    asSpec(
      spec([
        tool('order'),
        llm('assess', { prompt: 'Note: ${steps.order.note}', output: { type: 'object' } }),
        approval('ok', { when: 'steps.assess.damaged', title: 'Refund ${steps.order.total} "now" <b> & more?' }),
        wait('pause', { duration: '1h', after: ['ok'] }),
        tool('refund', {
          tool: 'refund_order',
          when: 'steps.ok.approved',
          after: ['pause', 'order'],
          args: { orderId: 'o', amount: '${steps.order.total}' },
        }),
        llm('note', { after: ['ghost'] }),
      ]),
    );

  const CLASS_DEFS = [
    '  classDef approval fill:#fff4d6,stroke:#b7791f;',
    '  classDef conditional stroke-dasharray: 5 5;',
    '  classDef gated stroke:#c53030,stroke-width:2px;',
  ];

  it('draws shapes by kind, solid edges for references, dotted edges for after-only, and classes', () => {
    expect(toMermaid(graphSpec(), CATALOG)).toBe(
      [
        'flowchart TD',
        '  order["order<br/>tool lookup_order"]',
        '  assess["assess<br/>llm (structured)"]',
        '  ok{{"ok<br/>approval: Refund ${steps.order.total} #quot;now#quot; #lt;b#gt; #amp; more?<br/>when steps.assess.damaged"}}',
        '  pause(("pause<br/>wait 1h"))',
        '  refund["refund<br/>tool refund_order<br/>when steps.ok.approved"]',
        '  note["note<br/>llm"]',
        '  order --> assess',
        '  assess --> ok',
        '  order --> ok',
        '  ok -.-> pause',
        '  pause -.-> refund',
        '  order --> refund',
        '  ok --> refund',
        ...CLASS_DEFS,
        '  class ok approval;',
        '  class ok,refund conditional;',
        '  class refund gated;',
        '',
      ].join('\n'),
    );
  });

  it('marks gated tools only with a catalog that says so, and lists no empty classes', () => {
    expect(toMermaid(graphSpec())).not.toContain('class refund gated;');
    expect(toMermaid(asSpec(spec([wait('a'), wait('b', { after: ['a'] })])))).toBe(
      ['flowchart TD', '  a(("a<br/>wait 1s"))', '  b(("b<br/>wait 1s"))', '  a -.-> b', ...CLASS_DEFS, ''].join('\n'),
    );
  });

  it('draws agents as stadiums, maps as parallelograms, calls as subroutines, and marks gated tools in agents and maps', () => {
    const doc = asSpec(
      spec([
        tool('order'),
        agent('helper', { tools: ['lookup_order', 'refund_order'], prompt: 'Order ${steps.order.note}', output: { type: 'object' } }),
        agent('plain', { tools: ['send_email'], maxTurns: 1 }),
        map('lookups', { items: 'steps.order.items', when: 'steps.order.total > 0' }),
        map('notes', { items: '["a", "b"]', step: { kind: 'llm', prompt: '${item} ${steps.helper}' } }),
        map('refunds', { items: '[1]', step: { kind: 'tool', tool: 'refund_order', args: {} } }),
        call('child', { spec: 'child-spec', input: { n: '${size(steps.lookups)}' }, after: ['plain'] }),
      ]),
    );
    expect(toMermaid(doc, CATALOG)).toBe(
      [
        'flowchart TD',
        '  order["order<br/>tool lookup_order"]',
        '  helper(["helper<br/>agent: tools lookup_order, refund_order<br/>at most 3 turns, structured"])',
        '  plain(["plain<br/>agent: tools send_email<br/>at most 1 turn"])',
        '  lookups[/"lookups<br/>map over steps.order.items: tool lookup_order<br/>when steps.order.total #gt; 0"/]',
        '  notes[/"notes<br/>map over [#quot;a#quot;, #quot;b#quot;]: llm"/]',
        '  refunds[/"refunds<br/>map over [1]: tool refund_order"/]',
        '  child[["child<br/>call child-spec"]]',
        '  order --> helper',
        '  order --> lookups',
        '  helper --> notes',
        '  plain -.-> child',
        '  lookups --> child',
        ...CLASS_DEFS,
        '  class lookups conditional;',
        '  class helper,refunds gated;',
        '',
      ].join('\n'),
    );
  });

  it("with a run's statuses: each step's label ends with its status, and a class per status colours it", () => {
    const doc = asSpec(spec([wait('a'), wait('b', { after: ['a'] }), approval('c', { after: ['b'] }), wait('d', { after: ['c'] })]));
    const out = toMermaid(doc, undefined, { a: 'completed', b: 'skipped', c: 'waiting', d: 'pending' });
    expect(out.split('\n').slice(1, 5)).toEqual([
      '  a(("a<br/>wait 1s<br/>✓ completed"))',
      '  b(("b<br/>wait 1s<br/>↷ skipped"))',
      '  c{{"c<br/>approval: Go ahead?<br/>⏸ waiting"}}',
      '  d(("d<br/>wait 1s<br/>○ pending"))',
    ]);
    // Only the statuses present get a classDef, after the kinds' (so they win), and each its class line.
    expect(out.split('\n').filter((l) => /^ {2}class(Def)? /.test(l) && /pending|completed|skipped|waiting|failed|running/.test(l))).toEqual([
      '  classDef pending fill:#ffffff,stroke:#a0aec0,color:#4a5568;',
      '  classDef waiting fill:#fefcbf,stroke:#b7791f,stroke-width:3px;',
      '  classDef completed fill:#e6ffed,stroke:#2f855a;',
      '  classDef skipped fill:#f7fafc,stroke:#a0aec0,color:#718096;',
      '  class a completed;',
      '  class b skipped;',
      '  class c waiting;',
      '  class d pending;',
    ]);
    expect(out.indexOf('classDef gated')).toBeLessThan(out.indexOf('classDef pending'));
    // A status it has no colour for still shows; a step the statuses leave out shows none.
    expect(toMermaid(doc, undefined, { a: 'limbo' })).toContain('  a(("a<br/>wait 1s<br/>limbo"))');
    expect(toMermaid(doc, undefined, { a: 'limbo' })).toContain('  b(("b<br/>wait 1s"))');
  });

  it('truncates a long title or condition and flattens whitespace', () => {
    const long = `steps.a.at.size() == 1 || ${'input.flag || '.repeat(5)}true`;
    const out = toMermaid(asSpec(spec([wait('a'), when('b', long), approval('c', { title: 'line one\n  line two' })])));
    const flat = long.replace(/\s+/g, ' ');
    expect(out).toContain(`when ${flat.slice(0, 47)}…"`);
    expect(out).toContain('approval: line one line two"');
  });
});
