import type { Command } from 'commander';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { DeploymentVersion } from '../../temporal/deployment.js';
import { hostname } from 'node:os';
import { deploymentFromEnv, temporalConfigFromEnv, workerConfigFromEnv } from '../../config.js';
import { asUsageError, loadTools, plannerConfig, plannerSchemaOption, readPromptFile, UsageError } from '../io.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run a worker: the interpreter workflow and the tool and llm activities (config from TEMPORAL_*, TRELLIS_*, OPENAI_*)')
    .option('--tools <module>', 'the tools module (default: TRELLIS_TOOLS)')
    .option('--specs <dir>', 'saved specs that call steps name (default: TRELLIS_SPECS, else ./specs)')
    .option('--planner-prompt <file>', "the planner's prompt for goal runs (default: TRELLIS_PLANNER_PROMPT, else prompts/planner.md)")
    .option('--planner-schema <form>', "the planner's response schema: outline or full (default: TRELLIS_PLANNER_SCHEMA, else outline)")
    .option('--set-current', "make this worker's version (TRELLIS_DEPLOYMENT_NAME, TRELLIS_BUILD_ID) current, so new runs go to it")
    .addHelpText(
      'after',
      '\nExamples:\n  $ OPENAI_BASE_URL=http://127.0.0.1:8787/v1 trellis worker --tools examples/tools.ts\n' +
        '  $ TRELLIS_DEPLOYMENT_NAME=trellis TRELLIS_BUILD_ID=2026-12-02 trellis worker --tools examples/tools.ts --set-current',
    )
    .action(async (opts: { tools?: string; specs?: string; plannerPrompt?: string; plannerSchema?: string; setCurrent?: boolean }) => {
      const [{ pino }, { createTrellisWorker }, { modelConfig }] = await Promise.all([
        import('pino'),
        import('../../worker.js'),
        import('../model.js'),
      ]);
      const env = asUsageError(() => workerConfigFromEnv());
      const deployment = asUsageError(() => deploymentFromEnv());
      if (opts.setCurrent && deployment === undefined) {
        throw new UsageError('--set-current needs a versioned worker: set TRELLIS_DEPLOYMENT_NAME (and TRELLIS_BUILD_ID, else the package version)');
      }
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
          deployment: deployment ?? null,
        });
      } catch (e) {
        throw new UsageError(
          `cannot start the worker: ${(e as Error).message}. Is Temporal running at ${temporalConfigFromEnv().address}? Start one with \`trellis dev\`.`,
        );
      }
      // The SDK shuts the worker down gracefully on SIGINT and SIGTERM: running activities finish or are cancelled.
      await runWorker(
        handle,
        opts.setCurrent && deployment
          ? { namespace: temporalConfigFromEnv().namespace, deployment, identity: `trellis worker@${hostname()}`, logger }
          : undefined,
      );
      logger.info('worker stopped');
    });
}

/**
 * Runs a started worker until it stops, then closes it. With `current`, makes its version current once it polls
 * (`trellis worker --set-current`, `trellis dev`); if that fails, the worker is stopped and the error thrown.
 */
export async function runWorker(
  handle: { worker: Worker; connection: NativeConnection; close(): Promise<void> },
  current?: { namespace: string; deployment: DeploymentVersion; identity: string; logger: Logger },
): Promise<void> {
  const running = handle.worker.run();
  if (current !== undefined) {
    const { makeVersionCurrent } = await import('../../temporal/deployment.js');
    // A worker that stops (Ctrl-C, or a failure) while its version is being made current ends the wait too.
    const stopped = new AbortController();
    const ended = running.finally(() => stopped.abort()).then(() => false);
    try {
      // The server learns the version from this worker's first poll; until it is current, new runs go elsewhere.
      const made = makeVersionCurrent(handle.connection.workflowService, current.namespace, current.deployment, {
        identity: current.identity,
        signal: stopped.signal,
      }).then(() => true);
      if (await Promise.race([made, ended])) {
        current.logger.info({ deployment: current.deployment }, 'version current: new runs go to this worker');
      }
    } catch (e) {
      if (!stopped.signal.aborted) {
        if (handle.worker.getState() === 'RUNNING') handle.worker.shutdown();
        await running.catch(() => {});
        await handle.close();
        throw e;
      }
    }
  }
  await running;
  await handle.close();
}
