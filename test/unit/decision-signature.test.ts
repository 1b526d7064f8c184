/** Signed answers and approvers by group, as the workflow checks them: pure, with no Temporal. */
import { describe, expect, it } from 'vitest';
import { mayAnswer, readDecision, refusalFor, type AnswerContext } from '../../src/engine/decision.js';
import { signDecision, signedText, verifyDecision, type SignedFields } from '../../src/engine/decision-signature.js';

const KEY = 'a-decision-key-of-at-least-32-characters';
const fields: SignedFields = { run: 'r-1', step: 'ok', approved: true, by: 'alice', comment: null, at: '2026-12-02T10:00:00.000Z' };

describe('signDecision', () => {
  it('signs the canonical JSON of the answer: the same text whatever the key order', () => {
    expect(signedText(fields)).toBe('{"approved":true,"at":"2026-12-02T10:00:00.000Z","by":"alice","comment":null,"run":"r-1","step":"ok"}');
    expect(signDecision(KEY, fields)).toMatch(/^[0-9a-f]{64}$/);
    expect(signDecision(KEY, { ...fields })).toBe(
      signDecision(KEY, { step: 'ok', by: 'alice', run: 'r-1', approved: true, at: fields.at, comment: null }),
    );
  });

  it('checks out only for the same answer, run, step, time, groups and key', () => {
    const sig = signDecision(KEY, fields);
    expect(verifyDecision(KEY, fields, sig)).toBe(true);
    for (const changed of [
      { approved: false },
      { by: 'mallory' },
      { run: 'r-2' },
      { step: 'other' },
      { comment: 'x' },
      { at: '2026-12-02T10:00:01.000Z' },
      { groups: ['finance'] },
    ]) {
      expect(verifyDecision(KEY, { ...fields, ...changed }, sig), JSON.stringify(changed)).toBe(false);
    }
    expect(verifyDecision(`${KEY}!`, fields, sig)).toBe(false);
    expect(verifyDecision(KEY, fields, sig.slice(0, 63))).toBe(false);
  });
});

describe('readDecision', () => {
  it('reads groups, at and signature, and names what is wrong with them', () => {
    const sig = signDecision(KEY, fields);
    expect(readDecision({ step: 'ok', approved: true, by: 'alice', groups: ['finance'], at: fields.at, signature: sig })).toEqual({
      ok: true,
      decision: { step: 'ok', approved: true, by: 'alice', groups: ['finance'], at: fields.at, signature: sig },
    });
    const message = (v: unknown) => {
      const read = readDecision(v);
      return read.ok ? 'ok' : read.refusal.message;
    };
    expect(message({ step: 'ok', approved: true, groups: 'finance' })).toMatch(/groups must be a list/);
    expect(message({ step: 'ok', approved: true, groups: [''] })).toMatch(/groups must hold names/);
    expect(message({ step: 'ok', approved: true, at: 'yesterday' })).toMatch(/at must be an ISO 8601 timestamp/);
    expect(message({ step: 'ok', approved: true, signature: 'ABC' })).toMatch(/signature must be 64 lower-case hex/);
  });
});

describe('refusalFor', () => {
  const gate = { approvers: ['alice', 'group:finance'], askedAt: '2026-12-02T09:59:00.000Z' };
  const context = (signed: boolean): AnswerContext => ({
    status: 'waiting',
    gate,
    decision: undefined,
    steps: { ok: { status: 'waiting', output: null, attempts: 0 } },
    ...(signed && { signing: { key: KEY, run: 'r-1' } }),
  });

  it('lets a name or a member of a listed group answer', () => {
    expect(mayAnswer(gate.approvers, 'alice')).toBe(true);
    expect(mayAnswer(gate.approvers, 'bob', ['finance'])).toBe(true);
    expect(mayAnswer(gate.approvers, 'bob', ['sales'])).toBe(false);
    expect(mayAnswer(gate.approvers, 'group:finance')).toBe(false);
    expect(refusalFor({ step: 'ok', approved: true, by: 'bob', groups: ['sales'] }, context(false))?.code).toBe('not_an_approver');
  });

  it('with a key: unsigned, forged and stale answers are refused, a signed one is taken', () => {
    const answer = { step: 'ok', approved: true, by: 'alice' };
    expect(refusalFor(answer, context(true))?.code).toBe('unsigned');
    expect(refusalFor({ ...answer, at: fields.at, signature: '0'.repeat(64) }, context(true))?.code).toBe('signature_invalid');
    expect(refusalFor({ ...answer, at: fields.at, signature: signDecision(KEY, fields) }, context(true))).toBeUndefined();
    const stale = { ...fields, at: '2026-12-02T09:00:00.000Z' };
    expect(refusalFor({ ...answer, at: stale.at, signature: signDecision(KEY, stale) }, context(true))).toMatchObject({
      code: 'signature_invalid',
      message: expect.stringMatching(/before the step began to wait/),
    });
  });
});
