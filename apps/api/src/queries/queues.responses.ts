import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CASE_KINDS, CASE_REASONS, CASE_STATUSES } from '@aftersales/domain';
import { DeadlineRef } from './case-queries.responses';

// Response shapes for the OpenAPI document; handlers return what AgentQueueQuery renders.

export class QueueItemResponse {
  @ApiProperty() caseId!: string;
  @ApiProperty() orderId!: string;
  @ApiProperty() businessLine!: string;
  @ApiProperty({ enum: CASE_KINDS }) kind!: string;
  @ApiProperty({ enum: CASE_REASONS }) reason!: string;
  @ApiProperty({ enum: CASE_STATUSES }) status!: string;
  @ApiProperty({ type: 'integer' }) priority!: number;
  @ApiPropertyOptional({ description: 'The holding agent' }) assignee?: string;
  @ApiProperty({ format: 'date-time' }) requestedAt!: string;
  @ApiProperty({ format: 'date-time', description: 'When the current status began' }) waitingSince!: string;
  @ApiPropertyOptional({ type: DeadlineRef, description: 'The running deadline that falls first' }) nextDeadline?: DeadlineRef;
}

export class QueueResponse {
  @ApiProperty({ type: [QueueItemResponse] }) items!: QueueItemResponse[];
  @ApiPropertyOptional({ description: 'Pass as `cursor` for the next page; absent on the last page' }) nextCursor?: string;
}
