import type { StoredEvent } from './event-store';

/** How the tail reads a row of the log as the store gives it (an event before it is parsed). */
export interface TailRows<Row> {
  position(row: Row): number;
  type(row: Row): string;
  /** Turns the row into its event; called at most once per row (the event is kept). */
  toEvent(row: Row): StoredEvent;
}

interface Entry<Row> {
  position: number;
  row: Row;
  event?: StoredEvent;
}

/** What a read of the tail found: as the store's own reads answer. */
export interface TailRead {
  events: StoredEvent[];
  scannedTo: number;
  reachedEnd: boolean;
}

/**
 * The newest part of the log as one store instance last read it, shared by
 * that instance's subscriptions. Live subscriptions of one thread follow the
 * log a few events behind its head and, each on its own, read and parse the
 * same new events; the projector's four did it four times per event. Through
 * the tail a new event is read once and parsed once, when the first
 * subscription that wants its type asks for it; the others get the same
 * event object. Events are facts and nobody changes them, so sharing is safe.
 *
 * The tail holds every event with a position in (from, to]: rows are only
 * added by reads of the whole range after `to` up to a head the store may
 * show (durable), and positions are handed out in commit order, so no later
 * commit can add an event inside a range already read. A read that starts
 * before `from` (a consumer catching up from far back) is not the tail's: the
 * store answers it with its own query, so a long replay never pushes the
 * live tail out.
 */
export class LogTail<Row> {
  private entries: Array<Entry<Row>> = [];
  /** Every event with from < position <= to is in `entries`; to < from: empty. */
  private from = 0;
  private to = -1;

  constructor(
    private readonly capacity: number,
    private readonly rows: TailRows<Row>,
  ) {}

  get empty(): boolean {
    return this.to < this.from;
  }

  /** The tail holds every event after this position (up to `end`). */
  get start(): number {
    return this.from;
  }

  /** The position the tail has read the log up to. */
  get end(): number {
    return this.to;
  }

  /** Starts an empty tail at `position`: the next rows must follow it. */
  restartAt(position: number): void {
    this.entries = [];
    this.from = position;
    this.to = position;
  }

  /**
   * Adds the rows read after `end` (in order), which cover the log up to
   * `readTo`; the oldest rows go beyond `capacity`.
   */
  extend(rows: readonly Row[], readTo: number): void {
    for (const row of rows) this.entries.push({ position: this.rows.position(row), row });
    this.to = Math.max(this.to, readTo);
    const excess = this.entries.length - this.capacity;
    if (excess > 0) {
      this.from = this.entries[excess - 1].position;
      this.entries = this.entries.slice(excess);
    }
  }

  /**
   * Events after `position` (in [start, end]), of `types` when given, at most
   * `maxCount`; `head` is how far the log went when the tail was last
   * extended for this read.
   */
  read(position: number, types: ReadonlySet<string> | undefined, maxCount: number, head: number): TailRead {
    const events: StoredEvent[] = [];
    const entries = this.entries;
    for (let i = this.firstAfter(position); i < entries.length; i++) {
      const entry = entries[i];
      if (types && !types.has(this.rows.type(entry.row))) continue;
      entry.event ??= this.rows.toEvent(entry.row);
      events.push(entry.event);
      if (events.length === maxCount) return { events, scannedTo: entry.position, reachedEnd: false };
    }
    return { events, scannedTo: Math.max(position, this.to), reachedEnd: this.to >= head };
  }

  /** Index of the first entry after `position` (binary search: entries are in position order). */
  private firstAfter(position: number): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.entries[middle].position <= position) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
