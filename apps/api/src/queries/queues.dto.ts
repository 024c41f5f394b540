import { ListPageQuery } from '../cases/list-page';
import { IdField } from '../cases/fields';
import { MinPositionField } from './query-fields';

/** `GET /v1/queues/pool`: a line (agents: their own, the default; admins: any, or every line), a page, `minPosition`. */
export class PoolQueryDto extends ListPageQuery {
  @IdField({ optional: true, description: 'The business line (agents: default and only their own; another gives an empty list. Admins: absent = every line)' })
  businessLine?: string;

  @MinPositionField()
  minPosition?: number;
}

/** `GET /v1/queues/mine`: a page and `minPosition`. */
export class MineQueryDto extends ListPageQuery {
  @MinPositionField()
  minPosition?: number;
}
