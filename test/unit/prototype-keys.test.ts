/**
 * Data keys named like Object.prototype's (`constructor`, `__proto__`, `toString`...) are ordinary keys: in run
 * input, in step outputs, as step ids, in tool args and in the run output. A property test injects them at random
 * places and checks that nothing else changes and that each reads back as its value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/engine/canonical.js';
import { planRun, runOutput } from '../../src/engine/schedule.js';
import type { RunInfo, StepState } from '../../src/engine/state.js';
import { fromCel, toCel } from '../../src/spec/expression.js';
import { compileExpression, renderTemplate, renderValue, type Scope, type Spec } from '../../src/spec/index.js';
import { inputProblems } from '../../src/spec/input.js';
import { scope } from './helpers.js';

const PROTO_KEYS = ['constructor', '__proto__', 'hasOwnProperty', 'toString', 'valueOf', 'prototype'] as const;
/** Valid step ids (lower case) that an object's prototype also has, or had in old engines. */
const PROTO_IDS = ['constructor', 'valueof', 'tostring', 'prototype', 'hasownproperty'] as const;

const evaluate = (source: string, s: Scope) => compileExpression(source).evaluate(s);
const run: RunInfo = { id: 'r', workflowId: 'w', temporalRunId: 't', startedAt: '2026-01-01T00:00:00.000Z' };

/** Sets an own key, `__proto__` included (assignment would set the prototype). */
function define(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

describe('keys named like Object.prototype, by example', () => {
  it('input with a constructor key: other fields still select (cel-js typed the object by its constructor)', () => {
    const input = JSON.parse('{"x": "hello", "constructor": "s", "__proto__": {"y": 1}, "toString": 2}');
    expect(evaluate('input.x', scope({ input }))).toBe('hello');
    expect(evaluate('input.constructor', scope({ input }))).toBe('s');
    expect(evaluate('input["__proto__"].y + input.toString', scope({ input }))).toBe(3);
    expect(evaluate('has(input.hasOwnProperty)', scope({ input }))).toBe(false);
    expect(evaluate('has(input.constructor)', scope({ input }))).toBe(true);
    expect(evaluate('"constructor" in input && !("valueOf" in input)', scope({ input }))).toBe(true);
  });

  it('a step id constructor, and its output, in a template and the run output', () => {
    const spec: Spec = { version: 1, name: 't', steps: [{ id: 'constructor', kind: 'wait', duration: '1s' }] };
    const plan = planRun(spec);
    const steps: Record<string, StepState> = Object.fromEntries([
      ['constructor', { status: 'completed', output: { at: 'now', valueOf: 1 }, attempts: 1 } satisfies StepState],
    ]);
    expect(runOutput(plan, steps, null, run)).toEqual({ constructor: { at: 'now', valueOf: 1 } });
    const withOutput = planRun({ ...spec, output: { when: '${steps.constructor.at}', v: '${steps.constructor.valueOf + 1}' } });
    expect(runOutput(withOutput, steps, null, run)).toEqual({ when: 'now', v: 2 });
  });

  it('a map literal keeps the keys constructor, __proto__ and prototype', () => {
    const value = evaluate("{'constructor': 1, '__proto__': {'a': 2}, 'prototype': 3, 'b': 4}", scope()) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['constructor', '__proto__', 'prototype', 'b']);
    expect(canonicalJson(value)).toBe('{"__proto__":{"a":2},"b":4,"constructor":1,"prototype":3}');
    expect(evaluate("{'constructor': 1}.constructor + {1: 2}[1]", scope())).toBe(3);
  });

  it('renderValue and fromCel keep __proto__ as an own key, never as the prototype', () => {
    const args = JSON.parse('{"__proto__": {"polluted": "${input.x}"}, "constructor": "${input.x}"}');
    const out = renderValue(args, scope({ input: { x: 'v' } })) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'constructor']);
    expect(out.constructor).toBe('v');
    expect(canonicalJson(out)).toBe('{"__proto__":{"polluted":"v"},"constructor":"v"}');
    const cel = fromCel(toCel(JSON.parse('{"__proto__": {"a": 1}}'))) as Record<string, unknown>;
    expect(Object.keys(cel)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

// ---- the property --------------------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
/** A path into a value: object keys and list indexes. */
type Path = Array<string | number>;

const leafArb: fc.Arbitrary<Json> = fc.oneof(
  fc.integer({ min: -1_000, max: 1_000 }),
  fc.constantFrom(1.5, -0.25),
  fc.string({ maxLength: 6 }),
  fc.boolean(),
  fc.constant(null),
);
/** Base values: objects with keys a to d (never a prototype name), lists, leaves. */
const { value: valueArb } = fc.letrec<{ value: Json; object: Json; list: Json }>((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leafArb, tie('object'), tie('list')),
  object: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), tie('value'), { minKeys: 1, maxKeys: 4 }),
  list: fc.array(tie('value'), { maxLength: 3 }),
}));
const objectArb = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), valueArb, { minKeys: 1, maxKeys: 4 });
/** What is injected: a leaf, or an object with ordinary keys. */
const injectedArb: fc.Arbitrary<Json> = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 6 }),
  fc.dictionary(fc.constantFrom('a', 'z'), fc.integer(), { minKeys: 1 }),
);
const injectionsArb = fc.array(fc.record({ at: fc.nat(), key: fc.constantFrom(...PROTO_KEYS), value: injectedArb }), { minLength: 1, maxLength: 6 });

/** A copy (JSON keeps own `__proto__` keys) with the injections made; also where each went. */
function inject(base: Json, injections: Array<{ at: number; key: string; value: Json }>): { value: Json; made: Array<{ path: Path; value: Json }> } {
  const value = JSON.parse(JSON.stringify(base)) as Json;
  const objects: Array<{ path: Path; o: Record<string, Json> }> = [];
  walk(value, [], (path, v) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) objects.push({ path, o: v });
  });
  const made: Array<{ path: Path; value: Json }> = [];
  for (const { at, key, value: injected } of injections) {
    const target = objects[at % objects.length]!;
    define(target.o, key, injected);
    made.push({ path: [...target.path, key], value: injected });
  }
  // A key injected twice at one place keeps the last value.
  return { value, made: made.filter((m, i) => !made.slice(i + 1).some((later) => canonicalJson(later.path) === canonicalJson(m.path))) };
}

function walk(value: Json, path: Path, visit: (path: Path, value: Json) => void): void {
  visit(path, value);
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i], visit));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k], visit);
}

/** Paths of the leaves of a base value. */
function leaves(value: Json): Path[] {
  const out: Path[] = [];
  walk(value, [], (path, v) => {
    if (v === null || typeof v !== 'object') out.push(path);
  });
  return out;
}

/** `root.a[0]["__proto__"]`: dots for identifiers, brackets otherwise (both forms for the injected key). */
function selector(root: string, path: Path, brackets = false): string {
  return root + path.map((s) => (typeof s === 'number' ? `[${s}]` : brackets ? `[${JSON.stringify(s)}]` : `.${s}`)).join('');
}

const same = (a: unknown, b: unknown) => expect(canonicalJson(a)).toBe(canonicalJson(b));

describe('keys named like Object.prototype, in JSON Schema checks', () => {
  it("an input schema's constructor, toString and __proto__ are keys the input has or lacks, not Object's", () => {
    const schema = JSON.parse(
      '{"type":"object","properties":{"constructor":{"type":"string"},"toString":{"type":"number"},"__proto__":{"type":"string"}},"required":["constructor","__proto__"]}',
    ) as Record<string, unknown>;
    // Without ajv's ownProperties, {} met `required` through its prototype and failed on Object's constructor function.
    expect(inputProblems(schema, {}).map((p) => p.message)).toEqual(['missing required field "constructor"', 'missing required field "__proto__"']);
    expect(inputProblems(schema, JSON.parse('{"constructor":"c","__proto__":"p","toString":1}'))).toEqual([]);
    expect(inputProblems(schema, JSON.parse('{"constructor":7,"__proto__":"p"}')).map((p) => `${p.path.join('.')}: ${p.message}`)).toEqual([
      'input.constructor: expected string, got number 7',
    ]);
  });
});

describe('keys named like Object.prototype, injected at random', () => {
  it('in run input: other fields, templates and args read the same; injected keys read as their values', () => {
    fc.assert(
      fc.property(objectArb, injectionsArb, (base, injections) => {
        const { value: input, made } = inject(base, injections);
        const plain = scope({ input: base });
        const injected = scope({ input });
        const paths = leaves(base);
        for (const path of paths) {
          const source = selector('input', path);
          same(evaluate(source, injected), evaluate(source, plain));
          same(renderTemplate(`v: \${${source}}`, injected), renderTemplate(`v: \${${source}}`, plain));
        }
        const args = JSON.parse(
          JSON.stringify(
            Object.fromEntries(paths.map((p, i) => [i % 2 ? PROTO_KEYS[i % PROTO_KEYS.length]! + i : `f${i}`, `\${${selector('input', p)}}`])),
          ),
        );
        same(renderValue(args, injected), renderValue(args, plain));
        for (const { path, value } of made) {
          same(evaluate(selector('input', path, true), injected), value);
          if (path.at(-1) !== '__proto__') same(evaluate(selector('input', path), injected), value);
          // has() takes a chain of fields only.
          if (path.every((s) => typeof s === 'string')) expect(evaluate(`has(${selector('input', path)})`, injected)).toBe(true);
        }
        // The whole input goes through CEL and back with every key as it was.
        same(renderTemplate('${input}', injected), input);
      }),
      { numRuns: 300 },
    );
  });

  it('in step outputs, under step ids named like prototype properties: expressions and the run output', () => {
    const ids = [...PROTO_IDS, 'order'];
    fc.assert(
      fc.property(fc.array(objectArb, { minLength: ids.length, maxLength: ids.length }), injectionsArb, (bases, injections) => {
        const spec: Spec = { version: 1, name: 't', steps: ids.map((id) => ({ id, kind: 'wait', duration: '1s' })) };
        const plan = planRun(spec);
        const states = (outputs: Json[]): Record<string, StepState> => {
          const steps: Record<string, StepState> = {};
          ids.forEach((id, i) => define(steps, id, { status: 'completed', output: outputs[i], attempts: 1 }));
          return steps;
        };
        const injectedOutputs = bases.map((b, i) => inject(b, injections.slice(i % 2)));
        const plain = states(bases);
        const injected = states(injectedOutputs.map((o) => o.value));
        // Without an output, the run's output is every step's, by id, each as it was.
        same(runOutput(plan, injected, null, run), Object.fromEntries(ids.map((id, i) => [id, injectedOutputs[i]!.value])));
        const output: Record<string, string> = {};
        ids.forEach((id, i) => leaves(bases[i]!).forEach((path, j) => define(output, `${id}_${j}`, `\${${selector(`steps.${id}`, path)}}`)));
        const withOutput = planRun({ ...spec, output });
        same(runOutput(withOutput, injected, null, run), runOutput(withOutput, plain, null, run));
        ids.forEach((id, i) => {
          for (const { path, value } of injectedOutputs[i]!.made) {
            const read = planRun({ ...spec, output: { v: `\${${selector(`steps.${id}`, path, true)}}` } });
            same(runOutput(read, injected, null, run), { v: value });
          }
        });
      }),
      { numRuns: 150 },
    );
  });
});
