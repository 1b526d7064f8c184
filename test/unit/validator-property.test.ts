/**
 * Property tests: thousands of random mutations of valid specs never make the validator throw or hang; each
 * result is well formed (ok with no problems, or not ok with sorted, printable problems of known codes); and
 * valid specs stay valid through JSON and YAML.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify as toYaml, parse as fromYaml } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import {
  compareProblems,
  formatProblem,
  specJsonSchemaForModels,
  specOutlineJsonSchema,
  validateSpec,
  validateSpecText,
  type ValidationResult,
} from '../../src/spec/index.js';
import { CATALOG, KNOWN_CODES, SPECS, type Doc } from './helpers.js';

// ---- valid specs ---------------------------------------------------------------------------------------------

const KINDS = ['tool', 'llm', 'approval', 'wait', 'agent', 'map', 'call'] as const;
type Kind = (typeof KINDS)[number];

/** Ids CEL cannot select as `steps.<id>` (keywords and literals): valid ids, but not in these generated specs. */
const CEL_WORDS = new Set(['in', 'null', 'true', 'false']);
const idArb = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/).filter((id) => !CEL_WORDS.has(id));
/** Text without `$`, so it never holds a template by accident. */
const textArb = fc.string({ maxLength: 30 }).map((s) => s.replace(/\$/g, 'S'));
const durationArb = fc.constantFrom('500ms', '30s', '5m', '24h', '7d', '1h30m');
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const planArb = fc.record({
  kind: fc.constantFrom(...KINDS),
  ref: opt(fc.nat()),
  after: opt(fc.nat()),
  useWhen: fc.boolean(),
  text: textArb,
  structured: fc.boolean(),
  timeout: opt(durationArb),
  retry: opt(
    fc.record(
      {
        maxAttempts: fc.integer({ min: 1, max: 100 }),
        initialInterval: durationArb,
        backoffCoefficient: fc.double({ min: 1, max: 100, noNaN: true }),
      },
      { requiredKeys: [] },
    ),
  ),
  onError: opt(fc.constantFrom('fail', 'continue')),
  description: opt(textArb),
});
type Plan = typeof planArb extends fc.Arbitrary<infer T> ? T : never;

interface Built {
  id: string;
  kind: Kind;
  structured: boolean;
}

/** A value of step `d` that its output schema has, for a template (`steps.d.at`...). */
function valueOf(d: Built): string {
  switch (d.kind) {
    case 'wait':
      return `steps.${d.id}.at`;
    case 'approval':
      return `steps.${d.id}.approved`;
    case 'llm':
    case 'agent':
      return d.structured ? `steps.${d.id}.answer` : `steps.${d.id}`;
    case 'tool':
      return `steps.${d.id}.total`;
    case 'map':
      return `steps.${d.id}`;
    case 'call':
      // A structured call runs SPECS' "child", whose output has reason; the other runs "no-input" (output unknown).
      return d.structured ? `steps.${d.id}.reason` : `steps.${d.id}`;
  }
}

function conditionOn(d: Built): string {
  switch (d.kind) {
    case 'approval':
      return valueOf(d);
    case 'tool':
      return `${valueOf(d)} > 0`;
    case 'map':
      return `size(${valueOf(d)}) > 0`;
    case 'call':
      return `${valueOf(d)} != null`;
    default:
      return `${valueOf(d)} != ""`;
  }
}

/** A map's items: a list the type check can see (a tool's items, another map's output) or a literal one. */
function itemsOf(dep: Built | undefined): string {
  if (dep?.kind === 'tool') return `steps.${dep.id}.items`;
  if (dep?.kind === 'map') return `steps.${dep.id}`;
  return '[input.orderId, "x"]';
}

function buildStep(id: string, p: Plan, earlier: Built[]): { doc: Doc; built: Built } {
  const dep = p.ref !== undefined && earlier.length > 0 ? earlier[p.ref % earlier.length] : undefined;
  const step: Doc = { id, kind: p.kind };
  if (p.description !== undefined) step.description = p.description;
  if (p.useWhen) step.when = dep ? conditionOn(dep) : 'input.orderId != ""';
  if (p.after !== undefined && earlier.length > 0) step.after = [earlier[p.after % earlier.length]!.id];
  if (p.kind !== 'approval' && p.timeout !== undefined) step.timeout = p.timeout;
  if (p.retry !== undefined) step.retry = p.retry;
  if (p.onError !== undefined) step.onError = p.onError;
  const mention = dep ? ` \${${valueOf(dep)}}` : '';
  switch (p.kind) {
    case 'tool':
      step.tool = 'lookup_order';
      step.args = { orderId: dep ? `order ${mention}` : p.text === '' ? '${input.orderId}' : p.text, verbose: p.structured };
      break;
    case 'llm':
      step.prompt = `Q: ${p.text}${mention}`;
      if (p.structured) step.output = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
      break;
    case 'approval':
      step.title = `Approve ${p.text}?${mention}`;
      if (p.timeout !== undefined) {
        step.timeout = p.timeout;
        step.onTimeout = p.structured ? 'approve' : 'deny';
      }
      break;
    case 'wait':
      step.duration = p.timeout ?? '1s';
      break;
    case 'agent':
      step.prompt = `Q: ${p.text}${mention}`;
      step.tools = p.structured ? ['lookup_order', 'send_email'] : ['lookup_order'];
      step.maxTurns = 3;
      if (p.structured) step.output = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
      break;
    case 'map':
      step.items = itemsOf(dep);
      step.step = p.structured
        ? { kind: 'tool', tool: 'lookup_order', args: { orderId: 'o-${index}', verbose: true } }
        : { kind: 'llm', prompt: `Item \${item} of ${p.text}${mention}` };
      if (p.after !== undefined) step.maxParallel = 1 + (p.after % 100);
      break;
    case 'call':
      if (p.structured) Object.assign(step, { spec: 'child', input: { orderId: dep ? `order ${mention}` : p.text } });
      else step.spec = 'no-input';
      break;
  }
  return { doc: step, built: { id, kind: p.kind, structured: p.structured } };
}

const validSpecArb: fc.Arbitrary<Doc> = fc
  .record({
    ids: fc.uniqueArray(idArb, { minLength: 1, maxLength: 8 }),
    plans: fc.array(planArb, { minLength: 8, maxLength: 8 }),
    name: fc.string({ minLength: 1, maxLength: 60 }),
    description: opt(textArb),
    withOutput: fc.boolean(),
    budget: opt(fc.record({ maxTokens: fc.integer({ min: 1 }), maxSteps: fc.integer({ min: 1 }) }, { requiredKeys: [] })),
  })
  .map(({ ids, plans, name, description, withOutput, budget }) => {
    const built: Built[] = [];
    const steps = ids.map((id, i) => {
      const s = buildStep(id, plans[i]!, built);
      built.push(s.built);
      return s.doc;
    });
    const doc: Doc = {
      version: 1,
      name,
      input: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
      steps,
    };
    if (description !== undefined) doc.description = description;
    if (budget !== undefined) doc.budget = budget;
    if (withOutput)
      doc.output = { last: `\${${valueOf(built.at(-1)!)}}`, n: 1, list: ['${input.orderId}', null, { ok: '${steps.' + ids[0] + ' != null}' }] };
    return doc;
  });

// ---- mutations -----------------------------------------------------------------------------------------------

type Path = Array<string | number>;

/** The paths in a JSON value down to 32 levels, the root included (iterative: values may be deeply nested). */
function paths(root: unknown): Path[] {
  const out: Path[] = [];
  const work: Array<[unknown, Path]> = [[root, []]];
  while (work.length > 0) {
    const [value, at] = work.pop()!;
    out.push(at);
    if (at.length >= 32 || value === null || typeof value !== 'object') continue;
    for (const [k, v] of Object.entries(value)) work.push([v, [...at, Array.isArray(value) ? Number(k) : k]]);
  }
  return out;
}

function get(root: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], root);
}

/** Sets (or with `undefined`, deletes) the value at a path; returns the new root (the root itself may change). */
function set(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = get(root, path.slice(0, -1)) as Record<string | number, unknown> | unknown[];
  const key = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key as string];
  } else (parent as Record<string | number, unknown>)[key] = value;
  return root;
}

const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Tokens that make CEL-looking text, so random expressions get past the lexer often enough to matter. */
const celArb = fc
  .array(
    fc.constantFrom(
      'steps',
      'input',
      'run',
      '.',
      '.?',
      '[',
      ']',
      '[?',
      '(',
      ')',
      '{',
      '}',
      '${',
      '$${',
      '"',
      "'",
      '"""',
      '\\',
      ' ',
      ',',
      ':',
      '&&',
      '||',
      '!',
      '-',
      '+',
      '*',
      '/',
      '%',
      '==',
      '!=',
      '<',
      '>=',
      '?',
      'has',
      'all',
      'exists',
      'map',
      'filter',
      'size',
      'x',
      'a',
      'b',
      'order',
      '0',
      '1',
      '1.5',
      '1u',
      'null',
      'true',
      'in',
      'int',
      'double',
      '9223372036854775808',
      'orValue',
    ),
    { maxLength: 25 },
  )
  .map((tokens) => tokens.join(''));

/**
 * Well-formed CEL over the scope: step references (`@` stands for an id of the spec, filled in by the mutation),
 * fields, indexes, optional selection, has(), macros, operators. These parse, so the reference analysis and the
 * type check see them.
 */
const FIELDS = ['at', 'approved', 'by', 'total', 'answer', 'customer', 'name', 'items', 'nope', 'x'];
const fieldArb = fc.constantFrom(...FIELDS);
const { expr: structuredCelArb } = fc.letrec<{ expr: string; chain: string }>((tie) => ({
  chain: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('steps.@', 'input', 'run', 'steps', 'input.orderId', 'steps["@"]'),
    fc.tuple(tie('chain'), fieldArb).map(([c, f]) => `${c}.${f}`),
    fc.tuple(tie('chain'), fieldArb).map(([c, f]) => `${c}.?${f}`),
    fc.tuple(tie('chain'), fc.constantFrom('[0]', '[1]', '["k"]', '[?"k"]', '[input.k]', '[-1]')).map(([c, i]) => `${c}${i}`),
  ),
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('chain'),
    fc.constantFrom('1', '1.5', '"s"', 'null', 'true', '[]', '{}', 'x', 'y'),
    tie('chain').map((c) => `has(${c}.${FIELDS[0]})`),
    fc
      .tuple(tie('chain'), fc.constantFrom('all', 'exists', 'exists_one', 'map', 'filter'), fc.constantFrom('v', 'steps', 'input', 'x'), tie('expr'))
      .map(([c, m, v, e]) => `${c}.${m}(${v}, ${e})`),
    fc
      .tuple(tie('expr'), fc.constantFrom('+', '-', '*', '/', '%', '==', '!=', '<', '&&', '||', 'in'), tie('expr'))
      .map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(tie('expr'), tie('expr'), tie('expr')).map(([a, b, c]) => `${a} ? ${b} : ${c}`),
    tie('expr').map((e) => `!(${e})`),
    tie('expr').map((e) => `size(${e})`),
    tie('chain').map((c) => `${c}.orValue(0)`),
    fc.tuple(tie('expr'), tie('expr')).map(([a, b]) => `[${a}, {"k": ${b}}]`),
  ),
}));
const exprArb = fc.oneof(celArb, structuredCelArb, structuredCelArb);

/** JSON Schemas, valid and not: the validator checks them and the type check walks them. */
const schemaArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant({ type: 'object', properties: { answer: { type: 'string' }, x: { type: 'object', properties: { y: { type: 'number' } } } } }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(
    fc.constantFrom('type', 'properties', 'required', 'items', 'anyOf', 'oneOf', 'additionalProperties', '$ref', '$id', '$schema', 'requird'),
    fc.jsonValue({ maxDepth: 2 }),
    {
      maxKeys: 4,
    },
  ),
  fc.record(
    {
      type: fc.constantFrom('object', 'objct', 'string'),
      properties: fc.dictionary(fc.constantFrom('answer', 'x', 'nope'), fc.oneof(fc.constant({ type: 'string' }), fc.jsonValue({ maxDepth: 2 }))),
      $schema: fc.constantFrom(
        'https://json-schema.org/draft/2020-12/schema',
        'http://json-schema.org/draft-07/schema#',
        'http://json-schema.org/draft-04/schema#',
        'x',
      ),
      $id: fc.constantFrom('https://example.com/a', 'https://example.com/b', 'urn:x'),
    },
    { requiredKeys: ['type'] },
  ),
);

/**
 * Nested arrays or objects, a few hundred levels deep. Thousands of levels crash the validator today (see
 * "deeply nested values" in validator-rules.test.ts) and also fast-check's own printing of the counterexample,
 * so that case has its own test.
 */
const deepArb = fc
  .record({ depth: fc.integer({ min: 1, max: 300 }), object: fc.boolean(), leaf: fc.constantFrom('x ${input.a}', 1, null) })
  .map(({ depth, object, leaf }) => {
    let v: unknown = leaf;
    for (let i = 0; i < depth; i++) v = object ? { a: v } : [v];
    return v;
  });

const anyTypeArb = fc.record({
  null: fc.constant(null),
  boolean: fc.boolean(),
  number: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
  string: fc.oneof(fc.string(), exprArb),
  array: fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 4 }),
  object: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
});

const randomStepArb = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.record(
    {
      id: fc.oneof(idArb, fc.string()),
      kind: fc.oneof(fc.constantFrom(...KINDS), fc.constantFrom('constructor', 'toString', '__proto__', 'Tool', 'agnet'), fc.string()),
      tool: fc.oneof(fc.constantFrom('lookup_order', 'refund_order', 'send_email'), fc.string()),
      tools: fc.oneof(fc.array(fc.constantFrom('lookup_order', 'refund_order', 'nope'), { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })),
      maxTurns: fc.oneof(fc.integer({ min: -1, max: 60 }), fc.jsonValue({ maxDepth: 1 })),
      items: fc.oneof(
        exprArb,
        exprArb.map((e) => `\${${e}}`),
      ),
      step: fc.oneof(
        fc.record({
          kind: fc.constant('tool'),
          tool: fc.constantFrom('lookup_order', 'nope'),
          args: fc.dictionary(
            fc.string(),
            exprArb.map((e) => `\${${e}}`),
          ),
        }),
        fc.record({ kind: fc.constant('llm'), prompt: exprArb.map((e) => `Q \${${e}}`), output: schemaArb }, { requiredKeys: ['kind'] }),
        fc.jsonValue({ maxDepth: 3 }),
      ),
      spec: fc.oneof(fc.constantFrom('child', 'no-input', 'chld'), fc.string()),
      input: fc.oneof(
        fc.jsonValue({ maxDepth: 3 }),
        exprArb.map((e) => ({ orderId: `\${${e}}` })),
      ),
      args: fc.dictionary(
        fc.string(),
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }),
          exprArb.map((e) => `\${${e}}`),
        ),
      ),
      prompt: fc.oneof(
        fc.string(),
        exprArb.map((e) => `Q \${${e}}`),
      ),
      title: fc.string(),
      duration: fc.oneof(durationArb, fc.string()),
      when: exprArb,
      after: fc.array(fc.oneof(idArb, fc.string()), { maxLength: 3 }),
      output: schemaArb,
      retry: fc.jsonValue({ maxDepth: 2 }),
      timeout: fc.oneof(durationArb, fc.string()),
    },
    { requiredKeys: [] },
  ),
);

const mutationArb = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('retype' as const), pick: fc.nat(), values: anyTypeArb, turn: fc.nat(5) }),
  fc.record({
    op: fc.constant('renameId' as const),
    pick: fc.nat(),
    other: fc.nat(),
    name: fc.oneof(idArb, fc.string(), fc.constantFrom('in', 'null', 'A', '')),
  }),
  fc.record({ op: fc.constant('addStep' as const), at: fc.nat(), step: randomStepArb }),
  fc.record({
    op: fc.constant('insertTemplate' as const),
    pick: fc.nat(),
    pos: fc.nat(),
    text: fc.constantFrom('${', '${}', '$${', '}', '${steps.', '${input.'),
  }),
  fc.record({
    op: fc.constant('expression' as const),
    pick: fc.nat(),
    field: fc.constantFrom('when', 'prompt', 'title', 'args', 'items', 'input'),
    text: exprArb,
    wrap: fc.boolean(),
    ids: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ op: fc.constant('schema' as const), pick: fc.nat(), where: fc.constantFrom('output', 'input'), schema: schemaArb }),
  fc.record({ op: fc.constant('budget' as const), budget: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ op: fc.constant('deep' as const), pick: fc.nat(), value: fc.oneof(fc.jsonValue({ maxDepth: 12 }), deepArb) }),
  fc.record({
    op: fc.constant('references' as const),
    pick: fc.nat(),
    other: fc.nat(),
    field: fc.oneof(fc.constantFrom('at', 'approved', 'total', 'answer', 'nope'), idArb),
  }),
);
type Mutation = typeof mutationArb extends fc.Arbitrary<infer T> ? T : never;

function stepsOf(doc: unknown): unknown[] {
  return doc !== null && typeof doc === 'object' && Array.isArray((doc as Doc).steps) ? ((doc as Doc).steps as unknown[]) : [];
}

function idOf(step: unknown): string {
  return step !== null && typeof step === 'object' && typeof (step as Doc).id === 'string' ? ((step as Doc).id as string) : 'x';
}

function mutate(doc: unknown, m: Mutation): unknown {
  const all = paths(doc);
  const steps = stepsOf(doc);
  switch (m.op) {
    case 'delete': {
      const path = all[m.pick % all.length]!;
      return path.length === 0 ? undefined : set(doc, path, undefined);
    }
    case 'retype': {
      const path = all[m.pick % all.length]!;
      const current = typeOf(get(doc, path));
      const candidates = Object.entries(m.values).filter(([type]) => type !== current);
      return set(doc, path, candidates[m.turn % candidates.length]![1]);
    }
    case 'renameId': {
      if (steps.length === 0) return doc;
      const step = steps[m.pick % steps.length];
      if (step === null || typeof step !== 'object' || Array.isArray(step)) return doc;
      (step as Doc).id = m.other % 3 === 0 ? idOf(steps[m.other % steps.length]) : m.name; // a duplicate, or another name
      return doc;
    }
    case 'addStep': {
      if (!Array.isArray((doc as Doc | null)?.steps)) return doc;
      steps.splice(m.at % (steps.length + 1), 0, m.step);
      return doc;
    }
    case 'insertTemplate': {
      const strings = all.filter((p) => typeof get(doc, p) === 'string');
      if (strings.length === 0) return doc;
      const path = strings[m.pick % strings.length]!;
      const text = get(doc, path) as string;
      const at = m.pos % (text.length + 1);
      return set(doc, path, text.slice(0, at) + m.text + text.slice(at));
    }
    case 'expression': {
      if (steps.length === 0) return doc;
      const step = steps[m.pick % steps.length];
      if (step === null || typeof step !== 'object' || Array.isArray(step)) return doc;
      let n = 0;
      const filled = m.text.replace(/@/g, () => idOf(steps[m.ids[n++ % m.ids.length]! % steps.length]));
      const text = m.wrap ? `\${${filled}}` : filled;
      (step as Doc)[m.field] = m.field === 'args' || m.field === 'input' ? { orderId: text } : text;
      return doc;
    }
    case 'schema': {
      if (m.where === 'input') return doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? { ...(doc as Doc), input: m.schema } : doc;
      const step = steps[m.pick % Math.max(1, steps.length)];
      if (step === null || typeof step !== 'object' || Array.isArray(step)) return doc;
      Object.assign(step, { kind: 'llm', prompt: 'Q', output: m.schema });
      delete (step as Doc).tool;
      delete (step as Doc).duration;
      delete (step as Doc).title;
      return doc;
    }
    case 'budget':
      return doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? { ...(doc as Doc), budget: m.budget } : doc;
    case 'deep': {
      const path = all[m.pick % all.length]!;
      return set(doc, path, m.value);
    }
    case 'references': {
      if (steps.length === 0) return doc;
      const step = steps[m.pick % steps.length];
      if (step === null || typeof step !== 'object' || Array.isArray(step)) return doc;
      (step as Doc).when = `steps.${idOf(steps[m.other % steps.length])}.${m.field} != null`;
      return doc;
    }
  }
}

const mutatedArb = fc
  .tuple(validSpecArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
  .map(([doc, mutations]) => mutations.reduce<unknown>((d, m) => mutate(d, m), structuredClone(doc)));

// ---- the property --------------------------------------------------------------------------------------------

/** The validator must answer in well under a second, whatever the input. */
const MAX_MS = 2_000;

function timed(run: () => ValidationResult): ValidationResult {
  const start = performance.now();
  const result = run();
  expect(performance.now() - start).toBeLessThan(MAX_MS);
  return result;
}

/** The contract of a validation result. */
function expectWellFormed(result: ValidationResult): void {
  if (result.ok) {
    expect(result.problems).toEqual([]);
    expect(result.spec).toBeDefined();
    return;
  }
  expect(result.problems.length).toBeGreaterThan(0);
  for (const p of result.problems) {
    expect(KNOWN_CODES[p.code]).toBe(true);
    expect(Array.isArray(p.path)).toBe(true);
    for (const seg of p.path) expect(['string', 'number']).toContain(typeof seg);
    expect(typeof p.message).toBe('string');
    expect(p.message.trim()).not.toBe('');
    expect(formatProblem(p)).toMatch(/^.+: .+/s);
  }
  for (let i = 1; i < result.problems.length; i++) {
    expect(compareProblems(result.problems[i - 1]!, result.problems[i]!)).toBeLessThanOrEqual(0);
  }
}

describe('the validator on random input', () => {
  it('generated specs are valid (the generator is sound)', () => {
    fc.assert(
      fc.property(validSpecArb, (doc) => {
        const result = validateSpec(doc, { tools: CATALOG, specs: SPECS });
        expect(result.problems.map(formatProblem)).toEqual([]);
        expect(validateSpec(doc).ok).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws or hangs on mutated specs, and every result is well formed', () => {
    fc.assert(
      fc.property(mutatedArb, fc.boolean(), (doc, withCatalog) => {
        expectWellFormed(timed(() => validateSpec(doc, withCatalog ? { tools: CATALOG, specs: SPECS } : {})));
      }),
      { numRuns: 1_500 },
    );
  });

  it('never throws or hangs on mutated spec text (JSON, YAML, or cut and spliced)', () => {
    const textArb = fc
      .tuple(mutatedArb, fc.constantFrom('json', 'yaml', 'cut', 'splice'), fc.nat(), fc.string({ maxLength: 5 }))
      .map(([doc, how, at, junk]) => {
        const json = JSON.stringify(doc) ?? 'null';
        if (how === 'json') return json;
        if (how === 'yaml') {
          try {
            return toYaml(doc ?? null);
          } catch {
            return json; // the yaml package cannot write thousands of levels either
          }
        }
        if (how === 'cut') return json.slice(0, at % (json.length + 1));
        const i = at % (json.length + 1);
        return json.slice(0, i) + junk + json.slice(i);
      });
    fc.assert(
      fc.property(textArb, (text) => {
        expectWellFormed(timed(() => validateSpecText(text, { tools: CATALOG })));
      }),
      { numRuns: 500 },
    );
  });
});

describe("the planner's response schemas", () => {
  // A schema sent as response_format must accept every valid spec: an endpoint that constrains decoding to it
  // could not write the spec otherwise.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const outline = ajv.compile(specOutlineJsonSchema());
  const full = ajv.compile(specJsonSchemaForModels());

  it('both accept every valid spec', () => {
    fc.assert(
      fc.property(validSpecArb, (doc) => {
        expect(outline(doc), JSON.stringify(outline.errors)).toBe(true);
        expect(full(doc), JSON.stringify(full.errors)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("the outline refuses unknown fields and kinds, and the full schema each kind's own rules", () => {
    const spec = { version: 1, name: 'x', steps: [{ id: 'a', kind: 'tool', tool: 't' }] };
    expect(outline(spec)).toBe(true);
    expect(outline({ ...spec, steps: [{ id: 'a', kind: 'tool', tool: 't', arguments: {} }] })).toBe(false);
    expect(outline({ ...spec, steps: [{ id: 'a', kind: 'shell' }] })).toBe(false);
    expect(outline({ ...spec, extra: 1 })).toBe(false);
    // a tool step with a prompt: the outline lets it through (the validator reports it), the full schema does not
    const mixed = { ...spec, steps: [{ id: 'a', kind: 'tool', tool: 't', prompt: 'p' }] };
    expect(outline(mixed)).toBe(true);
    expect(full(mixed)).toBe(false);
    expect(validateSpec(mixed).problems.map(formatProblem)).toEqual(['steps[0].prompt: unknown field "prompt"']);
  });
});

describe('round trips', () => {
  it('a valid spec stays valid, and the same, through JSON and YAML', () => {
    fc.assert(
      fc.property(validSpecArb, (doc) => {
        const viaJson = JSON.parse(JSON.stringify(doc)) as unknown;
        expect(viaJson).toEqual(doc);
        expect(validateSpec(viaJson, { tools: CATALOG }).ok).toBe(true);

        const yaml = toYaml(doc);
        expect(fromYaml(yaml)).toEqual(doc);
        const fromText = validateSpecText(yaml, { tools: CATALOG, format: 'yaml' });
        expect(fromText.problems.map(formatProblem)).toEqual([]);
        expect(fromText.ok && fromText.spec).toEqual(doc);

        const jsonText = validateSpecText(JSON.stringify(doc, null, 2), { tools: CATALOG });
        expect(jsonText.ok && jsonText.spec).toEqual(doc);
      }),
      { numRuns: 300 },
    );
  });
});
