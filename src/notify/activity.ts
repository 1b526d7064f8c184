/**
 * The notify activity: one event to every target. Retried by Temporal until every target has it; what was delivered
 * is kept in the activity's heartbeat details, so a retry posts only to the targets that failed, with the same
 * webhook-id and the same body. A receiver that deduplicates by webhook-id records each event once.
 */
import { ApplicationFailure, activityInfo, cancellationSignal, heartbeat, log, metricMeter } from '@temporalio/activity';
import { ConfigError } from '../config.js';
import type { NotifyEvent } from '../engine/messages.js';
import type { FailureType } from '../engine/failures.js';
import { slackBody, webhookBody } from './body.js';
import type { NotifyConfig, NotifyTarget } from './config.js';
import { deliver } from './deliver.js';

/** The notify activity's result, by target name: delivered (now or on an earlier attempt) and skipped (answered 410). */
export interface NotifyResult {
  delivered: string[];
  skipped: string[];
}

/** The failure type of an attempt that left a target without the event: retryable, details[0] = { failed: names }. */
export const NOTIFY_FAILED = 'TrellisNotifyFailed' satisfies FailureType;

export interface NotifyActivityOptions {
  /** How long each target has to answer; default 10 s (DELIVERY_TIMEOUT_MS). */
  timeoutMs?: number;
}

/**
 * The `notify` activity for `config` (notifyConfigFromEnv). Throws ConfigError when there are targets and no secret.
 * With no targets, notify returns at once.
 */
export function createNotifyActivities(config: NotifyConfig, options: NotifyActivityOptions = {}) {
  const { targets, secret } = config;
  if (targets.length > 0 && !secret) throw new ConfigError('notify targets need a secret to sign with (TRELLIS_WEBHOOK_SECRET)');
  return {
    /** Posts `event` to every target that does not have it yet; throws a retryable NOTIFY_FAILED when any failed. */
    async notify(event: NotifyEvent): Promise<NotifyResult> {
      if (targets.length === 0) return { delivered: [], skipped: [] };
      const done = progressFrom(activityInfo().heartbeatDetails);
      const bodies: Record<NotifyTarget['kind'], () => string> = {
        webhook: once(() => JSON.stringify(webhookBody(event, config.links))),
        slack: once(() => JSON.stringify(slackBody(event, config.links))),
      };
      const failures: Array<{ name: string; message: string }> = [];
      await Promise.all(
        targets
          .filter((t) => !done.delivered.has(t.name) && !done.skipped.has(t.name))
          .map(async (target) => {
            const result = await deliver(target, {
              id: event.id,
              body: bodies[target.kind](),
              secret: secret!,
              signal: cancellationSignal(),
              ...options,
            });
            metricMeter
              .createCounter('trellis_notifications', undefined, 'notification deliveries, by target and outcome (delivered, failed, gone)')
              .add(1, { target: target.name, outcome: result.outcome });
            if (result.outcome === 'failed') {
              failures.push({ name: target.name, message: result.message });
              return;
            }
            if (result.outcome === 'gone')
              log.warn('a webhook target answered 410 Gone: not sending it this event again', { target: target.name, id: event.id });
            (result.outcome === 'delivered' ? done.delivered : done.skipped).add(target.name);
            // After each target, not at the end: a worker that dies mid-way leaves the next attempt what it did.
            heartbeat(progressDetails(done));
          }),
      );
      const result = { delivered: inOrder(targets, done.delivered), skipped: inOrder(targets, done.skipped) };
      if (failures.length > 0) {
        const failed = inOrder(targets, new Set(failures.map((f) => f.name)));
        log.warn('notification not delivered to every target; it will be retried', { id: event.id, type: event.type, failed });
        throw ApplicationFailure.retryable(
          `${event.type} ${event.id} not delivered to ${failed.length} of ${targets.length} targets: ${failures.map((f) => f.message).join('; ')}`,
          NOTIFY_FAILED,
          { failed, ...result },
        );
      }
      log.info('notification delivered', { id: event.id, type: event.type, ...result });
      return result;
    },
  };
}

/** The heartbeat details: target names, so the Temporal UI shows progress and no URL's secret. */
interface Progress {
  delivered: Set<string>;
  skipped: Set<string>;
}

function progressDetails(p: Progress): NotifyResult {
  return { delivered: [...p.delivered], skipped: [...p.skipped] };
}

/** The progress an earlier attempt left (nothing on the first attempt, or when the details are not ours). */
function progressFrom(details: unknown): Progress {
  const names = (value: unknown) => new Set(Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  const d = (details ?? {}) as { delivered?: unknown; skipped?: unknown };
  return { delivered: names(d.delivered), skipped: names(d.skipped) };
}

function inOrder(targets: readonly NotifyTarget[], names: Set<string>): string[] {
  return targets.filter((t) => names.has(t.name)).map((t) => t.name);
}

function once(make: () => string): () => string {
  let value: string | undefined;
  return () => (value ??= make());
}
