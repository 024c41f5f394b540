import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CASE_LIST, CASE_TIMELINE, CaseListQuery, CaseTimelineQuery, InvalidCursorError, type CaseListFilter } from '@aftersales/read-models';
import type { Caller } from '../auth/caller';
import { CurrentCaller, Roles } from '../auth/decorators';
import { actorOf } from '../cases/acting';
import { IdParamPipe } from '../cases/fields';
import { DEFAULT_PAGE_SIZE } from '../cases/list-page';
import { IdPathParam, ProblemResponse } from '../cases/problem-docs';
import { problems } from '../problem/problem';
import { CaseListQueryDto } from './case-list.dto';
import { CaseListResponse, CaseTimelineResponse } from './case-queries.responses';
import { ReadYourWritesQuery } from './query-fields';
import { ReadYourWrites } from './read-your-writes';

const utc = (instant: string | undefined): string | undefined => (instant === undefined ? undefined : new Date(instant).toISOString());

/** The case queries answered from read models (ARCHITECTURE.md rule 5): they may lag; `minPosition` waits. */
@ApiTags('cases')
@Controller('v1/cases')
export class CaseQueriesController {
  constructor(
    private readonly cases: CaseListQuery,
    private readonly timelines: CaseTimelineQuery,
    private readonly readYourWrites: ReadYourWrites,
  ) {}

  @Get()
  @Roles('buyer', 'merchant', 'agent', 'arbitrator', 'admin')
  @ApiOperation({
    summary: 'Cases the caller sees, newest requestedAt first, filtered (read model)',
    description: 'A filter outside the caller\'s scope gives an empty list. Pages follow `nextCursor`; a cursor is good only for the list (caller and filters) it came from.',
  })
  @ApiOkResponse({ type: CaseListResponse })
  @ProblemResponse(503, 'The read models did not reach `minPosition` within 5 s; retry after Retry-After')
  async list(@Query() query: CaseListQueryDto, @CurrentCaller() caller: Caller): Promise<CaseListResponse> {
    const filter: CaseListFilter = {
      status: query.status,
      merchantId: query.merchantId,
      buyerId: query.buyerId,
      kind: query.kind,
      reason: query.reason,
      from: utc(query.from),
      to: utc(query.to),
      deadlineBefore: utc(query.deadlineBefore),
    };
    if (filter.from !== undefined && filter.to !== undefined && filter.from > filter.to) {
      throw problems.validation([{ field: 'from', message: 'from must not be after to' }]);
    }
    const reader = actorOf(caller);
    try {
      this.cases.checkCursor(reader, filter, query.cursor);
    } catch (error) {
      if (error instanceof InvalidCursorError) throw problems.validation([{ field: 'cursor', message: `cursor ${error.message}` }]);
      throw error;
    }
    await this.readYourWrites.reach([CASE_LIST], query.minPosition);
    return this.cases.list(reader, filter, { limit: query.limit ?? DEFAULT_PAGE_SIZE, cursor: query.cursor });
  }

  @Get(':caseId/timeline')
  @Roles('buyer', 'merchant', 'agent', 'arbitrator', 'admin')
  @ApiOperation({
    summary: 'The case step by step, as the caller may see it (read model)',
    description: 'Buyers: the steps a buyer sees, `{ at, label }`, and what happens next with its deadline. Merchants: every step but the staff\'s own (notes, claims, assignments). Staff: every step with type, actor, channel, note and data.',
  })
  @IdPathParam('caseId', 'The case')
  @ApiOkResponse({ type: CaseTimelineResponse })
  @ProblemResponse(404, 'Unknown case (to the read models: pass minPosition after a write), or one the caller may not see')
  @ProblemResponse(503, 'The read models did not reach `minPosition` within 5 s; retry after Retry-After')
  async timeline(@Param('caseId', IdParamPipe) caseId: string, @Query() query: ReadYourWritesQuery, @CurrentCaller() caller: Caller): Promise<CaseTimelineResponse> {
    await this.readYourWrites.reach([CASE_TIMELINE], query.minPosition);
    const timeline = await this.timelines.timeline(actorOf(caller), caseId);
    if (!timeline) throw problems.notFound(`case ${caseId} not found`);
    return timeline;
  }
}
