/**
 * Signed approval links: a token in a URL that names one approver of one step of one run, until it expires. The
 * token is `base64url(canonical JSON of the fields) + '.' + base64url(HMAC-SHA256 of that first part)`, so anyone
 * can read what a link is for, and only a holder of the key can make one.
 *
 * Opening a link shows the approval page; using it records that approver's answer. A link is single use because
 * the run enforces it, not the link: a step is decided once, and every later answer to it, through this link or
 * any other way, is refused by the workflow with `already_decided`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../engine/canonical.js';
import { TrellisError } from '../errors.js';

/** What a link is bound to. */
export interface ApprovalLinkFields {
  /** The run's id. */
  run: string;
  /** The step that waits (PendingApproval.step). */
  step: string;
  /** The one approver the link answers as: a person from the step's approvers, never a `group:`. */
  approver: string;
  /**
   * When the wait the link answers began (PendingApproval.askedAt): a step that asks again (a goal run's plan after
   * a replan) is a new question, which an old link does not answer.
   */
  asked: string;
  /** When the link stops working, as an ISO 8601 timestamp. */
  expires: string;
}

/** Why a token was refused: it was never ours or was changed (`link_invalid`), or it is past its time (`link_expired`). */
export type ApprovalLinkCode = 'link_invalid' | 'link_expired';

export type ApprovalLinkRead = { ok: true; link: ApprovalLinkFields } | { ok: false; code: ApprovalLinkCode; message: string };

/**
 * The longest token readApprovalLink reads, in characters. Real links are a few hundred; the cap keeps a hostile
 * token from costing more than a small HMAC. A link whose fields make it longer is not made (see signApprovalLink).
 */
export const MAX_APPROVAL_TOKEN_LENGTH = 2048;

const FIELDS = ['approver', 'asked', 'expires', 'run', 'step'] as const;
const TOKEN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The key for approval links, from the decision key (TRELLIS_DECISION_KEY): HMAC-SHA256(decisionKey, 'trellis
 * approval links') in hex. One secret serves both, and a link's signature can never pass for a decision's.
 */
export function linkKeyFrom(decisionKey: string): string {
  return createHmac('sha256', decisionKey).update('trellis approval links').digest('hex');
}

/**
 * A URL-safe token for `fields`, signed with `key` (linkKeyFrom's). Throws a TrellisError (LINK_INVALID) when
 * `expires` is not a date, or when the token would be longer than MAX_APPROVAL_TOKEN_LENGTH (a run id of more than
 * about 1,350 characters): readApprovalLink would refuse it.
 */
export function signApprovalLink(key: string, fields: ApprovalLinkFields): string {
  if (!isIsoTime(fields.expires)) {
    throw new TrellisError('LINK_INVALID', `an approval link's expires must be an ISO time, got ${JSON.stringify(fields.expires)}`);
  }
  const { run, step, approver, asked, expires } = fields;
  const payload = Buffer.from(canonicalJson({ run, step, approver, asked, expires }), 'utf8').toString('base64url');
  const token = `${payload}.${mac(key, payload)}`;
  if (token.length > MAX_APPROVAL_TOKEN_LENGTH) {
    throw new TrellisError(
      'LINK_INVALID',
      `an approval link for run ${JSON.stringify(run.slice(0, 80))}... would be longer than ${MAX_APPROVAL_TOKEN_LENGTH} characters`,
    );
  }
  return token;
}

/**
 * Reads a token that anyone may have sent: checks its form, its signature (in constant time) and then its expiry
 * against `now`. Never throws: every hostile token is a `link_invalid` with a message that says why. A token still
 * in time may still be refused by the run, as `already_decided` once the step has its answer.
 */
export function readApprovalLink(key: string, token: unknown, now: Date): ApprovalLinkRead {
  const invalid = (why: string): ApprovalLinkRead => ({ ok: false, code: 'link_invalid', message: `this approval link is not valid: ${why}` });
  if (typeof token !== 'string') return invalid('it is not text');
  if (token.length > MAX_APPROVAL_TOKEN_LENGTH) return invalid(`it is longer than ${MAX_APPROVAL_TOKEN_LENGTH} characters`);
  if (!TOKEN.test(token)) return invalid('it is not two base64url parts joined by a dot (was it cut off when copied?)');
  const [payload, signature] = token.split('.') as [string, string];
  // Compared as text, not as decoded bytes: base64url has several spellings of one byte string, and only ours passes.
  const expected = Buffer.from(mac(key, payload), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return invalid('its signature does not match (it was changed, or made with another key)');
  }
  const link = parseFields(Buffer.from(payload, 'base64url').toString('utf8'));
  if (link === undefined) return invalid('its fields are not those of an approval link');
  if (now.getTime() >= Date.parse(link.expires)) {
    return { ok: false, code: 'link_expired', message: `this approval link expired at ${link.expires}; answer in the inbox instead` };
  }
  return { ok: true, link };
}

function mac(key: string, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

/** The five fields, all strings, nothing else, and expires a time; else undefined. */
function parseFields(text: string): ApprovalLinkFields | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  if (keys.length !== FIELDS.length || keys.some((k, i) => k !== FIELDS[i])) return undefined;
  if (!FIELDS.every((k) => typeof record[k] === 'string')) return undefined;
  const link = record as unknown as ApprovalLinkFields;
  return isIsoTime(link.expires) ? { run: link.run, step: link.step, approver: link.approver, asked: link.asked, expires: link.expires } : undefined;
}

function isIsoTime(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T/.test(text) && Number.isFinite(Date.parse(text));
}
