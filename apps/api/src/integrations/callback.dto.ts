import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { REFUND_ID_PATTERN } from '@aftersales/application';
import { EnumField, IdField, InstantField, TextField, ValidatedField } from '../cases/fields';

export const LOGISTICS_EVENTS = ['collected', 'in_transit', 'delivered'] as const;
export type LogisticsEventName = (typeof LOGISTICS_EVENTS)[number];
export const PAYMENT_STATUSES = ['succeeded', 'failed'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** A carrier's scan of a parcel the platform knows: a return, a pickup or a replacement. */
export class LogisticsEventDto {
  @IdField({ description: 'The parcel\'s tracking number (a return, a booked pickup, or a replacement)', example: 'SF1234567890' })
  trackingNumber!: string;

  @EnumField(LOGISTICS_EVENTS, { description: '`in_transit` is acknowledged and records nothing', example: 'collected' })
  event!: LogisticsEventName;

  @InstantField({ description: 'When the carrier scanned the parcel', example: '2025-03-01T08:00:00Z' })
  at!: string;
}

/** The payment centre's outcome for one refund. */
export class PaymentEventDto {
  @ValidatedField(
    'isRefundId',
    { description: 'The refund id the platform issued: `<caseId>-r<n>`', example: 'c-123-r1' },
    { type: String, pattern: REFUND_ID_PATTERN.source },
    (value) => (typeof value === 'string' && REFUND_ID_PATTERN.test(value) ? undefined : 'must be a refund id: <caseId>-r<n>'),
  )
  refundId!: string;

  @EnumField(PAYMENT_STATUSES, { description: '`failed`: one failed attempt; the refund stays outstanding', example: 'succeeded' })
  status!: PaymentStatus;

  @TextField({ optional: true, description: 'The payment centre\'s reference for a settled refund', example: 'pay-778812' })
  providerRef?: string;

  @TextField({ optional: true, description: 'Why the attempt failed', example: 'account closed' })
  error?: string;

  @InstantField({ description: 'When the payment centre settled or gave up the attempt', example: '2025-03-01T08:00:00Z' })
  at!: string;
}

export class CallbackAnswer {
  @ApiProperty({ enum: [true], description: 'Always true: the callback was authenticated and understood' })
  accepted!: true;

  @ApiProperty({ description: 'False when the event was already recorded, or records nothing (`in_transit`)' })
  recorded!: boolean;

  @ApiPropertyOptional({ description: 'Global position of the case\'s last event after the callback; pass as `minPosition` to reads' })
  position?: number;
}
