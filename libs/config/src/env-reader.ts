/**
 * Reads one environment variable at a time and remembers every problem, so a
 * bad start reports all wrong variables at once instead of one per attempt.
 */
export class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.fail(name, `must be one of ${allowed.join(', ')}`, value);
    return fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      this.fail(name, `must be an integer from ${min} to ${max}`, value);
      return fallback;
    }
    return Number(value);
  }

  url(name: string, protocols: readonly string[]): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      this.fail(name, `must be a URL (${protocols.join(', ')})`, withoutCredentials(value));
      return undefined;
    }
    if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
      this.fail(name, `must use one of the schemes ${protocols.join(', ')}`, withoutCredentials(value));
      return undefined;
    }
    return value;
  }

  /** A value API.md names for a part not built yet stops the start, saying so; `built` (the default) is accepted. */
  notBuiltYet<T extends string>(name: string, built: T, planned: readonly string[], today: string): T {
    const value = this.raw(name);
    if (value === undefined || value === built) return built;
    if (planned.includes(value)) this.problems.push(`${name}: ${value} is not available yet (only ${built}, the default: ${today})`);
    else this.fail(name, `must be ${built} (${planned.join(', ')} not available yet)`, value);
    return built;
  }

  /** A variable that nothing reads yet: refused when set, so nobody believes it took effect. */
  unused(name: string, why: string): void {
    if (this.raw(name) !== undefined) this.problems.push(`${name}: is not used yet (${why}); unset it`);
  }

  require(name: string, because: string): void {
    if (this.raw(name) === undefined) this.problems.push(`${name}: is required ${because}`);
  }

  fail(name: string, reason: string, value?: string): void {
    // Secrets are never echoed back into logs.
    const shown = value === undefined || /SECRET|KEY|PASSWORD/.test(name) ? '' : ` (got "${value}")`;
    this.problems.push(`${name}: ${reason}${shown}`);
  }
}

/**
 * A connection URL as it may be shown in a start-up error: everything before
 * the last "@" (user and password) and password-like query values masked,
 * even when the value does not parse as a URL.
 */
export function withoutCredentials(value: string): string {
  let shown = value;
  const at = shown.lastIndexOf('@');
  if (at >= 0) shown = `${/^[a-z][a-z0-9+.-]*:\/\//i.exec(shown)?.[0] ?? ''}***${shown.slice(at)}`;
  return shown.replace(/([?&;](?:password|passwd|pwd|secret|token|key)[^=&;]*=)[^&;#]*/gi, '$1***');
}
