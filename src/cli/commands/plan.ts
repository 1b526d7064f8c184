import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { catalogOf } from '../../spec/catalog.js';
import { parseInput, WorkFailed } from '../client.js';
import { loadCatalog, plannerConfig, plannerSchemaOption, printProblems, problemJson, readSpecFile, UsageError } from '../io.js';

interface PlanOpts {
  tools?: string;
  out?: string;
  json?: boolean;
  input?: string;
  attempts: string;
  prompt?: string;
  schema?: string;
}

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('the model writes a spec for GOAL from the tools catalog; validated (with the type check) and repaired up to --attempts')
    .argument('<goal>', 'what the workflow should do')
    .option('--tools <module>', 'the tools module whose catalog the model may use')
    .option('--out <file>', 'write the spec here instead of printing it')
    .option('--json', 'print { "ok", "spec", "attempts", "tokens", "problems" }')
    .option('--input <json>', 'the run input the spec will get, as JSON text or @file.json')
    .option('--attempts <n>', 'model calls in all, repairs included', '3')
    .option(
      '--prompt <file>',
      'the planner prompt ({{catalog}} is replaced by the catalog); default: TRELLIS_PLANNER_PROMPT, else prompts/planner.md',
    )
    .option('--schema <form>', 'the response schema sent to the model: outline or full; default: TRELLIS_PLANNER_SCHEMA, else outline')
    .addHelpText(
      'after',
      '\nExample:\n  $ OPENAI_BASE_URL=http://127.0.0.1:8787/v1 trellis plan "Refund order A-1004 if it arrived damaged" --tools examples/tools.ts --out refund.json',
    )
    .action(async (goal: string, opts: PlanOpts) => {
      const maxAttempts = Number(opts.attempts);
      if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new UsageError(`--attempts must be a positive whole number, got ${opts.attempts}`);
      const env = plannerConfig();
      const schema = opts.schema === undefined ? env.schema : plannerSchemaOption(opts.schema, '--schema');
      const promptFile = opts.prompt ?? env.promptFile;
      const [catalog, input, prompt] = await Promise.all([
        loadCatalog(opts.tools),
        parseInput(opts.input),
        promptFile === undefined ? undefined : readSpecFile(promptFile),
      ]);
      const [{ planSpec }, { createLlmClient, llmConfigFromEnv }, { default: OpenAI }] = await Promise.all([
        import('../../planner/index.js'),
        import('../../llm/client.js'),
        import('openai'),
      ]);
      const config = llmConfigFromEnv();
      let result;
      try {
        result = await planSpec(createLlmClient(config), {
          goal,
          catalog: catalog ?? catalogOf([]),
          model: config.model,
          maxAttempts,
          ...(input !== undefined && { input }),
          ...(prompt !== undefined && { prompt }),
          ...(schema !== undefined && { schema }),
        });
      } catch (e) {
        if (e instanceof OpenAI.APIConnectionError)
          throw new UsageError(`cannot reach the model at ${config.baseURL ?? 'the OpenAI API'}: ${e.message}; set OPENAI_BASE_URL`);
        if (e instanceof OpenAI.APIError) throw new WorkFailed(`the model endpoint refused the call: ${e.message}`);
        throw e;
      }
      if (opts.json) {
        const { ok, attempts, tokens } = result;
        process.stdout.write(
          `${JSON.stringify({ ok, spec: result.ok ? result.spec : null, attempts, tokens, problems: result.ok ? [] : result.problems.map(problemJson) }, null, 2)}\n`,
        );
      }
      if (!result.ok) {
        if (!opts.json) {
          process.stderr.write(`no valid spec after ${result.attempts} attempt(s); the last problems:\n`);
          printProblems(result.problems);
        }
        process.exitCode = 1;
        return;
      }
      const text = `${JSON.stringify(result.spec, null, 2)}\n`;
      if (opts.out !== undefined) {
        // A spec library folder (specs/ by default) may not exist yet.
        await mkdir(dirname(opts.out), { recursive: true });
        await writeFile(opts.out, text);
        if (!opts.json) process.stderr.write(`wrote ${opts.out}: a valid spec after ${result.attempts} attempt(s), ${result.tokens.total} tokens\n`);
      } else if (!opts.json) process.stdout.write(text);
    });
}
