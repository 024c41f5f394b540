import { Body, Controller, Delete, Get, HttpCode, Optional, Param, Put } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BuyerFlagsService, Clock, type BuyerFlagChange } from '@aftersales/application';
import { Roles } from '../auth/decorators';
import { Acting, type ActingCaller } from '../cases/acting';
import { commandProblem, outcomeOf } from '../cases/command-problems';
import { IdParamPipe } from '../cases/fields';
import { IdPathParam, ProblemResponse } from '../cases/problem-docs';
import { MetricsService } from '../metrics/metrics.service';
import { BuyerFlagChangeResponse, BuyerFlagResponse, FlagBuyerDto, UnflagBuyerDto } from './buyer-flag.dto';

const BuyerIdParam = () => Param('buyerId', IdParamPipe);
const BuyerIdDocs = () => IdPathParam('buyerId', 'The buyer\'s id (an order\'s `buyerId`, a buyer token\'s `sub`)');

const toResponse = ({ view, position }: BuyerFlagChange): BuyerFlagChangeResponse => ({ ...view, ...(position !== undefined ? { position } : {}) });

/**
 * The abuse flag on a buyer (admin). Events on `buyer-<buyerId>`; the case
 * command path reads the flag where it decides express refunds and
 * auto-review, so a change applies to the next command.
 */
@ApiTags('buyers')
@Controller('v1/buyers')
@Roles('admin')
export class BuyersController {
  constructor(
    private readonly flags: BuyerFlagsService,
    private readonly clock: Clock,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  @Get(':buyerId/flag')
  @ApiOperation({ summary: 'Whether the buyer is flagged, why and since when' })
  @BuyerIdDocs()
  @ApiOkResponse({ type: BuyerFlagResponse })
  view(@BuyerIdParam() buyerId: string): Promise<BuyerFlagResponse> {
    return this.run(undefined, () => this.flags.view(buyerId));
  }

  @Put(':buyerId/flag')
  @HttpCode(200)
  @ApiOperation({ summary: 'Flag the buyer (BuyerFlagged); flagging a flagged buyer again records nothing and keeps the first reason' })
  @BuyerIdDocs()
  @ApiOkResponse({ type: BuyerFlagChangeResponse })
  @ProblemResponse(409, 'Another change to the buyer\'s flag was written at the same time')
  @ProblemResponse(422, 'An Idempotency-Key reused with another body (`rule: idempotency_key_reused`)')
  async flag(@BuyerIdParam() buyerId: string, @Body() body: FlagBuyerDto, @Acting() acting: ActingCaller): Promise<BuyerFlagChangeResponse> {
    return toResponse(await this.run('flag-buyer', () => this.flags.flag(buyerId, body.reason, acting.actor, acting.origin, this.clock.now())));
  }

  @Delete(':buyerId/flag')
  @HttpCode(200)
  @ApiOperation({ summary: 'Clear the buyer\'s flag (BuyerUnflagged); clearing an unflagged buyer records nothing. The body is optional.' })
  @BuyerIdDocs()
  @ApiBody({ type: UnflagBuyerDto, required: false })
  @ApiOkResponse({ type: BuyerFlagChangeResponse })
  @ProblemResponse(409, 'Another change to the buyer\'s flag was written at the same time')
  async unflag(@BuyerIdParam() buyerId: string, @Body() body: UnflagBuyerDto, @Acting() acting: ActingCaller): Promise<BuyerFlagChangeResponse> {
    return toResponse(await this.run('unflag-buyer', () => this.flags.unflag(buyerId, body?.reason, acting.actor, acting.origin, this.clock.now())));
  }

  /** Maps refusals to problem+json and counts changes as `command_outcomes_total`, like the other command routes. */
  private async run<R extends object>(command: string | undefined, work: () => Promise<R>): Promise<R> {
    let result: R;
    try {
      result = await work();
    } catch (error) {
      if (command) this.metrics?.recordCommandOutcome(command, outcomeOf(error));
      throw commandProblem(error, 'buyer') ?? error;
    }
    if (command) this.metrics?.recordCommandOutcome(command, 'position' in result && result.position !== undefined ? 'accepted' : 'unchanged');
    return result;
  }
}
