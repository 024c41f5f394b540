import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CASE_KINDS, CASE_REASONS } from '@aftersales/domain';
import { PolicyWireResponse } from '../policies/policy.dto';
import { OrderLineDto } from './order.dto';

// Response shapes for the OpenAPI document only (the handlers return the application's views).

export class RefundLedgerResponse {
  @ApiProperty({ type: 'integer', description: 'The order\'s paidAmount (lines and shipping)' }) paid!: number;
  @ApiProperty({ type: 'integer', description: 'Issued, not yet settled' }) reserved!: number;
  @ApiProperty({ type: 'integer', description: 'Settled' }) refunded!: number;
  @ApiProperty({ type: 'integer', description: 'paid − reserved − refunded' }) refundable!: number;
}

export class OrderResponse {
  @ApiProperty() orderId!: string;
  @ApiProperty() buyerId!: string;
  @ApiProperty() merchantId!: string;
  @ApiProperty() currency!: string;
  @ApiProperty({ type: 'integer' }) paidAmount!: number;
  @ApiProperty({ type: 'integer' }) shippingFee!: number;
  @ApiProperty() paymentMethod!: string;
  @ApiProperty() paymentAccount!: string;
  @ApiProperty({ type: 'integer' }) buyerTrustScore!: number;
  @ApiProperty() returnShippingInsured!: boolean;
  @ApiProperty() businessLine!: string;
  @ApiProperty({ format: 'date-time' }) placedAt!: string;
  @ApiProperty({ type: [OrderLineDto] }) lines!: OrderLineDto[];
  @ApiProperty({ enum: ['placed', 'shipped', 'delivered'] }) status!: string;
  @ApiPropertyOptional({ format: 'date-time' }) shippedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) deliveredAt?: string;
  @ApiProperty({ type: 'integer', description: 'The order stream\'s revision' }) revision!: number;
  @ApiProperty({ type: RefundLedgerResponse }) refundLedger!: RefundLedgerResponse;
}

export class OrderCommandResponse extends OrderResponse {
  @ApiProperty({ type: 'integer', description: 'Global position of the last event appended (of the order\'s last event when nothing was)' })
  position!: number;
}

export class LineEligibilityResponse {
  @ApiProperty() lineId!: string;
  @ApiProperty({ enum: CASE_KINDS, isArray: true, description: 'Kinds a request on this line is accepted with now, for at least one reason' }) kinds!: string[];
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string', enum: [...CASE_REASONS] } },
    description: 'For each kind in `kinds`, exactly the reasons a request with that kind is accepted with now (refund_only on a delivered order: not_received)',
    example: { refund_only: ['not_received'], exchange: ['changed_mind', 'quality_defect'] },
  })
  reasons!: Record<string, string[]>;
  @ApiProperty({ type: 'integer', description: 'Minor units still refundable on the line' }) refundable!: number;
  @ApiPropertyOptional({ format: 'date-time', description: 'End of the no-reason return window (七天无理由)' }) noReasonUntil?: string;
  @ApiPropertyOptional({ description: 'The active case holding the line' }) activeCaseId?: string;
}

export class EligibilityResponse {
  @ApiProperty() orderId!: string;
  @ApiProperty() currency!: string;
  @ApiProperty({ type: [LineEligibilityResponse] }) lines!: LineEligibilityResponse[];
  @ApiProperty({ type: PolicyWireResponse, description: 'The policy in force for the order\'s merchant' }) policy!: PolicyWireResponse;
}
