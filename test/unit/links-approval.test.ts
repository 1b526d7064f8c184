/** Signed approval links: what a token binds, when it expires, and that no hostile token passes or throws. */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_APPROVAL_TOKEN_LENGTH, linkKeyFrom, readApprovalLink, signApprovalLink, type ApprovalLinkFields } from '../../src/links/index.js';

const key = linkKeyFrom('decision-key-for-tests');
const fields: ApprovalLinkFields = {
  run: 'refund-7f3a',
  step: 'approve',
  approver: 'ann@example.com',
  asked: '2026-02-28T12:00:00.000Z',
  expires: '2026-03-01T12:00:00.000Z',
};
const before = new Date('2026-03-01T11:59:59.999Z');
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('an approval link', () => {
  it('reads back the run, step, approver and expiry it was signed with', () => {
    const token = signApprovalLink(key, fields);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(readApprovalLink(key, token, before)).toEqual({ ok: true, link: fields });
  });

  it('is the same token for the same fields, whatever their order', () => {
    const reordered = { expires: fields.expires, asked: fields.asked, approver: fields.approver, step: fields.step, run: fields.run };
    expect(signApprovalLink(key, reordered)).toBe(signApprovalLink(key, fields));
  });

  it('keeps fields with any characters', () => {
    const odd = { ...fields, run: 'run/with?odd&chars é 😀', approver: 'Ann "the approver" <ann@x>' };
    expect(readApprovalLink(key, signApprovalLink(key, odd), before)).toEqual({ ok: true, link: odd });
  });

  it('expires at its expiry time', () => {
    const token = signApprovalLink(key, fields);
    for (const now of [new Date(fields.expires), new Date('2027-01-01T00:00:00Z')]) {
      const read = readApprovalLink(key, token, now);
      expect(read).toMatchObject({ ok: false, code: 'link_expired' });
      expect(!read.ok && read.message).toContain(fields.expires);
    }
  });

  it('is refused with another key, and the decision key itself is not the link key', () => {
    const token = signApprovalLink(key, fields);
    expect(readApprovalLink(linkKeyFrom('another-key'), token, before)).toMatchObject({ ok: false, code: 'link_invalid' });
    expect(readApprovalLink('decision-key-for-tests', token, before)).toMatchObject({ ok: false, code: 'link_invalid' });
    expect(linkKeyFrom('decision-key-for-tests')).toBe(key);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is refused when any one character is changed: in the fields, at the dot, in the signature', () => {
    const token = signApprovalLink(key, fields);
    const dot = token.indexOf('.');
    const classes = new Set<string>();
    for (let i = 0; i < token.length; i++) {
      const replacements = token[i] === '.' ? ['A', '_', ''] : [BASE64URL[(BASE64URL.indexOf(token[i]!) + 1) % 64]!, '.', ''];
      for (const r of replacements) {
        const tampered = token.slice(0, i) + r + token.slice(i + 1);
        const read = readApprovalLink(key, tampered, before);
        expect(read, `position ${i} replaced by ${JSON.stringify(r)}`).toMatchObject({ ok: false, code: 'link_invalid' });
      }
      classes.add(i < dot ? 'fields' : i === dot ? 'dot' : 'signature');
    }
    expect([...classes]).toEqual(['fields', 'dot', 'signature']);
    // The last character of each part carries spare bits: a change there that decodes to the same bytes is refused too.
    const sig = token.slice(dot + 1);
    const spare = sig.slice(0, -1) + BASE64URL[BASE64URL.indexOf(sig.at(-1)!) ^ 1];
    expect(Buffer.from(spare, 'base64url')).toEqual(Buffer.from(sig, 'base64url'));
    expect(readApprovalLink(key, `${token.slice(0, dot)}.${spare}`, before)).toMatchObject({ ok: false, code: 'link_invalid' });
  });

  it('is refused when correctly signed fields are not those of a link', () => {
    const forge = (text: string) => {
      const payload = Buffer.from(text).toString('base64url');
      return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
    };
    const shapes = [
      'not json',
      'null',
      '[1,2]',
      '"text"',
      JSON.stringify({ ...fields, extra: 1 }),
      JSON.stringify({ run: fields.run, step: fields.step, approver: fields.approver }),
      JSON.stringify({ ...fields, approver: 7 }),
      JSON.stringify({ ...fields, expires: 'tomorrow' }),
    ];
    for (const shape of shapes) {
      const read = readApprovalLink(key, forge(shape), before);
      expect(read, shape).toMatchObject({ ok: false, code: 'link_invalid' });
      expect(!read.ok && read.message).toMatch(/fields/);
    }
    expect(readApprovalLink(key, forge(JSON.stringify(fields)), before)).toEqual({ ok: true, link: fields });
  });

  it('is refused, with a reason, when it is too long, not text, or not two parts', () => {
    const cases: Array<[unknown, RegExp]> = [
      ['a'.repeat(MAX_APPROVAL_TOKEN_LENGTH + 1), /longer than 2048/],
      [undefined, /not text/],
      [42, /not text/],
      ['', /two base64url parts/],
      ['abc', /two base64url parts/],
      ['a.b.c', /two base64url parts/],
      ['a b.c', /two base64url parts/],
      ['YQ.', /two base64url parts/],
      ['YQ==.YQ', /two base64url parts/],
    ];
    for (const [token, message] of cases) {
      const read = readApprovalLink(key, token, before);
      expect(read).toMatchObject({ ok: false, code: 'link_invalid' });
      expect(!read.ok && read.message).toMatch(message);
    }
  });

  it('never throws and never passes for random text', () => {
    const token = fc.oneof(
      fc.string({ maxLength: 3000 }),
      fc.string({ unit: fc.constantFrom(...BASE64URL, '.'), maxLength: 300 }),
      fc.tuple(fc.base64String(), fc.base64String()).map(([a, b]) => `${a}.${b}`),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(token, (t) => {
        const read = readApprovalLink(key, t, before);
        return !read.ok && read.code === 'link_invalid' && read.message.length > 0;
      }),
      { numRuns: 2000 },
    );
  });

  it('is not made for fields it could not read back', () => {
    expect(() => signApprovalLink(key, { ...fields, expires: 'soon' })).toThrow(expect.objectContaining({ code: 'LINK_INVALID' }));
    expect(() => signApprovalLink(key, { ...fields, run: 'r'.repeat(1600) })).toThrow(/longer than 2048/);
    const longest = signApprovalLink(key, { ...fields, run: 'r'.repeat(1350) });
    expect(readApprovalLink(key, longest, before)).toMatchObject({ ok: true });
  });
});
