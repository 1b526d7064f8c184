import type { Command } from 'commander';
import { toMermaid } from '../../spec/index.js';
import { EXIT, loadCatalog, printProblems, readSpecFile } from '../io.js';
import { validateSpecText } from '../../spec/index.js';

export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description('draw the step graph as a Mermaid flowchart (approvals as hexagons, conditional steps dashed)')
    .argument('<file>', 'the spec file')
    .option('--tools <module>', 'a tools module: also mark tools that need approval')
    .addHelpText('after', '\nExample:\n  $ trellis graph examples/refund.json > refund.mmd')
    .action(async (file: string, opts: { tools?: string }) => {
      const [text, tools] = await Promise.all([readSpecFile(file), loadCatalog(opts.tools)]);
      const result = validateSpecText(text, { filename: file, ...(tools ? { tools } : {}) });
      if (!result.ok) {
        printProblems(result.problems, process.stderr);
        process.exitCode = EXIT.failed;
        return;
      }
      process.stdout.write(toMermaid(result.spec, tools));
    });
}
