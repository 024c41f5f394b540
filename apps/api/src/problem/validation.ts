import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { problems, type FieldError } from './problem';

/**
 * Flattens class-validator's error tree into one entry per failed rule, with
 * nested properties as dotted paths (`lines.0.quantity`). An unknown field is
 * reported under its own name.
 */
export function fieldErrors(errors: readonly ValidationError[], parent = ''): FieldError[] {
  const result: FieldError[] = [];
  for (const error of errors) {
    const field = parent && error.property ? `${parent}.${error.property}` : parent || error.property || 'body';
    for (const [constraint, message] of Object.entries(error.constraints ?? {})) {
      result.push({ field, message: constraint === 'whitelistValidation' ? `${field} is not a known field` : message });
    }
    if (error.children?.length) result.push(...fieldErrors(error.children, field));
  }
  return result;
}

/** The edge's one ValidationPipe (ARCHITECTURE.md rule 7): strict, and unknown fields are refused, not dropped. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => problems.validation(fieldErrors(errors)),
  });
}
