import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { correlationIdOf } from '../http/correlation';
import { IdempotentReplay, sendReplay } from '../idempotency/idempotent-replay';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem';

/**
 * Every error leaves as application/problem+json (RFC 9457): thrown by
 * handlers, guards and pipes, raised by Fastify itself (413, bad
 * Content-Length) or an unknown route. Anything not meant for a client is
 * logged with its stack and answered with a generic 500. The one exception
 * that is no error, the edge guard's IdempotentReplay, is answered with the
 * response on record.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (exception instanceof IdempotentReplay) {
      if (!reply.sent) sendReplay(reply, exception.response);
      return;
    }
    const problem = toProblem(exception);

    if (problem.unexpected) {
      // Lines carry no request context of their own: the correlation id is what ties this one to the access log.
      this.logger.error(
        { err: exception, correlationId: correlationIdOf(request.raw), method: request.method, url: request.url },
        'Unexpected error while handling a request',
      );
    }
    if (reply.sent) return;
    reply.status(problem.status).headers(problem.headers).header('content-type', PROBLEM_CONTENT_TYPE).send(problem.body);
  }
}
