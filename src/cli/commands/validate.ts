import type { Command } from 'commander';
import { EXIT, printProblems, problemJson, validateFile } from '../io.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check a spec (JSON or YAML) before anything runs; every problem at once, as "path: message"')
    .argument('<file>', 'the spec file')
    .option('--tools <module>', 'a tools module (.ts or .js): also check tool names, args and output fields')
    .option('--specs <dir>', 'saved specs (default: TRELLIS_SPECS): also check the names and inputs of call steps')
    .option('--json', 'print { "valid", "problems": [{ "path", "code", "message" }] }')
    .addHelpText('after', '\nExamples:\n  $ trellis validate examples/refund.json --tools examples/tools.ts\n  $ trellis validate spec.yaml --json')
    .action(async (file: string, opts: { tools?: string; specs?: string; json?: boolean }) => {
      const { result } = await validateFile(file, opts.tools, opts.specs);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ valid: result.ok, problems: result.problems.map(problemJson) }, null, 2)}\n`);
      } else if (result.ok) {
        process.stdout.write('valid\n');
      } else {
        printProblems(result.problems);
      }
      process.exitCode = result.ok ? EXIT.ok : EXIT.failed;
    });
}
