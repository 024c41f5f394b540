import { InvalidEventError, InvalidStreamNameError } from './errors';
import { serializeEvents, validateExpectedRevision, validateStreamName } from './validation';

const id = '0b9c5b6e-4f0e-4a8e-9d53-2f4f4d0c7a11';

describe('validateStreamName', () => {
  it.each(['order-1', 'case-AB_c-9', `a${'B'.repeat(63)}-${'x'.repeat(128)}`])('accepts %s', (name) => {
    expect(() => validateStreamName(name)).not.toThrow();
  });

  it.each(['order', '$all', '$ce-order', 'Order-1', 'order-', `order-${'x'.repeat(129)}`, `a${'b'.repeat(64)}-1`, 'or der-1'])(
    'refuses %s',
    (name) => {
      expect(() => validateStreamName(name)).toThrow(InvalidStreamNameError);
    },
  );
});

describe('validateExpectedRevision', () => {
  it.each(['no_stream', 'any', 'stream_exists', 0, 41])('accepts %p', (expected) => {
    expect(() => validateExpectedRevision(expected)).not.toThrow();
  });

  it.each([-1, 1.5, Number.NaN, 'latest', undefined])('refuses %p as a programming error', (expected) => {
    expect(() => validateExpectedRevision(expected)).toThrow(RangeError);
  });
});

describe('serializeEvents', () => {
  it('stores the JSON form, lower-cases the id and drops undefined properties', () => {
    const [event] = serializeEvents([
      {
        id: id.toUpperCase(),
        type: 'ReturnRequested',
        data: { at: new Date('2025-01-02T03:04:05.000Z'), note: undefined, lines: [{ q: 1 }] },
        metadata: { actor: { role: 'buyer' } },
      },
    ]);

    expect(event).toEqual({
      id,
      type: 'ReturnRequested',
      data: '{"at":"2025-01-02T03:04:05.000Z","lines":[{"q":1}]}',
      metadata: '{"actor":{"role":"buyer"}}',
    });
  });

  it.each([
    ['a nested function', { a: { b: () => 1 } }, 'data: property "b" is a function'],
    ['Infinity', { n: Number.POSITIVE_INFINITY }, 'data: property "n" is Infinity'],
    ['a BigInt at the top', 5n, 'data: the value is a BigInt'],
  ])('names what is wrong with %s and which event it is in', (_case, data, reason) => {
    const attempt = () =>
      serializeEvents([
        { id, type: 'A', data: {}, metadata: {} },
        { id: id.replace('0b', '1b'), type: 'B', data, metadata: {} },
      ]);

    expect(attempt).toThrow(InvalidEventError);
    expect(attempt).toThrow(expect.objectContaining({ index: 1, reason }));
  });
});
