import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

const MIN_POSITION_MESSAGE = 'must be a non-negative integer: the position a command answer carried';

/** `minPosition`: the read models must have reached this global position before the query answers (API.md). */
export const MinPositionField = () =>
  applyDecorators(
    ApiPropertyOptional({
      type: 'integer',
      minimum: 0,
      description: 'The `position` a command answer carried: the query waits up to 5 s for the read models to reach it (then 503 with Retry-After)',
    }),
    IsOptional(),
    Type(() => Number),
    IsInt({ message: MIN_POSITION_MESSAGE }),
    Min(0, { message: MIN_POSITION_MESSAGE }),
    Max(Number.MAX_SAFE_INTEGER, { message: MIN_POSITION_MESSAGE }),
  );

/** Queries that take nothing but `minPosition`. */
export class ReadYourWritesQuery {
  @MinPositionField()
  minPosition?: number;
}
