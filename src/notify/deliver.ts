/**
 * One POST of one notification to one target, signed per the Standard Webhooks spec: `webhook-id` (the event's id,
 * the same on every retry), `webhook-timestamp` (this attempt's time, so a receiver's replay window holds) and
 * `webhook-signature` over id, timestamp and body.
 */
import { Webhook } from 'standardwebhooks';
import type { NotifyTarget } from './config.js';

/** How long a target has to answer. */
export const DELIVERY_TIMEOUT_MS = 10_000;

export interface Delivery {
  /** The webhook-id: the event's id. */
  id: string;
  /** The body, as sent and signed. */
  body: string;
  /** The Standard Webhooks secret, `whsec_...`. */
  secret: string;
  /** Default DELIVERY_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Ends the request early (the activity's cancellation). */
  signal?: AbortSignal;
  /** The signing time. Default now. */
  now?: Date;
}

/**
 * How a delivery went. delivered: a 2xx. gone: 410, the target asks for nothing more of this event (no retry).
 * failed: any other answer, or none; worth a retry. The message names the target by its name, never its full URL.
 */
export type DeliveryOutcome =
  { outcome: 'delivered'; status: number } | { outcome: 'gone'; status: 410 } | { outcome: 'failed'; status?: number; message: string };

/** The Standard Webhooks headers for `delivery`, with the JSON content type. */
export function webhookHeaders(delivery: Pick<Delivery, 'id' | 'body' | 'secret' | 'now'>): Record<string, string> {
  const now = delivery.now ?? new Date();
  return {
    'content-type': 'application/json',
    'webhook-id': delivery.id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': new Webhook(delivery.secret).sign(delivery.id, now, delivery.body),
  };
}

/** POSTs `delivery.body` to `target`. Never throws: every way it can go is a DeliveryOutcome. */
export async function deliver(target: NotifyTarget, delivery: Delivery): Promise<DeliveryOutcome> {
  const timeoutMs = delivery.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = delivery.signal ? AbortSignal.any([timeout, delivery.signal]) : timeout;
  let response: Response;
  try {
    // Redirects are not followed: a redirected POST may turn into a GET, and the signed body would go unread.
    response = await fetch(target.url, { method: 'POST', headers: webhookHeaders(delivery), body: delivery.body, signal, redirect: 'manual' });
  } catch (error) {
    const why = timeout.aborted ? `no answer within ${timeoutMs / 1000} s` : delivery.signal?.aborted ? 'cancelled' : networkReason(error);
    return { outcome: 'failed', message: `${target.name}: ${why}` };
  }
  // The answer's body is not read (a receiver's text could hold anything), only released.
  await response.body?.cancel().catch(() => {});
  const status = response.status;
  if (status >= 200 && status < 300) return { outcome: 'delivered', status };
  if (status === 410) return { outcome: 'gone', status };
  const redirect = status >= 300 && status < 400 ? ' (redirects are not followed: set the new URL in TRELLIS_WEBHOOKS)' : '';
  return {
    outcome: 'failed',
    status,
    message: `${target.name}: answered ${status}${response.statusText ? ` ${response.statusText}` : ''}${redirect}`,
  };
}

/** fetch's "fetch failed" hides the reason in its cause: ECONNREFUSED, ENOTFOUND, a TLS error. */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const message = typeof cause?.message === 'string' ? cause.message : (error as Error).message;
  // The cause's message may name the URL; the code alone does not.
  return code ? `could not connect (${code})` : `request failed (${withoutUrls(message)})`;
}

function withoutUrls(text: string): string {
  return text.replace(/https?:\/\/\S+/g, '<url>').slice(0, 200);
}
