/**
 * The `trellis` program: its commands, and how an error becomes an exit code (0 success, 1 the work failed, 2 bad
 * usage or no connection). main.ts runs it; tests and embedders can build it without running it.
 */
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { EXIT, UsageError } from './io.js';
import { registerGraph } from './commands/graph.js';
import { registerSchema } from './commands/schema.js';
import { registerTemporal } from './commands/temporal.js';
import { registerApprove } from './commands/approve.js';
import { registerBlobs } from './commands/blobs.js';
import { registerCancel } from './commands/cancel.js';
import { registerDev } from './commands/dev.js';
import { registerList } from './commands/list.js';
import { registerMockLlm } from './commands/mock-llm.js';
import { registerRun } from './commands/run.js';
import { registerServe } from './commands/serve.js';
import { registerPlan } from './commands/plan.js';
import { registerEval } from './commands/eval.js';
import { registerEstimate } from './commands/estimate.js';
import { registerStatus } from './commands/status.js';
import { registerWatch } from './commands/watch.js';
import { registerWorker } from './commands/worker.js';
import { WorkFailed } from './client.js';
import { registerValidate } from './commands/validate.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export function buildProgram(): Command {
  const program = new Command('trellis')
    .description('Run LLM workflows durably on Temporal: write or plan a spec, validate it, run it.')
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerValidate(program);
  registerGraph(program);
  registerEstimate(program);
  registerSchema(program);
  registerRun(program);
  registerPlan(program);
  registerEval(program);
  registerApprove(program);
  registerStatus(program);
  registerWatch(program);
  registerList(program);
  registerCancel(program);
  registerBlobs(program);
  registerWorker(program);
  registerDev(program);
  registerServe(program);
  registerMockLlm(program);
  registerTemporal(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** Runs the command line `argv` and sets process.exitCode; a person sees a message, never a stack (but with TRELLIS_DEBUG=1). */
export async function runProgram(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; every other parse error is bad usage.
      process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    if (e instanceof WorkFailed) {
      process.stderr.write(`${e.message}\n`);
      process.exitCode = EXIT.failed;
      return;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`trellis: ${e.message}\n`);
      process.exitCode = EXIT.usage;
      return;
    }
    // An internal failure: its message, and the stack only when asked for (TRELLIS_DEBUG=1).
    const err = e as Error;
    process.stderr.write(`trellis: ${process.env.TRELLIS_DEBUG ? (err?.stack ?? String(e)) : (err?.message ?? String(e))}\n`);
    process.exitCode = EXIT.failed;
  }
}
