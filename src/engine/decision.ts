/**
 * A person's answer, as any client may send it (the decide update, the approve signal, the Temporal UI's "Send an
 * Update", a raw SDK call): checked field by field before the workflow accepts it, and refused with a stable code
 * otherwise. Pure and small, so the update's validator runs it in the workflow sandbox without zod; the zod schema
 * in src/contract/decision.ts gives the same verdicts (a test holds them together) and the JSON Schema.
 */
import { describe } from '../spec/describe.js';
import { oneLine } from '../spec/text.js';
import type { ApprovalDecision } from './messages.js';
import { ENDED_RUN, type RunStatus, type StepState } from './state.js';

/**
 * Why an answer was refused. not_waiting: the step (or the run) waits for no answer; not_an_approver: `by` is not
 * one of the step's approvers; already_decided: it was answered before; malformed: the answer's fields are wrong;
 * anonymous: it has no `by`. Lower case: they are data in a failure's details, read by clients in any language.
 */
export const REFUSAL_CODES = ['not_waiting', 'not_an_approver', 'already_decided', 'malformed', 'anonymous'] as const;
/** One of REFUSAL_CODES. */
export type RefusalCode = (typeof REFUSAL_CODES)[number];

/** A refused answer: details[0] of the decide update's TrellisDecisionRefused failure. */
export interface Refusal {
  code: RefusalCode;
  /** Says why, for a person: `step "ok" was already decided (approved by alice)`. */
  message: string;
}

/** Longest text each field may hold (characters). */
export const DECISION_LIMITS = { step: 64, by: 200, comment: 4000 } as const;

const FIELDS = ['step', 'approved', 'by', 'comment'] as const;

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
  return { ok: true, decision };
}

/** What the run knows when an answer comes: its status, the step's gate (if it waits) and decision, its steps. */
export interface AnswerContext {
  status: RunStatus;
  gate: { approvers?: string[] } | undefined;
  decision: { approved: boolean; by: string | null } | undefined;
  steps: Readonly<Record<string, StepState>>;
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
  if (gate.approvers && !gate.approvers.includes(d.by)) {
    return { code: 'not_an_approver', message: `"${oneLine(d.by, 80)}" may not answer step "${d.step}" (approvers: ${gate.approvers.join(', ')})` };
  }
  return undefined;
}

function field(o: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(o, name) ? o[name] : undefined;
}
