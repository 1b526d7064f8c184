/**
 * Where the logs of the workers the tests start go: the Temporal SDK's runtime logger (installed once per test
 * process by connectWorker in ./temporal.ts, with the SDK core's own lines forwarded to it) and the pino logger
 * a Trellis worker takes (./harness.ts, and workers made in test files).
 *
 * Many tests make workflows and activities fail on purpose, and the SDK logs each such failure at WARN with its
 * error and stack ("Workflow failed ...", "Activity failed ..."). Both loggers write through console.error, so
 * vitest ties each line to the test that was running, and the config (vitest.config.ts) sets
 * `silent: 'passed-only'`: a passing test's lines are dropped, a failing test (or hook, or file) prints its own
 * after its error.
 *
 * TRELLIS_TEST_LOGS=1 prints every line, of passing tests too, as it comes (vitest.config.ts reads it and then
 * leaves `silent` off). TRELLIS_TEST_LOGS=debug (or trace, info, warn, error) does the same and sets the level of
 * both loggers (read here), which otherwise keep warnings and errors only.
 */
import { formatWithOptions } from 'node:util';
import { DefaultLogger, type LogEntry, type LogLevel, type RuntimeOptions } from '@temporalio/worker';
import { pino, type Logger } from 'pino';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

const asked = process.env.TRELLIS_TEST_LOGS?.trim().toLowerCase() ?? '';
/** A level named by TRELLIS_TEST_LOGS, which wins over each logger's own. */
const override: Level | undefined = (LEVELS as readonly string[]).includes(asked) ? (asked as Level) : undefined;

const format = formatWithOptions.bind(undefined, { colors: false, depth: 6 });

function writeSdkEntry({ level, message, meta, timestampNanos }: LogEntry): void {
  const time = new Date(Number(timestampNanos / 1_000_000n)).toISOString();
  if (meta === undefined) console.error(`${time} [${level}] ${message}`);
  else console.error(`${time} [${level}] ${message} ${format(meta)}`);
}

/**
 * Options for Runtime.install: the SDK's logger at WARN (unless TRELLIS_TEST_LOGS names a level), with the SDK
 * core's lines forwarded to it (by default core writes them straight to the process's stderr, out of reach).
 */
export function sdkRuntimeOptions(): RuntimeOptions {
  const level = (override ?? 'warn').toUpperCase() as LogLevel;
  return {
    logger: new DefaultLogger(level, writeSdkEntry),
    telemetryOptions: { logging: { filter: { core: level, other: 'ERROR' }, forward: {} } },
  };
}

/** A pino logger for a Trellis worker in a test, at `level` unless TRELLIS_TEST_LOGS names one. */
export function testLogger(level: Level = 'warn'): Logger {
  return pino({ level: override ?? level }, { write: (line: string) => console.error(line.trimEnd()) });
}
