import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { OPENAPI_PUBLIC_EXTENSION } from '../auth/decorators';

const BEARER = 'bearer';
const PROBLEM_RESPONSES: Record<string, string> = {
  '400': 'Malformed JSON, or an invalid body, query, path parameter or header; `errors` lists each field',
  '401': 'No, malformed, expired or wrongly signed token, wrong iss or aud, or a required claim missing',
  '403': 'The caller may not use this route or act on this object',
  '429': 'Above RATE_LIMIT_PER_MINUTE for this caller; see Retry-After',
  '503': 'A dependency cannot be reached now (the event store, or the JWKS that verifies tokens); see Retry-After',
};
const METHODS_WITH_KEYS = new Set(['post', 'put', 'patch']);

/**
 * The API document: bearer auth on every operation not marked `@Public()`,
 * problem+json as a shared schema for error responses, and the
 * `Idempotency-Key` header on every POST and PUT.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('After-sales API')
      .setDescription(
        'Refunds, returns, exchanges, repairs, re-shipments and compensation after payment. ' +
          'Errors are application/problem+json (RFC 9457). Send X-Correlation-Id to follow a request through logs and events.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, BEARER)
      .build(),
  );

  document.components ??= {};
  document.components.schemas = { ...document.components.schemas, ...PROBLEM_SCHEMAS };
  document.components.parameters = { ...document.components.parameters, IdempotencyKey: IDEMPOTENCY_KEY_PARAMETER };

  for (const pathItem of Object.values(document.paths)) {
    for (const [method, operation] of Object.entries(pathItem) as Array<[string, Record<string, unknown>]>) {
      if (!operation || typeof operation !== 'object' || !('responses' in operation)) continue;
      const responses = operation.responses as Record<string, unknown>;
      const isPublic = operation[OPENAPI_PUBLIC_EXTENSION] === true;
      delete operation[OPENAPI_PUBLIC_EXTENSION];
      operation.security = isPublic ? [] : [{ [BEARER]: [] }];
      for (const [status, description] of Object.entries(PROBLEM_RESPONSES)) {
        if (isPublic && (status === '401' || status === '403' || status === '503')) continue;
        responses[status] ??= problemResponse(description, status === '400' ? 'ValidationProblem' : 'Problem');
      }
      if (METHODS_WITH_KEYS.has(method)) {
        const parameters = (operation.parameters as unknown[] | undefined) ?? [];
        parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });
        operation.parameters = parameters;
        responses['409'] ??= problemResponse('The action is not allowed now (`allowedActions`), a concurrent write won, or a request with this Idempotency-Key is still running', 'Problem');
        responses['422'] ??= problemResponse('A business rule refused the request (`rule`); `idempotency_key_reused` for a key sent again with another body', 'Problem');
      }
    }
  }
  return document;
}

/**
 * Serves the document at /docs (UI) and /docs-json; both are public. `ui:
 * false` serves the JSON alone (the UI's static-file plugin pulls in an
 * ESM-only dependency Jest's CommonJS mode cannot load).
 */
export function setupOpenApi(app: INestApplication, options: { ui?: boolean } = {}): OpenAPIObject {
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', ui: options.ui ?? true });
  return document;
}

function problemResponse(description: string, schema: string) {
  return { description, content: { 'application/problem+json': { schema: { $ref: `#/components/schemas/${schema}` } } } };
}

const PROBLEM_SCHEMAS = {
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details',
    required: ['type', 'title', 'status', 'detail'],
    properties: {
      type: { type: 'string', description: 'URI naming the kind of problem; about:blank when the status says it all', example: 'about:blank' },
      title: { type: 'string', example: 'Conflict' },
      status: { type: 'integer', example: 409 },
      detail: { type: 'string' },
      allowedActions: {
        type: 'array',
        items: { type: 'string' },
        description:
          'On every 409: what the caller may do with the case (or order routes) now; an empty list where no action list applies ' +
          '(an order registered with another snapshot, a request with this Idempotency-Key still running)',
      },
      rule: { type: 'string', description: '422: the business rule that refused the request', example: 'idempotency_key_reused' },
    },
  },
  ValidationProblem: {
    allOf: [
      { $ref: '#/components/schemas/Problem' },
      {
        type: 'object',
        properties: {
          errors: {
            type: 'array',
            items: {
              type: 'object',
              required: ['field', 'message'],
              properties: {
                field: { type: 'string', description: 'Dotted path into the body, or a header name', example: 'lines.0.quantity' },
                message: { type: 'string', example: 'quantity must not be less than 1' },
              },
            },
          },
        },
      },
    ],
  },
};

const IDEMPOTENCY_KEY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header' as const,
  required: false,
  description:
    'Makes a retry safe: the same key and body within 24 h returns the first response again (with Idempotent-Replayed: true) and acts once; ' +
    'another body gives 422 (rule idempotency_key_reused); while the first request runs, 409. Scoped to the caller, method and path.',
  schema: { type: 'string' as const, minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$' },
};
