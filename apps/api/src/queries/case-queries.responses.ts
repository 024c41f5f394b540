import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CASE_KINDS, CASE_REASONS, CASE_STATUSES } from '@aftersales/domain';

// Response shapes for the OpenAPI document; handlers return what the read-model queries render.

export class DeadlineRef {
  @ApiProperty({ description: 'DOMAIN.md deadline name', example: 'merchantResponse' }) name!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
}

export class CaseListItemResponse {
  @ApiProperty() caseId!: string;
  @ApiProperty() orderId!: string;
  @ApiProperty() buyerId!: string;
  @ApiProperty() merchantId!: string;
  @ApiProperty({ enum: CASE_KINDS }) kind!: string;
  @ApiProperty({ enum: CASE_REASONS }) reason!: string;
  @ApiProperty({ enum: CASE_STATUSES }) status!: string;
  @ApiProperty({ description: 'The buyer label for buyers, the status name for everyone else' }) statusLabel!: string;
  @ApiProperty({ type: 'integer', description: 'Minor units' }) requestedAmount!: number;
  @ApiProperty({ type: 'integer', description: 'Minor units settled' }) refunded!: number;
  @ApiProperty({ example: 'CNY' }) currency!: string;
  @ApiProperty({ type: 'integer' }) priority!: number;
  @ApiPropertyOptional({ description: 'The holding agent' }) assignee?: string;
  @ApiProperty({ format: 'date-time' }) requestedAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiPropertyOptional({ type: DeadlineRef, description: 'The running deadline that falls first' }) nextDeadline?: DeadlineRef;
}

export class CaseListResponse {
  @ApiProperty({ type: [CaseListItemResponse] }) items!: CaseListItemResponse[];
  @ApiPropertyOptional({ description: 'Pass as `cursor` for the next page; absent on the last page' }) nextCursor?: string;
}

export class TimelineActor {
  @ApiProperty() role!: string;
  @ApiProperty() id!: string;
}

export class TimelineNodeResponse {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty() label!: string;
  @ApiPropertyOptional({ description: 'Event type (merchants and staff)' }) type?: string;
  @ApiPropertyOptional({ type: TimelineActor, description: 'Who did it (merchants and staff)' }) actor?: TimelineActor;
  @ApiPropertyOptional({ description: 'Channel (merchants and staff)' }) channel?: string;
  @ApiPropertyOptional({ description: 'The step\'s note, if any (merchants and staff)' }) note?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'The event\'s data, evidence included (merchants and staff)' })
  data?: Record<string, unknown>;
}

export class TimelineNext {
  @ApiProperty({ description: 'Whom or what the case waits for' }) waitingFor!: string;
  @ApiPropertyOptional({ type: DeadlineRef }) deadline?: DeadlineRef;
}

export class CaseTimelineResponse {
  @ApiProperty() caseId!: string;
  @ApiProperty({ enum: CASE_STATUSES }) status!: string;
  @ApiProperty() statusLabel!: string;
  @ApiPropertyOptional({ type: TimelineNext, description: 'Absent once the case has ended' }) next?: TimelineNext;
  @ApiProperty({ type: [TimelineNodeResponse] }) items!: TimelineNodeResponse[];
}
