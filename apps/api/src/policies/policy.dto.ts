import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  DEFAULT_POLICY_WIRE,
  DURATION_POLICY_NAMES,
  INTEGER_POLICY_NAMES,
  integerPolicyMax,
  parseDuration,
  type PolicyOverrides,
} from '@aftersales/domain';
import { IntegerField, ValidatedField } from '../cases/fields';

// The policy fields are DOMAIN.md's names, read from the domain's lists so a
// new policy field is validated and documented here without another edit.

const DURATION_FORMAT = 'an ISO-8601 duration in days, hours, minutes and seconds (P7D, PT48H, PT2S, P1DT12H)';

/** The body of PUT /v1/policies/:scope: the scope's overrides, every field optional (absent fields inherit). */
export class PolicyOverridesDto {
  [name: string]: string | number | undefined;
}

/** Every policy field with its value in force (GET's `effective`, eligibility's `policy`). */
export class PolicyWireResponse {
  [name: string]: string | number;
}

for (const name of DURATION_POLICY_NAMES) {
  const example = DEFAULT_POLICY_WIRE[name];
  ValidatedField('isPolicyDuration', { optional: true, description: DURATION_FORMAT, example }, { type: String }, (value) =>
    typeof value === 'string' && parseDuration(value) !== undefined ? undefined : `must be ${DURATION_FORMAT}`,
  )(PolicyOverridesDto.prototype, name);
  ApiProperty({ type: String, example })(PolicyWireResponse.prototype, name);
}

for (const name of INTEGER_POLICY_NAMES) {
  const example = DEFAULT_POLICY_WIRE[name];
  IntegerField(0, integerPolicyMax(name), { optional: true, example })(PolicyOverridesDto.prototype, name);
  ApiProperty({ type: 'integer', example })(PolicyWireResponse.prototype, name);
}

export class PolicyResponse {
  @ApiProperty({ example: 'merchant-m1', description: '`platform` or `merchant-<merchantId>`' }) scope!: string;
  @ApiProperty({ type: PolicyOverridesDto, description: 'What this scope sets; absent fields inherit' }) overrides!: PolicyOverrides;
  @ApiProperty({ type: PolicyWireResponse, description: 'The policy in force for the scope: POLICY_* defaults, then the platform, then the merchant' })
  effective!: PolicyWireResponse;
}

export class PolicyChangeResponse extends PolicyResponse {
  @ApiPropertyOptional({ type: 'integer', description: 'Global position of the change; absent when the overrides were already these' })
  position?: number;
}
