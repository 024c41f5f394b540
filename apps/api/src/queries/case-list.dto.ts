import { CASE_KINDS, CASE_REASONS, CASE_STATUSES } from '@aftersales/domain';
import { ListPageQuery } from '../cases/list-page';
import { EnumField, IdField, InstantField } from '../cases/fields';
import { MinPositionField } from './query-fields';

/** `GET /v1/cases`: API.md's filters, a page, and `minPosition`. Any other parameter is refused. */
export class CaseListQueryDto extends ListPageQuery {
  @EnumField(CASE_STATUSES, { optional: true, description: 'Only cases in this status' })
  status?: string;

  @IdField({ optional: true, description: 'Only this merchant\'s cases (within what the caller sees)' })
  merchantId?: string;

  @IdField({ optional: true, description: 'Only this buyer\'s cases (within what the caller sees)' })
  buyerId?: string;

  @EnumField(CASE_KINDS, { optional: true, description: 'Only cases of this kind' })
  kind?: string;

  @EnumField(CASE_REASONS, { optional: true, description: 'Only cases with this reason' })
  reason?: string;

  @InstantField({ optional: true, description: 'requestedAt at or after this time' })
  from?: string;

  @InstantField({ optional: true, description: 'requestedAt before this time (exclusive)' })
  to?: string;

  @InstantField({ optional: true, description: 'Only cases whose next running deadline falls before this time' })
  deadlineBefore?: string;

  @MinPositionField()
  minPosition?: number;
}
