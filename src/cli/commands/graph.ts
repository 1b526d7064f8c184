import type { Command } from 'commander';
import { toMermaid } from '../../spec/index.js';
import { EXIT, printProblems, validateFile } from '../io.js';

export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description('draw the step graph as a Mermaid flowchart (approvals as hexagons, conditional steps dashed)')
    .argument('<file>', 'the spec file')
    .option('--tools <module>', 'a tools module: also mark tools that need approval')
    .option('--specs <dir>', 'saved specs (default: TRELLIS_SPECS): also check the names and inputs of call steps')
    .addHelpText('after', '\nExample:\n  $ trellis graph examples/refund.json > refund.mmd')
    .action(async (file: string, opts: { tools?: string; specs?: string }) => {
      const { result, tools } = await validateFile(file, opts.tools, opts.specs);
      if (!result.ok) {
        printProblems(result.problems, process.stderr);
        process.exitCode = EXIT.failed;
        return;
      }
      process.stdout.write(toMermaid(result.spec, tools));
    });
}
