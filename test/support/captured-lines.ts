import type { DestinationStream } from 'pino';

/** A pino destination that keeps the JSON lines written to it, for tests. */
export class CapturedLines implements DestinationStream {
  readonly lines: Array<Record<string, unknown>> = [];
  private text = '';

  write(line: string): void {
    this.text += line;
    this.lines.push(JSON.parse(line) as Record<string, unknown>);
  }

  /** Everything written, as written: for asserting what must never appear. */
  raw(): string {
    return this.text;
  }
}
