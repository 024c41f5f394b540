import { pino, type DestinationStream, type Logger } from 'pino';

/** Injection token of the process's one pino logger. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/** Request headers that carry credentials: a bearer token, a callback's HMAC. */
const SECRET_HEADERS = ['authorization', '"x-signature"'];

/**
 * Where a headers object may sit in a logged object: at the top, inside a
 * request or an error, or one level further (an HTTP client error's
 * request). Headers are never logged on purpose; this is the net for an
 * object logged whole.
 */
const HEADER_HOLDERS = ['headers', '*.headers', '*.*.headers'];

export const REDACTED_PATHS = HEADER_HOLDERS.flatMap((holder) =>
  SECRET_HEADERS.map((header) => (header.startsWith('"') ? `${holder}[${header}]` : `${holder}.${header}`)),
);

/**
 * The service's logger: JSON lines at `level` to stdout (or `destination`,
 * for tests), credentials redacted. Everything logs through it: Nest and
 * `new Logger(Name)` via JsonLogger, requests via the access log.
 */
export function createRootLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: REDACTED_PATHS };
  return destination ? pino(options, destination) : pino(options);
}
