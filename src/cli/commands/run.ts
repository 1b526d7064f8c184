import type { Command } from 'commander';
import { validateSpecText } from '../../spec/index.js';
import { exitFor, parseInput, withClient, WorkFailed } from '../client.js';
import { EXIT, loadCatalog, printProblems, readSpecFile } from '../io.js';

interface RunOpts {
  input?: string;
  id?: string;
  wait?: boolean;
  json?: boolean;
  tools?: string;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('validate a spec and start a run on the workers of TRELLIS_TASK_QUEUE')
    .argument('<file>', 'the spec (JSON or YAML)')
    .option('--input <json>', 'the run input, as JSON text or @file.json')
    .option('--id <id>', 'the run id (default: the spec name and a random suffix)')
    .option('--wait', 'wait for the run to end; exit 0 when it completed, 1 when it failed')
    .option('--json', 'print { "runId", "status", "output" }')
    .option('--tools <module>', 'also check tools and types before starting')
    .addHelpText('after', `\nExample:\n  $ trellis run examples/refund.json --input '{"orderId":"A1"}' --wait`)
    .action(async (file: string, opts: RunOpts) => {
      const [text, tools, input] = await Promise.all([readSpecFile(file), loadCatalog(opts.tools), parseInput(opts.input)]);
      const valid = validateSpecText(text, { filename: file, ...(tools ? { tools } : {}) });
      if (!valid.ok) {
        printProblems(valid.problems);
        process.exitCode = EXIT.failed;
        return;
      }
      await withClient(async (client) => {
        const runId = await client.start(valid.spec, { input, ...(opts.id !== undefined && { id: opts.id }), ...(tools ? { tools } : {}) });
        if (!opts.wait) {
          process.stdout.write(opts.json ? `${JSON.stringify({ runId, status: 'running', output: null })}\n` : `started ${runId}\n`);
          return;
        }
        if (!opts.json) process.stdout.write(`started ${runId}; waiting for it to end\n`);
        try {
          const result = await client.result(runId);
          process.stdout.write(
            opts.json
              ? `${JSON.stringify({ runId, status: 'completed', output: result.output })}\n`
              : `completed\n${JSON.stringify(result.output, null, 2)}\n`,
          );
        } catch (e) {
          const view = await client.status(runId).catch(() => undefined);
          const status = view?.status === 'cancelled' ? 'cancelled' : 'failed';
          if (opts.json) {
            process.stdout.write(`${JSON.stringify({ runId, status, output: null, error: (e as Error).message })}\n`);
            process.exitCode = exitFor(status);
            return;
          }
          throw new WorkFailed(`${status}: ${(e as Error).message}`);
        }
      });
    });
}
