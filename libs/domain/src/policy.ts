// Policy (DOMAIN.md, "Deadlines and policy"): defaults ← environment ←
// platform ← merchant, field by field.

export const DEADLINE_NAMES = [
  'merchantResponse',
  'buyerOfferResponse',
  'buyerAppeal',
  'buyerShipBack',
  'merchantReceipt',
  'merchantShipment',
  'replacementAutoComplete',
  'platformRulingSla',
  'returnTransit',
] as const;
export type DeadlineName = (typeof DEADLINE_NAMES)[number];

export const DURATION_POLICY_NAMES = [
  ...DEADLINE_NAMES,
  'noReasonWindow',
  'afterSalesWindow',
  'warrantyWindow',
  'urgeMinWait',
  'urgeCooldown',
] as const;
export type DurationPolicyName = (typeof DURATION_POLICY_NAMES)[number];

export const INTEGER_POLICY_NAMES = [
  'maxAmendments',
  'expressRefundMinTrust',
  'expressRefundMaxAmount',
  'autoReviewMaxAmount',
  'autoReviewMinTrust',
  'compensationCap',
  'autoReviewRefundBeforeShipment',
  'autoReviewSmallAmount',
] as const;
export type IntegerPolicyName = (typeof INTEGER_POLICY_NAMES)[number];

/** Integer fields that switch a rule on (1) or off (0), e.g. an auto-review rule per merchant. */
export const SWITCH_POLICY_NAMES = ['autoReviewRefundBeforeShipment', 'autoReviewSmallAmount'] as const satisfies readonly IntegerPolicyName[];
export type SwitchPolicyName = (typeof SWITCH_POLICY_NAMES)[number];

/** The largest value an integer policy field takes: 1 for a switch, else any safe integer. */
export const integerPolicyMax = (name: IntegerPolicyName): number =>
  (SWITCH_POLICY_NAMES as readonly string[]).includes(name) ? 1 : Number.MAX_SAFE_INTEGER;

export const POLICY_NAMES = [...DURATION_POLICY_NAMES, ...INTEGER_POLICY_NAMES] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/** The policy in force: durations in milliseconds, the rest plain integers. */
export type Policy = Record<PolicyName, number>;

/** Wire form (API.md): durations as ISO-8601 strings, integers as numbers. */
export type PolicyWire = { [K in DurationPolicyName]: string } & { [K in IntegerPolicyName]: number };
export type PolicyOverrides = Partial<PolicyWire>;

export interface PolicyFieldError {
  field: string;
  message: string;
}

export type PolicyValidation = { ok: true; overrides: PolicyOverrides } | { ok: false; errors: PolicyFieldError[] };

export const DEFAULT_POLICY_WIRE: Readonly<PolicyWire> = {
  merchantResponse: 'PT48H',
  buyerOfferResponse: 'PT48H',
  buyerAppeal: 'P7D',
  buyerShipBack: 'P7D',
  merchantReceipt: 'P10D',
  merchantShipment: 'PT72H',
  replacementAutoComplete: 'P10D',
  platformRulingSla: 'PT72H',
  returnTransit: 'P5D',
  noReasonWindow: 'P7D',
  afterSalesWindow: 'P15D',
  warrantyWindow: 'P365D',
  urgeMinWait: 'PT24H',
  urgeCooldown: 'PT24H',
  maxAmendments: 3,
  expressRefundMinTrust: 700,
  expressRefundMaxAmount: 100000,
  autoReviewMaxAmount: 5000,
  autoReviewMinTrust: 600,
  compensationCap: 10000,
  autoReviewRefundBeforeShipment: 1,
  autoReviewSmallAmount: 1,
};

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// A century: every window a platform publishes fits, and due times stay valid dates.
const MAX_DURATION_MS = 36_525 * DAY;

const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/**
 * Parses the ISO-8601 durations API.md allows (days, hours, minutes, seconds:
 * `P7D`, `PT48H`, `PT2S`, `P1DT12H`) into milliseconds. Years, months and
 * weeks are refused: their length depends on the calendar.
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const [, d, h, m, s] = match;
  const ms = Number(d ?? 0) * DAY + Number(h ?? 0) * HOUR + Number(m ?? 0) * MINUTE + Number(s ?? 0) * SECOND;
  return Number.isSafeInteger(ms) && ms <= MAX_DURATION_MS ? ms : undefined;
}

/** Canonical form: whole days, then the time part; `PT0S` for nothing. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms % SECOND !== 0) {
    throw new RangeError(`not a duration in whole seconds: ${ms}`);
  }
  const days = Math.floor(ms / DAY);
  const hours = Math.floor((ms % DAY) / HOUR);
  const minutes = Math.floor((ms % HOUR) / MINUTE);
  const seconds = Math.floor((ms % MINUTE) / SECOND);
  const time = `${hours ? `${hours}H` : ''}${minutes ? `${minutes}M` : ''}${seconds ? `${seconds}S` : ''}`;
  if (!days && !time) return 'PT0S';
  return `P${days ? `${days}D` : ''}${time ? `T${time}` : ''}`;
}

const isDurationName = (name: string): name is DurationPolicyName =>
  (DURATION_POLICY_NAMES as readonly string[]).includes(name);
const isIntegerName = (name: string): name is IntegerPolicyName =>
  (INTEGER_POLICY_NAMES as readonly string[]).includes(name);

const integerPolicyMessage = (name: IntegerPolicyName): string =>
  integerPolicyMax(name) === 1 ? 'must be 0 (off) or 1 (on)' : 'must be a non-negative integer';

/** `merchantResponse` → `POLICY_MERCHANT_RESPONSE`. */
export function policyEnvVariable(name: PolicyName): string {
  return `POLICY_${name.replace(/([A-Z])/g, '_$1').toUpperCase()}`;
}

/** Checks an overrides object as sent to PUT /v1/policies/:scope; unknown fields are refused, not dropped. */
export function validatePolicyOverrides(input: unknown): PolicyValidation {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: [{ field: '', message: 'must be an object' }] };
  }
  const errors: PolicyFieldError[] = [];
  const overrides: Record<string, string | number> = {};
  for (const [field, value] of Object.entries(input as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (isDurationName(field)) {
      if (typeof value === 'string' && parseDuration(value) !== undefined) overrides[field] = value;
      else errors.push({ field, message: 'must be an ISO-8601 duration in days, hours, minutes and seconds (e.g. P7D, PT48H)' });
    } else if (isIntegerName(field)) {
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= integerPolicyMax(field)) overrides[field] = value;
      else errors.push({ field, message: integerPolicyMessage(field) });
    } else {
      errors.push({ field, message: 'is not a policy field' });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, overrides: overrides as PolicyOverrides };
}

/**
 * Reads the POLICY_* variables (API.md, "Configuration"). Errors name the
 * variable so a bad start says exactly what to fix; other variables are ignored.
 */
export function policyFromEnvironment(env: Readonly<Record<string, string | undefined>>): PolicyValidation {
  const errors: PolicyFieldError[] = [];
  const overrides: Record<string, string | number> = {};
  for (const name of POLICY_NAMES) {
    const variable = policyEnvVariable(name);
    const raw = env[variable];
    if (raw === undefined) continue;
    const value = raw.trim();
    if (isDurationName(name)) {
      if (parseDuration(value) !== undefined) overrides[name] = value;
      else errors.push({ field: variable, message: `must be an ISO-8601 duration such as P7D or PT48H (got "${raw}")` });
    } else {
      const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (Number.isSafeInteger(n) && n <= integerPolicyMax(name)) overrides[name] = n;
      else errors.push({ field: variable, message: `${integerPolicyMessage(name)} (got "${raw}")` });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, overrides: overrides as PolicyOverrides };
}

/**
 * Layers overrides over the defaults, later layers winning field by field
 * (environment, then platform, then merchant). The strings are kept as given.
 */
export function effectivePolicyWire(...layers: ReadonlyArray<PolicyOverrides | undefined>): PolicyWire {
  const wire: PolicyWire = { ...DEFAULT_POLICY_WIRE };
  for (const layer of layers) {
    if (!layer) continue;
    for (const name of POLICY_NAMES) {
      const value = layer[name];
      if (value !== undefined) (wire as Record<string, string | number>)[name] = value;
    }
  }
  return wire;
}

/** The policy in force for the given layers; a layer that fails validation is a programming error here. */
export function effectivePolicy(...layers: ReadonlyArray<PolicyOverrides | undefined>): Policy {
  return policyFromWire(effectivePolicyWire(...layers));
}

export function policyFromWire(wire: PolicyWire): Policy {
  const policy = {} as Policy;
  for (const name of DURATION_POLICY_NAMES) {
    const ms = parseDuration(wire[name]);
    if (ms === undefined) throw new RangeError(`${name}: not a duration: ${wire[name]}`);
    policy[name] = ms;
  }
  for (const name of INTEGER_POLICY_NAMES) policy[name] = wire[name];
  return policy;
}

export function policyToWire(policy: Policy): PolicyWire {
  const wire = {} as Record<string, string | number>;
  for (const name of DURATION_POLICY_NAMES) wire[name] = formatDuration(policy[name]);
  for (const name of INTEGER_POLICY_NAMES) wire[name] = policy[name];
  return wire as PolicyWire;
}

export const DEFAULT_POLICY: Readonly<Policy> = policyFromWire(DEFAULT_POLICY_WIRE);

/** `platform` or `merchant-<merchantId>` (API.md ids: 1–64 of A–Z a–z 0–9 _ -). */
export function isPolicyScope(scope: string): boolean {
  return scope === 'platform' || /^merchant-[A-Za-z0-9_-]{1,64}$/.test(scope);
}

export const merchantPolicyScope = (merchantId: string): string => `merchant-${merchantId}`;

/**
 * The abuse rule (DOMAIN.md, "What analysts need": many cases, a high refund
 * ratio, one account behind many buyers): thresholds as data, read by the
 * abuse report (GET /v1/analytics/abuse) and by the worker's abuse watch,
 * which flags the buyers the report names, so both judge by one set of
 * numbers.
 *
 * Platform-wide and fixed here, not POLICY_* variables nor policy fields:
 * buyers span merchants, so a merchant layer would not fit, and the API and
 * worker processes each read their own environment, so a variable set on
 * one and not the other would make the report and the flags disagree.
 *
 * - `minCases`: the ratio rules judge only subjects with at least this many
 *   cases, so one unlucky order is never "abuse".
 * - `refundRatio`: money refunded (compensation excluded) over money paid on
 *   the subject's orders, at or above which it is reported.
 * - `refundOnlyShare`: the share of the subject's cases refunded as
 *   `refund_only` with no parcel ever sent back, at or above which it is
 *   reported.
 * - `buyersPerPaymentAccount`: distinct buyers paying from one account, at
 *   or above which the account is reported, whatever its cases.
 */
export const ABUSE_RULES = {
  minCases: 3,
  refundRatio: 0.5,
  refundOnlyShare: 0.6,
  buyersPerPaymentAccount: 3,
} as const;

export type AbuseRules = { readonly [K in keyof typeof ABUSE_RULES]: number };
