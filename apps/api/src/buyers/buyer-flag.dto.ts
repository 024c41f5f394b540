import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TextField } from '../cases/fields';

/** The body of PUT /v1/buyers/:buyerId/flag. */
export class FlagBuyerDto {
  @TextField({ description: 'Why the platform distrusts this buyer (kept in BuyerFlagged)', example: 'eleven refund_only cases in a week on one payment account' })
  reason!: string;
}

/** The optional body of DELETE /v1/buyers/:buyerId/flag. */
export class UnflagBuyerDto {
  @TextField({ optional: true, description: 'Why the flag is cleared (kept in BuyerUnflagged)', example: 'reviewed: the refunds were the merchant\'s fault' })
  reason?: string;
}

export class BuyerFlagResponse {
  @ApiProperty({ example: 'u-123' }) buyerId!: string;
  @ApiProperty({ description: 'A flagged buyer gets no express refund and no auto-review; their cases go to the agent pool' }) flagged!: boolean;
  @ApiPropertyOptional({ description: 'Why the flag was last set or cleared (clearing may give none)', example: 'eleven refund_only cases in a week' })
  reason?: string;
  @ApiPropertyOptional({ description: 'When the flag was last set or cleared; absent for a buyer never flagged', example: '2025-03-01T08:00:00.000Z' })
  since?: string;
}

export class BuyerFlagChangeResponse extends BuyerFlagResponse {
  @ApiPropertyOptional({ type: 'integer', description: 'Global position of the event recorded; absent when the buyer already was in that state' })
  position?: number;
}
