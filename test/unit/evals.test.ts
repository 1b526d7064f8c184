/**
 * Evals without I/O: the suite format and its error messages, the deep partial match of outputs, the checks of
 * a plan against a case's expectations, and the table.
 */
import { describe, expect, it } from 'vitest';
import {
  casePassed,
  checkOutput,
  checkPlan,
  checkSuite,
  checkSuiteTools,
  parseSuite,
  partialMatch,
  renderTable,
  summaryLine,
  type CaseRecord,
  type EvalCase,
  type PlanOutcome,
} from '../../src/evals/index.js';
import { catalogOf, type Spec } from '../../src/spec/index.js';

const SUITE = `
name: support
tools: ./tools.ts
cases:
  - name: refund-damaged
    goal: Refund order A1 if the customer says it arrived damaged
    input: { orderId: A1 }
    expect:
      tools: [lookup_order, refund_order]
      notTools: [delete_account]
      maxSteps: 5
      output: { refunded: true }
  - name: plain
    goal: Say hello
`;

const problemsOf = (doc: unknown) => {
  const r = checkSuite(doc);
  return r.ok ? [] : r.problems;
};

const aCase = (name: string, goal = 'g') => ({ name, goal });

describe('parseSuite', () => {
  it('reads a YAML suite; expect is optional and valid defaults to true in the checks', () => {
    const r = parseSuite(SUITE, 'support.yaml');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.suite.name).toBe('support');
    expect(r.suite.tools).toBe('./tools.ts');
    expect(r.suite.cases[0]).toEqual({
      name: 'refund-damaged',
      goal: 'Refund order A1 if the customer says it arrived damaged',
      input: { orderId: 'A1' },
      expect: { tools: ['lookup_order', 'refund_order'], notTools: ['delete_account'], maxSteps: 5, output: { refunded: true } },
    });
    expect(r.suite.cases[1]!.expect).toBeUndefined();
  });

  it('reads JSON too', () => {
    const r = parseSuite(JSON.stringify({ name: 's', cases: [aCase('a')] }), 'suite.json');
    expect(r.ok).toBe(true);
  });

  it('names the path of each problem', () => {
    const doc = {
      name: 's',
      cases: [aCase('a'), aCase('b'), { ...aCase('c'), expect: { maxSteps: 2.5 } }],
    };
    expect(problemsOf(doc)).toEqual(['cases[2].expect.maxSteps: expected a whole number, got number 2.5']);
  });

  it('reports every problem at once: missing fields, wrong types, empty lists, unknown fields with a suggestion', () => {
    const doc = {
      nme: 's',
      cases: [{ name: 'a' }, { name: 'b', goal: 'g', expect: { tool: ['x'], valid: 'yes', notTools: [] } }, { name: '', goal: 5 }],
    };
    // Sorted by path, as the validator sorts a spec's problems.
    expect(problemsOf(doc)).toEqual([
      'cases[0].goal: missing; expected a string',
      'cases[1].expect.tool: unknown field "tool" (did you mean "tools"?)',
      'cases[1].expect.valid: expected true or false, got string "yes"',
      'cases[2].goal: expected a string, got number 5',
      'cases[2].name: must not be empty',
      'name: missing; expected a string',
      'nme: unknown field "nme" (did you mean "name"?)',
    ]);
  });

  it('needs at least one case, with unique names', () => {
    expect(problemsOf({ name: 's', cases: [] })).toEqual(['cases: needs at least 1 item']);
    expect(problemsOf({ name: 's', cases: [aCase('a'), aCase('b'), aCase('a')] })).toEqual([
      'cases[2].name: duplicate case name "a" (cases[0] has it)',
    ]);
  });

  it('refuses plan expectations on a case that expects no valid plan', () => {
    expect(problemsOf({ name: 's', cases: [{ ...aCase('a'), expect: { valid: false, maxSteps: 3 } }] })).toEqual([
      'cases[0].expect.maxSteps: valid: false expects no plan, so there is nothing to check this against',
    ]);
  });

  it('gives syntax errors with their line', () => {
    const r = parseSuite('name: s\ncases:\n  - name: a\n   goal: b\n', 'suite.yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]).toMatch(/^line \d+, column \d+: invalid YAML/);
    const j = parseSuite('{"name": "s",', 'suite.json');
    expect(j.ok ? [] : j.problems[0]).toMatch(/^line 1, column \d+: invalid JSON/);
  });

  it('the top level must be an object', () => {
    expect(problemsOf([1])).toEqual(['(root): expected an object, got an array']);
  });
});

describe('checkSuiteTools', () => {
  const catalog = catalogOf(
    ['lookup_order', 'refund_order'].map((name) => ({ name, description: '', inputSchema: {}, outputSchema: {}, approval: 'never' as const })),
  );
  it('names tools in expectations that the catalog lacks, with a suggestion', () => {
    const r = parseSuite(SUITE);
    if (!r.ok) throw new Error('bad fixture');
    r.suite.cases[1]!.expect = { tools: ['refnud_order'] };
    expect(checkSuiteTools(r.suite, catalog)).toEqual([
      'cases[0].expect.notTools[0]: unknown tool "delete_account"',
      'cases[1].expect.tools[0]: unknown tool "refnud_order" (did you mean "refund_order"?)',
    ]);
  });
  it('says when the catalog is empty', () => {
    const r = checkSuite({ name: 's', cases: [{ ...aCase('a'), expect: { tools: ['x'] } }] });
    if (!r.ok) throw new Error('bad fixture');
    expect(checkSuiteTools(r.suite, catalogOf([]))).toEqual([
      'cases[0].expect.tools[0]: unknown tool "x" (the catalog is empty: name a tools module)',
    ]);
  });
});

describe('partialMatch', () => {
  it('an object matches when its keys match; other keys of the output are ignored', () => {
    expect(partialMatch({ refunded: true }, { refunded: true, reason: 'broken' })).toEqual([]);
    expect(partialMatch({ a: { b: 1 } }, { a: { b: 1, c: 2 }, d: 3 })).toEqual([]);
    expect(partialMatch({}, { anything: 1 })).toEqual([]);
  });

  it('reads a difference as path: expected, got', () => {
    expect(partialMatch({ refunded: true }, { refunded: false })).toEqual(['output.refunded: expected true, got false']);
    expect(partialMatch({ a: { b: 'x' } }, { a: { b: 'y' } })).toEqual(['output.a.b: expected "x", got "y"']);
    expect(partialMatch({ reason: 'broken' }, { refunded: true })).toEqual(['output.reason: missing, expected "broken"']);
    expect(partialMatch({ 'odd-key': 1 }, { 'odd-key': 2 })).toEqual(['output["odd-key"]: expected 1, got 2']);
  });

  it('reports every difference, in order', () => {
    expect(partialMatch({ a: 1, b: 2, c: 3 }, { a: 0, b: 2, c: 4 })).toEqual(['output.a: expected 1, got 0', 'output.c: expected 3, got 4']);
  });

  it('scalars and null compare equal only to themselves', () => {
    expect(partialMatch(1, 1)).toEqual([]);
    expect(partialMatch('1', 1)).toEqual(['output: expected "1", got 1']);
    expect(partialMatch(null, null)).toEqual([]);
    expect(partialMatch({ a: null }, { a: 0 })).toEqual(['output.a: expected null, got 0']);
    expect(partialMatch({ a: 1 }, null)).toEqual(['output: expected an object, got null']);
    expect(partialMatch({ a: 1 }, undefined)).toEqual(['output: expected an object, got nothing']);
  });

  it('lists must be equal: same length, equal items, objects inside them exactly', () => {
    expect(partialMatch({ tags: ['a', 'b'] }, { tags: ['a', 'b'] })).toEqual([]);
    expect(partialMatch({ tags: ['a', 'b'] }, { tags: ['a'] })).toEqual(['output.tags: expected 2 items, got 1: ["a"]']);
    expect(partialMatch({ tags: ['a', 'b'] }, { tags: ['a', 'c'] })).toEqual(['output.tags[1]: expected "b", got "c"']);
    expect(partialMatch({ items: [{ id: 1 }] }, { items: [{ id: 1, extra: true }] })).toEqual(['output.items[0].extra: not expected, got true']);
    expect(partialMatch({ tags: [] }, { tags: 'a' })).toEqual(['output.tags: expected a list, got "a"']);
  });

  it('shortens long values', () => {
    const [d] = partialMatch({ text: 'short' }, { text: 'x'.repeat(200) });
    expect(d!.length).toBeLessThan(100);
    expect(d).toMatch(/got "x+\.\.\.$/);
  });
});

const spec = (steps: unknown[]): Spec => ({ version: 1, name: 'p', steps }) as Spec;
const toolStep = (id: string, tool: string) => ({ id, kind: 'tool', tool, args: {} });
const refund = spec([toolStep('order', 'lookup_order'), { id: 'assess', kind: 'llm', prompt: 'x' }, toolStep('refund', 'refund_order')]);

describe('the tools a plan uses', () => {
  it('are tool steps, agent tools and map tool sub-steps, each once, sorted', () => {
    const s = spec([
      toolStep('a', 'send_reply'),
      toolStep('b', 'send_reply'),
      { id: 'c', kind: 'agent', prompt: 'p', tools: ['web_search', 'fetch_ticket'], maxTurns: 3 },
      { id: 'd', kind: 'map', items: '[1]', step: { kind: 'tool', tool: 'lookup_order', args: {} } },
      { id: 'e', kind: 'map', items: '[1]', step: { kind: 'llm', prompt: 'p' } },
      { id: 'f', kind: 'wait', duration: '1s' },
    ]);
    const r = checkPlan(
      { name: 'c', goal: 'g', expect: { tools: ['fetch_ticket', 'lookup_order'], notTools: ['refund_order'] } },
      { ok: true, spec: s },
    );
    expect(r.toolsUsed).toEqual(['fetch_ticket', 'lookup_order', 'send_reply', 'web_search']);
    expect(r.checks).toEqual({ plan: 'pass', tools: 'pass', notTools: 'pass' });
  });
});

describe('checkPlan', () => {
  const c = (expect: EvalCase['expect']): EvalCase => ({ name: 'c', goal: 'g', ...(expect && { expect }) });
  const ok: PlanOutcome = { ok: true, spec: refund };
  const none: PlanOutcome = { ok: false, message: 'no valid spec after 3 attempt(s): steps[0].tool: unknown tool "x"' };

  it('a valid plan passes a case without expectations', () => {
    expect(checkPlan(c(undefined), ok)).toEqual({
      checks: { plan: 'pass' },
      failures: [],
      steps: 3,
      toolsUsed: ['lookup_order', 'refund_order'],
      run: false,
    });
  });

  it('checks tools, notTools and maxSteps, naming what failed', () => {
    const r = checkPlan(c({ tools: ['lookup_order', 'send_reply'], notTools: ['refund_order'], maxSteps: 2 }), ok);
    expect(r.checks).toEqual({ plan: 'pass', tools: 'fail', notTools: 'fail', maxSteps: 'fail' });
    expect(r.failures).toEqual([
      'tools: the plan does not use send_reply (it uses lookup_order, refund_order)',
      'notTools: the plan uses refund_order',
      'maxSteps: the plan has 3 steps, expected at most 2',
    ]);
    expect(casePassed(r.checks)).toBe(false);
  });

  it('runs the plan only when every plan check passed and an output is expected', () => {
    expect(checkPlan(c({ tools: ['lookup_order'], output: { refunded: true } }), ok)).toMatchObject({
      checks: { plan: 'pass', tools: 'pass' },
      run: true,
    });
    expect(checkPlan(c({ maxSteps: 1, output: { refunded: true } }), ok)).toMatchObject({
      checks: { plan: 'pass', maxSteps: 'fail', output: 'skip' },
      run: false,
    });
    // output: null is an expectation too (the run's output must be null).
    expect(checkPlan(c({ output: null }), ok).run).toBe(true);
  });

  it('no valid plan fails the case, and the other expectations are skipped', () => {
    const r = checkPlan(c({ tools: ['lookup_order'], maxSteps: 3, output: {} }), none);
    expect(r).toEqual({
      checks: { plan: 'fail', tools: 'skip', maxSteps: 'skip', output: 'skip' },
      failures: ['plan: no valid spec after 3 attempt(s): steps[0].tool: unknown tool "x"'],
      steps: null,
      toolsUsed: [],
      run: false,
    });
    expect(casePassed(r.checks)).toBe(false);
  });

  it('valid: false passes when the planner gives up, and fails when it writes a spec', () => {
    expect(casePassed(checkPlan(c({ valid: false }), none).checks)).toBe(true);
    // An endpoint error is not the planner giving up: the case fails whatever it expects.
    const failed: PlanOutcome = { ok: false, message: 'the model endpoint failed: 500 boom', endpointFailed: true };
    expect(checkPlan(c({ valid: false }), failed)).toMatchObject({
      checks: { plan: 'fail' },
      failures: ['plan: the model endpoint failed: 500 boom'],
    });
    const r = checkPlan(c({ valid: false }), ok);
    expect(r.failures).toEqual(['plan: expected no valid spec, got one']);
    expect(casePassed(r.checks)).toBe(false);
  });
});

describe('checkOutput', () => {
  it('compares the run output, or fails with why there is none', () => {
    expect(checkOutput({ refunded: true }, { ok: true, runId: 'r', output: { refunded: true, reason: 'x' } })).toEqual({
      status: 'pass',
      failures: [],
    });
    expect(checkOutput({ refunded: true }, { ok: true, runId: 'r', output: { refunded: false } })).toEqual({
      status: 'fail',
      failures: ['output.refunded: expected true, got false'],
    });
    expect(checkOutput({}, { ok: false, runId: 'r', message: 'the run r failed: step "x" failed' })).toEqual({
      status: 'fail',
      failures: ['output: the run r failed: step "x" failed'],
    });
  });
});

describe('the table', () => {
  const record = (over: Partial<CaseRecord>): CaseRecord => ({
    name: 'a',
    passed: true,
    checks: { plan: 'pass' },
    attempts: 1,
    tokens: { prompt: 10, completion: 5, total: 15 },
    steps: 3,
    toolsUsed: [],
    ms: 12.4,
    failure: null,
    failures: [],
    ...over,
  });
  const records = [
    record({
      name: 'refund-damaged',
      checks: { plan: 'pass', tools: 'pass', maxSteps: 'pass', output: 'pass' },
      tokens: { prompt: 0, completion: 0, total: 1234 },
    }),
    record({
      name: 'b',
      passed: false,
      attempts: 2,
      checks: { plan: 'pass', tools: 'pass', notTools: 'fail', maxSteps: 'fail', output: 'skip' },
      steps: 7,
      failure: 'notTools: the plan uses refund_order',
    }),
    record({ name: 'never', passed: false, attempts: 3, steps: null, checks: { plan: 'fail', tools: 'skip' }, failure: 'plan: no valid spec' }),
  ];

  it('one row per case, aligned, with the first failure as the note', () => {
    expect(renderTable(records).split('\n')).toEqual([
      'case            plan           tools  steps     output  tokens  cost  ms  note',
      '--------------  -------------  -----  --------  ------  ------  ----  --  ------------------------------------',
      'refund-damaged  ok, 1 try      ok     ok (3)    ok        1234     -  12',
      'b               ok, 2 tries    FAIL   FAIL (7)  skip        15     -  12  notTools: the plan uses refund_order',
      'never           FAIL, 3 tries  skip   -         -           15     -  12  plan: no valid spec',
    ]);
  });

  it('the summary counts passed and failed cases', () => {
    expect(summaryLine(records)).toBe('1 passed, 2 failed');
    expect(summaryLine([records[0]!])).toBe('1 passed, 0 failed');
  });
});
