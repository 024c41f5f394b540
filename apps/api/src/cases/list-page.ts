import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, MaxLength, Min } from 'class-validator';
import { problems } from '../problem/problem';

/** `limit` and `cursor` of every list (API.md, "Queries"). */
export class ListPageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50, description: 'Items per page' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'must be an integer from 1 to 200' })
  @Min(1, { message: 'must be an integer from 1 to 200' })
  @Max(200, { message: 'must be an integer from 1 to 200' })
  limit?: number;

  @ApiPropertyOptional({ description: 'Opaque cursor from the previous page\'s nextCursor' })
  @IsOptional()
  @MaxLength(200, { message: 'must be a cursor returned by a previous page' })
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'must be a cursor returned by a previous page' })
  cursor?: string;
}

export const DEFAULT_PAGE_SIZE = 50;

/**
 * A stream page's cursor names the next revision to read. Revisions never
 * change once written, so the cursor stays valid while events are appended.
 */
export function revisionCursor(nextRevision: number): string {
  return Buffer.from(`rev:${nextRevision}`, 'utf8').toString('base64url');
}

export function revisionFromCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const match = /^rev:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw problems.validation([{ field: 'cursor', message: 'must be a cursor returned by a previous page' }]);
  return Number(match[1]);
}
