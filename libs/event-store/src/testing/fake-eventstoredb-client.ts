import {
  ANY,
  END,
  NO_STREAM,
  START,
  STREAM_EXISTS,
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
 * It lets the adapter's own logic run through the contract suite on any
 * machine; the real server is still the judge (see the integration spec).
 */
export class FakeEventStoreDbClient {
  private readonly log: FakeRecord[] = [];
  private readonly subscriptions = new Set<FakeSubscription>();
  private nextPosition = 1_000n;

  constructor(private readonly options: { sendsCaughtUp: boolean }) {
    this.write('$stats-127.0.0.1:2113', '$statsCollected', {});
  }

  async appendToStream(
    streamName: string,
    events: EventData | EventData[],
    options: { expectedRevision?: AppendExpectedRevision } = {},
  ): Promise<AppendResult> {
    const batch = Array.isArray(events) ? events : [events];
    const expected = options.expectedRevision ?? ANY;
    await Promise.resolve();
    const stream = this.log.filter((record) => record.streamId === streamName);
    const current = stream.length - 1;
    const ids = batch.map((event) => event.id.toLowerCase());

    const replayFrom = (revision: number): AppendResult | undefined => {
      const candidates = stream.slice(revision, revision + ids.length);
      if (candidates.length !== ids.length || candidates.some((record, i) => record.id !== ids[i])) return undefined;
      return { success: true, nextExpectedRevision: candidates[candidates.length - 1].revision };
    };
    const conflict = (): never => {
      throw new WrongExpectedVersionError(undefined, {
        streamName,
        expected,
        current: current === -1 ? NO_STREAM : BigInt(current),
      });
    };

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
    const pattern = options.filter && 'regex' in options.filter ? new RegExp(options.filter.regex) : undefined;
    const subscription = new FakeSubscription(pattern, () => this.subscriptions.delete(subscription));
    for (const record of this.log) if (record.position.commit > after) subscription.offer(record);
    if (this.options.sendsCaughtUp) subscription.write(CAUGHT_UP);
    this.subscriptions.add(subscription);
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
    for (const subscription of this.subscriptions) subscription.offer(record);
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

/** Like the client's subscription: a transform that turns control messages into events. */
class FakeSubscription extends Transform {
  constructor(
    private readonly pattern: RegExp | undefined,
    private readonly onEnd: () => void,
  ) {
    super({ objectMode: true });
  }

  offer(record: FakeRecord): void {
    if (!this.pattern || this.pattern.test(record.type)) this.write(resolved(record));
  }

  override _transform(message: unknown, _encoding: BufferEncoding, next: TransformCallback): void {
    if (message === CAUGHT_UP) {
      this.emit('caughtUp');
      next();
      return;
    }
    next(null, message);
  }

  async unsubscribe(): Promise<void> {
    this.onEnd();
    this.end();
  }
}

function resolved(record: FakeRecord): { event: FakeRecord; commitPosition: bigint } {
  return { event: record, commitPosition: record.position.commit };
}

function randomId(): string {
  return globalThis.crypto.randomUUID();
}
