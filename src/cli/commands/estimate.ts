import type { Command } from 'commander';
import { estimateLines, estimateSpec, stepLine } from '../../estimate/index.js';
import { llmConfigFromEnv } from '../../llm/client.js';
import { pricesFromEnv } from '../../pricing/config.js';
import { DEFAULT_PRICES_DATE } from '../../pricing/defaults.js';
import { asUsageError, EXIT, loadLibrary, printProblems, validateFile } from '../io.js';

interface EstimateOpts {
  tools?: string;
  specs?: string;
  model?: string;
  json?: boolean;
}

export function registerEstimate(program: Command): void {
  program
    .command('estimate')
    .description('what a spec will use before it runs, on every path it may take: model calls, tool calls, tokens, money, latency')
    .argument('<file>', 'the spec file')
    .option('--tools <module>', 'a tools module: tool result sizes and agent tool definitions from its schemas (and the checks of validate)')
    .option('--specs <dir>', 'saved specs (default: TRELLIS_SPECS): call steps are estimated from them')
    .option('--model <name>', 'the model of calls that name none (default: TRELLIS_MODEL, else gpt-4o-mini)')
    .option('--json', 'print { "model", "prices", "estimate": { "modelCalls": { "min", "max" }, ..., "steps": [...] } } (max null: no bound)')
    .addHelpText(
      'after',
      '\nPrices: the file TRELLIS_PRICES names, else the built-in table (docs/cost.md).\n\nExample:\n  $ trellis estimate examples/research.yaml --tools examples/tools.ts',
    )
    .action(async (file: string, opts: EstimateOpts) => {
      const { result, tools } = await validateFile(file, opts.tools, opts.specs);
      if (!result.ok) {
        printProblems(result.problems, process.stderr);
        process.exitCode = EXIT.failed;
        return;
      }
      const prices = asUsageError(() => pricesFromEnv());
      const model = opts.model ?? llmConfigFromEnv().model;
      const specs = await loadLibrary(opts.specs, tools);
      const estimate = estimateSpec(result.spec, { prices, model, ...(tools && { tools }), ...(specs && { specs }) });
      const priced = process.env.TRELLIS_PRICES ? `prices from ${process.env.TRELLIS_PRICES}` : `built-in prices of ${DEFAULT_PRICES_DATE}`;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ model, prices: process.env.TRELLIS_PRICES || 'built-in', estimate }, null, 2)}\n`);
        return;
      }
      const lines = [
        `${result.spec.name}: an estimate before it runs (calls that name no model: ${model}; ${priced})`,
        ...estimateLines(estimate).map((l) => `  ${l}`),
        'steps:',
        ...estimate.steps.map((s) => `  ${stepLine(s)}`),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
