import type { Command } from 'commander';
import { MockScriptError, parseMockScript } from '../../llm/mock-script.js';
import { startMockLlm } from '../../llm/mock-server.js';
import { readSpecFile, UsageError } from '../io.js';

export function registerMockLlm(program: Command): void {
  program
    .command('mock-llm')
    .description('an OpenAI-compatible server answering from a script; prints its base URL (for OPENAI_BASE_URL) first')
    .requiredOption('--script <file>', 'a JSON array of rules: { "match": regex, "reply": text or JSON, "status"?, "times"? }; first match wins')
    .option('--port <n>', 'port (default: any free port)', '0')
    .option('--latency <ms>', 'added to every answer', '0')
    .addHelpText('after', '\nExample:\n  $ trellis mock-llm --script examples/mock-llm.json --port 8787 --latency 200')
    .action(async (opts: { script: string; port: string; latency: string }) => {
      const text = await readSpecFile(opts.script);
      let rules;
      try {
        rules = parseMockScript(JSON.parse(text));
      } catch (e) {
        if (e instanceof MockScriptError || e instanceof SyntaxError) throw new UsageError(`${opts.script}: ${e.message}`);
        throw e;
      }
      const port = Number(opts.port);
      const latencyMs = Number(opts.latency);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, got ${opts.port}`);
      if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new UsageError(`--latency must be a number of milliseconds, got ${opts.latency}`);
      const server = await startMockLlm({ rules, port, latencyMs });
      process.stdout.write(`${server.baseUrl}\n`);
      process.stderr.write(`mock-llm: ${rules.length} rules from ${opts.script}; stop with Ctrl-C\n`);
      await new Promise<void>((resolve) => {
        const stop = () => void server.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
