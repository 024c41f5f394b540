import { caseIdFor, keyedCaseId } from './case-id';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** API.md's id syntax. */
const API_ID = /^[A-Za-z0-9_-]{1,64}$/;
const buyer = { role: 'buyer', id: 'u1' };

describe('caseIdFor', () => {
  it('names the same case for the same caller and key, every time', () => {
    const first = caseIdFor(buyer, 'key-1');
    expect(caseIdFor({ ...buyer }, 'key-1')).toBe(first);
    expect(first).toMatch(UUID_V8);
    expect(first).toMatch(API_ID);
  });

  it('is a fresh UUIDv7 when no key is sent', () => {
    const a = caseIdFor(buyer, undefined);
    const b = caseIdFor(buyer, undefined);
    expect(a).toMatch(UUID_V7);
    expect(b).not.toBe(a);
  });

  it('keeps keys of different callers and roles apart', () => {
    const ids = new Set([
      keyedCaseId(buyer, 'k'),
      keyedCaseId({ role: 'buyer', id: 'u2' }, 'k'),
      keyedCaseId({ role: 'agent', id: 'u1' }, 'k'),
      keyedCaseId(buyer, 'k2'),
    ]);
    expect(ids.size).toBe(4);
  });

  it('cannot be steered into another caller\'s id by moving a separator between sub and key', () => {
    expect(keyedCaseId({ role: 'buyer', id: 'a:b' }, 'c')).not.toBe(keyedCaseId({ role: 'buyer', id: 'a' }, 'b:c'));
  });

  it('is a valid id for any key API.md allows', () => {
    const longest = '~'.repeat(255);
    for (const key of ['a', longest, '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~']) expect(keyedCaseId(buyer, key)).toMatch(UUID_V8);
  });
});
