/**
 * The `trellis` command end to end: real processes running dist/cli/main.js, asserting the exit codes and
 * output lines of the CLI contract in the README (0 success, 1 the work failed, 2 bad usage).
 * Independent processes run concurrently: each takes a few hundred milliseconds to start.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { lines, ROOT, runCli, type CliResult } from '../helpers/cli.js';

const TOOLS = 'examples/tools.ts';
const EXAMPLES = ['examples/refund.json', 'examples/research.yaml', 'examples/support-triage.json'];

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trellis-e2e-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Writes a file into the test's temporary directory and returns its absolute path. */
async function write(name: string, content: string | object): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

/**
 * Every spec file in examples/, so a new example is covered without touching this file. A JSON document whose
 * top level is an array is not a spec (a mock-llm script is a list of rules): it is left out.
 */
async function exampleSpecs(): Promise<string[]> {
  const names = (await readdir(path.join(ROOT, 'examples'))).filter((n) => /\.(json|ya?ml)$/i.test(n)).sort();
  const specs: string[] = [];
  for (const name of names) {
    let doc: unknown;
    try {
      doc = parseYaml(await readFile(path.join(ROOT, 'examples', name), 'utf8'));
    } catch {
      doc = undefined; // a syntax error: keep it, so that validate reports it
    }
    if (!Array.isArray(doc)) specs.push(`examples/${name}`);
  }
  return specs;
}

const shared = new Map<string, Promise<CliResult>>();

/** For commands on the examples, whose result cannot change during the run: one process, shared by the tests. */
function runShared(args: string[]): Promise<CliResult> {
  const key = JSON.stringify(args);
  let result = shared.get(key);
  if (!result) {
    result = runCli(args);
    shared.set(key, result);
  }
  return result;
}

async function readSpec(file: string): Promise<{ steps: Array<Record<string, unknown> & { id: string; kind: string }> }> {
  // YAML is a superset of JSON: one parser reads both.
  return parseYaml(await readFile(path.join(ROOT, file), 'utf8'));
}

const ORDER_INPUT = { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] };

/** A spec with several problems, at steps[2] and steps[10] among others (numeric order, not text order). */
function specWithProblems(): object {
  const steps: object[] = [
    { id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: '${input.orderId}' } },
    { id: 'assess', kind: 'llm', prompt: 'Customer note: ${steps.order.note}', timeout: 'soon' },
    { id: 'ok', kind: 'approval', title: 'Refund ${steps.order.total}?', after: ['asses'] },
    { id: 'refund', kind: 'tool', tool: 'refnud_order', args: { orderId: '${input.orderId}', amount: '${steps.order.total}' } },
  ];
  for (let i = 4; i < 10; i++) steps.push({ id: `pause_${i}`, kind: 'wait', duration: '1s' });
  steps.push({ id: 'check', kind: 'llm', prompt: 'Total: ${steps.order.totl}' });
  return { version: 1, nmae: 'refund', input: ORDER_INPUT, steps };
}

const EXPECTED_PROBLEMS = [
  { path: 'name', code: 'SHAPE', message: 'missing; expected a string' },
  { path: 'nmae', code: 'SHAPE', message: 'unknown field "nmae" (did you mean "name"?)' },
  {
    path: 'steps[1].timeout',
    code: 'DURATION',
    message: 'invalid duration "soon": a duration is a whole number and a unit: 500ms, 30s, 5m, 24h, 7d (or combined: 1h30m), at most 365d',
  },
  { path: 'steps[2].after[0]', code: 'UNKNOWN_STEP', message: 'unknown step "asses" (did you mean "assess"?)' },
  { path: 'steps[3].tool', code: 'UNKNOWN_TOOL', message: 'unknown tool "refnud_order" (did you mean "refund_order"?)' },
  {
    path: 'steps[10].prompt',
    code: 'TYPE',
    message: 'steps.order has no field "totl" (did you mean "total"? fields: orderId, customer, items, total, note, status)',
  },
];

describe.concurrent('trellis validate', () => {
  it('prints "valid" and exits 0 for each example with the example tools', async ({ expect }) => {
    const results = await Promise.all(EXAMPLES.map((file) => runShared(['validate', file, '--tools', TOOLS])));
    results.forEach((r, i) => {
      expect({ file: EXAMPLES[i], ...r }).toEqual({ file: EXAMPLES[i], code: 0, stdout: 'valid\n', stderr: '' });
    });
  });

  it('validates every .json/.yaml/.yml file in examples/, with and without the tools module', async ({ expect }) => {
    const files = await exampleSpecs();
    expect(files).toEqual(expect.arrayContaining(EXAMPLES));
    const [typed, untyped] = await Promise.all([
      Promise.all(files.map((file) => runShared(['validate', file, '--tools', TOOLS]))),
      Promise.all(files.map((file) => runCli(['validate', file, '--json']))),
    ]);
    files.forEach((file, i) => {
      expect({ file, ...typed[i] }).toEqual({ file, code: 0, stdout: 'valid\n', stderr: '' });
      expect(untyped[i]!.code, `${file} without tools: ${untyped[i]!.stdout}${untyped[i]!.stderr}`).toBe(0);
      expect(JSON.parse(untyped[i]!.stdout), file).toEqual({ valid: true, problems: [] });
    });
  });

  it('reports every problem of an invalid spec as one "path: message" line, sorted by path, and exits 1', async ({ expect }) => {
    const file = await write('problems.json', specWithProblems());
    const r = await runCli(['validate', file, '--tools', TOOLS]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(lines(r.stdout)).toEqual(EXPECTED_PROBLEMS.map((p) => `${p.path}: ${p.message}`));
  });

  it('--json gives { valid: false, problems: [{ path, code, message }] }, the same problems as the text', async ({ expect }) => {
    const file = await write('problems-json.json', specWithProblems());
    const json = await runCli(['validate', file, '--tools', TOOLS, '--json']);
    expect(json.code).toBe(1);
    expect(json.stderr).toBe('');
    // The same list that the text test above expects line by line.
    expect(JSON.parse(json.stdout)).toEqual({ valid: false, problems: EXPECTED_PROBLEMS });
  });

  it('reports a YAML syntax error as "line L, column C: ..." and exits 1', async ({ expect }) => {
    const duplicate = await write('duplicate-key.yaml', 'version: 1\nname: a\nname: b\nsteps:\n  - id: a\n    kind: wait\n    duration: 1s\n');
    const unclosed = await write('unclosed.yml', 'version: 1\nname: x\nsteps:\n  - id: a\n    kind: [tool\n');
    const [a, b, c] = await Promise.all([runCli(['validate', duplicate]), runCli(['validate', unclosed]), runCli(['validate', duplicate, '--json'])]);
    expect(a).toEqual({ code: 1, stdout: 'line 3, column 1: invalid YAML: Map keys must be unique\n', stderr: '' });
    expect(b.code).toBe(1);
    expect(lines(b.stdout)).toHaveLength(1);
    expect(b.stdout).toMatch(/^line 6, column 1: invalid YAML: \S.*\n$/);
    expect(c.code).toBe(1);
    expect(JSON.parse(c.stdout)).toEqual({
      valid: false,
      problems: [{ path: 'line 3, column 1', code: 'SYNTAX', message: 'invalid YAML: Map keys must be unique' }],
    });
  });

  it('reports a JSON syntax error as "line L, column C: ..." and exits 1', async ({ expect }) => {
    const trailingComma = await write('trailing-comma.json', '{\n  "version": 1,\n  "name": "x",\n  "steps": [ { "id": "a", }\n  ]\n}\n');
    const missingComma = await write('missing-comma.json', '{\n  "version": 1\n  "name": "x"\n}\n');
    const [a, b] = await Promise.all([runCli(['validate', trailingComma]), runCli(['validate', missingComma])]);
    expect(a).toEqual({ code: 1, stdout: 'line 4, column 27: invalid JSON: Expected double-quoted property name\n', stderr: '' });
    expect(b).toEqual({ code: 1, stdout: "line 3, column 3: invalid JSON: Expected ',' or '}' after property value\n", stderr: '' });
  });

  it('type-checks a reference against the output of the step it names, listing the fields that exist', async ({ expect }) => {
    const file = await write('totl.json', {
      version: 1,
      name: 'typo',
      input: ORDER_INPUT,
      steps: [
        { id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: '${input.orderId}' } },
        { id: 'refund', kind: 'tool', tool: 'refund_order', args: { orderId: '${input.orderId}', amount: '${steps.order.totl}' } },
      ],
    });
    const [typed, untyped] = await Promise.all([runCli(['validate', file, '--tools', TOOLS]), runCli(['validate', file])]);
    expect(typed.code).toBe(1);
    expect(lines(typed.stdout)).toEqual([
      'steps[1].args.amount: steps.order has no field "totl" (did you mean "total"? fields: orderId, customer, items, total, note, status)',
    ]);
    // Without a tools module the output of a tool step is unknown: nothing to check against.
    expect(untyped).toEqual({ code: 0, stdout: 'valid\n', stderr: '' });
  });

  it('type-checks a literal tool argument against the tool input: amount "ten" at steps[i].args.amount', async ({ expect }) => {
    const file = await write('ten.json', {
      version: 1,
      name: 'literal',
      steps: [
        { id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: 'A-1001' } },
        { id: 'refund', kind: 'tool', tool: 'refund_order', args: { orderId: 'A-1001', amount: 'ten' } },
      ],
    });
    const [text, json, untyped] = await Promise.all([
      runCli(['validate', file, '--tools', TOOLS]),
      runCli(['validate', file, '--tools', TOOLS, '--json']),
      runCli(['validate', file]),
    ]);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(1);
    const found = lines(text.stdout);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^steps\[1\]\.args\.amount: .*number.*"ten"/);
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: false, problems: [{ path: 'steps[1].args.amount', code: 'TYPE' }] });
    expect(untyped).toEqual({ code: 0, stdout: 'valid\n', stderr: '' });
  });

  it('names a missing and an unknown tool argument with the arguments the tool takes', async ({ expect }) => {
    const file = await write('args.json', {
      version: 1,
      name: 'args',
      steps: [{ id: 'refund', kind: 'tool', tool: 'refund_order', args: { orderId: 'A-1', amont: '${1 + 1}' } }],
    });
    const r = await runCli(['validate', file, '--tools', TOOLS]);
    expect(r.code).toBe(1);
    expect(lines(r.stdout)).toEqual([
      'steps[0].args: missing argument "amount" (refund_order takes: orderId, amount)',
      'steps[0].args.amont: unknown argument "amont" (did you mean "amount"?) (refund_order takes: orderId, amount)',
    ]);
  });

  it('reports a value of the wrong shape with the value it got', async ({ expect }) => {
    const file = await write('shape.json', {
      version: 2,
      name: 5,
      steps: [
        { id: 'Bad-Id', kind: 'wait', duration: '1s' },
        { id: 'b', kind: 'wait', duration: '1s', onError: 'stop', retry: { maxAttempts: 0 } },
      ],
    });
    const r = await runCli(['validate', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(lines(r.stdout)).toEqual([
      'name: expected a string, got number 5',
      'steps[0].id: invalid id "Bad-Id": use lower case letters, digits and _, starting with a letter',
      'steps[1].onError: expected "fail" or "continue", got string "stop"',
      'steps[1].retry.maxAttempts: must be at least 1, got number 0',
      'version: expected 1, got number 2',
    ]);
  });

  it('exits 2 naming the file when the spec file does not exist or is a directory', async ({ expect }) => {
    const missing = path.join(dir, 'no-such-spec.json');
    const [a, b, c] = await Promise.all([runCli(['validate', missing]), runCli(['validate', dir]), runCli(['graph', missing])]);
    expect(a).toEqual({ code: 2, stdout: '', stderr: `trellis: cannot read ${missing}: no such file\n` });
    expect(b).toEqual({ code: 2, stdout: '', stderr: `trellis: cannot read ${dir}: it is a directory\n` });
    expect(c).toEqual({ code: 2, stdout: '', stderr: `trellis: cannot read ${missing}: no such file\n` });
  });

  it('exits 2 naming the tools module and what is wrong with it', async ({ expect }) => {
    const cases = [
      { module: 'test/fixtures/tools/does-not-exist.ts', reason: 'no such file' },
      { module: 'test/fixtures/tools/throws.ts', reason: 'failed to load: the payments API key is not set' },
      {
        module: 'test/fixtures/tools/not-an-array.ts',
        reason: 'the default export must be a list of tools made with defineTool; got one tool ("ping"), not a list; write `export default [ping]`',
      },
      {
        module: 'test/fixtures/tools/no-default.ts',
        reason: 'the default export must be a list of tools made with defineTool; there is no default export (it exports tools)',
      },
      {
        module: 'test/fixtures/tools/not-a-tool.ts',
        reason: 'item 1 of the default export is not a tool made with defineTool (got an object named "pong")',
      },
    ];
    const results = await Promise.all(cases.map((c) => runCli(['validate', 'examples/refund.json', '--tools', c.module])));
    results.forEach((r, i) => {
      const { module, reason } = cases[i]!;
      expect({ module, ...r }).toEqual({ module, code: 2, stdout: '', stderr: `trellis: tools module ${module}: ${reason}\n` });
    });
  });

  it('loads a .ts tools module outside a "type": "module" package (tsx compiles it as CommonJS)', async ({ expect }) => {
    const folder = path.join(dir, 'cjs-tools');
    await mkdir(folder);
    await writeFile(path.join(folder, 'package.json'), '{}');
    const tools = path.join(folder, 'good.ts');
    await writeFile(
      tools,
      [
        `import { defineTool } from '${path.join(ROOT, 'dist/index.js')}';`,
        `import { z } from '${createRequire(import.meta.url).resolve('zod')}';`,
        "export default [defineTool({ name: 'ping', description: 'Answers pong.', input: z.object({}), output: z.object({ reply: z.string() }), run: () => ({ reply: 'pong' }) })];",
      ].join('\n'),
    );
    const spec = await write('ping.json', { version: 1, name: 'ping', steps: [{ id: 'p', kind: 'tool', tool: 'ping', args: {} }] });
    expect(await runCli(['validate', spec, '--tools', tools])).toEqual({ code: 0, stdout: 'valid\n', stderr: '' });
  });
});

describe.concurrent('trellis validate --specs', () => {
  const caller = { version: 1, name: 'caller', steps: [{ id: 'r', kind: 'call', spec: 'refund', input: {} }] };

  it('exits 2 for a --specs folder that does not exist or is a file, rather than reading it as empty', async ({ expect }) => {
    const spec = await write('caller.json', caller);
    const file = await write('not-a-folder.json', '{}');
    const [missing, notDir, fromEnv] = await Promise.all([
      runCli(['validate', spec, '--specs', 'nodir']),
      runCli(['validate', spec, '--specs', file]),
      runCli(['validate', spec], { env: { TRELLIS_SPECS: 'nodir' } }),
    ]);
    expect(missing).toEqual({ code: 2, stdout: '', stderr: 'trellis: cannot read nodir: no such directory\n' });
    expect(notDir).toEqual({ code: 2, stdout: '', stderr: `trellis: cannot read ${file}: it is a file, not a directory\n` });
    expect(fromEnv).toEqual(missing);
    // Without --specs or TRELLIS_SPECS no library is read (the worker's default ./specs may not exist yet).
    const none = await runCli(['validate', spec], { cwd: dir, env: { TRELLIS_SPECS: undefined } });
    expect(none.code, none.stderr).toBe(0);
  });

  it('refuses a name saved twice (refund.json and refund.yaml), and reports every bad saved spec at once', async ({ expect }) => {
    const library = path.join(dir, 'library');
    await mkdir(library);
    const refund = await readFile(path.join(ROOT, 'examples/refund.json'), 'utf8');
    await Promise.all([
      writeFile(path.join(library, 'refund.json'), refund),
      writeFile(path.join(library, 'refund.yaml'), refund),
      writeFile(path.join(library, 'broken.json'), '{ "version": 1 '),
      writeFile(path.join(library, 'empty.json'), JSON.stringify({ version: 1, name: 'empty', steps: [] })),
    ]);
    const r = await runCli(['validate', await write('caller2.json', caller), '--specs', library]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const [header, ...rest] = lines(r.stderr);
    expect(header).toBe(`trellis: 3 saved specs in ${library} are not usable:`);
    expect(rest).toContain(
      `saved spec "refund" is in ${path.join(library, 'refund.json')} and ${path.join(library, 'refund.yaml')}: keep one of them`,
    );
    expect(rest).toContain(`saved spec ${path.join(library, 'broken.json')} is invalid:`);
    expect(rest).toContain(`saved spec ${path.join(library, 'empty.json')} is invalid:`);
  });

  it("checks each saved spec's own calls against the others: an unknown spec, and a cycle", async ({ expect }) => {
    const library = path.join(dir, 'calling-library');
    await mkdir(library);
    const calls = (name: string, spec: string) => JSON.stringify({ version: 1, name, steps: [{ id: 'next', kind: 'call', spec }] });
    await Promise.all([
      writeFile(path.join(library, 'ping.json'), calls('ping', 'pong')),
      writeFile(path.join(library, 'pong.json'), calls('pong', 'ping')),
      writeFile(path.join(library, 'lost.json'), calls('lost', 'nowhere')),
    ]);
    const r = await runCli(['validate', await write('caller3.json', caller), '--specs', library]);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([
      `trellis: 3 saved specs in ${library} are not usable:`,
      `saved spec "lost" in ${library}:`,
      'steps[0].spec: unknown spec "nowhere"',
      `saved spec "ping" in ${library}:`,
      'steps[0].spec: cycle: ping -> pong -> ping',
      `saved spec "pong" in ${library}:`,
      'steps[0].spec: cycle: pong -> ping -> pong',
    ]);
  });
});

describe.concurrent('trellis run: bad input is found before connecting (no Temporal at 127.0.0.1:1)', () => {
  const run = (args: string[]) => runCli(['run', ...args], { env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });

  it("an input that does not fit the spec's input schema exits 1 with its problems, not 2 for the connection", async ({ expect }) => {
    const [empty, none] = await Promise.all([run(['examples/refund.json', '--input', '{}']), run(['examples/refund.json'])]);
    expect(empty).toEqual({ code: 1, stdout: '', stderr: 'input: missing required field "orderId"\n' });
    expect(none).toEqual({ code: 1, stdout: '', stderr: 'input: expected object, got null\n' });
  });

  it("an empty --goal, and --tools or --specs with --goal (the worker's tools plan a goal run), exit 2", async ({ expect }) => {
    const [empty, tools, both] = await Promise.all([
      run(['--goal', ' ']),
      run(['--goal', 'Refund order A1', '--tools', TOOLS]),
      run(['--goal', 'Refund order A1', '--tools', TOOLS, '--specs', 'specs']),
    ]);
    expect(empty).toEqual({ code: 2, stdout: '', stderr: 'trellis: --goal is empty: say what the workflow should do\n' });
    const advice =
      "for a spec FILE, checked before it starts; a goal run uses the worker's tools and saved specs (`trellis worker --tools MODULE --specs DIR`)";
    expect(tools).toEqual({ code: 2, stdout: '', stderr: `trellis: --tools is ${advice}: leave it out\n` });
    expect(both).toEqual({ code: 2, stdout: '', stderr: `trellis: --tools and --specs are ${advice}: leave them out\n` });
  });
});

describe.concurrent('trellis worker: bad settings are refused at start, before connecting', () => {
  it('a planner prompt without {{catalog}} (--planner-prompt or TRELLIS_PLANNER_PROMPT), a malformed OPENAI_BASE_URL', async ({ expect }) => {
    const prompt = await write('no-marker.md', 'You write workflow specs.');
    const env = { TEMPORAL_ADDRESS: '127.0.0.1:1', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' };
    const [flag, fromEnv, notUrl] = await Promise.all([
      runCli(['worker', '--planner-prompt', prompt], { env }),
      runCli(['worker'], { env: { ...env, TRELLIS_PLANNER_PROMPT: prompt } }),
      runCli(['worker'], { env: { ...env, OPENAI_BASE_URL: 'notaurl' } }),
    ]);
    const message = `trellis: the prompt file ${prompt} has no {{catalog}} marker: the model would not see the tools; put {{catalog}} where the tools go\n`;
    expect(flag).toEqual({ code: 2, stdout: '', stderr: message });
    expect(fromEnv).toEqual({ code: 2, stdout: '', stderr: message });
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toContain('trellis: OPENAI_BASE_URL is not a URL: "notaurl"');
  });
});

describe.concurrent('trellis usage', () => {
  it('exits 2 on an unknown command, a missing argument and an unknown option', async ({ expect }) => {
    const [unknown, validate, graph, option] = await Promise.all([
      runCli(['frobnicate']),
      runCli(['validate']),
      runCli(['graph']),
      runCli(['validate', 'examples/refund.json', '--frobnicate']),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect(validate.code).toBe(2);
    expect(validate.stderr).toContain("missing required argument 'file'");
    expect(graph.code).toBe(2);
    expect(graph.stderr).toContain('give a spec FILE or --run RUN (one of them)');
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--frobnicate'");
    for (const r of [unknown, validate, graph, option]) expect(r.stdout).toBe('');
  });

  it('--help of the program and of each command exits 0; each command shows an Example', async ({ expect }) => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    // The commands that the program's help lists, so a new command is covered too.
    const section = top.stdout.split(/^Commands:$/m)[1] ?? '';
    const commands = [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['validate', 'graph', 'schema']));
    const results = await Promise.all(commands.map((c) => runCli([c, '--help'])));
    results.forEach((r, i) => {
      const command = commands[i]!;
      expect({ command, code: r.code, stderr: r.stderr }).toEqual({ command, code: 0, stderr: '' });
      expect(r.stdout, command).toContain(`Usage: trellis ${command}`);
      expect(r.stdout, command).toContain('Example');
    });
  });

  it('--version prints the package version and exits 0', async ({ expect }) => {
    const [r, pkg] = await Promise.all([runCli(['--version']), readFile(path.join(ROOT, 'package.json'), 'utf8')]);
    expect(r).toEqual({ code: 0, stdout: `${(JSON.parse(pkg) as { version: string }).version}\n`, stderr: '' });
  });
});

/** Edges, hexagon nodes and classes of a Mermaid flowchart printed by `trellis graph`. */
function parseMermaid(text: string) {
  const edges = new Set<string>();
  const hexagons = new Set<string>();
  const classes = new Map<string, Set<string>>();
  for (const line of lines(text)) {
    const edge = /^ {2}([a-z][a-z0-9_]*) (?:-->|-\.->) ([a-z][a-z0-9_]*)$/.exec(line);
    if (edge) edges.add(`${edge[1]} -> ${edge[2]}`);
    const hexagon = /^ {2}([a-z][a-z0-9_]*)\{\{".*"\}\}$/.exec(line);
    if (hexagon) hexagons.add(hexagon[1]!);
    const cls = /^ {2}class (\S+) ([a-z]+);$/.exec(line);
    if (cls) classes.set(cls[2]!, new Set(cls[1]!.split(',')));
  }
  return { edges, hexagons, classes };
}

/** The dependencies of a spec, found independently of src/: `steps.X` anywhere in a step, plus `after`. */
function expectedEdges(spec: Awaited<ReturnType<typeof readSpec>>): Set<string> {
  const edges = new Set<string>();
  for (const step of spec.steps) {
    const { id, after, ...rest } = step;
    const deps = new Set<string>(Array.isArray(after) ? (after as string[]) : []);
    for (const m of JSON.stringify(rest).matchAll(/\bsteps\.([a-z][a-z0-9_]*)/g)) deps.add(m[1]!);
    for (const dep of deps) if (dep !== id) edges.add(`${dep} -> ${id}`);
  }
  return edges;
}

describe.concurrent('trellis graph', () => {
  it('draws examples/refund.json as a Mermaid flowchart', async ({ expect }) => {
    const r = await runShared(['graph', 'examples/refund.json', '--tools', TOOLS]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.startsWith('flowchart TD\n')).toBe(true);
    const graph = parseMermaid(r.stdout);
    expect(graph.edges).toEqual(new Set(['order -> assess', 'order -> ok', 'assess -> ok', 'order -> refund', 'ok -> refund']));
    expect(graph.hexagons).toEqual(new Set(['ok']));
    expect(graph.classes.get('conditional')).toEqual(new Set(['ok', 'refund']));
    expect(graph.classes.get('approval')).toEqual(new Set(['ok']));
    // refund_order needs approval over 100 (policy in the tools module): marked with --tools.
    expect(graph.classes.get('gated')).toEqual(new Set(['refund']));
  });

  it('draws every example with an edge per dependency, approvals as hexagons, conditional steps in class conditional', async ({ expect }) => {
    const files = await exampleSpecs();
    const [specs, results] = await Promise.all([
      Promise.all(files.map(readSpec)),
      Promise.all(files.map((file) => runShared(['graph', file, '--tools', TOOLS]))),
    ]);
    results.forEach((r, i) => {
      const file = files[i]!;
      const spec = specs[i]!;
      expect(r.code, `${file}: ${r.stderr}`).toBe(0);
      expect(lines(r.stdout)[0], file).toBe('flowchart TD');
      const graph = parseMermaid(r.stdout);
      expect(graph.edges, file).toEqual(expectedEdges(spec));
      expect(graph.hexagons, file).toEqual(new Set(spec.steps.filter((s) => s.kind === 'approval').map((s) => s.id)));
      const conditional = spec.steps.filter((s) => s.when !== undefined).map((s) => s.id);
      expect(graph.classes.get('conditional') ?? new Set(), file).toEqual(new Set(conditional));
    });
  });

  it('draws an after-only dependency as a dotted edge', async ({ expect }) => {
    const r = await runCli(['graph', 'examples/support-triage.json']);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toContain('  send -.-> escalate');
    expect(lines(r.stdout)).toContain('  review --> escalate');
  });

  it('exits 1 on an invalid spec, with the problems on stderr and no graph', async ({ expect }) => {
    const file = await write('graph-invalid.json', specWithProblems());
    const r = await runCli(['graph', file, '--tools', TOOLS]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual(EXPECTED_PROBLEMS.map((p) => `${p.path}: ${p.message}`));
  });
});

describe.concurrent('trellis schema', () => {
  it('prints a JSON Schema that every example satisfies and that a spec with an unknown kind does not', async ({ expect }) => {
    const r = await runCli(['schema']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const schema = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);

    const files = await exampleSpecs();
    for (const file of files) {
      const spec = await readSpec(file);
      expect(validate(spec), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }

    const refund = await readSpec('examples/refund.json');
    const unknownKind = structuredClone(refund);
    unknownKind.steps[1]!.kind = 'llmm';
    expect(validate(unknownKind)).toBe(false);
    const { steps: _steps, ...noSteps } = refund;
    expect(validate(noSteps)).toBe(false);
  });
});

describe.concurrent('size limits', () => {
  it('refuses a 20,000-step spec with TOO_LARGE and exit 1', async ({ expect }) => {
    // Compact steps stay under 1 MiB, so the step count is what is over the limit...
    const compact = Array.from({ length: 20_000 }, (_, i) => ({ id: `s${i}`, kind: 'wait', duration: '1s' }));
    // ...and chained ones go over 1 MiB, refused before parsing.
    const chained = compact.map((s, i) => (i === 0 ? s : { ...s, after: [`s${i - 1}`] }));
    const [steps, bytes] = await Promise.all([
      write('steps-20000.json', JSON.stringify({ version: 1, name: 'huge', steps: compact })),
      write('bytes-20000.json', JSON.stringify({ version: 1, name: 'huge', steps: chained })),
    ]);
    const [stepsText, stepsJson, bytesText, bytesJson] = await Promise.all([
      runCli(['validate', steps]),
      runCli(['validate', steps, '--json']),
      runCli(['validate', bytes]),
      runCli(['validate', bytes, '--json']),
    ]);
    expect(stepsText).toEqual({ code: 1, stdout: 'steps: 20,000 steps; the limit is 1,000\n', stderr: '' });
    expect(JSON.parse(stepsJson.stdout)).toEqual({
      valid: false,
      problems: [{ path: 'steps', code: 'TOO_LARGE', message: '20,000 steps; the limit is 1,000' }],
    });
    expect(bytesText.code).toBe(1);
    expect(bytesText.stdout).toMatch(/^\(root\): the spec is at least [\d,]+ bytes; the limit is 1,048,576\n$/);
    expect(bytesJson.code).toBe(1);
    expect(JSON.parse(bytesJson.stdout)).toMatchObject({ valid: false, problems: [{ path: '(root)', code: 'TOO_LARGE' }] });
  });
});
