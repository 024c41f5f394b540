import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AGENT_QUEUE, AgentQueueQuery, InvalidCursorError, type QueueSelection } from '@aftersales/read-models';
import type { Caller } from '../auth/caller';
import { CurrentCaller, Roles } from '../auth/decorators';
import { actorOf } from '../cases/acting';
import { DEFAULT_PAGE_SIZE } from '../cases/list-page';
import { ProblemResponse } from '../cases/problem-docs';
import { problems } from '../problem/problem';
import { MineQueryDto, PoolQueryDto } from './queues.dto';
import { QueueResponse } from './queues.responses';
import { ReadYourWrites } from './read-your-writes';

/** The agents' queues (DOMAIN.md, "Agent work") from the `agent_queue` read model: they may lag; `minPosition` waits. */
@ApiTags('queues')
@Controller('v1/queues')
export class QueuesController {
  constructor(
    private readonly queues: AgentQueueQuery,
    private readonly readYourWrites: ReadYourWrites,
  ) {}

  @Get('pool')
  @Roles('agent', 'admin')
  @ApiOperation({
    summary: 'Unheld cases that need a person (escalated, a refund past its last attempt, a flagged buyer): priority, then oldest first',
    description: 'Agents: their own business line (another line gives an empty list). Admins: the line asked for, or every line.',
  })
  @ApiOkResponse({ type: QueueResponse })
  @ProblemResponse(503, 'The read models did not reach `minPosition` within 5 s; retry after Retry-After')
  async pool(@Query() query: PoolQueryDto, @CurrentCaller() caller: Caller): Promise<QueueResponse> {
    return this.read(caller, { queue: 'pool', businessLine: query.businessLine }, query);
  }

  @Get('mine')
  @Roles('agent')
  @ApiOperation({ summary: 'The open cases the calling agent holds: priority, then oldest first' })
  @ApiOkResponse({ type: QueueResponse })
  @ProblemResponse(503, 'The read models did not reach `minPosition` within 5 s; retry after Retry-After')
  async mine(@Query() query: MineQueryDto, @CurrentCaller() caller: Caller): Promise<QueueResponse> {
    return this.read(caller, { queue: 'mine' }, query);
  }

  private async read(caller: Caller, selection: QueueSelection, query: MineQueryDto): Promise<QueueResponse> {
    const reader = actorOf(caller);
    try {
      this.queues.checkCursor(reader, selection, query.cursor);
    } catch (error) {
      if (error instanceof InvalidCursorError) throw problems.validation([{ field: 'cursor', message: `cursor ${error.message}` }]);
      throw error;
    }
    await this.readYourWrites.reach([AGENT_QUEUE], query.minPosition);
    return this.queues.list(reader, selection, { limit: query.limit ?? DEFAULT_PAGE_SIZE, cursor: query.cursor });
  }
}
