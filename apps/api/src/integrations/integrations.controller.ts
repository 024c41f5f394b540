import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CallbackTargets, ParcelIndexBehindError, type CaseCommandResult, type CommandOrigin } from '@aftersales/application';
import type { Actor, CaseCommand } from '@aftersales/domain';
import { Public } from '../auth/decorators';
import { CommandGateway } from '../cases/command-gateway';
import { ProblemResponse } from '../cases/problem-docs';
import { correlationIdOf } from '../http/correlation';
import { IdempotencySender } from '../idempotency/idempotency-sender';
import { CallbackAnswer, LogisticsEventDto, PaymentEventDto } from './callback.dto';
import { SignedCallback } from './signature-check';
import { parcelIndexBehind } from './tracking-number-check';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const LOGISTICS: Actor = { role: 'integration', id: 'logistics' };
const PAYMENTS: Actor = { role: 'integration', id: 'payments' };

const UNAUTHORIZED = 'No, malformed or wrong X-Signature, a timestamp more than 5 minutes from now, or a signature accepted once already';
const NOT_STATUS =
  'The case is not in a status that takes this event (e.g. a scan for a case closed before its parcel was collected); a late repeat of a recorded event is 200 instead';

/**
 * The signed callbacks of the carrier and the payment centre (API.md,
 * "Integration callbacks"). Public to the bearer-token edge; SignatureCheck
 * authenticates them instead. Each becomes the case's integration command,
 * through the same gateway and error mapping as the case routes.
 */
@ApiTags('integrations')
@Controller('v1/integrations')
@Public()
@SignedCallback()
export class IntegrationsController {
  constructor(
    private readonly gateway: CommandGateway,
    private readonly targets: CallbackTargets,
  ) {}

  @Post('logistics/events')
  @HttpCode(200)
  @IdempotencySender('logistics')
  @ApiOperation({
    summary: 'A carrier scan of a return, pickup or replacement parcel',
    description:
      '`collected` of a return parcel (or a booked pickup) → `return-collected`; `delivered` → `return-delivered`, or `replacement-delivered` for a replacement; ' +
      '`in_transit`, and `collected` of a replacement, are acknowledged and record nothing. A scan already recorded answers 200 with `recorded: false`.',
  })
  @ApiBody({ type: LogisticsEventDto })
  @ApiOkResponse({ type: CallbackAnswer })
  @ProblemResponse(401, UNAUTHORIZED)
  @ProblemResponse(404, 'No case has a parcel with this tracking number (never one an acknowledged write recorded)')
  @ProblemResponse(409, NOT_STATUS)
  @ProblemResponse(422, 'A business rule refused the event (`rule`), e.g. `tracking_number_mismatch`')
  @ProblemResponse(503, 'The parcel index could not catch up within 5 s, or the event store is unreachable; retry')
  async logistics(@Body() body: LogisticsEventDto, @Req() request: FastifyRequest): Promise<CallbackAnswer> {
    // Read first: every parcel recorded by a write acknowledged before this request is at or below it.
    const head = await this.targets.headPosition();
    const target = await this.gateway.read('case', async () => {
      try {
        return await this.targets.parcel(body.trackingNumber, head);
      } catch (error) {
        if (!(error instanceof ParcelIndexBehindError)) throw error;
        throw parcelIndexBehind();
      }
    });

    let command: CaseCommand;
    const { trackingNumber, at } = body;
    if (body.event === 'collected' && target.parcel === 'return') {
      command = { type: 'return-collected', actor: LOGISTICS, data: { trackingNumber, at } };
    } else if (body.event === 'delivered') {
      command =
        target.parcel === 'return'
          ? { type: 'return-delivered', actor: LOGISTICS, data: { trackingNumber, at } }
          : { type: 'replacement-delivered', actor: LOGISTICS, data: { trackingNumber, at } };
    } else {
      // In transit, or a replacement leaving the merchant: DOMAIN.md records neither.
      return { accepted: true, recorded: false };
    }
    // A late repeat of a recorded scan is the domain's no-op (200, recorded: false); a scan the case
    // never expects (closed before its pickup was collected) stays 409, so the sender's operators see it.
    return answer(await this.gateway.executeCase(target.caseId, command, origin(request, LOGISTICS)));
  }

  @Post('payments/events')
  @HttpCode(200)
  @IdempotencySender('payments')
  @ApiOperation({
    summary: 'The payment centre\'s outcome for a refund',
    description:
      '`succeeded` → `refund-settled` (the case completes once every refund has settled); `failed` → `refund-failed` as the next attempt, ' +
      'with `final: false`: resubmitting and giving up belong to the payment workers. An outcome already recorded answers 200 with `recorded: false`: ' +
      'a `failed` report is known by its refund and `at` (the attempt\'s time, kept in `RefundFailed`), so only a new `at` counts another attempt.',
  })
  @ApiBody({ type: PaymentEventDto })
  @ApiOkResponse({ type: CallbackAnswer })
  @ProblemResponse(401, UNAUTHORIZED)
  @ProblemResponse(404, 'Unknown refund id, or its case is unknown')
  @ProblemResponse(409, 'A concurrent write still won after retries')
  @ProblemResponse(422, 'A business rule refused the event (`rule`)')
  async payments(@Body() body: PaymentEventDto, @Req() request: FastifyRequest): Promise<CallbackAnswer> {
    const target = await this.gateway.read('case', () => this.targets.refund(body.refundId));
    const { refundId, at } = body;
    const command: CaseCommand =
      body.status === 'succeeded'
        ? { type: 'refund-settled', actor: PAYMENTS, data: { refundId, at, ...(body.providerRef !== undefined ? { providerRef: body.providerRef } : {}) } }
        : {
            type: 'refund-failed',
            actor: PAYMENTS,
            // The attempt is counted here, the retry policy is not: `final` is the payment workers' call.
            // `at` tells a repeated report of one attempt from the next attempt.
            data: { refundId, attempt: target.attempts + 1, final: false, at, ...(body.error !== undefined ? { error: body.error } : {}) },
          };
    return answer(await this.gateway.executeCase(target.caseId, command, origin(request, PAYMENTS)));
  }
}

function origin(request: FastifyRequest, actor: Actor): CommandOrigin {
  const key = request.headers['idempotency-key'];
  return {
    actor: { role: actor.role, id: actor.id },
    channel: 'api',
    correlationId: correlationIdOf(request.raw),
    ...(typeof key === 'string' && IDEMPOTENCY_KEY.test(key) ? { idempotencyKey: key } : {}),
  };
}

function answer(result: CaseCommandResult): CallbackAnswer {
  return { accepted: true, recorded: result.appended, position: result.position };
}
