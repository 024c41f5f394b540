import { MAX_JSON_DEPTH, parseJsonBody } from './json-body';

const parse = (text: string) => parseJsonBody(Buffer.from(text));

function nested(depth: number): string {
  return `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;
}

describe('parseJsonBody', () => {
  it('parses JSON and takes an empty body as none', () => {
    expect(parse('{"text":"x","lines":[{"q":1}]}')).toEqual({ ok: true, value: { text: 'x', lines: [{ q: 1 }] } });
    expect(parse('')).toEqual({ ok: true, value: undefined });
    expect(parse('  \n')).toEqual({ ok: true, value: undefined });
  });

  it('refuses malformed JSON with 400', () => {
    const result = parse('{"text": ');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem.problem).toMatchObject({ status: 400, detail: expect.stringMatching(/not valid JSON/) });
  });

  it.each([
    ['{"__proto__":{"x":1}}', '__proto__'],
    ['{"a":{"b":[{"constructor":{}}]}}', 'a.b.0.constructor'],
    ['{"prototype":1}', 'prototype'],
  ])('refuses prototype keys anywhere: %s', (text, field) => {
    const result = parse(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem.problem.errors).toEqual([{ field, message: expect.stringContaining('not allowed') }]);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it(`accepts ${MAX_JSON_DEPTH} levels and refuses ${MAX_JSON_DEPTH + 1}`, () => {
    expect(parse(nested(MAX_JSON_DEPTH)).ok).toBe(true);
    const deep = parse(nested(MAX_JSON_DEPTH + 1));
    expect(deep.ok).toBe(false);
    if (!deep.ok) expect(deep.problem.problem.detail).toMatch(/nested/);
    expect(parse(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`).ok).toBe(false);
  });

  it('survives a hostile depth without exhausting the stack', () => {
    expect(parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`).ok).toBe(false);
  });
});

describe('parseJsonBody and encodings', () => {
  it('refuses bytes that are not UTF-8', () => {
    const result = parseJsonBody(Buffer.concat([Buffer.from('{"text":"'), Buffer.from([0xff, 0xfe]), Buffer.from('broken"}')]));
    expect(result.ok).toBe(false);
  });

  it('accepts multi-byte UTF-8', () => {
    expect(parseJsonBody(Buffer.from('{"text":"售后 ✓"}'))).toEqual({ ok: true, value: { text: '售后 ✓' } });
  });
});
