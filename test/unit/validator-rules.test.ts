/**
 * One test per validator rule: a good case (valid, no problems) and a bad case with the exact
 * `path: message` lines the CLI prints and the problem codes.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { catalogOf, DEFAULT_LIMITS, DURATION_HELP, validateSpec, validateSpecText } from '../../src/spec/index.js';
import { utf8Length } from '../../src/spec/utf8.js';
import { defineTool, toolCatalog } from '../../src/tools/index.js';
import {
  CATALOG,
  approval,
  catalogTool,
  codes,
  expectProblems,
  expectTextProblems,
  expectTextValid,
  expectValid,
  llm,
  refundSpec,
  spec,
  tool,
  wait,
  when,
} from './helpers.js';
import { found } from './helpers.js';

const ID_HELP = 'use lower case letters, digits and _, starting with a letter';
const KINDS = 'one of tool, llm, approval, wait, agent, map, call';
const SCHEMA_TYPES = 'must be one of "array", "boolean", "integer", "null", "number", "object", "string"';
const OBJECT_OUTPUT = 'an llm output schema must describe an object ("type": "object"), as structured outputs require';

describe('size limits', () => {
  it('refuses more steps than maxSteps at once, with that problem only', () => {
    expectValid(spec(Array.from({ length: DEFAULT_LIMITS.maxSteps }, (_, i) => wait(`s${i}`))));
    // 20,000 malformed steps: not one of them is looked at.
    const malformed = spec(Array.from({ length: 20_000 }, (_, i) => ({ junk: i, kind: 'nope' })));
    expectProblems(malformed, [['TOO_LARGE', 'steps: 20,000 steps; the limit is 1,000']]);
    expectTextProblems(JSON.stringify(malformed), [['TOO_LARGE', 'steps: 20,000 steps; the limit is 1,000']]);
    // options.limits
    expectValid(spec([wait('a'), wait('b'), wait('c')]), { limits: { maxSteps: 3 } });
    expectProblems(spec([wait('a'), wait('b'), wait('c'), wait('d')]), [['TOO_LARGE', 'steps: 4 steps; the limit is 3']], {
      limits: { maxSteps: 3 },
    });
  });

  it('refuses a spec over maxBytes (UTF-8 bytes of the text), through validateSpecText and options.limits', () => {
    const text = (description: string) => JSON.stringify(spec([wait('a')], { description }));
    const room = DEFAULT_LIMITS.maxBytes - utf8Length(text(''));
    expectTextValid(text('x'.repeat(room)));
    expectTextProblems(text('x'.repeat(room + 1)), [['TOO_LARGE', '(root): the spec is at least 1,048,577 bytes; the limit is 1,048,576']]);
    // é is two bytes in UTF-8: half as many characters reach the same limit.
    expectTextProblems(text('é'.repeat(Math.floor(room / 2) + 1)), [
      [
        'TOO_LARGE',
        `(root): the spec is ${(DEFAULT_LIMITS.maxBytes + (room % 2 === 0 ? 2 : 1)).toLocaleString('en-US')} bytes; the limit is 1,048,576`,
      ],
    ]);
    // Text that is not even JSON is refused for its size before it is parsed.
    expectTextProblems('{'.repeat(DEFAULT_LIMITS.maxBytes + 1), [
      ['TOO_LARGE', '(root): the spec is at least 1,048,577 bytes; the limit is 1,048,576'],
    ]);

    const small = JSON.stringify(spec([wait('a')]));
    expectTextValid(small, { limits: { maxBytes: small.length } });
    expectTextProblems(small, [['TOO_LARGE', `(root): the spec is at least ${small.length} bytes; the limit is ${small.length - 1}`]], {
      limits: { maxBytes: small.length - 1 },
    });
    // validateSpec measures the document as JSON text.
    expectValid(spec([wait('a')]), { limits: { maxBytes: small.length } });
    expectProblems(spec([wait('a')]), [['TOO_LARGE', '(root): the spec is over 10 bytes as JSON (the limit)']], { limits: { maxBytes: 10 } });
  });
});

describe('text', () => {
  it('reads JSON and YAML and reports a syntax error with its line and column', () => {
    expectTextValid('version: 1\nname: yaml-spec\nsteps:\n  - id: a\n    kind: wait\n    duration: 1s\n');
    expectTextValid(JSON.stringify(refundSpec()), { tools: CATALOG });
    expectTextProblems('{"version": 1, ', [['SYNTAX', 'line 1, column 16: invalid JSON: Expected double-quoted property name']]);
    expectTextProblems('version: 1\nname: [\n', [
      ['SYNTAX', 'line 3, column 1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ]);
    expectTextProblems('', [['SHAPE', '(root): a spec is an object with version, name and steps; the document is empty']]);
  });

  it('a JSON syntax error without a position in V8 still reads cleanly', () => {
    expectTextProblems('{"version": 1, "name": "n", "steps": []', [
      ['SYNTAX', "line 1, column 40: invalid JSON: Expected ',' or '}' after property value"],
    ]);
    const result = validateSpecText('{"version": 1, "name": x, "steps": [{"id": "a", "kind": "wait", "duration": "1s"}]}');
    expect(codes(result)).toEqual(['SYNTAX']);
    expect(result.problems[0]!.message).toBe("invalid JSON: Unexpected token 'x'");
  });

  it('JSON that starts with a byte order mark is read', () => {
    const text = JSON.stringify(spec([wait('a')]));
    expectTextValid(`\uFEFF${text}`, { format: 'yaml' });
    expectTextValid(`\uFEFF${text}`);
  });

  it('a YAML alias bomb is a problem, not a crash', () => {
    const bomb = [
      'a: &a [x, x, x, x]',
      'b: &b [*a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b]',
      'd: [*c, *c, *c, *c, *c, *c, *c, *c]',
      'version: 1',
      'name: n',
      'steps: []',
    ].join('\n');
    const result = validateSpecText(bomb);
    expect(result.ok).toBe(false);
    expect(result.problems).toHaveLength(1);
  });
});

describe('root shape', () => {
  it('the document is an object', () => {
    expectValid(spec([wait('a')]));
    expectProblems(null, [['SHAPE', '(root): a spec is an object with version, name and steps; the document is empty']]);
    expectProblems([spec([wait('a')])], [['SHAPE', '(root): a spec is an object with version, name and steps; got an array']]);
    expectProblems('steps', [['SHAPE', '(root): a spec is an object with version, name and steps; got string "steps"']]);
  });

  it('version, name and steps are required', () => {
    expectValid({ version: 1, name: 'n', steps: [wait('a')] });
    expectProblems({ version: 1, steps: [wait('a')] }, [['SHAPE', 'name: missing; expected a string']]);
    expectProblems({ version: 1, name: 'n' }, [['SHAPE', 'steps: missing; a spec needs a list of steps']]);
    expectProblems({ version: 1, name: 'n', steps: [] }, [['SHAPE', 'steps: a spec needs at least one step']]);
    expectProblems({}, [
      ['SHAPE', 'name: missing; expected a string'],
      ['SHAPE', 'steps: missing; a spec needs a list of steps'],
      ['SHAPE', 'version: missing; expected 1'],
    ]);
  });

  it('root fields have their types', () => {
    expectValid(
      spec([wait('a')], { $schema: 'https://example.com/trellis.json', description: 'd', input: { type: 'object' }, output: [1, { a: null }] }),
    );
    expectProblems(spec([wait('a')], { name: '' }), [['SHAPE', 'name: must not be empty']]);
    expectProblems(spec([wait('a')], { name: 'x'.repeat(201) }), [['SHAPE', 'name: must be at most 200 characters']]);
    expectProblems(spec([wait('a')], { steps: { a: wait('a') } }), [['SHAPE', 'steps: expected a list of steps, got an object']]);
    // Needs `reportInput: true` (zod 4): without it name: 5 read "missing" and a wrong version threw.
    expectProblems({ version: 2, name: 5, description: 3, input: [], steps: 'x' }, [
      ['SHAPE', 'description: expected a string, got number 3'],
      ['SHAPE', 'input: expected an object, got an array'],
      ['SHAPE', 'name: expected a string, got number 5'],
      ['SHAPE', 'steps: expected a list of steps, got string "x"'],
      ['SHAPE', 'version: expected 1, got number 2'],
    ]);
  });

  it('an unknown root field is named, with a suggestion when one is close', () => {
    expectValid(refundSpec());
    expectProblems({ ...spec([wait('a')]), stepz: [], descripton: 'd', colour: 'red' }, [
      ['SHAPE', 'colour: unknown field "colour"'],
      ['SHAPE', 'descripton: unknown field "descripton" (did you mean "description"?)'],
      ['SHAPE', 'stepz: unknown field "stepz" (did you mean "steps"?)'],
    ]);
  });
});

describe('step shape', () => {
  it('a step is an object', () => {
    expectValid(spec([tool('a'), llm('b'), approval('c'), wait('d')]));
    expectProblems(spec([5, 'x', null, [], true, wait('ok')]), [
      ['SHAPE', 'steps[0]: a step is an object with id and kind; got number 5'],
      ['SHAPE', 'steps[1]: a step is an object with id and kind; got string "x"'],
      ['SHAPE', 'steps[2]: a step is an object with id and kind; got null'],
      ['SHAPE', 'steps[3]: a step is an object with id and kind; got an array'],
      ['SHAPE', 'steps[4]: a step is an object with id and kind; got boolean true'],
    ]);
  });

  it('a step has a kind', () => {
    expectValid(spec([{ id: 'a', kind: 'wait', duration: '1s' }]));
    expectProblems(spec([{ id: 'a' }, { id: 'b', kind: 3 }]), [
      ['SHAPE', `steps[0].kind: missing; ${KINDS}`],
      ['SHAPE', `steps[1].kind: expected a string, got number 3; ${KINDS}`],
    ]);
  });

  it('an unknown kind is named, with a suggestion when one is close', () => {
    expectValid(spec([tool('a')]));
    expectProblems(
      spec([
        { id: 'a', kind: 'tol' },
        { id: 'b', kind: 'banana' },
      ]),
      [
        ['UNKNOWN_KIND', `steps[0].kind: unknown kind "tol" (did you mean "tool"?); ${KINDS}`],
        ['UNKNOWN_KIND', `steps[1].kind: unknown kind "banana"; ${KINDS}`],
      ],
    );
  });

  it('a kind named like an Object property is an unknown kind', () => {
    expectValid(spec([wait('a')]));
    expectProblems(
      spec([
        { id: 'a', kind: 'constructor' },
        { id: 'b', kind: 'toString' },
        { id: 'c', kind: '__proto__' },
      ]),
      [
        ['UNKNOWN_KIND', `steps[0].kind: unknown kind "constructor"; ${KINDS}`],
        ['UNKNOWN_KIND', `steps[1].kind: unknown kind "toString"; ${KINDS}`],
        ['UNKNOWN_KIND', `steps[2].kind: unknown kind "__proto__"; ${KINDS}`],
      ],
    );
  });

  it('fields of each kind: missing, empty, unknown (with a suggestion)', () => {
    expectValid(
      spec([
        tool('a', {
          retry: { maxAttempts: 3, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
          timeout: '30s',
          onError: 'continue',
        }),
        llm('b', { system: 'Be brief.', model: 'gpt-x', temperature: 0.2 }),
        approval('c', { details: 'd', approvers: ['ana'], timeout: '24h', onTimeout: 'approve' }),
      ]),
    );
    expectProblems(spec([{ id: 'a', kind: 'tool' }, llm('b', { prompt: '' }), approval('c', { approvers: [] }), tool('d', { arg: {} })]), [
      ['SHAPE', 'steps[0].tool: missing; expected a string'],
      ['SHAPE', 'steps[1].prompt: must not be empty'],
      ['SHAPE', 'steps[2].approvers: needs at least 1 item'],
      ['SHAPE', 'steps[3].arg: unknown field "arg" (did you mean "args"?)'],
    ]);
  });

  it('fields of each kind: a wrong value names what was given', () => {
    expectValid(spec([tool('a', { onError: 'fail', retry: { maxAttempts: 1 } }), llm('b', { temperature: 2 })]));
    // Needs `reportInput: true` (zod 4): without it these threw (enums, bounds) or read "missing".
    expectProblems(
      spec([
        tool('a', { tool: 3 }),
        tool('b', { onError: 'ignore' }),
        tool('c', { retry: { maxAttempts: 0 } }),
        llm('d', { temperature: 3 }),
        approval('e', { timeout: '1h', onTimeout: 'maybe' }),
      ]),
      [
        ['SHAPE', 'steps[0].tool: expected a string, got number 3'],
        ['SHAPE', 'steps[1].onError: expected "fail" or "continue", got string "ignore"'],
        ['SHAPE', 'steps[2].retry.maxAttempts: must be at least 1, got number 0'],
        ['SHAPE', 'steps[3].temperature: must be at most 2, got number 3'],
        ['SHAPE', 'steps[4].onTimeout: expected "deny" or "approve" or "fail", got string "maybe"'],
      ],
    );
  });
});

describe('ids', () => {
  it('an id is lower case letters, digits and _, starting with a letter', () => {
    expectValid(spec([wait('a'), wait('a1_b'), wait('order_2')]));
    expectProblems(spec([{ kind: 'wait', duration: '1s' }]), [['SHAPE', 'steps[0].id: missing; expected a string']]);
    // A step of an unknown kind is not shape-checked, but its id still is.
    expectProblems(spec([wait('ok'), { id: 'Bad', kind: 'zzz' }]), [
      ['INVALID_ID', `steps[1].id: invalid id "Bad": ${ID_HELP}`],
      ['UNKNOWN_KIND', `steps[1].kind: unknown kind "zzz"; ${KINDS}`],
    ]);
    // Needs `reportInput: true` (zod 4): without it this read `invalid id undefined`.
    expectProblems(spec([wait('A-b'), wait('1x'), wait('_x'), wait('')]), [
      ['INVALID_ID', `steps[0].id: invalid id "A-b": ${ID_HELP}`],
      ['INVALID_ID', `steps[1].id: invalid id "1x": ${ID_HELP}`],
      ['INVALID_ID', `steps[2].id: invalid id "_x": ${ID_HELP}`],
      ['INVALID_ID', `steps[3].id: invalid id "": ${ID_HELP}`],
    ]);
  });

  it('ids are unique; a duplicate names the first step with that id', () => {
    expectValid(spec([wait('a'), wait('b')]));
    expectProblems(spec([wait('a'), wait('b'), llm('a'), wait('a')]), [
      ['DUPLICATE_ID', 'steps[2].id: duplicate id "a" (also steps[0])'],
      ['DUPLICATE_ID', 'steps[3].id: duplicate id "a" (also steps[0])'],
    ]);
    // Malformed steps count too.
    expectProblems(spec([wait('a'), { id: 'a', kind: 'zzz' }]), [
      ['DUPLICATE_ID', 'steps[1].id: duplicate id "a" (also steps[0])'],
      ['UNKNOWN_KIND', `steps[1].kind: unknown kind "zzz"; ${KINDS}`],
    ]);
  });
});

describe('tools', () => {
  it('an unknown tool is a problem with a catalog (with a suggestion), and not without one', () => {
    expectValid(spec([tool('a'), tool('b', { tool: 'refund_order', args: { orderId: 'o', amount: 1 } })]), { tools: CATALOG });
    expectValid(spec([tool('a', { tool: 'refnud_order' })]));
    expectProblems(
      spec([tool('a', { tool: 'refnud_order' }), tool('b', { tool: 'launch_rocket' })]),
      [
        ['UNKNOWN_TOOL', 'steps[0].tool: unknown tool "refnud_order" (did you mean "refund_order"?)'],
        ['UNKNOWN_TOOL', 'steps[1].tool: unknown tool "launch_rocket"'],
      ],
      { tools: CATALOG },
    );
  });
});

describe('references', () => {
  it('`after` names other steps that exist', () => {
    expectValid(spec([wait('a'), wait('b', { after: ['a'] })]));
    expectProblems(spec([wait('a', { after: ['a', 'bb', 'zzzzzz'] }), wait('b')]), [
      ['SELF_REFERENCE', 'steps[0].after[0]: step "a" cannot come after itself'],
      ['UNKNOWN_STEP', 'steps[0].after[1]: unknown step "bb" (did you mean "b"?)'],
      ['UNKNOWN_STEP', 'steps[0].after[2]: unknown step "zzzzzz"'],
    ]);
  });

  it('an expression references steps that exist (with a suggestion)', () => {
    expectValid(refundSpec());
    expectProblems(
      spec([tool('order'), llm('b', { prompt: 'Total: ${steps.ordr.total}' }), when('c', 'steps.nope != null')], {
        output: { x: '${steps.missing}' },
      }),
      [
        ['UNKNOWN_STEP', 'output.x: unknown step "missing" in steps.missing'],
        ['UNKNOWN_STEP', 'steps[1].prompt: unknown step "ordr" in steps.ordr (did you mean "order"?)'],
        ['UNKNOWN_STEP', 'steps[2].when: unknown step "nope" in steps.nope'],
      ],
    );
  });

  it('a step cannot reference its own output', () => {
    expectValid(spec([wait('a'), when('b', 'steps.a.at != ""')]));
    expectProblems(spec([when('a', 'steps.a.at != ""'), llm('b', { prompt: 'Again: ${steps.b}' })]), [
      ['SELF_REFERENCE', 'steps[0].when: step "a" cannot reference its own output (steps.a)'],
      ['SELF_REFERENCE', 'steps[1].prompt: step "b" cannot reference its own output (steps.b)'],
    ]);
  });

  it('expressions use only input, steps and run (macro variables are fine)', () => {
    expectValid(spec([when('a', 'input.x == 1 && run.id != "" && size(steps) >= 0 && input.items.all(i, i > 0)')]));
    expectProblems(spec([when('a', 'inptu.x == 1'), when('b', 'foo > 1'), when('c', 'input.xs.map(x, x + y).size() > 0')]), [
      ['UNKNOWN_VARIABLE', 'steps[0].when: unknown name "inptu" in "inptu.x == 1" (did you mean "input"?); expressions can use input, steps, run'],
      ['UNKNOWN_VARIABLE', 'steps[1].when: unknown name "foo" in "foo > 1"; expressions can use input, steps, run'],
      ['UNKNOWN_VARIABLE', 'steps[2].when: unknown name "y" in "input.xs.map(x, x + y).size() > 0"; expressions can use input, steps, run'],
    ]);
  });
});

describe('expressions', () => {
  it('`when` is written without ${...}', () => {
    expectValid(spec([when('a', 'input.ready')]));
    expectProblems(spec([when('a', '${input.ready}'), when('b', '  ${ input.x > 1 }  ')]), [
      ['EXPRESSION', 'steps[0].when: "when" is an expression already: write input.ready without ${...}'],
      ['EXPRESSION', 'steps[1].when: "when" is an expression already: write input.x > 1 without ${...}'],
    ]);
  });

  it('an expression that does not parse: in when, in a template, in the run output', () => {
    expectValid(spec([when('a', 'input.x == 1'), llm('b', { prompt: 'hi ${input.x + 1}' })], { output: { r: '${1 + 2}' } }));
    expectProblems(spec([when('a', 'input.x =='), llm('b', { prompt: 'hi ${input.x +}' })], { output: { r: '${1 +* 2}' } }), [
      ['EXPRESSION', 'output.r: expression "1 +* 2" does not parse: unexpected token: MULTIPLY at column 4'],
      ['EXPRESSION', 'steps[0].when: expression "input.x ==" does not parse: unexpected token: EOF at column 11'],
      ['EXPRESSION', 'steps[1].prompt: expression "input.x +" does not parse: unexpected token: EOF at column 10'],
    ]);
  });

  it('every ${ is closed and holds an expression; $${ is a literal', () => {
    expectValid(spec([llm('a', { prompt: 'cost: $${literal} and $5 for ${input.x}' })]));
    expectProblems(spec([llm('a', { prompt: 'hi ${input.x' }), llm('b', { prompt: 'hi ${ }' }), tool('c', { args: { orderId: 'x ${input.id' } })]), [
      ['EXPRESSION', 'steps[0].prompt: "${" is not closed by "}" (at column 4)'],
      ['EXPRESSION', 'steps[1].prompt: "${}" holds no expression (at column 4)'],
      ['EXPRESSION', 'steps[2].args.orderId: "${" is not closed by "}" (at column 3)'],
    ]);
  });
});

describe('regular expressions', () => {
  const RE2 = '(Trellis uses RE2 syntax: no backreferences or lookaround)';

  it("a literal matches pattern that RE2 rejects is refused where it is written, with RE2's reason", () => {
    expectValid(spec([when('a', "input.id.matches('^o-[0-9]+$')"), llm('b', { prompt: "${matches(input.id, '(?i)x')}" })]));
    expectProblems(
      spec(
        [
          when('a', "input.id.matches('(?=a)')"),
          llm('b', { prompt: "id: ${matches(input.id, '(a)\\\\1')}" }),
          { id: 'c', kind: 'map', items: "input.ids.filter(i, i.matches('(?<!x)y'))", step: { kind: 'llm', prompt: 'x' } },
          when('d', "input.id.matches('[') || input.id.matches('a{1001}')"),
        ],
        { output: { ok: "${input.id.matches('(?!x)')}" } },
      ),
      [
        ['EXPRESSION', `output.ok: invalid regular expression "(?!x)" in matches: invalid or unsupported Perl syntax: \`(?!\` ${RE2}`],
        ['EXPRESSION', `steps[0].when: invalid regular expression "(?=a)" in matches: invalid or unsupported Perl syntax: \`(?=\` ${RE2}`],
        ['EXPRESSION', `steps[1].prompt: invalid regular expression "(a)\\\\1" in matches: invalid escape sequence: \`\\1\` ${RE2}`],
        ['EXPRESSION', `steps[2].items: invalid regular expression "(?<!x)y" in matches: invalid named capture: \`(?<!x)y\` ${RE2}`],
        ['EXPRESSION', `steps[3].when: invalid regular expression "[" in matches: missing closing ]: \`[\` ${RE2}`],
        ['EXPRESSION', `steps[3].when: invalid regular expression "a{1001}" in matches: invalid repeat count: \`{1001}\` ${RE2}`],
      ],
    );
  });

  it('a pattern known only at run time is checked when the step runs', () => {
    expectValid(spec([when('a', 'input.id.matches(input.pattern)')]));
  });
});

describe('cycles', () => {
  it('a cycle is named along its steps; each cycle is reported once; a self-loop is a self reference', () => {
    expectValid(spec([wait('a'), wait('b', { after: ['a'] }), when('c', 'steps.b.at != ""')]));
    expectProblems(spec([when('a', 'steps.b != null'), when('b', 'steps.a != null')]), [['CYCLE', 'steps[0]: cycle: a -> b -> a']]);
    expectProblems(spec([when('a', 'steps.b.at != ""'), wait('b', { after: ['c'] }), llm('c', { prompt: '${steps.a.at}' })]), [
      ['CYCLE', 'steps[0]: cycle: a -> b -> c -> a'],
    ]);
    expectProblems(
      spec([wait('a', { after: ['b'] }), wait('b', { after: ['a'] }), wait('x'), wait('c', { after: ['d'] }), wait('d', { after: ['c'] })]),
      [
        ['CYCLE', 'steps[0]: cycle: a -> b -> a'],
        ['CYCLE', 'steps[3]: cycle: c -> d -> c'],
      ],
    );
    expectProblems(spec([wait('a', { after: ['a'] })]), [['SELF_REFERENCE', 'steps[0].after[0]: step "a" cannot come after itself']]);
  });
});

describe('durations', () => {
  it('a duration is whole numbers with units', () => {
    for (const d of ['500ms', '30s', '5m', '24h', '7d', '1h30m']) {
      expectValid(spec([wait('w', { duration: d }), tool('t', { timeout: d, retry: { initialInterval: d, maximumInterval: d } })]));
    }
    for (const d of ['5 min', '10', '0s', '-1s']) {
      expectProblems(spec([wait('w', { duration: d })]), [
        ['DURATION', `steps[0].duration: invalid duration ${JSON.stringify(d)}: ${DURATION_HELP}`],
      ]);
    }
    expectProblems(spec([tool('a', { timeout: 'soon', retry: { initialInterval: '1 sec' } })]), [
      ['DURATION', `steps[0].retry.initialInterval: invalid duration "1 sec": ${DURATION_HELP}`],
      ['DURATION', `steps[0].timeout: invalid duration "soon": ${DURATION_HELP}`],
    ]);
  });
});

describe('JSON Schemas', () => {
  it('an llm output schema is valid JSON Schema (strict: unknown keywords are errors)', () => {
    expectValid(spec([llm('a', { output: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } })]));
    expectProblems(spec([llm('a', { output: { type: 'objct' } })]), [
      ['JSON_SCHEMA', `steps[0].output.type: ${OBJECT_OUTPUT}`],
      ['JSON_SCHEMA', `steps[0].output.type: not valid JSON Schema: ${SCHEMA_TYPES}`],
    ]);
    expectProblems(spec([llm('a', { output: { type: 'object', requird: ['a'] } })]), [
      ['JSON_SCHEMA', 'steps[0].output.requird: unknown keyword "requird" (did you mean "required"?)'],
    ]);
    expectProblems(spec([llm('a', { output: { type: 'object', properties: { a: { type: 'strng' } } } })]), [
      ['JSON_SCHEMA', `steps[0].output.properties.a.type: not valid JSON Schema: ${SCHEMA_TYPES}`],
    ]);
  });

  it('an llm output schema describes an object', () => {
    expectValid(spec([llm('a', { output: { type: 'object' } })]));
    expectProblems(spec([llm('a', { output: { type: 'string' } }), llm('b', { output: { type: 'array', items: {} } })]), [
      ['JSON_SCHEMA', `steps[0].output.type: ${OBJECT_OUTPUT}`],
      ['JSON_SCHEMA', `steps[1].output.type: ${OBJECT_OUTPUT}`],
    ]);
  });

  it('the input schema is valid JSON Schema', () => {
    expectValid(refundSpec());
    expectProblems(spec([wait('a')], { input: { type: 'object', properties: { x: { type: 'strin' } } } }), [
      ['JSON_SCHEMA', `input.properties.x.type: not valid JSON Schema: ${SCHEMA_TYPES}`],
    ]);
    expectProblems(spec([wait('a')], { input: { type: 'object', proprties: {} } }), [
      ['JSON_SCHEMA', 'input.proprties: unknown keyword "proprties" (did you mean "properties"?)'],
    ]);
  });

  it('a schema with an unsupported $schema is a problem, not a crash', () => {
    expectValid(spec([llm('a', { output: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' } })]));
    for (const $schema of ['http://json-schema.org/draft-04/schema#', 5]) {
      const result = validateSpec(spec([llm('a', { output: { $schema, type: 'object' } })]));
      expect(result.ok).toBe(false);
      expect(codes(result)).toEqual(['JSON_SCHEMA']);
    }
  });

  it('validation does not depend on earlier validations (schemas with the same $id)', () => {
    const withId = (property: string) =>
      spec([llm('a', { output: { $id: 'https://example.com/reply', type: 'object', properties: { [property]: { type: 'string' } } } })]);
    expectValid(withId('first'));
    expectValid(withId('first'));
    expectValid(withId('second'));
  });
});

describe('step rules', () => {
  it('onTimeout needs a timeout', () => {
    expectValid(spec([approval('ok', { timeout: '24h', onTimeout: 'deny' })]));
    expectProblems(spec([approval('ok', { onTimeout: 'deny' })]), [
      ['SHAPE', 'steps[0].onTimeout: has no effect without a timeout; add "timeout" (for example "24h")'],
    ]);
  });

  it('retry has only its own fields', () => {
    expectValid(spec([tool('a', { retry: { maxAttempts: 3, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' } })]));
    expectProblems(spec([tool('a', { retry: { maxAttempts: 3, maxAtempts: 2, jitter: true } })]), [
      ['SHAPE', 'steps[0].retry.jitter: unknown field "jitter"'],
      ['SHAPE', 'steps[0].retry.maxAtempts: unknown field "maxAtempts" (did you mean "maxAttempts"?)'],
    ]);
  });
});

describe('type check: tool args', () => {
  it('literal args are checked against the tool input; templated args are not', () => {
    expectValid(spec([tool('a', { args: { orderId: 'o-1', verbose: true } })]), { tools: CATALOG });
    expectValid(spec([tool('a', { args: { orderId: '${input.n}', verbose: 'v=${input.v}' } })]), { tools: CATALOG });
    expectValid(spec([tool('a', { tool: 'send_email', args: { to: 'x', anything: [1] } })]), { tools: CATALOG });
    expectProblems(
      spec([tool('a', { args: {} }), { id: 'b', kind: 'tool', tool: 'lookup_order' }]),
      [
        ['TYPE', 'steps[0].args: missing argument "orderId" (lookup_order takes: orderId, verbose)'],
        ['TYPE', 'steps[1].args: missing argument "orderId" (lookup_order takes: orderId, verbose)'],
      ],
      { tools: CATALOG },
    );
    expectProblems(
      spec([tool('a', { args: { orderId: 'o', orderid: 'o' } })]),
      [['TYPE', 'steps[0].args.orderid: unknown argument "orderid" (did you mean "orderId"?) (lookup_order takes: orderId, verbose)']],
      { tools: CATALOG },
    );
    // Needs ajv's `verbose: true` (e.data): without it describe(undefined) threw here.
    expectProblems(
      spec([tool('a', { args: { orderId: 5 } }), tool('b', { tool: 'refund_order', args: { orderId: 'o', amount: '12' } })]),
      [
        ['TYPE', 'steps[0].args.orderId: expected string, got number 5'],
        ['TYPE', 'steps[1].args.amount: expected number, got string "12"'],
      ],
      { tools: CATALOG },
    );
  });
});

describe("type check: keys named like Object.prototype's", () => {
  const tools = catalogOf([
    catalogTool(
      'proto_tool',
      {
        type: 'object',
        properties: { constructor: { type: 'string' }, toString: { type: 'number' } },
        required: ['constructor', 'toString'],
        additionalProperties: false,
      },
      { type: 'object', properties: { constructor: { type: 'string' }, valueOf: { type: 'number' } }, required: ['constructor'] },
    ),
  ]);
  const call = (args: Record<string, unknown>, extra = {}) => tool('a', { tool: 'proto_tool', args, ...extra });

  it('args and tool properties named constructor, toString, __proto__ are ordinary names', () => {
    expectValid(spec([call({ constructor: 'x', toString: 1 })]), { tools });
    expectProblems(
      spec([call({}), call(JSON.parse('{"constructor": 5, "toString": 1, "hasOwnProperty": true, "__proto__": {"x": 1}}'), { id: 'b' })]),
      [
        ['TYPE', 'steps[0].args: missing argument "constructor" (proto_tool takes: constructor, toString)'],
        ['TYPE', 'steps[0].args: missing argument "toString" (proto_tool takes: constructor, toString)'],
        ['TYPE', 'steps[1].args.__proto__: unknown argument "__proto__" (proto_tool takes: constructor, toString)'],
        ['TYPE', 'steps[1].args.constructor: expected string, got number 5'],
        ['TYPE', 'steps[1].args.hasOwnProperty: unknown argument "hasOwnProperty" (proto_tool takes: constructor, toString)'],
      ],
      { tools },
    );
  });

  it('steps.X.constructor is checked against the output schema like any field', () => {
    expectValid(spec([call({ constructor: 'x', toString: 1 }), when('w', 'steps.a.constructor == "x" && steps.a.valueOf > 1')]), { tools });
    expectProblems(
      spec([call({ constructor: 'x', toString: 1 }), when('w', 'steps.a.toString == 1')]),
      [['TYPE', 'steps[1].when: steps.a has no field "toString" (fields: constructor, valueOf)']],
      { tools },
    );
  });
});

describe('numbers JSON cannot hold', () => {
  it('1e309 in spec text is refused at its path, in JSON and in YAML (.inf, .nan)', () => {
    const text = (amount: string) =>
      `{"version": 1, "name": "n", "steps": [{"id": "a", "kind": "tool", "tool": "refund_order", "args": {"orderId": "o", "amount": ${amount}}}]}`;
    expectTextValid(text('1e308'), { tools: CATALOG });
    const TOO_LARGE = 'the number is too large for JSON (it reads as Infinity); write a smaller number, or a string';
    expectTextProblems(text('1e309'), [['SYNTAX', `steps[0].args.amount: ${TOO_LARGE}`]], { tools: CATALOG });
    expectTextProblems(text('[1, -1e999]'), [
      ['SYNTAX', 'steps[0].args.amount[1]: the number is too large for JSON (it reads as -Infinity); write a smaller number, or a string'],
    ]);
    expectTextProblems('version: 1\nname: n\nsteps:\n  - id: a\n    kind: wait\n    duration: 1s\n    description: x\nx: .inf\ny: [.nan]\n', [
      ['SYNTAX', `x: ${TOO_LARGE}`],
      ['SYNTAX', 'y[0]: NaN is not a number JSON can hold; write a number, or a string'],
    ]);
  });

  it('a parsed document with Infinity says what it is, not "number null"', () => {
    expectProblems(
      spec([tool('a', { tool: 'refund_order', args: { orderId: 'o', amount: Infinity } })]),
      [['TYPE', 'steps[0].args.amount: expected number, got a number too large for JSON (Infinity)']],
      { tools: CATALOG },
    );
  });
});

describe('type check: fields', () => {
  it('steps.X.field against a tool output from the catalog', () => {
    expectValid(spec([tool('order'), llm('b', { prompt: '${steps.order.total} ${steps.order.note}' })]), { tools: CATALOG });
    expectProblems(
      spec([tool('order'), llm('b', { prompt: '${steps.order.totl}' })]),
      [['TYPE', 'steps[1].prompt: steps.order has no field "totl" (did you mean "total"? fields: total, note, customer, items)']],
      { tools: CATALOG },
    );
    // Without a catalog a tool's output is not known: nothing to check.
    expectValid(spec([tool('order'), llm('b', { prompt: '${steps.order.totl}' })]));
  });

  it('steps.X.field against an llm step output schema', () => {
    const assess = llm('assess', { output: { type: 'object', properties: { damaged: { type: 'boolean' }, reason: { type: 'string' } } } });
    expectValid(spec([assess, when('b', 'steps.assess.damaged')]));
    expectProblems(spec([assess, when('b', 'steps.assess.damagd')]), [
      ['TYPE', 'steps[1].when: steps.assess has no field "damagd" (did you mean "damaged"? fields: damaged, reason)'],
    ]);
  });

  it('an llm step without output is text', () => {
    expectValid(spec([llm('l'), when('b', 'steps.l != "" && steps.l.size() > 0')]));
    expectProblems(spec([llm('l'), when('b', 'steps.l.damaged')]), [
      ['TYPE', 'steps[1].when: steps.l is the reply text of llm step "l" (it has no output schema), a string; it has no field "damaged"'],
    ]);
  });

  it('an approval outputs approved, by, comment and at', () => {
    expectValid(spec([approval('ok'), when('b', 'steps.ok.approved && steps.ok.by != null && steps.ok.comment != null && steps.ok.at != ""')]));
    expectProblems(spec([approval('ok'), when('b', 'steps.ok.aproved')]), [
      ['TYPE', 'steps[1].when: steps.ok has no field "aproved" (did you mean "approved"? fields: approved, by, comment, at)'],
    ]);
  });

  it('a wait outputs at', () => {
    expectValid(spec([wait('w'), when('b', 'steps.w.at != ""')]));
    expectProblems(spec([wait('w'), when('b', 'steps.w.when != ""')]), [['TYPE', 'steps[1].when: steps.w has no field "when" (fields: at)']]);
  });

  it('nested fields are walked down to the first one that cannot exist', () => {
    expectValid(spec([tool('order'), when('b', 'steps.order.customer.address.city != ""')]), { tools: CATALOG });
    expectValid(spec([tool('m', { tool: 'send_email', args: {} }), when('b', 'steps.m.anything.deep == 1')]), { tools: CATALOG });
    expectProblems(
      spec([
        tool('order'),
        when('b', 'steps.order.customer.nme != ""'),
        when('c', 'steps.order.customer.address.cty != ""'),
        when('d', 'steps.order.total.x > 1'),
      ]),
      [
        ['TYPE', 'steps[1].when: steps.order.customer has no field "nme" (did you mean "name"? fields: name, address)'],
        ['TYPE', 'steps[2].when: steps.order.customer.address has no field "cty" (did you mean "city"? fields: city)'],
        ['TYPE', 'steps[3].when: steps.order.total is a number; it has no field "x"'],
      ],
      { tools: CATALOG },
    );
  });

  it('a list index in a reference does not break the check', () => {
    expectValid(spec([tool('order'), when('b', 'size(steps.order.items) > 0')]), { tools: CATALOG });
    expectValid(spec([tool('order'), when('b', 'steps.order.items[0].sku != ""'), when('c', 'input.tags[0] == "x"')]), { tools: CATALOG });
  });

  it('a field asked about with has() is not required', () => {
    expectValid(spec([tool('order'), when('b', 'has(steps.order.discount) && has(steps.order.customer.nickname)')]), { tools: CATALOG });
    // The fields before the one asked about must still exist.
    expectProblems(
      spec([tool('order'), when('b', 'has(steps.order.custmer.name)')]),
      [['TYPE', 'steps[1].when: steps.order has no field "custmer" (did you mean "customer"? fields: total, note, customer, items)']],
      { tools: CATALOG },
    );
  });

  it('a field selected with .? (optional) is not checked', () => {
    expectProblems(
      spec([tool('order'), when('b', 'steps.order.custmer.?name.orValue("") == ""')]),
      [['TYPE', 'steps[1].when: steps.order has no field "custmer" (did you mean "customer"? fields: total, note, customer, items)']],
      { tools: CATALOG },
    );
    expectValid(spec([tool('order'), when('b', 'steps.order.?discount.orValue(0) > 0 && steps.order[?"discount"].orValue(0) > 0')]), {
      tools: CATALOG,
    });
  });

  it('input.x against the spec input schema', () => {
    const input = { type: 'object', properties: { orderId: { type: 'string' }, n: { type: 'integer' } } };
    expectValid(spec([when('a', 'input.orderId != "" && input.n > 0')], { input }));
    expectValid(spec([when('a', 'input.ordrId != ""')]));
    expectProblems(spec([when('a', 'input.ordrId != ""'), when('b', 'input.n.x > 0')], { input }), [
      ['TYPE', 'steps[0].when: input has no field "ordrId" (did you mean "orderId"? fields: orderId, n)'],
      ['TYPE', 'steps[1].when: input.n is a whole number; it has no field "x"'],
    ]);
  });

  it('an invalid llm output schema does not break the type check', () => {
    const broken = spec([llm('l', { output: { type: 'object', properties: { a: null } } }), llm('b', { prompt: '${steps.l.a.b}' })]);
    const result = validateSpec(broken);
    expect(result.ok).toBe(false);
    expect(new Set(codes(result))).toEqual(new Set(['JSON_SCHEMA']));
  });

  it('a catalog made with toolCatalog([defineTool(...)]) checks args and outputs from the zod schemas', () => {
    const tools = toolCatalog([
      defineTool({
        name: 'lookup_order',
        description: 'Find an order.',
        input: z.object({ orderId: z.string(), verbose: z.boolean().default(false) }),
        output: z.object({ total: z.number(), customer: z.object({ name: z.string() }) }),
        run: () => ({ total: 1, customer: { name: 'ana' } }),
      }),
      defineTool({
        name: 'refund_order',
        description: 'Refund an order.',
        input: z.object({ orderId: z.string(), amount: z.number() }),
        output: z.object({ refundId: z.string() }),
        approval: (a) => a.amount > 100,
        run: () => ({ refundId: 'r' }),
      }),
    ]);
    // verbose has a default: a caller may leave it out.
    expectValid(
      spec([
        tool('order'),
        tool('refund', { tool: 'refund_order', args: { orderId: 'o', amount: '${steps.order.total}' } }),
        when('c', 'steps.order.customer.name != ""'),
      ]),
      { tools },
    );
    expectProblems(
      spec([
        tool('order', { args: { orderid: 'o' } }),
        tool('refund', { tool: 'refund_ordr', args: {} }),
        when('c', 'steps.order.custmer.name != ""'),
      ]),
      [
        ['TYPE', 'steps[0].args: missing argument "orderId" (lookup_order takes: orderId, verbose)'],
        ['TYPE', 'steps[0].args.orderid: unknown argument "orderid" (did you mean "orderId"?) (lookup_order takes: orderId, verbose)'],
        ['UNKNOWN_TOOL', 'steps[1].tool: unknown tool "refund_ordr" (did you mean "refund_order"?)'],
        ['TYPE', 'steps[2].when: steps.order has no field "custmer" (did you mean "customer"? fields: total, customer)'],
      ],
      { tools },
    );
  });
});

describe('nesting', () => {
  it('deeply nested values are refused or read, never a crash', () => {
    const nest = (depth: number, leaf: unknown) => {
      let v = leaf;
      for (let i = 0; i < depth; i++) v = [v];
      return v;
    };
    expectValid(spec([wait('a')], { output: nest(100, '${steps.a.at}') }));
    // 10,000 levels are 20 KB of text, far below the 1 MiB limit: refused for their depth, before anything
    // recurses. (The texts are built as strings: JSON.stringify itself overflows at this depth.)
    const deep = (leaf: string) => `${'['.repeat(10_000)}${leaf}${']'.repeat(10_000)}`;
    const head = '{"version":1,"name":"n","steps":[{"id":"a","kind":"wait","duration":"1s"}]';
    for (const text of [
      `${head},"output":${deep('"${steps.a.at}"')}}`,
      `{"version":1,"name":"n","steps":[{"id":"a","kind":"tool","tool":"lookup_order","args":{"orderId":${deep('"x"')}}}]}`,
      `${head},"input":{"type":"object","properties":{"x":${deep('{}')}}}}`,
    ]) {
      expect(text.length).toBeLessThan(DEFAULT_LIMITS.maxBytes);
      expect(found(validateSpecText(text, { tools: CATALOG }))).toEqual([['TOO_LARGE', '(root): the spec is nested more than 200 levels deep']]);
    }
  });
});

describe('the report', () => {
  it('problems are sorted by path, numbers numerically (steps[2] before steps[10])', () => {
    const steps = Array.from({ length: 12 }, (_, i) => wait(`step_${i}`));
    steps[10] = wait('step_10', { after: ['missing_one'] });
    steps[2] = wait('step_2', { after: ['missing_two'] });
    expectValid(spec(Array.from({ length: 12 }, (_, i) => wait(`step_${i}`))));
    expectProblems({ ...spec(steps), colour: 'red' }, [
      ['SHAPE', 'colour: unknown field "colour"'],
      ['UNKNOWN_STEP', 'steps[2].after[0]: unknown step "missing_two"'],
      ['UNKNOWN_STEP', 'steps[10].after[0]: unknown step "missing_one"'],
    ]);
  });

  it('every problem is reported at once', () => {
    expectValid(refundSpec(), { tools: CATALOG });
    const six = {
      ...spec([{ id: 'a', kind: 'tol' }, wait('b', { after: ['nope'] }), wait('b'), wait('c', { duration: '5 min' }), when('d', 'input.x ==')]),
      colour: 'red',
    };
    expectProblems(six, [
      ['SHAPE', 'colour: unknown field "colour"'],
      ['UNKNOWN_KIND', `steps[0].kind: unknown kind "tol" (did you mean "tool"?); ${KINDS}`],
      ['UNKNOWN_STEP', 'steps[1].after[0]: unknown step "nope"'],
      ['DUPLICATE_ID', 'steps[2].id: duplicate id "b" (also steps[1])'],
      ['DURATION', `steps[3].duration: invalid duration "5 min": ${DURATION_HELP}`],
      ['EXPRESSION', 'steps[4].when: expression "input.x ==" does not parse: unexpected token: EOF at column 11'],
    ]);
    expect(validateSpecText(JSON.stringify(six)).problems).toHaveLength(6);
  });
});
