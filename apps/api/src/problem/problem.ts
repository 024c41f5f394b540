import { HttpException, HttpStatus } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';

/** The media type of every error response (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** One refused field: `field` is a dotted path into the body (`lines.0.quantity`) or a header name. */
export interface FieldError {
  field: string;
  message: string;
}

/** An RFC 9457 problem document plus the members API.md adds (`errors`, `allowedActions`, `rule`). */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  allowedActions?: string[];
  rule?: string;
  [extension: string]: unknown;
}

export interface ProblemOptions {
  /** A URI naming the kind of problem; `about:blank` when the status says it all. */
  type?: string;
  /** Headers the response must carry (`WWW-Authenticate`, `Retry-After`). */
  headers?: Record<string, string>;
  cause?: unknown;
}

const RESERVED_MEMBERS = new Set(['type', 'title', 'status', 'detail']);

/**
 * The one exception the HTTP edge turns into problem+json as it is. Throw it
 * (or one made by `problems.*`) wherever a client must see a specific answer:
 * `new ProblemException(409, 'Action not allowed', detail, { allowedActions })`.
 */
export class ProblemException extends HttpException {
  readonly problem: ProblemDocument;
  readonly headers: Record<string, string>;

  constructor(status: number, title: string, detail: string, extensions: Record<string, unknown> = {}, options: ProblemOptions = {}) {
    super(detail, status, { cause: options.cause });
    const members: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(extensions)) {
      if (!RESERVED_MEMBERS.has(name) && value !== undefined) members[name] = value;
    }
    // API.md: a 409 carries the caller's allowedActions. Where no case action
    // applies (an order's facts differ, a key still in progress) that is [].
    if (status === HttpStatus.CONFLICT && members.allowedActions === undefined) members.allowedActions = [];
    this.problem = { type: options.type ?? 'about:blank', title, status, detail, ...members };
    this.headers = options.headers ?? {};
  }
}

export function statusTitle(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/** Ready-made problems for the answers API.md names, so routes throw the same shapes everywhere. */
export const problems = {
  validation(errors: FieldError[], detail = 'The request is not valid; see errors for each field.'): ProblemException {
    return new ProblemException(HttpStatus.BAD_REQUEST, 'Bad Request', detail, { errors });
  },
  badRequest(detail: string): ProblemException {
    return new ProblemException(HttpStatus.BAD_REQUEST, 'Bad Request', detail);
  },
  unauthorized(detail: string): ProblemException {
    // RFC 6750: tells the client which scheme the route expects.
    return new ProblemException(HttpStatus.UNAUTHORIZED, 'Unauthorized', detail, {}, { headers: { 'WWW-Authenticate': 'Bearer' } });
  },
  forbidden(detail: string): ProblemException {
    return new ProblemException(HttpStatus.FORBIDDEN, 'Forbidden', detail);
  },
  notFound(detail: string): ProblemException {
    return new ProblemException(HttpStatus.NOT_FOUND, 'Not Found', detail);
  },
  /** 409: the action is not allowed now; the body lists what the caller may do instead. */
  actionNotAllowed(detail: string, allowedActions: readonly string[]): ProblemException {
    return new ProblemException(HttpStatus.CONFLICT, 'Action not allowed', detail, { allowedActions: [...allowedActions] });
  },
  conflict(detail: string, extensions: Record<string, unknown> = {}, headers?: Record<string, string>): ProblemException {
    return new ProblemException(HttpStatus.CONFLICT, 'Conflict', detail, extensions, { headers });
  },
  preconditionFailed(detail: string, extensions: Record<string, unknown> = {}): ProblemException {
    return new ProblemException(HttpStatus.PRECONDITION_FAILED, 'Precondition Failed', detail, extensions);
  },
  /** 422: a business rule refused the request; `rule` is a stable code clients can branch on. */
  businessRule(rule: string, detail: string, extensions: Record<string, unknown> = {}): ProblemException {
    return new ProblemException(HttpStatus.UNPROCESSABLE_ENTITY, 'Business rule violated', detail, { ...extensions, rule });
  },
};

export interface ProblemResponse {
  status: number;
  body: ProblemDocument;
  headers: Record<string, string>;
  /** True when the error was not meant for the client: log it, show a generic detail. */
  unexpected: boolean;
}

const GENERIC_DETAIL = 'An unexpected error occurred. It has been logged; quote the X-Correlation-Id header when reporting it.';

/**
 * Maps anything thrown to the response a client sees; the exception filter
 * sends it, and an idempotency record keeps it as sent.
 */
export function toProblem(error: unknown): ProblemResponse {
  if (error instanceof ProblemException) {
    return { status: error.problem.status, body: { ...error.problem }, headers: { ...error.headers }, unexpected: false };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    // A 500 someone threw on purpose may still carry internals in its message.
    if (status === HttpStatus.INTERNAL_SERVER_ERROR) return unexpectedProblem();
    const detail =
      status === HttpStatus.TOO_MANY_REQUESTS
        ? 'Too many requests from this caller; retry after the number of seconds in Retry-After.'
        : httpExceptionDetail(error);
    const conflict = status === HttpStatus.CONFLICT ? { allowedActions: [] } : {};
    return { status, body: { type: 'about:blank', title: statusTitle(status), status, detail, ...conflict }, headers: {}, unexpected: false };
  }
  return unexpectedProblem();
}

function unexpectedProblem(): ProblemResponse {
  const status = HttpStatus.INTERNAL_SERVER_ERROR;
  return { status, body: { type: 'about:blank', title: statusTitle(status), status, detail: GENERIC_DETAIL }, headers: {}, unexpected: true };
}

function httpExceptionDetail(error: HttpException): string {
  const response = error.getResponse();
  if (typeof response === 'string') return response;
  if (response && typeof response === 'object' && 'message' in response) {
    const message = (response as { message: unknown }).message;
    if (typeof message === 'string') return message;
    if (Array.isArray(message)) return message.map(String).join('; ');
  }
  return error.message;
}
