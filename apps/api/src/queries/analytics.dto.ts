import { ANALYTICS_GROUPS } from '@aftersales/read-models';
import { ListPageQuery } from '../cases/list-page';
import { EnumField, InstantField } from '../cases/fields';
import { MinPositionField } from './query-fields';

/** `GET /v1/analytics/summary`: cases requested in [from, to) by one key of API.md. Any other parameter is refused. */
export class AnalyticsSummaryQueryDto {
  @InstantField({ optional: true, description: 'requestedAt at or after this time (default: 30 days before `to`)' })
  from?: string;

  @InstantField({ optional: true, description: 'requestedAt before this time, exclusive (default: now)' })
  to?: string;

  @EnumField(ANALYTICS_GROUPS, { optional: true, description: 'The key of each item (default day, `YYYY-MM-DD` UTC)' })
  groupBy?: string;

  @MinPositionField()
  minPosition?: number;
}

/** `GET /v1/analytics/abuse`: a page and `minPosition`. */
export class AbuseQueryDto extends ListPageQuery {
  @MinPositionField()
  minPosition?: number;
}
