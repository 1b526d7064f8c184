#!/usr/bin/env node
// The demo, for now: validate every example spec against the example tools, draw one as Mermaid, and show
// what the validator says about a broken spec. (The interpreter's demo replaces this once runs exist.)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cli = (...args) => {
  const r = spawnSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}`.trimEnd() };
};
const say = (text) => process.stdout.write(`${text}\n`);

say('== Validating the example specs (with the type check of examples/tools.ts)');
let failures = 0;
for (const file of readdirSync('examples').filter((f) => /\.(json|ya?ml)$/.test(f))) {
  const r = cli('validate', join('examples', file), '--tools', 'examples/tools.ts');
  say(`$ trellis validate examples/${file} --tools examples/tools.ts\n${r.out}`);
  if (r.code !== 0) failures++;
}

say('\n== The refund flow as a Mermaid graph (paste it into https://mermaid.live)');
say(`$ trellis graph examples/refund.json --tools examples/tools.ts\n${cli('graph', 'examples/refund.json', '--tools', 'examples/tools.ts').out}`);

say('\n== A spec with mistakes: every problem at once, each with its path');
const broken = {
  version: 1,
  name: 'broken-refund',
  steps: [
    { id: 'order', kind: 'tool', tool: 'lookup_order', args: { orderId: 42 } },
    { id: 'assess', kind: 'llm', prompt: 'Note: ${steps.order.notes}' },
    { id: 'ok', kind: 'approval', when: 'steps.assess.damaged', title: 'Refund?', timeout: '1 day' },
    { id: 'refund', kind: 'tool', tool: 'refnud_order', args: { orderId: '${input.orderId}' }, after: ['approve'] },
  ],
};
const file = join(mkdtempSync(join(tmpdir(), 'trellis-demo-')), 'broken.json');
writeFileSync(file, JSON.stringify(broken, null, 2));
const r = cli('validate', file, '--tools', 'examples/tools.ts');
say(`$ trellis validate broken.json --tools examples/tools.ts   (exit ${r.code})\n${r.out}`);
if (r.code !== 1) failures++;

say(failures === 0 ? '\nDemo finished: the examples are valid and the broken spec was refused.' : `\nDemo: ${failures} unexpected result(s).`);
process.exitCode = failures === 0 ? 0 : 1;
