import {
  ANY,
  END,
  EVENT_TYPE,
  ErrorType,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AppendExpectedRevision,
  type AppendResult,
  type EventData,
  type Filter,
  type Position,
  type ReadPosition,
  type ReadRevision,
} from '@eventstore/db-client';
import { Readable, Transform, type TransformCallback } from 'node:stream';

/**
 * An in-memory model of the parts of an EventStoreDB server the adapter
 * uses, as documented and as the client exposes them: self-committed events
 * (commit = prepare position, byte-like gaps between them), system events
 * and links between user events, forward reads inclusive of their start
 * position, backward reads and subscriptions exclusive of it, idempotent
 * appends recognised by event id at the expected positions, no position
 * returned for an idempotent append, and a `caughtUp` signal only when asked
 * to behave like a server from 23.10 on.
 *
 * Subscriptions behave like the client's: a Transform stream (16 objects of
 * buffer each side) fed asynchronously, page by page, honouring
 * back-pressure; the server's filter (regex or prefixes, on event type or
 * stream name) with a checkpoint after every `maxSearchWindow x
 * checkpointInterval` events looked through and one on reaching the end of
 * history, passed to `checkpointReached` and `caughtUp` raised as the
 * transform parses them, while earlier events may still sit in its buffer.
 * Failures can be staged: the server unavailable (calls fail, live
 * subscriptions error), a subscription dropped, a stream deleted, a client
 * that reports conflicts as `success: false`.
 *
 * It lets the adapter's own logic run through the contract suite on any
 * machine; the real server is still the judge (see the integration spec and
 * libs/event-store/README.md for where the model differs).
 */
export class FakeEventStoreDbClient {
  private readonly log: FakeRecord[] = [];
  private readonly subscriptions = new Set<FakeSubscription>();
  private readonly deleted = new Set<string>();
  private nextPosition = 1_000n;
  private unavailable: Error | undefined;

  constructor(private readonly options: { sendsCaughtUp: boolean; throwOnAppendFailure?: boolean }) {
    this.write('$stats-127.0.0.1:2113', '$statsCollected', {});
  }

  /** Every call fails (and live subscriptions error) with an UNAVAILABLE error until `reconnect()`. */
  disconnect(): void {
    this.unavailable = Object.assign(new Error('14 UNAVAILABLE: No connection established'), { type: ErrorType.UNAVAILABLE });
    for (const subscription of [...this.subscriptions]) subscription.fail(this.unavailable);
  }

  reconnect(): void {
    this.unavailable = undefined;
  }

  /** The server ends every open subscription (as after a leader change). */
  dropSubscriptions(): void {
    for (const subscription of [...this.subscriptions]) subscription.endFromServer();
  }

  /** Tombstones a stream: reading or appending to it fails with StreamDeletedError. */
  tombstone(streamName: string): void {
    this.deleted.add(streamName);
  }

  /** Open subscriptions, for tests that check nothing is left behind. */
  get openSubscriptions(): number {
    return this.subscriptions.size;
  }

  /** Whether the reader (the adapter) paused any open subscription: back-pressure reached the client. */
  get anySubscriptionPaused(): boolean {
    return [...this.subscriptions].some((subscription) => subscription.isPaused());
  }

  async appendToStream(
    streamName: string,
    events: EventData | EventData[],
    options: { expectedRevision?: AppendExpectedRevision } = {},
  ): Promise<AppendResult> {
    const batch = Array.isArray(events) ? events : [events];
    const expected = options.expectedRevision ?? ANY;
    await Promise.resolve();
    if (this.unavailable) throw this.unavailable;
    if (this.deleted.has(streamName)) throw new StreamDeletedError(undefined, streamName);
    const stream = this.log.filter((record) => record.streamId === streamName);
    const current = stream.length - 1;
    const ids = batch.map((event) => event.id.toLowerCase());

    const replayFrom = (revision: number): AppendResult | undefined => {
      const candidates = stream.slice(revision, revision + ids.length);
      if (candidates.length !== ids.length || candidates.some((record, i) => record.id !== ids[i])) return undefined;
      return { success: true, nextExpectedRevision: candidates[candidates.length - 1].revision };
    };
    const conflict = (): never => {
      if (this.options.throwOnAppendFailure === false) {
        throw new FailedAppend({ success: false, nextExpectedRevision: BigInt(current) });
      }
      throw new WrongExpectedVersionError(undefined, {
        streamName,
        expected,
        current: current === -1 ? NO_STREAM : BigInt(current),
      });
    };

    try {
      return this.decide(streamName, batch, expected, stream, current, ids, replayFrom, conflict);
    } catch (error) {
      if (error instanceof FailedAppend) return error.result;
      throw error;
    }
  }

  private decide(
    streamName: string,
    batch: EventData[],
    expected: AppendExpectedRevision,
    stream: FakeRecord[],
    current: number,
    ids: string[],
    replayFrom: (revision: number) => AppendResult | undefined,
    conflict: () => never,
  ): AppendResult {
    if (expected === ANY || expected === STREAM_EXISTS) {
      if (expected === STREAM_EXISTS && current === -1) conflict();
      const at = stream.findIndex((record) => record.id === ids[0]);
      const replayed = at === -1 ? undefined : replayFrom(at);
      if (replayed) return replayed;
    } else if (expected === NO_STREAM) {
      if (current !== -1) return replayFrom(0) ?? conflict();
    } else if (Number(expected) !== current) {
      return (Number(expected) < current ? replayFrom(Number(expected) + 1) : undefined) ?? conflict();
    }

    let last: FakeRecord | undefined;
    batch.forEach((event, i) => {
      last = this.write(streamName, event.type, event.data, event.metadata, current + 1 + i, ids[i]);
    });
    // Projections add links of their own after user events.
    this.write(`$ce-${streamName.split('-')[0]}`, '$>', `${current + 1}@${streamName}`);
    return { success: true, nextExpectedRevision: last!.revision, position: last!.position };
  }

  readStream(
    streamName: string,
    options: { fromRevision?: ReadRevision; maxCount?: number | bigint } = {},
  ): Readable {
    const failure = this.unavailable ?? (this.deleted.has(streamName) ? new StreamDeletedError(undefined, streamName) : undefined);
    if (failure) return failing(failure);
    const stream = this.log.filter((record) => record.streamId === streamName);
    if (stream.length === 0) {
      return new Readable({
        objectMode: true,
        read() {
          this.destroy(new StreamNotFoundError(undefined, streamName));
        },
      });
    }
    const from = options.fromRevision === undefined || options.fromRevision === START ? 0n : (options.fromRevision as bigint);
    const selected = stream.filter((record) => record.revision >= from).slice(0, Number(options.maxCount ?? Number.MAX_SAFE_INTEGER));
    return Readable.from(selected.map(resolved));
  }

  readAll(options: { fromPosition?: ReadPosition; maxCount?: number | bigint; direction?: string } = {}): Readable {
    if (this.unavailable) return failing(this.unavailable);
    const maxCount = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
    const from = options.fromPosition ?? START;
    let selected: FakeRecord[];
    if (options.direction === 'backwards') {
      const before = from === END || from === START ? undefined : (from as Position).commit;
      selected = this.log.filter((record) => before === undefined || record.position.commit < before).reverse();
    } else {
      const start = from === START ? 0n : from === END ? this.nextPosition : (from as Position).commit;
      selected = this.log.filter((record) => record.position.commit >= start);
    }
    return Readable.from(selected.slice(0, maxCount).map(resolved));
  }

  subscribeToAll(options: { fromPosition?: ReadPosition; filter?: Filter } = {}): FakeSubscription {
    const from = options.fromPosition ?? START;
    const after = from === START ? -1n : from === END ? this.nextPosition : (from as Position).commit;
    const subscription = new FakeSubscription(this.log, after, options.filter, this.options.sendsCaughtUp, () => this.subscriptions.delete(subscription));
    this.subscriptions.add(subscription);
    if (this.unavailable) subscription.fail(this.unavailable);
    else subscription.start();
    return subscription;
  }

  /** Server noise: statistics the adapter must skip wherever it reads. */
  writeSystemEvents(count: number): void {
    for (let i = 0; i < count; i++) this.write('$stats-127.0.0.1:2113', '$statsCollected', { i });
  }

  async dispose(): Promise<void> {
    for (const subscription of this.subscriptions) await subscription.unsubscribe();
  }

  private write(
    streamId: string,
    type: string,
    data: unknown,
    metadata?: unknown,
    revision = this.log.filter((record) => record.streamId === streamId).length,
    id = randomId(),
  ): FakeRecord {
    const position = this.nextPosition;
    // Records take room in the log: positions are far from consecutive.
    this.nextPosition += 97n + BigInt(Math.floor(Math.random() * 200));
    const record: FakeRecord = {
      streamId,
      id,
      type,
      revision: BigInt(revision),
      // What crosses the wire is JSON text.
      data: JSON.parse(JSON.stringify(data)),
      metadata: metadata === undefined ? undefined : JSON.parse(JSON.stringify(metadata)),
      isJson: true,
      created: new Date(),
      position: { commit: position, prepare: position },
    };
    this.log.push(record);
    for (const subscription of this.subscriptions) subscription.logGrew();
    return record;
  }
}

interface FakeRecord {
  streamId: string;
  id: string;
  type: string;
  revision: bigint;
  data: unknown;
  metadata: unknown;
  isJson: true;
  created: Date;
  position: Position;
}

const CAUGHT_UP = { caughtUp: true } as const;
/** Events the server looks through per filtered read when the filter names no window (the client's default). */
const DEFAULT_SEARCH_WINDOW = 32;
/** Records the model reads from its log per page before yielding to the event loop, as a server's reads do. */
const PAGE = 32;

/** What `appendToStream` answers instead of throwing when the client does not throw on append failures. */
class FailedAppend extends Error {
  constructor(readonly result: AppendResult) {
    super('append failed');
  }
}

/**
 * Like the client's subscription: a Transform turning the server's messages
 * (events, checkpoints, caughtUp) into events, fed asynchronously from the
 * log a page at a time and only as fast as the reader takes them.
 */
class FakeSubscription extends Transform {
  private cursor: number;
  private considered = 0;
  private caughtUpSent = false;
  private stopped = false;
  private wakePump: (() => void) | undefined;
  private readonly checkpointEvery: number;
  private readonly matches: (record: FakeRecord) => boolean;

  constructor(
    private readonly log: FakeRecord[],
    after: bigint,
    private readonly serverFilter: Filter | undefined,
    private readonly sendsCaughtUp: boolean,
    private readonly onEnd: () => void,
  ) {
    super({ objectMode: true });
    const first = log.findIndex((record) => record.position.commit > after);
    this.cursor = first === -1 ? log.length : first;
    this.checkpointEvery = (serverFilter?.maxSearchWindow ?? DEFAULT_SEARCH_WINDOW) * (serverFilter?.checkpointInterval ?? 1);
    this.matches = filterOf(serverFilter);
  }

  start(): void {
    void this.pump();
  }

  logGrew(): void {
    const wake = this.wakePump;
    this.wakePump = undefined;
    wake?.();
  }

  /** A connection failure: the client reports it as an error on the subscription. */
  fail(error: Error): void {
    setImmediate(() => {
      if (this.stopped) return;
      this.stop();
      this.emit('error', error);
    });
  }

  /** The server closed the call: the stream ends once the reader has taken what is buffered. */
  endFromServer(): void {
    if (this.stopped) return;
    this.stop();
    this.end();
  }

  override async _transform(message: unknown, _encoding: BufferEncoding, next: TransformCallback): Promise<void> {
    if (message === CAUGHT_UP) {
      this.emit('caughtUp');
      next();
      return;
    }
    if (typeof message === 'object' && message !== null && 'checkpoint' in message) {
      const position = (message as { checkpoint: bigint }).checkpoint;
      await this.serverFilter?.checkpointReached?.(this as never, { commit: position, prepare: position });
      next();
      return;
    }
    next(null, message);
  }

  async unsubscribe(): Promise<void> {
    this.stop();
    this.end();
  }

  private stop(): void {
    this.stopped = true;
    this.onEnd();
    this.logGrew();
  }

  private async pump(): Promise<void> {
    // Nothing arrives in the turn that subscribed: the server answers over the network.
    await new Promise((resolve) => setImmediate(resolve));
    while (!this.stopped) {
      let page = 0;
      while (this.cursor < this.log.length && page < PAGE && !this.stopped) {
        const record = this.log[this.cursor++];
        page++;
        if (this.matches(record)) await this.send(resolved(record));
        else if (!this.serverFilter) continue;
        if (this.serverFilter && ++this.considered >= this.checkpointEvery) {
          this.considered = 0;
          await this.send({ checkpoint: record.position.commit });
        }
      }
      if (this.stopped) return;
      if (this.cursor < this.log.length) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      if (!this.caughtUpSent) {
        this.caughtUpSent = true;
        // The end of history: a filtered subscription reports how far it looked, then says it is live.
        const last = this.log[this.log.length - 1];
        if (this.serverFilter && last) await this.send({ checkpoint: last.position.commit });
        if (this.sendsCaughtUp) await this.send(CAUGHT_UP);
        continue;
      }
      await new Promise<void>((resolve) => {
        this.wakePump = resolve;
      });
    }
  }

  /** Writes one message, waiting while the transform's buffers are full. */
  private async send(message: unknown): Promise<void> {
    if (this.stopped) return;
    if (!this.write(message)) await new Promise<void>((resolve) => this.once('drain', resolve).once('close', resolve));
  }
}

function filterOf(filter: Filter | undefined): (record: FakeRecord) => boolean {
  if (!filter) return () => true;
  const field = (record: FakeRecord): string => (filter.filterOn === EVENT_TYPE ? record.type : record.streamId);
  if ('regex' in filter) {
    const pattern = new RegExp(filter.regex);
    return (record) => pattern.test(field(record));
  }
  return (record) => filter.prefixes.some((prefix) => field(record).startsWith(prefix));
}

function failing(error: Error): Readable {
  return new Readable({
    objectMode: true,
    read() {
      this.destroy(error);
    },
  });
}

function resolved(record: FakeRecord): { event: FakeRecord; commitPosition: bigint } {
  return { event: record, commitPosition: record.position.commit };
}

function randomId(): string {
  return globalThis.crypto.randomUUID();
}
