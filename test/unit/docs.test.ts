/**
 * The documentation stays true to the code and to itself: docs/spec.md's reference is what the schemas say
 * (scripts/spec-reference.ts), docs/cli.md names every command, flag and worker variable, every page in docs/ is
 * one click from the README, and every link between the pages lands on a file (and a heading) in this repository.
 * Pure: files, the spec schemas and the CLI's command definitions only (no Temporal, no build).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { currentReference, REGENERATE, specReference, SPEC_DOC } from '../../scripts/spec-reference.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const docs = readdirSync(path.join(root, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`);
/** The pages whose links are checked. */
const pages = ['README.md', 'CHANGELOG.md', 'CONTRIBUTING.md', 'examples/README.md', 'bench/README.md', ...docs].filter((f) =>
  existsSync(path.join(root, f)),
);

describe('docs/spec.md', () => {
  it('holds the reference that scripts/spec-reference.ts generates from src/spec/schema.ts', () => {
    const current = currentReference(readFileSync(SPEC_DOC, 'utf8'));
    expect(current, 'docs/spec.md lost its markers <!-- spec-reference:begin --> and <!-- spec-reference:end -->').toBeDefined();
    // Not toEqual: the failure names the command that fixes it, rather than a diff of two long strings.
    if (current !== specReference()) {
      expect.fail(`docs/spec.md is out of date with src/spec/schema.ts: run \`${REGENERATE}\``);
    }
  });

  it('describes every field it lists', () => {
    const rows = specReference()
      .split('\n')
      .filter((line) => /^\s*\| `/.test(line));
    expect(rows.length).toBeGreaterThan(40);
    const undescribed = rows.filter((line) => line.trimEnd().endsWith('|  |'));
    expect(undescribed, 'fields without a description: describe them in src/spec/schema.ts').toEqual([]);
  });
});

describe('docs/cli.md', () => {
  const doc = read('docs/cli.md');

  it('has a section for every command, naming each of its flags', async () => {
    const { buildProgram } = await import('../../src/cli/program.js');
    const sections = new Map(
      doc
        .split(/^### /m)
        .slice(1)
        .map((section) => [section.slice(0, section.indexOf('\n')).trim(), section] as const),
    );
    const missing: string[] = [];
    for (const command of buildProgram().commands) {
      const section = sections.get(command.name());
      if (section === undefined) missing.push(`### ${command.name()}`);
      else for (const option of command.options) if (!section.includes(`\`${option.long}`)) missing.push(`${command.name()} ${option.long}`);
    }
    expect(missing, 'docs/cli.md lacks these commands or flags').toEqual([]);
  });

  it('names every variable the worker reads', async () => {
    const { WORKER_ENV } = await import('../../src/config.js');
    expect(WORKER_ENV.filter((name) => !doc.includes(`\`${name}\``))).toEqual([]);
  });
});

describe('the pages', () => {
  it('are each one click from the README', () => {
    const linked = new Set(links(read('README.md')).map((l) => l.target.split('#')[0]));
    const unlinked = [...docs, 'CHANGELOG.md', 'CONTRIBUTING.md'].filter((f) => !linked.has(f));
    expect(unlinked, 'pages the README does not link').toEqual([]);
  });

  it('link only to files and headings inside the repository', () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const { target, line } of links(read(page))) {
        if (/^(https?|mailto):/.test(target)) continue;
        const [file, anchor] = target.split('#') as [string, string | undefined];
        const resolved = file === '' ? path.join(root, page) : path.resolve(path.dirname(path.join(root, page)), file);
        const where = `${page}:${line}: ${target}`;
        if (path.relative(root, resolved).startsWith('..')) broken.push(`${where} (outside the repository)`);
        else if (!existsSync(resolved)) broken.push(`${where} (no such file)`);
        else if (anchor !== undefined && resolved.endsWith('.md') && !anchors(readFileSync(resolved, 'utf8')).has(anchor))
          broken.push(`${where} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('name no file outside the repository', () => {
    const outside = pages.flatMap((page) =>
      read(page)
        .split('\n')
        .flatMap((text, i) => (/DESIGN\.md|\.\.\/shared/.test(text) ? [`${page}:${i + 1}: ${text.trim()}`] : [])),
    );
    expect(outside).toEqual([]);
  });
});

/** The Markdown links of a page, outside code: `[text](target)`. */
function links(markdown: string): Array<{ target: string; line: number }> {
  const found: Array<{ target: string; line: number }> = [];
  proseLines(markdown).forEach(({ text, line }) => {
    for (const m of text.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) found.push({ target: m[1]!, line });
  });
  return found;
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const { text } of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (!heading) continue;
    const slug = heading[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** Lines outside fenced code blocks, with their numbers. */
function proseLines(markdown: string): Array<{ text: string; line: number }> {
  let fenced = false;
  return markdown.split('\n').flatMap((text, i) => {
    if (/^\s*```/.test(text)) {
      fenced = !fenced;
      return [];
    }
    return fenced ? [] : [{ text, line: i + 1 }];
  });
}
