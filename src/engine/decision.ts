/**
 * A person's answer, as any client may send it (the decide update, the approve signal, the Temporal UI's "Send an
 * Update", a raw SDK call): checked field by field before the workflow accepts it, and refused with a stable code
 * otherwise. Pure and small, so the update's validator runs it in the workflow sandbox without zod; the zod schema
 * in src/contract/decision.ts gives the same verdicts (a test holds them together) and the JSON Schema.
 */
import { describe } from '../spec/describe.js';
import { verifyDecision } from './decision-signature.js';
import { oneLine } from '../spec/text.js';
import type { ApprovalDecision } from './messages.js';
import { ENDED_RUN, type RunStatus, type StepState } from './state.js';

/**
 * Why an answer was refused. not_waiting: the step (or the run) waits for no answer; not_an_approver: `by` is not
 * one of the step's approvers; already_decided: it was answered before; malformed: the answer's fields are wrong;
 * anonymous: it has no `by`; unsigned: the worker takes only signed answers (TRELLIS_DECISION_KEY) and this one has
 * no signature; signature_invalid: its signature does not check out, or it was signed before the step began to wait.
 * Lower case: they are data in a failure's details, read by clients in any language.
 */
export const REFUSAL_CODES = [
  'not_waiting',
  'not_an_approver',
  'already_decided',
  'malformed',
  'anonymous',
  'unsigned',
  'signature_invalid',
] as const;
/** One of REFUSAL_CODES. */
export type RefusalCode = (typeof REFUSAL_CODES)[number];

/** A refused answer: details[0] of the decide update's TrellisDecisionRefused failure. */
export interface Refusal {
  code: RefusalCode;
  /** Says why, for a person: `step "ok" was already decided (approved by alice)`. */
  message: string;
}

/** Longest text each field may hold (characters). */
export const DECISION_LIMITS = { step: 64, by: 200, comment: 4000, groups: 50, group: 200, at: 40 } as const;

const FIELDS = ['step', 'approved', 'by', 'comment', 'groups', 'at', 'signature'] as const;

/**
 * An answer's `at`: an ISO 8601 time, checked by its form alone, so the JSON Schema (a pattern) says what the workflow
 * takes, exactly.
 */
export const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** `group:NAME` in approvers lets anyone whose answer names the group NAME answer. */
export const GROUP_PREFIX = 'group:';

/** How much earlier than the wait's start a signed answer may say it was signed (clocks differ). */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * The decision in `value`, or a `malformed` refusal naming the first thing wrong. `by` and `comment` may be null
 * (as a client without optional fields sends them), which reads as absent.
 */
export function readDecision(value: unknown): { ok: true; decision: ApprovalDecision } | { ok: false; refusal: Refusal } {
  const bad = (message: string) => ({ ok: false as const, refusal: { code: 'malformed' as const, message: `malformed answer: ${message}` } });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return bad(`expected an object { step, approved, by, comment }, got ${describe(value)}`);
  }
  const o = value as Record<string, unknown>;
  const unknown = Object.keys(o).find((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown !== undefined) return bad(`unknown field ${JSON.stringify(unknown.slice(0, 40))} (an answer has ${FIELDS.join(', ')})`);
  const step = field(o, 'step');
  if (typeof step !== 'string' || step === '') return bad(`step must be the id of the step that waits, got ${describe(step)}`);
  if (step.length > DECISION_LIMITS.step) return bad(`step is longer than ${DECISION_LIMITS.step} characters`);
  const approved = field(o, 'approved');
  if (typeof approved !== 'boolean') return bad(`approved must be true or false, got ${describe(approved)}`);
  const decision: ApprovalDecision = { step, approved };
  for (const name of ['by', 'comment'] as const) {
    const v = field(o, name);
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') return bad(`${name} must be a string, got ${describe(v)}`);
    if (v.length > DECISION_LIMITS[name]) return bad(`${name} is longer than ${DECISION_LIMITS[name]} characters`);
    if (name === 'by' && v.trim() === '') return bad('by must name who answers, got an empty string');
    decision[name] = v;
  }
  const groups = field(o, 'groups');
  if (groups !== undefined && groups !== null) {
    if (!Array.isArray(groups) || groups.length > DECISION_LIMITS.groups)
      return bad(`groups must be a list of at most ${DECISION_LIMITS.groups} names`);
    const wrong = groups.find((g) => typeof g !== 'string' || g === '' || g.length > DECISION_LIMITS.group);
    if (wrong !== undefined) return bad(`groups must hold names of 1 to ${DECISION_LIMITS.group} characters, got ${describe(wrong)}`);
    decision.groups = groups as string[];
  }
  const at = field(o, 'at');
  if (at !== undefined && at !== null) {
    if (typeof at !== 'string' || at.length > DECISION_LIMITS.at || !ISO_TIME.test(at)) {
      return bad(`at must be an ISO 8601 timestamp, got ${describe(at)}`);
    }
    decision.at = at;
  }
  const signature = field(o, 'signature');
  if (signature !== undefined && signature !== null) {
    if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature))
      return bad('signature must be 64 lower-case hex characters (HMAC-SHA256)');
    decision.signature = signature;
  }
  return { ok: true, decision };
}

/**
 * What the run knows when an answer comes: its status, the step's gate (if it waits) and decision, its steps; and,
 * when the worker takes only signed answers, the key and the run's id.
 */
export interface AnswerContext {
  status: RunStatus;
  gate: { approvers?: string[]; askedAt?: string } | undefined;
  decision: { approved: boolean; by: string | null } | undefined;
  steps: Readonly<Record<string, StepState>>;
  signing?: { key: string; run: string };
}

/** Why this well-formed answer may not be taken now; undefined when it may. */
export function refusalFor(d: ApprovalDecision, at: AnswerContext): Refusal | undefined {
  if (ENDED_RUN.has(at.status)) return { code: 'not_waiting', message: `the run has ended (${at.status}): step "${d.step}" takes no answer` };
  const { gate, decision } = at;
  if (!gate) {
    const state = Object.hasOwn(at.steps, d.step) ? at.steps[d.step] : undefined;
    const message = state
      ? `step "${d.step}" is not waiting for a person (it is ${state.status})`
      : `unknown step "${oneLine(d.step, 64)}" (steps: ${oneLine(Object.keys(at.steps).join(', '), 200)})`;
    return { code: 'not_waiting', message };
  }
  if (decision) {
    const how = `${decision.approved ? 'approved' : 'denied'} by ${decision.by ?? 'the timeout'}`;
    return { code: 'already_decided', message: `step "${d.step}" was already decided (${how})` };
  }
  if (d.by === undefined) {
    return { code: 'anonymous', message: `step "${d.step}" takes an answer only with who gives it: set "by" (trellis approve ... --by NAME)` };
  }
  if (at.signing) {
    const refusal = signatureRefusal(d, d.by, gate.askedAt, at.signing);
    if (refusal) return refusal;
  }
  if (gate.approvers && !mayAnswer(gate.approvers, d.by, d.groups)) {
    return { code: 'not_an_approver', message: `"${oneLine(d.by, 80)}" may not answer step "${d.step}" (approvers: ${gate.approvers.join(', ')})` };
  }
  return undefined;
}

/** Whether someone named `by`, in `groups`, is one of `approvers` (a name, or `group:NAME` of one of their groups). */
export function mayAnswer(approvers: readonly string[], by: string, groups: readonly string[] = []): boolean {
  // A `group:` entry is only ever a group: someone named "group:finance" is not in it.
  return approvers.some((a) => (a.startsWith(GROUP_PREFIX) ? groups.includes(a.slice(GROUP_PREFIX.length)) : a === by));
}

function signatureRefusal(d: ApprovalDecision, by: string, askedAt: string | undefined, signing: { key: string; run: string }): Refusal | undefined {
  if (d.signature === undefined || d.at === undefined) {
    return {
      code: 'unsigned',
      message:
        `step "${d.step}" takes only signed answers (the worker has TRELLIS_DECISION_KEY): answer in the inbox of trellis serve, ` +
        'or through a client that holds the key',
    };
  }
  const fields = {
    run: signing.run,
    step: d.step,
    approved: d.approved,
    by,
    comment: d.comment ?? null,
    at: d.at,
    ...(d.groups && { groups: d.groups }),
  };
  if (!verifyDecision(signing.key, fields, d.signature)) {
    return { code: 'signature_invalid', message: `the answer for step "${d.step}" is not signed with the worker's decision key` };
  }
  // An answer signed before this wait began was given to an earlier one (a replaced plan's step of the same id).
  if (askedAt !== undefined && Date.parse(d.at) < Date.parse(askedAt) - CLOCK_SKEW_MS) {
    return {
      code: 'signature_invalid',
      message: `the answer for step "${d.step}" was signed at ${d.at}, before the step began to wait (${askedAt})`,
    };
  }
  return undefined;
}

function field(o: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(o, name) ? o[name] : undefined;
}
