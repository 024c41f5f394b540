import { applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiParam, ApiResponse } from '@nestjs/swagger';
import { ID_PATTERN } from '../auth/caller';

// OpenAPI for the command routes' answers. The document builder adds the
// shared `Problem` and `ValidationProblem` schemas and the 400/401/403/429
// answers of every route; these name what each route adds on top.

const problemContent = (schema: 'Problem' | 'ValidationProblem' = 'Problem') => ({
  'application/problem+json': { schema: { $ref: `#/components/schemas/${schema}` } },
});

/** A problem+json answer with this status and meaning. */
export const ProblemResponse = (status: number, description: string) => ApiResponse({ status, description, content: problemContent() });

export const ETAG_HEADER = {
  ETag: { description: 'The case revision as a strong entity tag: `"<revision>"`; send it back in If-Match', schema: { type: 'string', example: '"3"' } },
};

/** An id path parameter (1–64 of A–Z a–z 0–9 _ -; anything else is 400). */
export const IdPathParam = (name: string, description: string) =>
  ApiParam({ name, description, schema: { type: 'string', pattern: ID_PATTERN.source, minLength: 1, maxLength: 64 } });

const IF_MATCH_DESCRIPTION =
  'Optimistic concurrency: `"<revision>"` (or the bare integer) the caller last saw; a case at another revision answers 412. Anything else is 400.';

// The description goes in the schema too: the document generator drops it from header parameters that have one.
export const IfMatchHeader = () =>
  ApiHeader({
    name: 'If-Match',
    required: false,
    description: IF_MATCH_DESCRIPTION,
    schema: { type: 'string', pattern: '^("\\d+"|\\d+)$', example: '"3"', description: IF_MATCH_DESCRIPTION },
  });

/** The refusals every case command can meet, in API.md's order of checks. */
export const CaseCommandProblems = () =>
  applyDecorators(
    ProblemResponse(403, 'The role never performs this action; or object level: a case another agent holds, an amount above the caller\'s authorityLimit'),
    ProblemResponse(404, 'Unknown case, or one the caller may not see'),
    ProblemResponse(412, 'If-Match does not match the case\'s revision (the current one is in `revision` and ETag)'),
    ProblemResponse(409, 'The action is not in the caller\'s `allowedActions` now (listed in the answer), or a concurrent write still won after retries'),
    ProblemResponse(422, 'A business rule refused the values (`rule`), or an Idempotency-Key reused with another body'),
  );
