import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  CASE_ACTIONS,
  CASE_KINDS,
  CASE_REASONS,
  CASE_STATUSES,
  CLOSED_REASONS,
  DEADLINE_NAMES,
  DEPARTMENTS,
  REFUND_PURPOSES,
  REFUND_STATUSES,
  RESPONSIBLE_PARTIES,
} from '@aftersales/domain';

// Response shapes for the OpenAPI document only; handlers return the views
// the application renders (CaseView), which these describe field by field.

export class CaseLineResponse {
  @ApiProperty() lineId!: string;
  @ApiProperty({ type: 'integer' }) quantity!: number;
  @ApiProperty() productId!: string;
  @ApiProperty() category!: string;
  @ApiProperty() supplierId!: string;
}

export class PickupResponse {
  @ApiProperty() carrier!: string;
  @ApiProperty() trackingNumber!: string;
  @ApiProperty({ format: 'date-time' }) windowStart!: string;
  @ApiProperty({ format: 'date-time' }) windowEnd!: string;
}

export class ParcelResponse {
  @ApiProperty() carrier!: string;
  @ApiProperty() trackingNumber!: string;
  @ApiPropertyOptional({ format: 'date-time' }) shippedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) collectedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) deliveredAt?: string;
}

export class CaseRefundResponse {
  @ApiProperty() refundId!: string;
  @ApiProperty({ type: 'integer', description: 'Minor units' }) amount!: number;
  @ApiProperty({ enum: REFUND_PURPOSES }) purpose!: string;
  @ApiProperty({ description: 'Paid before the merchant had the goods back (极速退款)' }) express!: boolean;
  @ApiProperty({ enum: REFUND_STATUSES }) status!: string;
}

/** GET /v1/cases/:caseId: the case as its caller sees it. */
export class CaseResponse {
  @ApiProperty() caseId!: string;
  @ApiProperty() orderId!: string;
  @ApiProperty() buyerId!: string;
  @ApiProperty() merchantId!: string;
  @ApiProperty() businessLine!: string;
  @ApiProperty({ enum: CASE_KINDS }) kind!: string;
  @ApiProperty({ enum: CASE_REASONS }) reason!: string;
  @ApiProperty({ enum: RESPONSIBLE_PARTIES }) responsible!: string;
  @ApiProperty({ enum: DEPARTMENTS }) department!: string;
  @ApiProperty({ enum: CASE_STATUSES }) status!: string;
  @ApiPropertyOptional({ enum: CLOSED_REASONS }) closedReason?: string;
  @ApiProperty({ description: 'The buyer label for buyers (docs/reference/case-rules.md, Statuses), the status name for everyone else' }) statusLabel!: string;
  @ApiProperty({ type: 'integer', description: 'Minor units' }) requestedAmount!: number;
  @ApiPropertyOptional({ type: 'integer', description: 'Approved, accepted or ruled amount' }) agreedAmount?: number;
  @ApiProperty({ type: 'integer', description: 'Sum settled to the buyer' }) refunded!: number;
  @ApiProperty({ example: 'CNY' }) currency!: string;
  @ApiProperty({ type: [CaseLineResponse] }) lines!: CaseLineResponse[];
  @ApiProperty({
    type: 'object',
    description: `Running deadlines by name (${DEADLINE_NAMES.join(', ')}): due time`,
    additionalProperties: { type: 'string', format: 'date-time' },
  })
  deadlines!: Record<string, string>;
  @ApiPropertyOptional({ type: PickupResponse }) pickup?: PickupResponse;
  @ApiPropertyOptional({ type: ParcelResponse }) returnParcel?: ParcelResponse;
  @ApiPropertyOptional({ type: ParcelResponse }) replacementParcel?: ParcelResponse;
  @ApiProperty({ type: [CaseRefundResponse] }) refunds!: CaseRefundResponse[];
  @ApiPropertyOptional({ description: 'The agent holding the case' }) assignee?: string;
  @ApiProperty({ type: 'integer', minimum: 0 }) priority!: number;
  @ApiProperty({ type: 'integer', description: 'The case stream\'s revision (also the ETag)' }) revision!: number;
  @ApiProperty({ enum: CASE_ACTIONS, isArray: true, description: 'What the caller may do now' }) allowedActions!: string[];
  @ApiProperty({ format: 'date-time' }) requestedAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

/** A case command's answer: the case as the caller now sees it, and where the write landed. */
export class CaseCommandResponse extends CaseResponse {
  @ApiProperty({ type: 'integer', description: 'Global position of the last event appended (of the case\'s last event when nothing was)' })
  position!: number;
}

export class CaseEventResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'ReturnRequested' }) type!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The event\'s payload (docs/reference/events.md)' }) data!: Record<string, unknown>;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'actor { role, id }, channel, correlationId, causationId, idempotencyKey?, schemaVersion, occurredAt',
  })
  metadata!: Record<string, unknown>;
  @ApiProperty({ type: 'integer', description: 'Position in the case stream, from 0' }) revision!: number;
  @ApiProperty({ type: 'integer', description: 'Global position' }) position!: number;
  @ApiProperty({ format: 'date-time' }) recordedAt!: string;
}

export class CaseEventsResponse {
  @ApiProperty({ type: [CaseEventResponse] }) items!: CaseEventResponse[];
  @ApiPropertyOptional({ description: 'Pass as cursor for the next page; absent on the last page' }) nextCursor?: string;
}
