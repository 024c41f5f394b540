import { createHmac } from 'node:crypto';
import { signatureDigest, signatureHeader } from './signature';

describe('signatures', () => {
  const secret = 'whsec-test';
  const body = '{"refundId":"c-1-r2","amount":1999,"note":"退款"}';

  it('is the hex HMAC-SHA256 of "<t>.<body>", alike for a string and its UTF-8 bytes', () => {
    const expected = createHmac('sha256', secret).update(`1740816000.${body}`, 'utf8').digest('hex');
    expect(signatureDigest(secret, 1740816000, body)).toBe(expected);
    expect(signatureDigest(secret, 1740816000, Buffer.from(body, 'utf8'))).toBe(expected);
  });

  it('changes with the secret, the timestamp and any byte of the body', () => {
    const base = signatureDigest(secret, 1740816000, body);
    expect(signatureDigest('other', 1740816000, body)).not.toBe(base);
    expect(signatureDigest(secret, 1740816001, body)).not.toBe(base);
    expect(signatureDigest(secret, 1740816000, body.replace('1999', '1998'))).not.toBe(base);
  });

  it('makes the header from whole seconds of now', () => {
    const header = signatureHeader(secret, body, new Date('2025-03-01T08:00:00.999Z'));
    const t = Date.parse('2025-03-01T08:00:00Z') / 1000;
    expect(header).toBe(`t=${t},v1=${signatureDigest(secret, t, body)}`);
  });
});
