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
import { PolicyChangeResponse, PolicyOverridesDto, PolicyResponse } from './policy.dto';

const ScopeParam = () =>
  ApiParam({ name: 'scope', description: '`platform` or `merchant-<merchantId>`; anything else is 404', schema: { type: 'string', example: 'merchant-m1' } });

/** A scope that cannot exist is simply not found, like an unknown case. */
function checkScope(scope: string): void {
  if (!isPolicyScope(scope)) throw problems.notFound(`No policy scope ${scope}: use platform or merchant-<merchantId>.`);
}

const toResponse = (view: PolicyView): PolicyResponse => ({ scope: view.scope, overrides: view.overrides, effective: view.effective });

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
  @ProblemResponse(404, 'Not a policy scope')
  async view(@Param('scope') scope: string): Promise<PolicyResponse> {
    checkScope(scope);
    return toResponse(await this.gateway.read('policy', () => this.policies.view(scope)));
  }

  @Put(':scope')
  @ApiOperation({ summary: 'Replace a scope\'s overrides (absent fields inherit); the same overrides again change nothing' })
  @ScopeParam()
  @ApiOkResponse({ type: PolicyChangeResponse })
  @ProblemResponse(404, 'Not a policy scope')
  @ProblemResponse(409, 'Another change to the scope was written at the same time')
  async replace(@Param('scope') scope: string, @Body() body: PolicyOverridesDto, @Acting() acting: ActingCaller): Promise<PolicyChangeResponse> {
    checkScope(scope);
    const overrides = definedFields(body) as PolicyOverrides;
    const { view, position } = await this.gateway.changePolicy(
      () => this.policies.replace(scope, overrides, acting.actor, acting.origin, this.clock.now()),
      (result) => result.position !== undefined,
    );
    return { ...toResponse(view), ...(position !== undefined ? { position } : {}) };
  }
}
