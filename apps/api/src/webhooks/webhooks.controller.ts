import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { APP_CONFIG, Clock } from '@aftersales/application';
import type { AppConfig } from '@aftersales/config';
import type { Delivery } from '@aftersales/scheduling';
import { Roles } from '../auth/decorators';
import { Acting, type ActingCaller } from '../cases/acting';
import { IdParamPipe } from '../cases/fields';
import { IdPathParam, ProblemResponse } from '../cases/problem-docs';
import { problems } from '../problem/problem';
import {
  CreateWebhookDto,
  DEAD_LETTERS_PAGE_DEFAULT,
  DeadLetterListResponse,
  DeadLettersQueryDto,
  ReplayResponse,
  WebhookListResponse,
  WebhookResponse,
  type DeadLetterResponse,
} from './webhook.dto';
import { WebhookSubscriptions } from './webhook-subscriptions';

/** Hosts a plain-http webhook may point at outside production (a receiver on the developer's machine). */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const toDeadLetter = (d: Delivery): DeadLetterResponse => ({
  deliveryId: d.deliveryId,
  webhookId: d.webhookId,
  caseId: d.caseId,
  eventId: d.eventId,
  type: d.type,
  position: d.position,
  attempts: d.attempts,
  ...(d.lastError !== undefined ? { lastError: d.lastError } : {}),
  failedAt: new Date(d.finishedAt ?? d.nextAttemptAt).toISOString(),
});

/**
 * Outbound webhooks (API.md "Outbound"), admin only: subscriptions to case
 * events, signed like the integration callbacks, delivered in order per
 * case with retries; dead letters to look at and replay. The secret goes
 * in once and is never answered back.
 */
@ApiTags('webhooks')
@Controller('v1/webhooks')
@Roles('admin')
export class WebhooksController {
  constructor(
    private readonly subscriptions: WebhookSubscriptions,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Subscribe a URL to case events (WebhookSubscribed); it gets every matching event recorded from now on' })
  @ApiCreatedResponse({ type: WebhookResponse })
  async create(@Body() body: CreateWebhookDto, @Acting() acting: ActingCaller): Promise<WebhookResponse> {
    this.checkScheme(body.url);
    return this.subscriptions.subscribe({ url: body.url, events: body.events, secret: body.secret }, acting.origin, this.clock.now());
  }

  @Get()
  @ApiOperation({ summary: 'Active subscriptions, oldest first (never their secrets)' })
  @ApiOkResponse({ type: WebhookListResponse })
  @ProblemResponse(503, 'The webhook worker has not taken in the latest writes within 5 s; retry after Retry-After')
  async list(): Promise<WebhookListResponse> {
    return { items: await this.subscriptions.list() };
  }

  @Get('dead-letters')
  @ApiOperation({ summary: 'Deliveries given up (dead letters), oldest first; each holds its (webhook, case) chain until replayed' })
  @ApiOkResponse({ type: DeadLetterListResponse })
  deadLetters(@Query() query: DeadLettersQueryDto): DeadLetterListResponse {
    const items = this.subscriptions.deadLetters({ webhookId: query.webhookId, limit: query.limit ?? DEAD_LETTERS_PAGE_DEFAULT });
    return { items: items.map(toDeadLetter) };
  }

  @Post('dead-letters/:deliveryId/replay')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a dead letter again, from its first attempt (WebhookDeliveryReplayed); its chain resumes once it is delivered' })
  @IdPathParam('deliveryId', 'A dead letter\'s deliveryId')
  @ApiAcceptedResponse({ type: ReplayResponse })
  @ProblemResponse(404, 'No such delivery (or its webhook was cancelled)')
  @ProblemResponse(409, 'The delivery is not a dead letter (pending again, or delivered)')
  async replay(@Param('deliveryId', IdParamPipe) deliveryId: string, @Acting() acting: ActingCaller): Promise<ReplayResponse> {
    const { delivery, position } = await this.subscriptions.replay(deliveryId, acting.origin, this.clock.now());
    return { deliveryId, webhookId: delivery.webhookId, position };
  }

  @Delete(':webhookId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Cancel a subscription (WebhookCancelled); what it still owed, dead letters included, is dropped' })
  @IdPathParam('webhookId', 'The webhook\'s id')
  @ApiNoContentResponse({ description: 'Cancelled' })
  @ProblemResponse(404, 'No active webhook with this id')
  @ProblemResponse(409, 'Cancelled at the same time by another request')
  async cancel(@Param('webhookId', IdParamPipe) webhookId: string, @Acting() acting: ActingCaller): Promise<void> {
    await this.subscriptions.cancel(webhookId, acting.origin, this.clock.now());
  }

  /** https everywhere; plain http only to this machine, and never in production. */
  private checkScheme(raw: string): void {
    const url = new URL(raw);
    if (url.protocol === 'https:') return;
    if (!this.config.production && LOOPBACK_HOSTS.has(url.hostname)) return;
    throw problems.validation([
      { field: 'url', message: this.config.production ? 'url must use https' : 'url must use https (plain http only to localhost or 127.0.0.1, outside production)' },
    ]);
  }
}
