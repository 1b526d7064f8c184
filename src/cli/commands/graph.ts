import type { Command } from 'commander';
import { toMermaid } from '../../spec/index.js';
import { withClient, WorkFailed } from '../client.js';
import { EXIT, loadCatalog, printProblems, UsageError, validateFile } from '../io.js';

interface GraphOpts {
  tools?: string;
  specs?: string;
  run?: string;
}

export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description(
      'draw the step graph as a Mermaid flowchart (approvals as hexagons, conditional steps dashed); with --run, each step with its status',
    )
    .argument('[file]', 'the spec file; not with --run')
    .option('--run <run>', "draw this run's spec (a goal run's plan), each step marked and coloured by its status now")
    .option('--tools <module>', 'a tools module: also mark tools that need approval')
    .option('--specs <dir>', 'saved specs (default: TRELLIS_SPECS): also check the names and inputs of call steps')
    .addHelpText(
      'after',
      '\nExamples:\n  $ trellis graph examples/refund.json > refund.mmd\n  $ trellis graph --run refund-damaged-order-1a2b3c4d > run.mmd',
    )
    .action(async (file: string | undefined, opts: GraphOpts) => {
      if ((file === undefined) === (opts.run === undefined)) throw new UsageError('give a spec FILE or --run RUN (one of them)');
      if (opts.run !== undefined) return drawRun(opts.run, opts);
      const { result, tools } = await validateFile(file!, opts.tools, opts.specs);
      if (!result.ok) {
        printProblems(result.problems, process.stderr);
        process.exitCode = EXIT.failed;
        return;
      }
      process.stdout.write(toMermaid(result.spec, tools));
    });
}

/** The spec the run was started with (a goal run's current plan) and each step's status from the run's status view. */
async function drawRun(runId: string, opts: GraphOpts): Promise<void> {
  if (opts.specs !== undefined) throw new UsageError('--specs checks a spec FILE; a run was checked when it started: leave it out');
  const tools = await loadCatalog(opts.tools);
  await withClient(async (client) => {
    const [spec, view] = await Promise.all([client.spec(runId), client.status(runId)]);
    if (!spec) throw new WorkFailed(`the run ${runId} has no spec yet: its goal has not been planned (${view.status})`);
    // No worker answered for a running run: the graph is still worth drawing, without its statuses.
    if (Object.keys(view.steps).length === 0 && view.error) process.stderr.write(`trellis: ${view.error}; drawn without the steps' statuses\n`);
    const status = Object.fromEntries(Object.entries(view.steps).map(([id, s]) => [id, s.status]));
    process.stdout.write(toMermaid(spec, tools, status));
  });
}
