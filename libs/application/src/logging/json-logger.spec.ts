import { Logger } from '@nestjs/common';
import { CapturedLines } from '../../../../test/support/captured-lines';
import { JsonLogger } from './json-logger';
import { createRootLogger } from './root-logger';

describe('JsonLogger', () => {
  let output: CapturedLines;
  let logger: JsonLogger;

  beforeEach(() => {
    output = new CapturedLines();
    logger = new JsonLogger(createRootLogger('debug', output));
  });

  it('writes a message with its context, as Nest passes them', () => {
    logger.log('Mapped {/v1/cases, POST} route', 'RouterExplorer');
    expect(output.lines).toEqual([
      expect.objectContaining({ level: 30, context: 'RouterExplorer', msg: 'Mapped {/v1/cases, POST} route', time: expect.any(Number) }),
    ]);
  });

  it('gives an object message its fields and the string after it its message', () => {
    logger.log({ eventStore: 'sqlite', port: 3000 }, 'listening', 'Main');
    logger.log({ eventStore: 'sqlite' }, 'listening without a context');
    expect(output.lines).toEqual([
      expect.objectContaining({ level: 30, eventStore: 'sqlite', port: 3000, msg: 'listening', context: 'Main' }),
      expect.objectContaining({ eventStore: 'sqlite', msg: 'listening without a context' }),
    ]);
  });

  it("keeps the stack Nest's exception handlers pass after an error message", () => {
    const stack = 'Error: boom\n    at handler (cases.controller.ts:1:1)';
    logger.error('boom', stack, 'ExceptionsHandler');
    logger.error('no stack', undefined, 'ParcelIndexProjector');
    expect(output.lines).toEqual([
      expect.objectContaining({ level: 50, context: 'ExceptionsHandler', msg: 'boom', stack }),
      expect.objectContaining({ level: 50, context: 'ParcelIndexProjector', msg: 'no stack' }),
    ]);
    expect(output.lines[1]).not.toHaveProperty('stack');
  });

  it('serialises an error message as err', () => {
    logger.error(new Error('database gone'), undefined, 'HTTP');
    expect(output.lines[0]).toMatchObject({ level: 50, context: 'HTTP', msg: 'database gone', err: { type: 'Error', message: 'database gone' } });
  });

  it('maps Nest levels to pino levels and leaves out those below the root level', () => {
    logger.warn('w', 'C');
    logger.debug('d', 'C');
    logger.verbose('v', 'C');
    logger.fatal('f', 'C');
    expect(output.lines.map((line) => [line.level, line.msg])).toEqual([
      [40, 'w'],
      [20, 'd'],
      [60, 'f'],
    ]);
  });

  it('redacts credentials in headers logged whole', () => {
    logger.warn({ req: { headers: { authorization: 'Bearer secret.jwt.value', 'x-signature': 't=1,v1=abc', host: 'api' } } }, 'odd request', 'C');
    expect(output.lines[0]).toMatchObject({ req: { headers: { authorization: '[Redacted]', 'x-signature': '[Redacted]', host: 'api' } } });
    expect(output.raw()).not.toContain('secret.jwt.value');
  });

  describe('behind Nest Logger instances', () => {
    afterEach(() => Logger.overrideLogger(false));

    it('receives what `new Logger(Name)` writes, with Name as the context', () => {
      Logger.overrideLogger(logger);
      new Logger('ProblemFilter').error({ correlationId: 'c-1' }, 'Unexpected error while handling a request');
      new Logger('RedisShutdown').warn('Redis did not close cleanly');
      new Logger('ParcelIndexProjector').error(new Error('subscription dropped'));
      expect(output.lines).toEqual([
        expect.objectContaining({ level: 50, context: 'ProblemFilter', correlationId: 'c-1', msg: 'Unexpected error while handling a request' }),
        expect.objectContaining({ level: 40, context: 'RedisShutdown', msg: 'Redis did not close cleanly' }),
        expect.objectContaining({ level: 50, context: 'ParcelIndexProjector', msg: 'subscription dropped', err: expect.objectContaining({ message: 'subscription dropped' }) }),
      ]);
    });
  });
});
