/**
 * A real OpenTelemetry Collector for the tracing tests: built on first use by scripts/build-otelcol.sh (the collector's
 * builder and its modules from the Go module proxy, into .trellis/otelcol/, minutes the first time, then reused), and
 * started on a free port with the OTLP HTTP receiver and the file exporter, which writes every batch it receives as a
 * line of OTLP JSON. A missing Go or a failed build is an error naming the script: a test that needs the collector
 * fails, it never skips.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/temporal/dev-server.js';
import { ROOT } from './cli.js';
import { waitFor } from './wait.js';

/** A cold build took 6m42s here (2 cores); a warm one is a hash of the manifest. */
export const OTELCOL_BUILD_TIMEOUT_MS = 900_000;

let built: Promise<string> | undefined;

/** The collector's binary, built first when missing. Once per process. */
export function ensureOtelcol(): Promise<string> {
  built ??= new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [path.join(ROOT, 'scripts', 'build-otelcol.sh')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      process.stderr.write(d);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), OTELCOL_BUILD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0 && stdout.trim() !== '') resolve(stdout.trim().split('\n').pop()!);
      else reject(new Error(`scripts/build-otelcol.sh failed (exit ${code}): ${stderr.slice(-2000)}`));
    });
  });
  return built;
}

/** One span as the collector received it, flattened out of its resource and scope. */
export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  status: { code?: number; message?: string };
  scope: string;
  resource: Record<string, unknown>;
}

export interface Collector {
  /** The OTLP HTTP endpoint, for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter adds /v1/traces). */
  endpoint: string;
  /** Every span received so far. */
  spans(): Promise<CollectedSpan[]>;
  stop(): Promise<void>;
}

/** Builds the collector if needed and starts it on a free port, writing to a fresh file; ready when it answers. */
export async function startOtelcol(): Promise<Collector> {
  const binary = await ensureOtelcol();
  const dir = await mkdtemp(path.join(tmpdir(), 'trellis-otelcol-'));
  const port = await freePort();
  const file = path.join(dir, 'spans.jsonl');
  const config = path.join(dir, 'config.yaml');
  await writeFile(
    config,
    [
      'receivers:',
      '  otlp:',
      '    protocols:',
      '      http:',
      `        endpoint: 127.0.0.1:${port}`,
      'exporters:',
      '  file:',
      `    path: ${JSON.stringify(file)}`,
      '    format: json',
      '    flush_interval: 100ms',
      'service:',
      '  telemetry:',
      // No metrics server of its own (it would take port 8888), and only its warnings.
      '    metrics:',
      '      level: none',
      '    logs:',
      '      level: warn',
      '  pipelines:',
      '    traces:',
      '      receivers: [otlp]',
      '      exporters: [file]',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(binary, ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`the collector exited (${child.exitCode}): ${stderr.slice(-2000)}`);
      return fetch(`${endpoint}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then(
        (r) => r.ok,
        () => false,
      );
    },
    (ok) => ok,
    { timeoutMs: 30_000, what: 'the collector to listen' },
  );
  return {
    endpoint,
    spans: async () => parseSpans(await readFile(file, 'utf8').catch(() => '')),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}
type OtlpAttributes = Array<{ key: string; value: OtlpValue }> | undefined;

function parseSpans(text: string): CollectedSpan[] {
  const spans: CollectedSpan[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const batch = JSON.parse(line) as {
      resourceSpans?: Array<{
        resource?: { attributes?: OtlpAttributes };
        scopeSpans?: Array<{ scope?: { name?: string }; spans?: Array<Record<string, unknown>> }>;
      }>;
    };
    for (const rs of batch.resourceSpans ?? []) {
      const resource = attributes(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          spans.push({
            traceId: s.traceId as string,
            spanId: s.spanId as string,
            parentSpanId: (s.parentSpanId as string | undefined) ?? '',
            name: s.name as string,
            kind: (s.kind as number | undefined) ?? 0,
            attributes: attributes(s.attributes as OtlpAttributes),
            events: ((s.events as Array<{ name: string; attributes?: OtlpAttributes }> | undefined) ?? []).map((e) => ({
              name: e.name,
              attributes: attributes(e.attributes),
            })),
            status: (s.status as CollectedSpan['status'] | undefined) ?? {},
            scope: ss.scope?.name ?? '',
            resource,
          });
        }
      }
    }
  }
  return spans;
}

function attributes(list: OtlpAttributes): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, valueOf(value)]));
}

function valueOf(v: OtlpValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(valueOf);
  return undefined;
}
