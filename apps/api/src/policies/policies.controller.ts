import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Clock, PolicyService, type PolicyView } from '@aftersales/application';
import { isPolicyScope, type PolicyOverrides } from '@aftersales/domain';
import { Roles } from '../auth/decorators';
import { problems } from '../problem/problem';
import { Acting, type ActingCaller } from '../cases/acting';
import { CommandGateway } from '../cases/command-gateway';
import { definedFields } from '../cases/fields';
import { ProblemResponse } from '../cases/problem-docs';
import { canonicalDurations } from './canonical-durations';
import { PolicyChangeResponse, PolicyOverridesDto, PolicyResponse } from './policy.dto';

const ScopeParam = () =>
  ApiParam({ name: 'scope', description: '`platform` or `merchant-<merchantId>`; anything else is 400', schema: { type: 'string', example: 'merchant-m1' } });

/** A scope that cannot exist is a malformed path parameter (400), like an id that breaks the id rules. */
function checkScope(scope: string): void {
  if (!isPolicyScope(scope)) {
    throw problems.validation([{ field: 'scope', message: 'scope must be platform or merchant-<merchantId> (merchantId: 1-64 characters of A-Z a-z 0-9 _ -)' }]);
  }
}

// Durations leave in canonical form whatever form they were stored or defaulted in.
const toResponse = (view: PolicyView): PolicyResponse => ({
  scope: view.scope,
  overrides: canonicalDurations(view.overrides),
  effective: canonicalDurations(view.effective),
});

/**
 * Platform and merchant policies (admin). Changes are events on the scope's
 * stream and apply to deadlines that start later.
 */
@ApiTags('policies')
@Controller('v1/policies')
@Roles('admin')
export class PoliciesController {
  constructor(
    private readonly gateway: CommandGateway,
    private readonly policies: PolicyService,
    private readonly clock: Clock,
  ) {}

  @Get(':scope')
  @ApiOperation({ summary: 'A scope\'s overrides and the policy in force for it' })
  @ScopeParam()
  @ApiOkResponse({ type: PolicyResponse })
  async view(@Param('scope') scope: string): Promise<PolicyResponse> {
    checkScope(scope);
    return toResponse(await this.gateway.read('policy', () => this.policies.view(scope)));
  }

  @Put(':scope')
  @ApiOperation({ summary: 'Replace a scope\'s overrides (absent fields inherit); the same overrides again change nothing' })
  @ScopeParam()
  @ApiOkResponse({ type: PolicyChangeResponse })
  @ProblemResponse(409, 'Another change to the scope was written at the same time')
  async replace(@Param('scope') scope: string, @Body() body: PolicyOverridesDto, @Acting() acting: ActingCaller): Promise<PolicyChangeResponse> {
    checkScope(scope);
    // Stored canonical, so `PT24H` and `P1D` are the same overrides (a PUT of either after the other appends nothing).
    const overrides = canonicalDurations(definedFields(body)) as PolicyOverrides;
    const { view, position } = await this.gateway.changePolicy(
      () => this.policies.replace(scope, overrides, acting.actor, acting.origin, this.clock.now()),
      (result) => result.position !== undefined,
    );
    return { ...toResponse(view), ...(position !== undefined ? { position } : {}) };
  }
}
