/** Commands that talk to Temporal share one way to connect and one mapping of client errors to exit codes. */
import type { TrellisClient } from '../client/index.js';
import { formatProblem } from '../spec/problems.js';
import { EXIT, UsageError } from './io.js';
import { TrellisError } from '../errors.js';

/** Thrown when the work failed: exit 1 with this message. */
export class WorkFailed extends TrellisError {
  constructor(message: string) {
    super('WORK_FAILED', message);
  }
}

export async function withClient<T>(fn: (client: TrellisClient) => Promise<T>): Promise<T> {
  const { TrellisClient, TrellisClientError } = await import('../client/index.js');
  let client: TrellisClient | undefined;
  try {
    client = await TrellisClient.connect();
    return await fn(client);
  } catch (e) {
    if (e instanceof TrellisClientError) {
      switch (e.code) {
        case 'NO_CONNECTION':
        case 'RUN_NOT_FOUND':
        case 'LIST_UNSUPPORTED':
          throw new UsageError(e.message);
        case 'SPEC_INVALID':
        case 'INPUT_INVALID':
          throw new WorkFailed(e.problems.map(formatProblem).join('\n'));
        case 'APPROVAL_REFUSED':
          throw new WorkFailed(`refused${e.refusal ? ` (${e.refusal})` : ''}: ${e.message}`);
        default:
          throw new WorkFailed(e.message);
      }
    }
    throw e;
  } finally {
    await client?.close();
  }
}

export function exitFor(status: string): number {
  return status === 'completed' ? EXIT.ok : EXIT.failed;
}

/** --input: a JSON text, or @file.json. */
export async function parseInput(text: string | undefined): Promise<unknown> {
  if (text === undefined) return undefined;
  let source = text;
  if (text.startsWith('@')) {
    const { readFile } = await import('node:fs/promises');
    source = await readFile(text.slice(1), 'utf8').catch(() => {
      throw new UsageError(`cannot read the input file ${text.slice(1)}`);
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (e) {
    throw new UsageError(`--input is not JSON: ${(e as Error).message}`);
  }
  // 1e309 parses as Infinity, which would reach the run as null: say so instead.
  const [{ formatPath }, { nonFiniteNumbers }] = await Promise.all([import('../spec/problems.js'), import('../spec/parse.js')]);
  const bad = nonFiniteNumbers(value);
  if (bad.length > 0) {
    throw new UsageError(
      `--input: ${bad.map((p) => formatPath(['input', ...p])).join(', ')}: a number too large for JSON (it reads as Infinity); write a smaller number, or a string`,
    );
  }
  return value;
}
