// ESLint (flat config): the recommended rules, type-aware where they need types (floating promises), and the
// determinism rule for workflow code: everything src/workflows/index.ts reaches, found by following its imports, so
// a module that workflow code starts to import is held to the rule from then on.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const root = path.dirname(fileURLToPath(import.meta.url));

/** The project's own modules a module reaches through its relative imports (type-only imports are erased). */
function reachedFrom(entry) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"](\.[^'"]+)['"]/gm)) {
      visit(path.resolve(path.dirname(file), m[1].replace(/\.js$/, '.ts')));
    }
  };
  visit(path.join(root, entry));
  return [...seen].map((f) => path.relative(root, f));
}

const workflowCode = [...new Set([...reachedFrom('src/workflows/index.ts'), 'src/workflows/**/*.ts', 'src/engine/**/*.ts'])];

/** Libraries and Node APIs workflow code must not load: I/O, or modules too heavy to evaluate for every run. */
const FORBIDDEN_IMPORTS = {
  patterns: [
    { group: ['node:*'], message: 'workflow code is deterministic: no Node APIs (do it in an activity)' },
    {
      group: ['fs', 'fs/*', 'http', 'https', 'net', 'child_process', 'crypto', 'os', 'path', 'url'],
      message: 'workflow code is deterministic: no Node APIs (do it in an activity)',
    },
    {
      group: ['zod', 'zod/*', 'ajv', 'ajv/*', 'yaml', 'openai', 'openai/*', 'pino'],
      message: 'kept out of the workflow bundle (checked by test/integration/bundle.test.ts): do this in an activity or a worker-side module',
    },
    {
      group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing'],
      message: 'workflow code imports only @temporalio/workflow',
    },
    {
      group: ['**/spec/index.js', '**/spec/validate/*', '**/spec/schema-check.js', '**/spec/parse.js', '**/contract/*'],
      message: 'import the spec modules workflow code runs, not the barrel or the validator (zod, ajv, yaml)',
    },
  ],
};

const NONDETERMINISM = [
  {
    selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
    message: 'use the workflow clock (workflowClockMs in src/workflows/session.ts)',
  },
  { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'use the workflow clock (workflowNow in src/workflows/session.ts)' },
  {
    selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
    message: 'workflow code is deterministic: no randomness (wf.uuid4 if you need an id)',
  },
  { selector: "MemberExpression[object.name='process']", message: 'workflow code reads no environment: the worker passes what a run needs' },
  {
    selector: 'CallExpression[callee.name=/^(setTimeout|setInterval|setImmediate)$/]',
    message: 'use wf.sleep or wf.condition with a timeout (durable timers)',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/langgraph/**', 'coverage/**', '.trellis/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: root } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // Workflow and activity payloads are JSON of many shapes; `any` stays rare and visible, not forbidden.
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        performance: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        structuredClone: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
      },
    },
  },
  {
    files: workflowCode,
    rules: {
      'no-restricted-imports': ['error', FORBIDDEN_IMPORTS],
      'no-restricted-syntax': ['error', ...NONDETERMINISM],
    },
  },
);
