import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ABUSE_SUBJECTS, ANALYTICS_GROUPS } from '@aftersales/read-models';

// Response shapes for the OpenAPI document; handlers return what AnalyticsQuery and AbuseQuery render.

export class AnalyticsSummaryItemResponse {
  @ApiProperty({ description: 'The group\'s code (`day`: YYYY-MM-DD UTC; `agent`: the agent id, or `none` for cases no agent acted on)' }) key!: string;
  @ApiProperty({ type: 'integer' }) cases!: number;
  @ApiProperty({ type: 'integer', description: 'Minor units settled to buyers, compensation payouts included' }) refunded!: number;
  @ApiProperty({ type: 'integer', description: 'Minor units of compensation settled' }) compensated!: number;
  @ApiProperty({ description: 'Share (0-1) approved by auto-review or the merchant\'s silence' }) autoApprovedRate!: number;
  @ApiProperty({ description: 'Share (0-1) where a deadline decided a step instead of a person' }) deadlineDecidedRate!: number;
  @ApiProperty({ type: 'integer' }) expressRefunds!: number;
  @ApiProperty({ type: 'integer', description: 'Express refunds later disputed (inspection failed or escalated)' }) expressDisputed!: number;
  @ApiProperty({ type: 'integer', nullable: true, description: 'Seconds, request to first decision; null when none' }) firstResponseP50!: number | null;
  @ApiProperty({ type: 'integer', nullable: true }) firstResponseP90!: number | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'Seconds, request to completed or closed; null when none ended' }) resolutionP50!: number | null;
  @ApiProperty({ type: 'integer', nullable: true }) resolutionP90!: number | null;
  @ApiPropertyOptional({ description: 'Average score (1-5) of the rated cases' }) ratingAvg?: number;
  @ApiPropertyOptional({ type: 'integer', description: 'Net promoter score (-100 to 100) of the cases rated with an NPS' }) nps?: number;
}

export class AnalyticsSummaryResponse {
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ format: 'date-time' }) to!: string;
  @ApiProperty({ enum: ANALYTICS_GROUPS }) groupBy!: string;
  @ApiProperty({ type: [AnalyticsSummaryItemResponse] }) items!: AnalyticsSummaryItemResponse[];
}

export class AbuseItemResponse {
  @ApiProperty({ enum: ABUSE_SUBJECTS }) subject!: string;
  @ApiProperty() id!: string;
  @ApiProperty({ type: [String], description: 'Each rule it breaks, with the figures and the threshold' }) reasons!: string[];
  @ApiProperty({ type: 'integer' }) cases!: number;
  @ApiProperty({ description: 'Money refunded (compensation excluded) over money paid on its orders' }) refundRatio!: number;
  @ApiPropertyOptional({ type: 'integer', description: 'Payment accounts: distinct buyers paying from it' }) buyers?: number;
}

export class AbuseResponse {
  @ApiProperty({ type: [AbuseItemResponse] }) items!: AbuseItemResponse[];
  @ApiPropertyOptional({ description: 'Pass as `cursor` for the next page; absent on the last page' }) nextCursor?: string;
}
