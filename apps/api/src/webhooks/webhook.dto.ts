import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SUBSCRIBABLE_EVENT_TYPES } from '@aftersales/scheduling';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { IdField, ValidatedField } from '../cases/fields';

export const WEBHOOK_URL_MAX = 2048;
export const WEBHOOK_SECRET_MIN = 16;
export const WEBHOOK_SECRET_MAX = 256;
export const DEAD_LETTERS_PAGE_MAX = 1000;
export const DEAD_LETTERS_PAGE_DEFAULT = 100;
const LIMIT_MESSAGE = `must be an integer from 1 to ${DEAD_LETTERS_PAGE_MAX}`;

const isWebhookUrl = (value: unknown): string | undefined => {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > WEBHOOK_URL_MAX) return `must be at most ${WEBHOOK_URL_MAX} characters`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use https';
  // The URL is shown back to every admin; a password in it would be too.
  if (url.username || url.password) return 'must not carry credentials (the signature authenticates the sender)';
  if (url.hash) return 'must not have a fragment';
  return undefined;
};

const isEventTypes = (value: unknown): string | undefined => {
  if (!Array.isArray(value)) return 'must be an array of case event types';
  if (value.length === 0) return 'must name at least one event type';
  if (value.length > SUBSCRIBABLE_EVENT_TYPES.length) return `must name at most ${SUBSCRIBABLE_EVENT_TYPES.length} event types`;
  const unknown = value.filter((type) => typeof type !== 'string' || !SUBSCRIBABLE_EVENT_TYPES.includes(type));
  if (unknown.length > 0) return `holds types that are not case events: ${unknown.slice(0, 5).map((t) => JSON.stringify(t)).join(', ')}`;
  return new Set(value).size === value.length ? undefined : 'must name each event type once';
};

const isSecret = (value: unknown): string | undefined => {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length < WEBHOOK_SECRET_MIN) return `must be at least ${WEBHOOK_SECRET_MIN} characters`;
  if (value.length > WEBHOOK_SECRET_MAX) return `must be at most ${WEBHOOK_SECRET_MAX} characters`;
  return /^[\x21-\x7e]+$/.test(value) ? undefined : 'must be printable ASCII without spaces';
};

/** The body of POST /v1/webhooks. */
export class CreateWebhookDto {
  @ValidatedField(
    'isWebhookUrl',
    { description: 'Where deliveries are POSTed: https; plain http only to localhost or 127.0.0.1 outside production', example: 'https://hooks.example.com/aftersales' },
    { type: String, format: 'uri', maxLength: WEBHOOK_URL_MAX },
    isWebhookUrl,
  )
  url!: string;

  @ValidatedField(
    'isEventTypes',
    { description: 'Case event types to receive (API.md "Events", case stream)', example: ['ReturnRequested', 'RefundSettled'] },
    { type: [String], enum: [...SUBSCRIBABLE_EVENT_TYPES], minItems: 1, uniqueItems: true },
    isEventTypes,
  )
  events!: string[];

  @ValidatedField(
    'isSecret',
    { description: 'Shared secret of the X-Signature HMAC; never shown again', example: 'a-long-random-shared-secret' },
    { type: String, minLength: WEBHOOK_SECRET_MIN, maxLength: WEBHOOK_SECRET_MAX, writeOnly: true },
    isSecret,
  )
  secret!: string;
}

/** `GET /v1/webhooks/dead-letters`. */
export class DeadLettersQueryDto {
  @IdField({ optional: true, description: 'Only this webhook\'s dead letters' })
  webhookId?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: DEAD_LETTERS_PAGE_MAX, default: DEAD_LETTERS_PAGE_DEFAULT, description: 'At most this many, oldest first' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: LIMIT_MESSAGE })
  @Min(1, { message: LIMIT_MESSAGE })
  @Max(DEAD_LETTERS_PAGE_MAX, { message: LIMIT_MESSAGE })
  limit?: number;
}

export class WebhookResponse {
  @ApiProperty({ example: '01890a5d-ac96-774b-bcce-b302099a8057' }) webhookId!: string;
  @ApiProperty({ example: 'https://hooks.example.com/aftersales' }) url!: string;
  @ApiProperty({ type: [String], example: ['ReturnRequested', 'RefundSettled'] }) events!: string[];
  @ApiProperty({ example: '2025-03-01T08:00:00.000Z' }) createdAt!: string;
}

export class WebhookListResponse {
  @ApiProperty({ type: [WebhookResponse] }) items!: WebhookResponse[];
}

export class DeadLetterResponse {
  @ApiProperty({ description: 'Names the webhook and the event: `<webhookId>-<position>`' }) deliveryId!: string;
  @ApiProperty() webhookId!: string;
  @ApiProperty() caseId!: string;
  @ApiProperty({ description: 'Sent as X-Event-Id and Idempotency-Key' }) eventId!: string;
  @ApiProperty({ example: 'RefundSettled' }) type!: string;
  @ApiProperty({ type: 'integer' }) position!: number;
  @ApiProperty({ type: 'integer', description: 'Sends made before it was given up' }) attempts!: number;
  @ApiPropertyOptional({ description: 'What the last send met (the receiver\'s status and the start of its answer, or why none came)' }) lastError?: string;
  @ApiProperty({ description: 'When it was given up' }) failedAt!: string;
}

export class DeadLetterListResponse {
  @ApiProperty({ type: [DeadLetterResponse] }) items!: DeadLetterResponse[];
}

export class ReplayResponse {
  @ApiProperty() deliveryId!: string;
  @ApiProperty() webhookId!: string;
  @ApiProperty({ type: 'integer', description: 'Global position of the WebhookDeliveryReplayed recorded' }) position!: number;
}
