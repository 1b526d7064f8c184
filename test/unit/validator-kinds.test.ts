/**
 * The validator on the step kinds agent, map and call and on the run budget: one test per rule, each with a good
 * case and the exact `path: message` lines, and their codes, of a bad one.
 */
import { describe, expect, it } from 'vitest';
import { catalogOf, libraryCallCycles, stepOutputSchema, validateSpec, type Spec, type Step } from '../../src/spec/index.js';
import { CATALOG, SPECS, agent, call, catalogTool, expectProblems, expectValid, llm, map, spec, tool, wait, when } from './helpers.js';

const OBJECT_OUTPUT = 'an llm output schema must describe an object ("type": "object"), as structured outputs require';
const ONLY_IN_MAP = "item and index exist only inside a map's step; here expressions can use input, steps, run";
const LOOKUP_TAKES = 'lookup_order takes: orderId, verbose';
const ORDER_FIELDS = 'fields: total, note, customer, items';

describe('valid specs of the new kinds', () => {
  const doc = () =>
    spec(
      [
        tool('order'),
        agent('research', {
          prompt: 'Order ${input.orderId}: ${steps.order.note}',
          system: 'Be brief.',
          tools: ['lookup_order', 'send_email'],
          maxTurns: 5,
          output: { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] },
          model: 'gpt-4o-mini',
          temperature: 0,
        }),
        map('lookups', {
          items: 'steps.order.items',
          step: { kind: 'tool', tool: 'lookup_order', args: { orderId: '${item.sku}', verbose: true } },
          maxParallel: 2,
          onItemError: 'continue',
        }),
        map('notes', {
          items: 'steps.order.items.map(i, i.sku)',
          step: { kind: 'llm', prompt: 'Item ${index}: ${item} (${steps.research.summary})', system: 'One line.', output: { type: 'object' } },
        }),
        call('child_run', { input: { orderId: '${input.orderId}' } }),
        call('literal', { spec: 'child', input: { orderId: 'o-2' } }),
        llm('report', { prompt: '${steps.lookups} ${steps.notes} ${steps.child_run.reason} ${steps.research.summary}' }),
      ],
      {
        input: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
        budget: { maxTokens: 100_000, maxSteps: 50 },
        output: { count: '${size(steps.lookups)}' },
      },
    );

  it('validates with a catalog and a spec library, and without them', () => {
    expectValid(doc(), { tools: CATALOG, specs: SPECS });
    expectValid(doc(), { tools: CATALOG });
    expectValid(doc());
  });

  it('the fields of each kind are shape-checked', () => {
    expectProblems(
      spec([
        agent('a', { tools: [], maxTurns: 0 }),
        map('m', { items: '', maxParallel: 101, onItemError: 'skip' }),
        call('c', { spec: 'Bad Name' }),
        { id: 'd', kind: 'agent', prompt: 'x' },
      ]),
      [
        ['SHAPE', 'steps[0].maxTurns: must be at least 1, got number 0'],
        ['SHAPE', 'steps[0].tools: needs at least 1 item'],
        ['SHAPE', 'steps[1].items: must not be empty'],
        ['SHAPE', 'steps[1].maxParallel: must be at most 100, got number 101'],
        ['SHAPE', 'steps[1].onItemError: expected "fail" or "continue", got string "skip"'],
        ['SHAPE', 'steps[2].spec: invalid spec name "Bad Name": use lower case letters, digits, _ and -, starting with a letter or digit'],
        ['SHAPE', 'steps[3].maxTurns: missing; expected a number'],
        ['SHAPE', 'steps[3].tools: missing; expected a list'],
      ],
    );
  });
});

describe('item and index', () => {
  it("are defined inside a map's step: its args, prompt and system", () => {
    expectValid(
      spec([
        map('a', { step: { kind: 'tool', tool: 'lookup_order', args: { orderId: '${item}', verbose: '${index > 0}' } } }),
        map('b', { step: { kind: 'llm', prompt: 'Item ${index}: ${item.name}', system: 'about ${item}' } }),
      ]),
      { tools: CATALOG },
    );
  });

  it('are unknown names anywhere else, with a message that says where they exist', () => {
    expectProblems(
      spec(
        [
          when('w', 'item != null'),
          llm('l', { prompt: '${index}' }),
          map('m', { items: 'item', when: 'index > 0' }),
          agent('a', { system: '${item}' }),
          call('c', { input: { x: '${item}' } }),
        ],
        { output: { first: '${item}' } },
      ),
      [
        ['UNKNOWN_VARIABLE', `output.first: unknown name "item" in "item": ${ONLY_IN_MAP}`],
        ['UNKNOWN_VARIABLE', `steps[0].when: unknown name "item" in "item != null": ${ONLY_IN_MAP}`],
        ['UNKNOWN_VARIABLE', `steps[1].prompt: unknown name "index" in "index": ${ONLY_IN_MAP}`],
        ['UNKNOWN_VARIABLE', `steps[2].items: unknown name "item" in "item": ${ONLY_IN_MAP}`],
        ['UNKNOWN_VARIABLE', `steps[2].when: unknown name "index" in "index > 0": ${ONLY_IN_MAP}`],
        ['UNKNOWN_VARIABLE', `steps[3].system: unknown name "item" in "item": ${ONLY_IN_MAP}`],
        ['UNKNOWN_VARIABLE', `steps[4].input.x: unknown name "item" in "item": ${ONLY_IN_MAP}`],
      ],
    );
  });

  it("a misspelt name inside a map's step is suggested from the item scope too", () => {
    expectProblems(spec([map('m', { step: { kind: 'llm', prompt: '${itme} ${indx}' } })]), [
      [
        'UNKNOWN_VARIABLE',
        'steps[0].step.prompt: unknown name "indx" in "indx" (did you mean "index"?); expressions can use input, steps, run, item, index',
      ],
      [
        'UNKNOWN_VARIABLE',
        'steps[0].step.prompt: unknown name "itme" in "itme" (did you mean "item"?); expressions can use input, steps, run, item, index',
      ],
    ]);
  });

  it('a macro variable named item is bound by the macro, not the map', () => {
    expectValid(spec([tool('order'), map('m', { items: 'steps.order.items.filter(item, item.sku != "")' })]), { tools: CATALOG });
  });
});

describe('agent', () => {
  it('each tool must be in the catalog when there is one, with a suggestion', () => {
    expectValid(spec([agent('a', { tools: ['nothing_known'] })]));
    expectProblems(
      spec([agent('a', { tools: ['lookup_order', 'refnud_order', 'shout'] })]),
      [
        ['UNKNOWN_TOOL', 'steps[0].tools[1]: unknown tool "refnud_order" (did you mean "refund_order"?)'],
        ['UNKNOWN_TOOL', 'steps[0].tools[2]: unknown tool "shout"'],
      ],
      { tools: CATALOG },
    );
  });

  it('names each tool once', () => {
    expectProblems(spec([agent('a', { tools: ['x', 'y', 'x', 'x'] })]), [
      ['SHAPE', 'steps[0].tools[2]: duplicate tool "x" (also tools[0])'],
      ['SHAPE', 'steps[0].tools[3]: duplicate tool "x" (also tools[0])'],
    ]);
    // An unknown tool named twice is reported once as unknown, once as a duplicate.
    expectProblems(
      spec([agent('a', { tools: ['shout', 'shout'] })]),
      [
        ['UNKNOWN_TOOL', 'steps[0].tools[0]: unknown tool "shout"'],
        ['SHAPE', 'steps[0].tools[1]: duplicate tool "shout" (also tools[0])'],
      ],
      { tools: CATALOG },
    );
  });

  it('its output schema is valid JSON Schema and describes an object, as for llm', () => {
    expectValid(spec([agent('a', { output: { type: 'object', properties: { ok: { type: 'boolean' } } } })]));
    expectProblems(spec([agent('a', { output: { type: 'string' } }), agent('b', { output: { type: 'object', requird: [] } })]), [
      ['JSON_SCHEMA', `steps[0].output.type: ${OBJECT_OUTPUT}`],
      ['JSON_SCHEMA', 'steps[1].output.requird: unknown keyword "requird" (did you mean "required"?)'],
    ]);
  });

  it('steps.X.field is checked against its output schema; without one it is text', () => {
    const structured = agent('a', { output: { type: 'object', properties: { summary: { type: 'string' } } } });
    expectValid(spec([structured, when('b', 'steps.a.summary != ""')]));
    expectProblems(spec([structured, agent('t'), when('b', 'steps.a.sumary != "" && steps.t.summary != ""')]), [
      ['TYPE', 'steps[2].when: steps.a has no field "sumary" (did you mean "summary"? fields: summary)'],
      ['TYPE', 'steps[2].when: steps.t is the reply text of agent step "t" (it has no output schema), a string; it has no field "summary"'],
    ]);
  });
});

describe('map', () => {
  it("the sub-step's tool must be in the catalog when there is one", () => {
    expectValid(spec([map('m', { step: { kind: 'tool', tool: 'shout' } })]));
    expectProblems(
      spec([map('m', { step: { kind: 'tool', tool: 'lookup_ordr', args: { orderId: '${item}' } } })]),
      [['UNKNOWN_TOOL', 'steps[0].step.tool: unknown tool "lookup_ordr" (did you mean "lookup_order"?)']],
      { tools: CATALOG },
    );
  });

  it("the sub-step's literal args are checked like a tool step's; templated args are not", () => {
    expectValid(spec([map('m', { step: { kind: 'tool', tool: 'lookup_order', args: { orderId: 'o-${index}', verbose: '${item.v}' } } })]), {
      tools: CATALOG,
    });
    expectProblems(
      spec([
        map('a', { step: { kind: 'tool', tool: 'lookup_order' } }),
        map('b', { step: { kind: 'tool', tool: 'lookup_order', args: { orderId: 3, verbos: true } } }),
      ]),
      [
        ['TYPE', `steps[0].step.args: missing argument "orderId" (${LOOKUP_TAKES})`],
        ['TYPE', 'steps[1].step.args.orderId: expected string, got number 3'],
        ['TYPE', `steps[1].step.args.verbos: unknown argument "verbos" (did you mean "verbose"?) (${LOOKUP_TAKES})`],
      ],
      { tools: CATALOG },
    );
  });

  it("an llm sub-step's output schema describes an object", () => {
    expectValid(spec([map('m', { step: { kind: 'llm', prompt: '${item}', output: { type: 'object' } } })]));
    expectProblems(spec([map('m', { step: { kind: 'llm', prompt: '${item}', output: { type: 'array' } } })]), [
      ['JSON_SCHEMA', `steps[0].step.output.type: ${OBJECT_OUTPUT}`],
    ]);
  });

  it('items given as one steps.X.a chain whose schema is known must be a list', () => {
    const input = { type: 'object', properties: { ids: { type: 'array' }, name: { type: 'string' } } };
    expectValid(
      spec([tool('order'), map('a', { items: 'steps.order.items' }), map('b', { items: 'input.ids' }), map('c', { items: 'steps.a' })], { input }),
      { tools: CATALOG },
    );
    expectProblems(
      spec([tool('order'), llm('note'), wait('w'), map('a', { items: 'steps.order.note' }), map('b', { items: 'steps.note' })], { input }),
      [
        ['TYPE', 'steps[3].items: steps.order.note is a string, not a list'],
        ['TYPE', 'steps[4].items: steps.note is the reply text of llm step "note" (it has no output schema), a string, not a list'],
      ],
      { tools: CATALOG },
    );
    expectProblems(
      spec(
        [
          wait('w'),
          map('a', { items: ' steps.w ' }),
          map('b', { items: 'input.name' }),
          tool('order'),
          map('c', { items: 'steps.order.customer.address' }),
        ],
        { input },
      ),
      [
        ['TYPE', 'steps[1].items: steps.w is the output of wait step "w", an object, not a list'],
        ['TYPE', 'steps[2].items: input.name is a string, not a list'],
        ['TYPE', 'steps[4].items: steps.order.customer.address is an object, not a list'],
      ],
      { tools: CATALOG },
    );
  });

  it('items whose CEL type the text alone gives must be a list: literals, operators, functions', () => {
    expectProblems(
      spec([
        map('a', { items: '"abc"' }),
        map('b', { items: '1 + 2' }),
        map('c', { items: "{'a': 1}" }),
        map('d', { items: ' size(input.ids) > 0 ' }),
        map('e', { items: '1 + 2.5' }),
        map('f', { items: 'null' }),
        map('g', { items: 'timestamp("2025-01-01T00:00:00Z")' }),
        tool('order'),
        map('h', { items: 'steps.order.note + ""' }),
        map('i', { items: 'steps.order.?items' }),
      ]),
      [
        ['TYPE', 'steps[0].items: "abc" is a string, not a list'],
        ['TYPE', 'steps[1].items: 1 + 2 is a number, not a list'],
        ['TYPE', "steps[2].items: {'a': 1} is an object, not a list"],
        ['TYPE', 'steps[3].items: size(input.ids) > 0 is true or false, not a list'],
        ['TYPE', 'steps[4].items: 1 + 2.5 is a number, not a list'],
        ['TYPE', 'steps[5].items: null is null, not a list'],
        ['TYPE', 'steps[6].items: timestamp("2025-01-01T00:00:00Z") is a timestamp, not a list'],
        ['TYPE', 'steps[8].items: steps.order.note + "" is a string, not a list'],
        [
          'TYPE',
          'steps[9].items: steps.order.?items is an optional value, not a list; .orValue([]) gives its value, or an empty list when it is absent',
        ],
      ],
    );
  });

  it('items whose type is not known, or may be a list, are left to run time', () => {
    expectValid(
      spec([
        tool('order'),
        llm('note'),
        map('a', { items: 'input.x' }),
        map('b', { items: 'input.x + 1' }), // dyn: a list plus a number fails only at run time
        map('c', { items: 'input.flag ? input.x : []' }),
        map('d', { items: '[1, "a"]' }),
        map('e', { items: '[]' }),
        map('f', { items: 'steps.order.?items.orValue([])' }),
        map('g', { items: 'steps.note.split(",")' }),
        map('h', { items: 'input.ids.map(i, i + 1)' }),
        map('i', { items: 'b"ab"' }), // bytes leave CEL as a list of numbers
        map('j', { items: 'input.flag ? [1] : "a"' }), // the checker cannot type it: not a problem here
        llm('l', { output: { type: 'object', properties: { any: {} } } }),
        map('k', { items: 'steps.l.any' }), // a schema without a type says nothing of being a list
      ]),
      { tools: CATALOG },
    );
    // Without a catalog the tool's output is not known.
    expectValid(spec([tool('order'), map('a', { items: 'steps.order.note' })]));
  });

  it('a field that cannot exist in items is reported once, as in any expression', () => {
    expectProblems(
      spec([tool('order'), map('a', { items: 'steps.order.itemz' })]),
      [['TYPE', `steps[1].items: steps.order has no field "itemz" (did you mean "items"? ${ORDER_FIELDS})`]],
      { tools: CATALOG },
    );
  });

  it('items is an expression already, like when', () => {
    expectProblems(spec([tool('order'), map('a', { items: '${steps.order.items}' })]), [
      ['EXPRESSION', 'steps[1].items: "items" is an expression already: write steps.order.items without ${...}'],
    ]);
  });

  it("a sub-step written with a whole step's id or when is told that the map step holds them", () => {
    expectProblems(spec([map('m', { step: { id: 'one', kind: 'llm', prompt: '${item}', when: 'index > 0' } })]), [
      ['SHAPE', "steps[0].step.id: a map's sub-step has no id: the map step's id addresses it, and its expressions use item and index"],
      [
        'SHAPE',
        "steps[0].step.when: a map's sub-step has no when: the map step's when runs or skips all its items; to run only some items, " +
          'filter them in items, e.g. "steps.search.results.filter(r, r.score > 0.5)"',
      ],
    ]);
    // Elsewhere id and when are a step's own fields, and other unknown fields of a sub-step are only unknown.
    expectProblems(spec([map('m', { step: { kind: 'tool', tool: 't', args: {}, timeout: '1s' } })]), [
      ['SHAPE', 'steps[0].step.timeout: unknown field "timeout"'],
    ]);
  });

  it('items given as JSON (a list, say) or not at all is told that items is an expression', () => {
    const help = 'items is a CEL expression that gives a list, e.g. "[1, 2]" or "steps.search.results"';
    expectProblems(spec([map('a', { items: [1, 2] }), map('b', { items: 3 }), map('c', { items: undefined })]), [
      ['SHAPE', `steps[0].items: expected a string, got an array; ${help}`],
      ['SHAPE', `steps[1].items: expected a string, got number 3; ${help}`],
      ['SHAPE', `steps[2].items: missing; expected a string; ${help}`],
    ]);
  });

  it("the sub-step's fields are its kind's: unknown ones are suggested, and its kind is tool or llm", () => {
    expectProblems(
      spec([
        map('a', { step: { kind: 'llm', prompt: 'x', promt: 'y' } }),
        map('b', { step: { kind: 'tool', tool: 't', arg: {} } }),
        map('c', { step: { kind: 'wait', duration: '1s' } }),
        map('d', { step: { prompt: 'x' } }),
      ]),
      [
        ['SHAPE', 'steps[0].step.promt: unknown field "promt" (did you mean "prompt"?)'],
        ['SHAPE', 'steps[1].step.arg: unknown field "arg" (did you mean "args"?)'],
        ['SHAPE', 'steps[2].step.kind: expected "tool" or "llm", got string "wait"'],
        ['SHAPE', 'steps[3].step.kind: missing; expected "tool" or "llm"'],
      ],
    );
  });

  it("a map's output is a list of its sub-step's outputs", () => {
    expectValid(spec([map('m'), when('b', 'size(steps.m) > 0 && steps.m[0].total > 0')]), { tools: CATALOG });
    // Items that may be null (a gated tool's denial, onItemError: continue) need no null check, as before.
    const refunds = map('r', { step: { kind: 'tool', tool: 'refund_order', args: { orderId: '${item}', amount: 1 } } });
    expectValid(spec([refunds, when('b', 'steps.r[0].refundId != "" && steps.r.all(x, x.refundId != "")')]), { tools: CATALOG });
    expectProblems(spec([map('m'), when('b', 'steps.m.total > 0')]), [
      ['TYPE', 'steps[1].when: steps.m is the output of map step "m", a list; it has no field "total"'],
    ]);
  });

  it('a step with a broken sub-step still has its items checked', () => {
    expectProblems(spec([map('m', { items: 'steps.nope', step: { kind: 'llm' } })]), [
      ['UNKNOWN_STEP', 'steps[0].items: unknown step "nope" in steps.nope'],
      ['SHAPE', 'steps[0].step.prompt: missing; expected a string'],
    ]);
  });
});

describe('call', () => {
  it('with a spec library, the spec must be in it, with a suggestion; without one, names are not checked', () => {
    expectValid(spec([call('c', { spec: 'chld' })]));
    expectProblems(
      spec([call('a', { spec: 'chld' }), call('b', { spec: 'other' })]),
      [
        ['UNKNOWN_SPEC', 'steps[0].spec: unknown spec "chld" (did you mean "child"?)'],
        ['UNKNOWN_SPEC', 'steps[1].spec: unknown spec "other"'],
      ],
      { specs: SPECS },
    );
  });

  it("a literal input is checked against the called spec's input schema; templated input is not", () => {
    expectValid(spec([call('a'), call('b', { input: { orderId: '${input.x}' } }), call('c', { spec: 'no-input', input: [1] })]), { specs: SPECS });
    expectProblems(
      spec([call('a', { input: { orderId: 3, extra: true } }), call('b', { input: undefined }), call('c', { input: 'o-1' })]),
      [
        ['TYPE', 'steps[0].input: unknown field "extra"'],
        ['TYPE', 'steps[0].input.orderId: expected string, got number 3'],
        ['TYPE', 'steps[1].input: missing; spec "child" needs an input (fields: orderId)'],
        ['TYPE', 'steps[2].input: expected object, got string "o-1"'],
      ],
      { specs: SPECS },
    );
  });

  it("steps.X.field is checked against the fields of the called spec's output", () => {
    expectValid(spec([call('c'), when('b', 'steps.c.refunded && steps.c.reason != "" && steps.c.meta.n == 1')]), { specs: SPECS });
    expectProblems(
      spec([call('c'), when('b', 'steps.c.refundd'), when('d', 'steps.c.reason.x != ""')]),
      [
        ['TYPE', 'steps[1].when: steps.c has no field "refundd" (did you mean "refunded"? fields: refunded, reason, meta)'],
        ['TYPE', 'steps[2].when: steps.c.reason is a string; it has no field "x"'],
      ],
      { specs: SPECS },
    );
    // Without the library, or for a spec without output, the output is not known.
    expectValid(spec([call('c'), when('b', 'steps.c.refundd')]));
    expectValid(spec([call('c', { spec: 'no-input', input: undefined }), when('b', 'steps.c.anything')]), { specs: SPECS });
  });
});

describe('call cycles', () => {
  /** A saved spec whose call steps run these specs, in order. */
  const calling = (...names: string[]) => spec(names.map((n, i) => call(`c${i}`, { spec: n, input: undefined }))) as unknown as Spec;
  const library = new Map([
    ['refund', calling('notify')],
    ['notify', calling('leaf', 'refund')],
    ['leaf', calling()],
    ['loop', calling('loop')],
    ['entry', calling('leaf', 'refund')],
  ]);
  const run = (...names: string[]) => spec(names.map((n, i) => call(`s${i}`, { spec: n, input: undefined })));

  it('a call that leads back to a spec it came from is a cycle, named at the call step that leads there', () => {
    expectValid(run('leaf', 'leaf'), { specs: library });
    expectProblems(
      run('refund', 'leaf', 'entry', 'loop', 'notify'),
      [
        ['CYCLE', 'steps[0].spec: cycle: refund -> notify -> refund'],
        ['CYCLE', 'steps[2].spec: cycle: refund -> notify -> refund (reached through "entry")'],
        ['CYCLE', 'steps[3].spec: cycle: loop -> loop'],
        ['CYCLE', 'steps[4].spec: cycle: refund -> notify -> refund'],
      ],
      { specs: library },
    );
    // Without a library the called specs are not known.
    expectValid(run('refund'));
  });

  it('a saved spec validated under its name stands for the library copy: a call back to it is a cycle', () => {
    // The library's copy of refund calls nothing yet; notify calls refund.
    const stale = new Map([...library, ['refund', calling()]]);
    expectValid(run('notify'), { specs: stale });
    expectProblems(run('leaf', 'notify'), [['CYCLE', 'steps[1].spec: cycle: refund -> notify -> refund']], { specs: stale, savedAs: 'refund' });
    expectProblems(run('refund'), [['CYCLE', 'steps[0].spec: cycle: refund -> refund']], { specs: stale, savedAs: 'refund' });
    // This version of refund no longer calls notify: the library copy's cycle is not this spec's.
    expectValid(run('leaf'), { specs: library, savedAs: 'refund' });
  });

  it('libraryCallCycles lists every cycle among saved specs once, for a loader to refuse', () => {
    expect(libraryCallCycles(library)).toEqual([
      ['refund', 'notify', 'refund'],
      ['loop', 'loop'],
    ]);
    expect(
      libraryCallCycles(
        new Map([
          ['leaf', calling()],
          ['entry', calling('leaf', 'missing')],
        ]),
      ),
    ).toEqual([]);
  });
});

describe('budget', () => {
  it('has only maxTokens and maxSteps, each at least 1', () => {
    expectValid(spec([wait('w')], { budget: { maxTokens: 1 } }));
    expectProblems(spec([wait('w')], { budget: { maxTokens: 0, maxStep: 3, cost: 1 } }), [
      ['SHAPE', 'budget.cost: unknown field "cost"'],
      ['SHAPE', 'budget.maxStep: unknown field "maxStep" (did you mean "maxSteps"?)'],
      ['SHAPE', 'budget.maxTokens: must be at least 1, got number 0'],
    ]);
  });
});

describe('stepOutputSchema', () => {
  const step = (doc: Record<string, unknown>) => doc as unknown as Step;

  it('agent: its output schema, or text', () => {
    expect(stepOutputSchema(step(agent('a')))).toEqual({ type: 'string' });
    expect(stepOutputSchema(step(agent('a', { output: { type: 'object' } })))).toEqual({ type: 'object' });
  });

  it("map: a list of the sub-step's outputs, nullable items with onItemError continue, items unknown without a catalog", () => {
    const lookup = CATALOG.get('lookup_order')!.outputSchema;
    expect(stepOutputSchema(step(map('m')), CATALOG)).toEqual({ type: 'array', items: lookup });
    expect(stepOutputSchema(step(map('m', { onItemError: 'continue' })), CATALOG)).toEqual({
      type: 'array',
      items: { anyOf: [lookup, { type: 'null' }] },
    });
    expect(stepOutputSchema(step(map('m')))).toEqual({ type: 'array' });
    expect(stepOutputSchema(step(map('m', { step: { kind: 'llm', prompt: 'x' } })))).toEqual({ type: 'array', items: { type: 'string' } });
  });

  it("map: items are nullable when the sub-step's tool may need a person, whose denial is null", () => {
    const args = { orderId: '${item}', amount: 1 };
    const refund = CATALOG.get('refund_order')!.outputSchema;
    expect(stepOutputSchema(step(map('m', { step: { kind: 'tool', tool: 'refund_order', args } })), CATALOG)).toEqual({
      type: 'array',
      items: { anyOf: [refund, { type: 'null' }] },
    });
    const conditional = catalogOf([catalogTool('pay', { type: 'object' }, { type: 'object' }, 'conditional')]);
    expect(stepOutputSchema(step(map('m', { step: { kind: 'tool', tool: 'pay' } })), conditional)).toEqual({
      type: 'array',
      items: { anyOf: [{ type: 'object' }, { type: 'null' }] },
    });
    // A tool that never asks stays non-null, as does a model call.
    expect(stepOutputSchema(step(map('m', { step: { kind: 'tool', tool: 'send_email' } })), CATALOG)).toEqual({
      type: 'array',
      items: { type: 'object' },
    });
  });

  it("call: the fields of the called spec's output template, when the library has the spec", () => {
    expect(stepOutputSchema(step(call('c')))).toBeUndefined();
    expect(stepOutputSchema(step(call('c', { spec: 'no-input' })), undefined, SPECS)).toBeUndefined();
    const library = new Map([
      ['s', spec([wait('w')], { output: { a: '${steps.w.at}', b: 'at ${steps.w.at}', c: [1], d: { e: null, f: 2, g: true } } }) as Spec],
    ]);
    expect(stepOutputSchema(step(call('c', { spec: 's' })), undefined, library)).toEqual({
      type: 'object',
      properties: {
        a: {},
        b: { type: 'string' },
        c: { type: 'array' },
        d: {
          type: 'object',
          properties: { e: { type: 'null' }, f: { type: 'number' }, g: { type: 'boolean' } },
          required: ['e', 'f', 'g'],
        },
      },
      required: ['a', 'b', 'c', 'd'],
    });
  });
});

describe('dependencies of the new kinds', () => {
  it('a map depends on the steps in its items and its sub-step; a call on those in its input; cycles through them are named', () => {
    expectValid(spec([tool('order'), map('m', { items: 'steps.order.items' }), call('c', { input: { n: '${size(steps.m)}' } })]), { tools: CATALOG });
    expectProblems(
      spec([
        map('m', { items: 'steps.c.list', step: { kind: 'llm', prompt: '${item}' } }),
        call('c', { input: { n: '${steps.m}' } }),
        map('n', { items: '[1]', step: { kind: 'llm', prompt: '${steps.n}' } }),
      ]),
      [
        ['CYCLE', 'steps[0]: cycle: m -> c -> m'],
        ['SELF_REFERENCE', 'steps[2].step.prompt: step "n" cannot reference its own output (steps.n)'],
      ],
    );
  });
});

describe('problems stay well formed with the new kinds', () => {
  it('a broken spec of every kind reports every problem at once, sorted by path', () => {
    const result = validateSpec(
      spec([agent('a', { tools: ['x', 'x'] }), map('m', { items: '${x}' }), call('c', { spec: 'nope' })], { budget: { maxTokenz: 1 } }),
      { tools: CATALOG, specs: SPECS },
    );
    expect(result.problems.map((p) => [p.code, p.path])).toEqual([
      ['SHAPE', ['budget', 'maxTokenz']],
      ['UNKNOWN_TOOL', ['steps', 0, 'tools', 0]],
      ['SHAPE', ['steps', 0, 'tools', 1]],
      ['EXPRESSION', ['steps', 1, 'items']],
      ['UNKNOWN_SPEC', ['steps', 2, 'spec']],
    ]);
  });
});
