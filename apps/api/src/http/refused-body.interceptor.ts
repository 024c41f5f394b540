import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { requestContext } from './request-context';

/**
 * Answers a body the parser refused (malformed JSON, a prototype key, too
 * deep, not JSON) with its 400 or 415. An interceptor rather than the parser
 * itself, because interceptors run after every guard: a missing token, a
 * wrong role or a bad callback signature answer first, as API.md orders them.
 */
@Injectable()
export class RefusedBodyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const refusal = requestContext(context.switchToHttp().getRequest<FastifyRequest>().raw).deferredBodyError;
      if (refusal) throw refusal;
    }
    return next.handle();
  }
}
