import { Inject, Injectable, type LoggerService } from '@nestjs/common';
import type { Level, Logger } from 'pino';
import { ROOT_LOGGER } from './root-logger';

const STACK_TRACE = /\n\s*at /;

interface Line {
  fields: Record<string, unknown>;
  message?: string;
}

/**
 * Nest's LoggerService on the root pino logger, so Nest's own messages and
 * every `new Logger(Name)` are JSON lines with a `context` field.
 *
 * Arguments are read as Nest's Logger passes them, `(message, ...params,
 * context)`: the last argument is the context when it is a string. An object
 * message gives the line its fields and the string after it its message,
 * pino's order: `logger.log({ port }, 'listening')`, so an object followed by
 * one string alone is fields and message, not fields and context. A stack
 * trace after a string message is kept as `stack`, as Nest's exception
 * handlers pass it; an Error message becomes `err`.
 */
@Injectable()
export class JsonLogger implements LoggerService {
  constructor(@Inject(ROOT_LOGGER) private readonly root: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    // Nest asks for every debug and verbose line; most never get past the level.
    if (!this.root.isLevelEnabled(level)) return;
    const line = toLine(message, params);
    if (line.message === undefined) this.root[level](line.fields);
    else this.root[level](line.fields, line.message);
  }
}

function toLine(message: unknown, params: unknown[]): Line {
  const fields: Record<string, unknown> = {};
  const isObject = typeof message === 'object' && message !== null;
  // Counted before undefined is dropped: Nest's Logger puts one in for a missing stack.
  const contextGiven = typeof params.at(-1) === 'string' && !(isObject && params.length === 1);
  const rest = params.filter((param) => param !== undefined);
  if (contextGiven) fields.context = rest.pop();

  let text: string | undefined;
  if (message instanceof Error) {
    fields.err = message;
    text = takeString(rest) ?? message.message;
  } else if (isObject) {
    Object.assign(fields, message);
    text = takeString(rest);
  } else {
    text = String(message);
    if (typeof rest[0] === 'string' && STACK_TRACE.test(rest[0])) fields.stack = rest.shift();
  }
  if (rest.length > 0) fields.args = rest;
  return { fields, message: text };
}

/** Removes and returns the first argument if it is a string. */
function takeString(rest: unknown[]): string | undefined {
  return typeof rest[0] === 'string' ? (rest.shift() as string) : undefined;
}
