import { BadRequestException, ConflictException, HttpException, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { ProblemException, problems, toProblem } from './problem';

describe('toProblem', () => {
  it('keeps a ProblemException as thrown, with its extension members and headers', () => {
    const problem = toProblem(new ProblemException(409, 'Action not allowed', 'Cannot approve now.', { allowedActions: ['withdraw'] }));
    expect(problem).toEqual({
      status: 409,
      body: { type: 'about:blank', title: 'Action not allowed', status: 409, detail: 'Cannot approve now.', allowedActions: ['withdraw'] },
      headers: {},
      unexpected: false,
    });
    expect(toProblem(problems.unauthorized('no token')).headers).toEqual({ 'WWW-Authenticate': 'Bearer' });
  });

  it('never lets an extension overwrite the standard members', () => {
    const body = toProblem(new ProblemException(422, 'Business rule violated', 'd', { status: 200, type: 'x', rule: 'cap_exceeded' })).body;
    expect(body).toMatchObject({ status: 422, type: 'about:blank', rule: 'cap_exceeded' });
  });

  it('gives the helpers the members API.md names', () => {
    expect(toProblem(problems.businessRule('amount_above_refundable', 'Too much.')).body).toMatchObject({ status: 422, rule: 'amount_above_refundable' });
    expect(toProblem(problems.actionNotAllowed('No.', ['urge'])).body).toMatchObject({ status: 409, allowedActions: ['urge'] });
    expect(toProblem(problems.validation([{ field: 'a', message: 'b' }])).body).toMatchObject({ status: 400, errors: [{ field: 'a', message: 'b' }] });
    expect(toProblem(problems.preconditionFailed('Stale.', { revision: 3 })).body).toMatchObject({ status: 412, revision: 3 });
  });

  it('gives every 409 an allowedActions list, empty where the thrower named none', () => {
    expect(toProblem(problems.conflict('A request with this Idempotency-Key is still being processed.')).body.allowedActions).toEqual([]);
    expect(toProblem(new ProblemException(409, 'Conflict', 'The order is registered with a different snapshot.', { reason: 'order_snapshot_differs' })).body).toMatchObject({
      reason: 'order_snapshot_differs',
      allowedActions: [],
    });
    expect(toProblem(problems.conflict('Raced.', { allowedActions: ['withdraw'] })).body.allowedActions).toEqual(['withdraw']);
    expect(toProblem(new ConflictException('taken')).body.allowedActions).toEqual([]);
    expect(toProblem(problems.notFound('No.')).body).not.toHaveProperty('allowedActions');
  });

  it('maps Nest and Fastify HTTP exceptions by status with their message as detail', () => {
    expect(toProblem(new NotFoundException('Cannot GET /x')).body).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'Cannot GET /x' });
    expect(toProblem(new HttpException('Request body is too large', 413)).body).toMatchObject({ status: 413, title: 'Payload Too Large' });
    expect(toProblem(new BadRequestException(['a', 'b'])).body.detail).toBe('a; b');
    expect(toProblem(new ServiceUnavailableException('Draining')).body).toMatchObject({ status: 503, detail: 'Draining' });
  });

  it('answers a bare 429 with a fixed detail', () => {
    expect(toProblem(new HttpException('ThrottlerException: Too Many Requests', 429)).body).toMatchObject({
      status: 429,
      title: 'Too Many Requests',
      detail: 'Too many requests from this caller; retry after the number of seconds in Retry-After.',
    });
  });

  it('hides anything unexpected behind a generic 500', () => {
    for (const error of [new Error('password=hunter2'), 'a string', undefined, new HttpException('internal detail', 500)]) {
      const problem = toProblem(error);
      expect(problem.unexpected).toBe(true);
      expect(problem.body).toEqual({ type: 'about:blank', title: 'Internal Server Error', status: 500, detail: expect.any(String) });
      expect(JSON.stringify(problem.body)).not.toMatch(/hunter2|internal detail/);
    }
  });
});
