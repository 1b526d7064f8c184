/**
 * The estimate against what runs use: each plan-vs-react task's saved plan (bench/fixtures/plan-tasks.mjs), estimated
 * before it runs (src/estimate) and then run on a real Temporal dev server against the same mock LLM, its model calls
 * and tokens taken from the mock's log and its cost from the run (the worker's price table). The error is printed as
 * a ratio, actual / estimated (the least and the most of the estimate's range): 1.00x is exact, under 1 an
 * overestimate. Figures from one run, printed, never asserted.
 *
 *   npm run build && node bench/estimate.mjs        (or: node --expose-gc bench/run.mjs estimate)
 */
import { pathToFileURL } from 'node:url';
import { estimateSpec } from '../dist/estimate/index.js';
import { formatUsd } from '../dist/pricing/index.js';
import { parseMockScript, startMockLlm } from '../dist/testing.js';
import { toolCatalog } from '../dist/index.js';
import TOOLS from './fixtures/plan-tools.mjs';
import { scaledTriage, TASKS } from './fixtures/plan-tasks.mjs';
import { startServer, withTrellisWorker } from './lib/stack.mjs';
import { int, ratio, table } from './lib/stats.mjs';

export const name = 'estimate';

const MODEL = 'mock-model';
// The mock's model priced as gpt-4o-mini, so that money is a figure to compare (USD per million tokens).
const PRICES = { [MODEL]: { input: 0.15, output: 0.6 } };

export default async function run() {
  const tasks = [...TASKS, scaledTriage(20)];
  const mock = await startMockLlm({ rules: parseMockScript(tasks.flatMap((t) => t.llm)) });
  const server = await startServer();
  const catalog = toolCatalog(TOOLS);
  try {
    await withTrellisWorker({ server, mock, tools: TOOLS, model: MODEL, name: 'estimate', prices: PRICES }, async (client) => {
      console.log(
        `estimate: ${tasks.length} saved plans of plan-vs-react, each estimated, then run once; ${MODEL} priced at $0.15 / $0.60 per million tokens.`,
      );
      console.log('ratio: actual / estimated, against the least and the most of the estimate (1.00x: exact; in range when between them).');
      console.log('');

      const rows = [['task', 'calls est', 'calls', 'tokens est', 'tokens', 'tokens/least', 'tokens/most', 'money est', 'money', 'money/least']];
      const errors = [];
      for (const task of tasks) {
        const e = estimateSpec(task.spec, { prices: PRICES, model: MODEL, tools: catalog });
        const first = mock.requests.length;
        const { runId } = await client.start(task.spec, task.input === undefined ? {} : { input: task.input });
        const result = await client.result(runId);
        const requests = mock.requests.slice(first);
        const tokens = requests.reduce((n, r) => n + r.usage.prompt + r.usage.completion, 0);
        const usd = result.cost?.usd ?? 0;
        errors.push(tokens / e.tokens.min);
        rows.push([
          task.id,
          range(e.modelCalls, int),
          int(requests.length),
          range(e.tokens, int),
          int(tokens),
          ratio(tokens / e.tokens.min),
          e.tokens.max === null ? '-' : ratio(tokens / e.tokens.max),
          e.cost.max === null ? `${formatUsd(e.cost.min.usd)}+` : range({ min: e.cost.min.usd, max: e.cost.max.usd }, formatUsd),
          formatUsd(usd),
          ratio(usd / e.cost.min.usd),
        ]);
      }
      console.log(table(rows));
      const sorted = [...errors].sort((a, b) => a - b);
      console.log('');
      console.log(
        `tokens, actual / the estimate's least: median ${ratio(sorted[Math.floor(sorted.length / 2)])}, from ${ratio(sorted[0])} to ${ratio(sorted.at(-1))}`,
      );
    });
  } finally {
    await server.stop();
    await mock.close();
  }
}

function range(r, format) {
  if (r.max === null) return `${format(r.min)}+`;
  return r.min === r.max ? format(r.min) : `${format(r.min)}-${format(r.max)}`;
}

// Run on its own: node bench/estimate.mjs
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
