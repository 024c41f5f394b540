import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Clock } from '@aftersales/application';
import { ABUSE_REPORT_MAX_AGE_MS, ABUSE_RULES, AbuseQuery, AnalyticsQuery, CASE_ANALYTICS, InvalidCursorError, type AnalyticsGroup } from '@aftersales/read-models';
import { Roles } from '../auth/decorators';
import { DEFAULT_PAGE_SIZE } from '../cases/list-page';
import { ProblemResponse } from '../cases/problem-docs';
import { problems } from '../problem/problem';
import { AbuseQueryDto, AnalyticsSummaryQueryDto } from './analytics.dto';
import { AbuseResponse, AnalyticsSummaryResponse } from './analytics.responses';
import { ReadYourWrites } from './read-your-writes';

/** API.md: the summary covers the last 30 days unless asked otherwise. */
const DEFAULT_RANGE_MS = 30 * 86_400_000;

/** What analysts read (DOMAIN.md, "What analysts need"), from the `case_analytics` read model; admins only. */
@ApiTags('analytics')
@Controller('v1/analytics')
export class AnalyticsController {
  constructor(
    private readonly analytics: AnalyticsQuery,
    private readonly abuse: AbuseQuery,
    private readonly readYourWrites: ReadYourWrites,
    private readonly clock: Clock,
  ) {}

  @Get('summary')
  @Roles('admin')
  @ApiOperation({
    summary: 'Cases requested in [from, to) grouped by day, merchant, reason, department, product, category, supplier or agent',
    description:
      'Defaults: groupBy day, the 30 days before now. Product, category and supplier are each case\'s first line\'s; agent is the compensating agent, else the last holder (`none` when no agent acted). Durations in seconds, nearest-rank percentiles.',
  })
  @ApiOkResponse({ type: AnalyticsSummaryResponse })
  @ProblemResponse(503, 'The read models did not reach `minPosition` within 5 s; retry after Retry-After')
  async summary(@Query() query: AnalyticsSummaryQueryDto): Promise<AnalyticsSummaryResponse> {
    const to = query.to !== undefined ? new Date(query.to) : this.clock.now();
    const from = query.from !== undefined ? new Date(query.from) : new Date(to.getTime() - DEFAULT_RANGE_MS);
    if (from.getTime() > to.getTime()) throw problems.validation([{ field: 'from', message: 'from must not be after to' }]);
    await this.readYourWrites.reach([CASE_ANALYTICS], query.minPosition);
    return this.analytics.summary({ from: from.toISOString(), to: to.toISOString() }, (query.groupBy ?? 'day') as AnalyticsGroup);
  }

  @Get('abuse')
  @Roles('admin')
  @ApiOperation({
    summary: 'Buyers and payment accounts with unusual refund ratios, refund-only-without-return patterns, or many buyers behind one account',
    description: `Each item says why. Every page comes from one reading of the report, kept up to ${ABUSE_REPORT_MAX_AGE_MS / 1000} s; with \`minPosition\` a reading from before that position is not used. Thresholds: at least ${ABUSE_RULES.minCases} cases for the ratio rules; refund ratio ${ABUSE_RULES.refundRatio}; refund_only-without-return share ${ABUSE_RULES.refundOnlyShare}; ${ABUSE_RULES.buyersPerPaymentAccount} buyers per payment account.`,
  })
  @ApiOkResponse({ type: AbuseResponse })
  @ProblemResponse(503, 'The read models did not reach `minPosition` within 5 s; retry after Retry-After')
  async abuseReport(@Query() query: AbuseQueryDto): Promise<AbuseResponse> {
    try {
      this.abuse.checkCursor(query.cursor);
    } catch (error) {
      if (error instanceof InvalidCursorError) throw problems.validation([{ field: 'cursor', message: `cursor ${error.message}` }]);
      throw error;
    }
    await this.readYourWrites.reach([CASE_ANALYTICS], query.minPosition);
    return this.abuse.list({ limit: query.limit ?? DEFAULT_PAGE_SIZE, cursor: query.cursor, minPosition: query.minPosition });
  }
}
