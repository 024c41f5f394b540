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
      this.fail(name, `must be a URL (${protocols.join(', ')})`, value);
      return undefined;
    }
    if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
      this.fail(name, `must use one of the schemes ${protocols.join(', ')}`, value);
      return undefined;
    }
    return value;
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
