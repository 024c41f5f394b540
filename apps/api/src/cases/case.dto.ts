import {
  CASE_KINDS,
  CASE_REASONS,
  CHANNELS,
  COMPENSATION_FORMS,
  DISPOSITIONS,
  INSPECTION_RESULTS,
  RULINGS,
  isMoneyKind,
  type CaseKind,
  type Channel,
  type CompensationForm,
  type Disposition,
  type InspectionResult,
  type Reason,
  type Ruling,
} from '@aftersales/domain';
import {
  AbsentForKinds,
  BooleanField,
  EnumField,
  EvidenceField,
  IdField,
  IntegerField,
  LinesField,
  TextField,
} from './fields';

// One body per command of API.md's table. Amounts are minor units; the
// domain checks them against the case (refundable, cap, authority).

const MAX_AMOUNT = Number.MAX_SAFE_INTEGER;
/** Kinds that ask for no money: exchange, repair, reship. */
export const KINDS_WITHOUT_MONEY = CASE_KINDS.filter((kind) => !isMoneyKind(kind));

export class RequestedLineDto {
  @IdField({ description: 'A line of the order', example: 'L1' })
  lineId!: string;

  @IntegerField(1, MAX_AMOUNT, { description: 'Units asked for', example: 1 })
  quantity!: number;
}

export class RequestCaseDto {
  @IdField({ description: 'The order the case is about', example: 'o-1001' })
  orderId!: string;

  @EnumField(CASE_KINDS, { description: 'What the buyer wants (docs/reference/case-rules.md)', example: 'return_and_refund' })
  kind!: CaseKind;

  @EnumField(CASE_REASONS, { description: 'Why (docs/reference/case-rules.md, Reasons)', example: 'quality_defect' })
  reason!: Reason;

  @TextField({ optional: true, description: 'The buyer\'s own words' })
  description?: string;

  @LinesField(() => RequestedLineDto, 'lineId', { description: 'The order lines asked about, each once' })
  lines!: RequestedLineDto[];

  @IntegerField(1, MAX_AMOUNT, {
    optional: true,
    description:
      'Minor units. Required for partial_refund and compensation; defaults to the lines\' refundable for refund_only and return_and_refund; not allowed for exchange, repair and reship (400)',
    example: 4999,
  })
  @AbsentForKinds(KINDS_WITHOUT_MONEY, 'the kind asks for no money')
  requestedAmount?: number;

  @EvidenceField({ optional: true, description: 'Up to 9 http(s) URLs (photos, videos)' })
  evidence?: string[];

  @EnumField(CHANNELS, { optional: true, description: 'Where the request came in; default app for buyers, agent for agents' })
  channel?: Channel;

  @BooleanField({ optional: true, description: 'Ask for a door pickup of the return (default true)' })
  pickup?: boolean;
}

export class ApproveDto {
  @TextField({ optional: true })
  note?: string;
}

export class RejectDto {
  @TextField({ description: 'Why the request is declined, as the buyer will read it' })
  reason!: string;

  @TextField({ optional: true })
  note?: string;
}

export class CounterOfferDto {
  @IntegerField(1, MAX_AMOUNT, { description: 'Minor units, below the requested amount', example: 2000 })
  amount!: number;

  @TextField({ optional: true })
  note?: string;
}

export class AmendDto {
  @TextField({ optional: true })
  description?: string;

  @IntegerField(1, MAX_AMOUNT, { optional: true, description: 'Minor units; money kinds only' })
  requestedAmount?: number;

  @EvidenceField({ optional: true, description: 'Replaces the evidence: up to 9 http(s) URLs' })
  evidence?: string[];
}

export class ShipReturnDto {
  @IdField({ description: 'Carrier code', example: 'sf-express' })
  carrier!: string;

  @IdField({ description: 'The parcel\'s tracking number', example: 'SF1234567890' })
  trackingNumber!: string;
}

export class ShipReplacementDto extends ShipReturnDto {}

export class ConfirmReceiptDto {
  @EnumField(INSPECTION_RESULTS, { description: 'What the inspection of the returned goods found' })
  inspection!: InspectionResult;

  @EnumField(DISPOSITIONS, { optional: true, description: 'What becomes of the goods' })
  disposition?: Disposition;

  @TextField({ optional: true })
  note?: string;

  @EvidenceField({
    requiredWhen: { condition: (body) => body.inspection === 'failed', explanation: 'when the inspection failed' },
    description: 'Up to 9 http(s) URLs; required when the inspection failed',
  })
  evidence?: string[];
}

export class DeclareUnrepairableDto {
  @TextField({ optional: true })
  note?: string;
}

export class EscalateDto {
  @TextField({ description: 'Why the buyer asks the platform to step in' })
  reason!: string;
}

export class RuleDto {
  @EnumField(RULINGS, { description: 'For whom the arbitrator rules' })
  ruling!: Ruling;

  @IntegerField(1, MAX_AMOUNT, {
    optional: true,
    description: 'Minor units, at most the case\'s refundable; for the buyer, omitted only on exchange, repair and reship',
  })
  refundAmount?: number;

  @BooleanField({ optional: true, description: 'The goods come back before the refund (default false)' })
  returnRequired?: boolean;

  @TextField({ description: 'The ruling\'s reasons' })
  note!: string;
}

export class AssignDto {
  @IdField({ description: 'The agent who will hold the case', example: 'agent-7' })
  agentId!: string;
}

export class TransferDto extends AssignDto {}

export class NoteDto {
  @TextField({ description: 'Staff-only note' })
  text!: string;
}

export class CompensateDto {
  @IntegerField(1, MAX_AMOUNT, { description: 'Minor units; within the agent\'s authorityLimit and the case\'s compensationCap', example: 500 })
  amount!: number;

  @EnumField(COMPENSATION_FORMS, { description: 'How the goodwill is paid' })
  form!: CompensationForm;

  @TextField({ optional: true })
  note?: string;
}

export class RetryRefundDto {
  @IdField({ description: 'The refund past its last attempt to send again (its id is kept: the payment centre pays it at most once)', example: 'c-9f2a-r4' })
  refundId!: string;

  @TextField({ optional: true, description: 'Why it is sent again (a new account, the bank fixed its side)' })
  note?: string;
}

export class RateDto {
  @IntegerField(1, 5, { description: 'Satisfaction, 1 to 5', example: 5 })
  score!: number;

  @IntegerField(0, 10, { optional: true, description: 'Net promoter score, 0 to 10' })
  nps?: number;

  @TextField({ optional: true })
  comment?: string;
}
