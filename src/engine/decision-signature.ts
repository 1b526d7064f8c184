/**
 * Signed answers: with a decision key on the worker (TRELLIS_DECISION_KEY), the workflow takes only answers signed by
 * a holder of the key (`trellis serve`, a TrellisClient given it), so a raw Temporal update or signal with a forged
 * `by` opens nothing. HMAC-SHA256 over the canonical JSON of what the answer says, in pure code (@noble/hashes), so
 * the update's validator checks it inside the workflow sandbox, deterministically.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalJson } from './canonical.js';

/** What a signature covers: the answer, the run and the step it answers, who gives it, and when it was signed. */
export interface SignedFields {
  /** The run's id (its workflow id). */
  run: string;
  step: string;
  approved: boolean;
  by: string;
  comment: string | null;
  /** When the answer was signed, as an ISO 8601 timestamp. */
  at: string;
  /** The answerer's groups, when the answer names them (covered too, so none can be added). */
  groups?: string[];
}

/** Shortest decision key taken (characters): a shorter one is guessable. */
export const MIN_DECISION_KEY_LENGTH = 32;

/** The signature of `fields` with `key`: 64 hex characters. */
export function signDecision(key: string, fields: SignedFields): string {
  return bytesToHex(hmac(sha256, utf8ToBytes(key), utf8ToBytes(signedText(fields))));
}

/** Whether `signature` is the signature of `fields` with `key`; compares every character, whatever differs. */
export function verifyDecision(key: string, fields: SignedFields, signature: string): boolean {
  const expected = signDecision(key, fields);
  if (signature.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ signature.charCodeAt(i);
  return diff === 0;
}

/** The text a signature covers: canonical JSON, so every signer and verifier writes the same bytes. */
export function signedText(fields: SignedFields): string {
  const { groups, ...rest } = fields;
  return canonicalJson({ ...rest, comment: rest.comment ?? null, ...(groups !== undefined && { groups }) });
}
