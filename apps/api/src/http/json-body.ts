import { problems, type FieldError, type ProblemException } from '../problem/problem';

/** Deeper bodies are refused: no request of the API needs them, and walking them costs. */
export const MAX_JSON_DEPTH = 20;
/** Keys that could reach an object's prototype once a body is merged or copied somewhere. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export type JsonBodyResult = { ok: true; value: unknown } | { ok: false; problem: ProblemException };

/**
 * Parses a JSON body and refuses what could harm later code: prototype keys
 * anywhere and nesting beyond MAX_JSON_DEPTH. An empty body is no body, so a
 * command without fields may send none.
 */
export function parseJsonBody(bytes: Buffer): JsonBodyResult {
  let text: string;
  try {
    // JSON is UTF-8 (RFC 8259 §8.1); bytes that are not would otherwise be
    // stored as replacement characters, silently changing what was sent.
    text = strictUtf8.decode(bytes);
  } catch {
    return { ok: false, problem: problems.badRequest('The body is not valid UTF-8.') };
  }
  if (text.trim() === '') return { ok: true, value: undefined };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: problems.badRequest(`The body is not valid JSON: ${(error as Error).message}`) };
  }
  const refused = inspect(value);
  if (refused) return { ok: false, problem: refused };
  return { ok: true, value };
}

function inspect(root: unknown): ProblemException | undefined {
  // Iterative, so a hostile body cannot exhaust the call stack.
  const pending: Array<{ value: unknown; path: string; depth: number }> = [{ value: root, path: '', depth: 1 }];
  const forbidden: FieldError[] = [];
  while (pending.length > 0) {
    const { value, path, depth } = pending.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) {
      return problems.badRequest(`The body is nested more than ${MAX_JSON_DEPTH} levels deep.`);
    }
    for (const key of Object.keys(value)) {
      const child = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) {
        forbidden.push({ field: child, message: `${key} is not allowed as a field name` });
        continue;
      }
      pending.push({ value: (value as Record<string, unknown>)[key], path: child, depth: depth + 1 });
    }
  }
  return forbidden.length > 0 ? problems.validation(forbidden, 'The body uses a reserved field name.') : undefined;
}
