import type { Command } from 'commander';
import { temporalConfigFromEnv, workerConfigFromEnv } from '../../config.js';
import { asUsageError, loadTools, plannerConfig, plannerSchemaOption, readPromptFile, UsageError } from '../io.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run a worker: the interpreter workflow and the tool and llm activities (config from TEMPORAL_*, TRELLIS_*, OPENAI_*)')
    .option('--tools <module>', 'the tools module (default: TRELLIS_TOOLS)')
    .option('--specs <dir>', 'saved specs that call steps name (default: TRELLIS_SPECS, else ./specs)')
    .option('--planner-prompt <file>', "the planner's prompt for goal runs (default: TRELLIS_PLANNER_PROMPT, else prompts/planner.md)")
    .option('--planner-schema <form>', "the planner's response schema: outline or full (default: TRELLIS_PLANNER_SCHEMA, else outline)")
    .addHelpText('after', '\nExample:\n  $ OPENAI_BASE_URL=http://127.0.0.1:8787/v1 trellis worker --tools examples/tools.ts')
    .action(async (opts: { tools?: string; specs?: string; plannerPrompt?: string; plannerSchema?: string }) => {
      const [{ pino }, { createTrellisWorker }, { modelConfig }] = await Promise.all([
        import('pino'),
        import('../../worker.js'),
        import('../model.js'),
      ]);
      const env = asUsageError(() => workerConfigFromEnv());
      const module = opts.tools ?? env.toolsModule;
      const tools = module ? await loadTools(module) : [];
      modelConfig(); // a malformed OPENAI_BASE_URL is refused now, not at the first model call
      const planner = {
        ...plannerConfig(),
        ...(opts.plannerPrompt !== undefined && { promptFile: opts.plannerPrompt }),
        ...(opts.plannerSchema !== undefined && { schema: plannerSchemaOption(opts.plannerSchema, '--planner-schema') }),
      };
      // Goal runs read the prompt at each plan; a file that cannot serve is refused now, not at the first goal.
      if (planner.promptFile !== undefined) await readPromptFile(planner.promptFile);
      const logger = pino({ name: 'trellis-worker', level: env.logLevel });
      const maxCached = env.maxCachedWorkflows;
      let handle;
      try {
        handle = await createTrellisWorker({
          tools,
          logger,
          ...(maxCached !== undefined && { maxCachedWorkflows: maxCached }),
          ...(opts.specs !== undefined && { specsDir: opts.specs }),
          planner,
        });
      } catch (e) {
        throw new UsageError(
          `cannot start the worker: ${(e as Error).message}. Is Temporal running at ${temporalConfigFromEnv().address}? Start one with \`trellis dev\`.`,
        );
      }
      // The SDK shuts the worker down gracefully on SIGINT and SIGTERM: running activities finish or are cancelled.
      await handle.worker.run();
      await handle.close();
      logger.info('worker stopped');
    });
}
