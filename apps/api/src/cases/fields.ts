import { applyDecorators, Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { ApiProperty, type ApiPropertyOptions } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { isISO4217CurrencyCode, isISO8601, isURL, registerDecorator, ValidateIf, ValidateNested, type ValidationArguments } from 'class-validator';
import { ID_PATTERN } from '../auth/caller';
import { problems } from '../problem/problem';

// Field decorators for the command bodies: each pairs the validation API.md
// asks for with its OpenAPI description, so the two cannot drift apart, and
// reports one message per field (the first thing wrong with it).

export const FREE_TEXT_MAX = 2000;
export const EVIDENCE_MAX = 9;
/** Lines per body: far above any real order or request, low enough to bound the work one body can cause. */
export const LINES_MAX = 100;
export const ID_MESSAGE = 'must be 1-64 characters of A-Z a-z 0-9 _ -';

const ID_SCHEMA = { type: String, pattern: ID_PATTERN.source, minLength: 1, maxLength: 64 } as const;
/** A date-time with its zone (`Z` or `±hh:mm`); a local time would be read in the server's zone. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const EVIDENCE_URL = { protocols: ['http', 'https'], require_protocol: true, require_valid_protocol: true, require_tld: false };

/** What is wrong with a present value (completing "<field> ..."), or undefined when it is fine. */
type Check = (value: unknown, body: Record<string, unknown>) => string | undefined;

export interface FieldOptions {
  description?: string;
  example?: unknown;
  /** Absent by default; a present value must be valid (`null` is not taken for absent). */
  optional?: boolean;
  /** Optional, but required when `condition` holds on the body. */
  requiredWhen?: { condition: (body: Record<string, unknown>) => boolean; explanation: string };
}

/** Optional without letting `null` through: a field that is sent must be valid. */
export const Optional = () => ValidateIf((_object: object, value: unknown) => value !== undefined);

function checked(name: string, check: Check): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown, args: ValidationArguments) => check(value, args.object as Record<string, unknown>) === undefined,
        defaultMessage: (args: ValidationArguments) => `${args.property} ${check(args.value, args.object as Record<string, unknown>) ?? 'is not valid'}`,
      },
    });
}

/** A field checked by `check` and documented by `schema`; the other field decorators are made with it. */
export function ValidatedField(name: string, options: FieldOptions, schema: ApiPropertyOptions, check: Check, ...more: PropertyDecorator[]): PropertyDecorator {
  const { optional, requiredWhen, description, example } = options;
  const docs = {
    ...schema,
    required: !optional && !requiredWhen,
    ...(description ? { description } : {}),
    ...(example !== undefined ? { example } : {}),
  } as ApiPropertyOptions;
  const whole: Check = (value, body) => {
    const required = requiredWhen ? requiredWhen.condition(body) : !optional;
    if (value === undefined || (requiredWhen && required && Array.isArray(value) && value.length === 0)) {
      return required ? `is required${requiredWhen ? ` ${requiredWhen.explanation}` : ''}` : undefined;
    }
    return value === null ? 'must not be null' : check(value, body);
  };
  // class-validator ANDs every ValidateIf of a property, so a field gets exactly one.
  const presence = requiredWhen
    ? [ValidateIf((body: object, value: unknown) => value !== undefined || requiredWhen.condition(body as Record<string, unknown>))]
    : optional
      ? [Optional()]
      : [];
  return applyDecorators(...presence, checked(name, whole), ...more, ApiProperty(docs));
}

const isId = (value: unknown): string | undefined => (typeof value !== 'string' ? 'must be a string' : ID_PATTERN.test(value) ? undefined : ID_MESSAGE);

/** An id: 1–64 characters of `A–Z a–z 0–9 _ -`. */
export const IdField = (options: FieldOptions = {}) => ValidatedField('isId', options, ID_SCHEMA, isId);

/** Free text up to 2000 characters; required text must not be empty. */
export const TextField = (options: FieldOptions = {}) =>
  ValidatedField('isFreeText', options, { type: String, maxLength: FREE_TEXT_MAX, ...(options.optional ? {} : { minLength: 1 }) }, (value) => {
    if (typeof value !== 'string') return 'must be a string';
    if (value.length > FREE_TEXT_MAX) return `must be at most ${FREE_TEXT_MAX} characters`;
    return !options.optional && value.length === 0 ? 'must not be empty' : undefined;
  });

/** A JSON integer in [min, max] (amounts in minor units; never a string, never a fraction). */
export const IntegerField = (min: number, max: number = Number.MAX_SAFE_INTEGER, options: FieldOptions = {}) =>
  ValidatedField('isIntegerIn', options, { type: 'integer', minimum: min, maximum: max }, (value) => {
    if (typeof value !== 'number' || !Number.isInteger(value)) return 'must be an integer';
    if (value < min) return `must be at least ${min}`;
    return value > max ? `must be at most ${max}` : undefined;
  });

export const BooleanField = (options: FieldOptions = {}) =>
  ValidatedField('isBoolean', options, { type: Boolean }, (value) => (typeof value === 'boolean' ? undefined : 'must be true or false'));

export const EnumField = (values: readonly string[], options: FieldOptions = {}) =>
  ValidatedField('isOneOf', options, { enum: [...values], type: String }, (value) =>
    typeof value === 'string' && values.includes(value) ? undefined : `must be one of ${values.join(', ')}`,
  );

/** An ISO 4217 currency code, upper case. */
export const CurrencyField = (options: FieldOptions = {}) =>
  ValidatedField('isCurrency', options, { type: String, pattern: '^[A-Z]{3}$' }, (value) =>
    typeof value === 'string' && /^[A-Z]{3}$/.test(value) && isISO4217CurrencyCode(value) ? undefined : 'must be an ISO 4217 code in upper case, e.g. CNY',
  );

/** An ISO-8601 date-time with a zone. */
export const InstantField = (options: FieldOptions = {}) =>
  ValidatedField('isInstant', options, { type: String, format: 'date-time' }, (value) =>
    typeof value === 'string' && INSTANT.test(value) && isISO8601(value, { strict: true }) && !Number.isNaN(Date.parse(value))
      ? undefined
      : 'must be an ISO-8601 date-time with a zone, e.g. 2025-03-01T08:00:00Z',
  );

/** Up to nine http(s) URLs. */
export const EvidenceField = (options: FieldOptions = {}) =>
  ValidatedField('isEvidence', options, { type: [String], maxItems: EVIDENCE_MAX, format: 'uri' }, (value) => {
    if (!Array.isArray(value)) return 'must be an array of http(s) URLs';
    if (value.length > EVIDENCE_MAX) return `holds at most ${EVIDENCE_MAX} URLs`;
    const bad = value.findIndex((url) => typeof url !== 'string' || url.length > FREE_TEXT_MAX || !isURL(url, EVIDENCE_URL));
    return bad >= 0 ? `must hold only http(s) URLs of at most ${FREE_TEXT_MAX} characters (item ${bad} is not one)` : undefined;
  });

/** A non-empty array of at most LINES_MAX nested objects whose `key` values are distinct. */
export const LinesField = (type: () => new () => object, key: string, options: FieldOptions = {}) =>
  ValidatedField(
    'isLines',
    options,
    // Written as `type: () => …` in the literal: @nestjs/swagger recognises a
    // lazy type by the function's name being `type`, else it refers to a schema named "".
    { type: () => type(), isArray: true, minItems: 1, maxItems: LINES_MAX },
    (value) => {
      if (!Array.isArray(value)) return 'must be an array of lines';
      if (value.length === 0) return 'must hold at least one line';
      if (value.length > LINES_MAX) return `must hold at most ${LINES_MAX} lines`;
      const keys = value.map((item: unknown) => (item !== null && typeof item === 'object' ? (item as Record<string, unknown>)[key] : item));
      return new Set(keys).size === keys.length ? undefined : `must name each ${key} once`;
    },
    ValidateNested({ each: true }),
    Type(type),
  );

/** The field must be absent when the sibling `kind` is one of `kinds`. */
export function AbsentForKinds(kinds: readonly string[], reason: string): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'absentForKinds',
      target: target.constructor,
      propertyName: String(propertyName),
      constraints: [kinds],
      validator: {
        validate: (value: unknown, args: ValidationArguments) => value === undefined || !kinds.includes(String((args.object as { kind?: unknown }).kind)),
        defaultMessage: (args: ValidationArguments) => `${args.property} is not allowed for kind ${String((args.object as { kind?: unknown }).kind)}: ${reason}`,
      },
    });
}

/** Path ids (`:caseId`, `:orderId`): an id that cannot exist is a bad request (400), not a 404. */
@Injectable()
export class IdParamPipe implements PipeTransform<unknown, string> {
  transform(value: unknown, metadata: ArgumentMetadata): string {
    if (typeof value === 'string' && ID_PATTERN.test(value)) return value;
    const name = metadata.data ?? 'id';
    throw problems.validation([{ field: name, message: `${name} ${ID_MESSAGE}` }]);
  }
}

/**
 * The body of a command without fields: `{}` or none at all. A DTO class
 * without properties cannot serve (the strict ValidationPipe refuses classes
 * it knows no rules for), so this checks the one thing there is to check.
 */
@Injectable()
export class EmptyBodyPipe implements PipeTransform<unknown, Record<string, never>> {
  transform(value: unknown): Record<string, never> {
    if (value === undefined || value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw problems.validation([{ field: 'body', message: 'the body must be a JSON object (or absent)' }]);
    }
    const unknown = Object.keys(value);
    if (unknown.length > 0) throw problems.validation(unknown.map((name) => ({ field: name, message: `${name} is not a known field` })));
    return {};
  }
}

/** A DTO instance as a plain object of its defined fields, so commands carry no `undefined` members. */
export function definedFields<T extends object>(dto: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(dto).filter(([, value]) => value !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
