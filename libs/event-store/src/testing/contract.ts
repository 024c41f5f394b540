import { randomBytes, randomUUID } from 'node:crypto';
import {
  ConcurrencyError,
  EventStoreUnavailableError,
  InvalidEventError,
  InvalidStreamNameError,
  type EventStore,
  type EventSubscription,
  type NewEvent,
  type StoredEvent,
} from '../index';

export interface EventStoreUnderTest {
  store: EventStore;
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  /** How far `recordedAt` may be from this machine's clock (a remote server keeps its own). */
  clockToleranceMs?: number;
  /** Per-test timeout. */
  timeoutMs?: number;
}

/**
 * The behaviour every adapter of the port must show. Each test works in
 * streams of its own random category and looks only at those, so the suite
 * also runs against a server that keeps data between runs.
 */
export function describeEventStoreContract(
  name: string,
  factory: () => Promise<EventStoreUnderTest>,
  options: ContractOptions = {},
): void {
  const clockToleranceMs = options.clockToleranceMs ?? 5_000;
  const timeoutMs = options.timeoutMs ?? 20_000;

  describe(`EventStore contract: ${name}`, () => {
    let subject: EventStoreUnderTest;
    let store: EventStore;
    let category: string;
    const stream = (id: string): string => `${category}-${id}`;
    const mine = (event: StoredEvent): boolean => event.streamName.startsWith(`${category}-`);

    beforeEach(async () => {
      subject = await factory();
      store = subject.store;
      category = `contract${randomBytes(5).toString('hex')}`;
    });

    afterEach(async () => {
      await subject.cleanup();
    });

    describe('append', () => {
      it(
        'starts a new stream with no_stream; its first event is revision 0',
        async () => {
          const events = [newEvent('OrderRegistered'), newEvent('OrderShipped')];
          const result = await store.append(stream('a'), events, { expectedRevision: 'no_stream' });

          const stored = await store.readStream(stream('a'));
          expect(stored.map((e) => [e.id, e.revision])).toEqual([
            [events[0].id, 0],
            [events[1].id, 1],
          ]);
          expect(result).toEqual({ nextExpectedRevision: 1, position: stored[1].position });
        },
        timeoutMs,
      );

      it(
        'appends at the exact expected revision',
        async () => {
          const first = await store.append(stream('a'), [newEvent()], { expectedRevision: 'no_stream' });
          const second = await store.append(stream('a'), [newEvent(), newEvent()], {
            expectedRevision: first.nextExpectedRevision,
          });

          expect(second.nextExpectedRevision).toBe(2);
          expect(second.position).toBeGreaterThan(first.position);
          expect((await store.readStream(stream('a'))).map((e) => e.revision)).toEqual([0, 1, 2]);
        },
        timeoutMs,
      );

      it(
        'appends with any, to a missing and to an existing stream',
        async () => {
          await store.append(stream('a'), [newEvent()], { expectedRevision: 'any' });
          const result = await store.append(stream('a'), [newEvent()], { expectedRevision: 'any' });

          expect(result.nextExpectedRevision).toBe(1);
          expect(await store.readStream(stream('a'))).toHaveLength(2);
        },
        timeoutMs,
      );

      it(
        'appends with stream_exists to an existing stream',
        async () => {
          await store.append(stream('a'), [newEvent()], { expectedRevision: 'no_stream' });
          const result = await store.append(stream('a'), [newEvent()], { expectedRevision: 'stream_exists' });

          expect(result.nextExpectedRevision).toBe(1);
          expect(await store.readStream(stream('a'))).toHaveLength(2);
        },
        timeoutMs,
      );

      it.each([
        { conflict: 'a wrong exact revision', existing: 1, expected: 5, actual: 0 },
        { conflict: 'a stale exact revision', existing: 3, expected: 1, actual: 2 },
        { conflict: 'no_stream on an existing stream', existing: 1, expected: 'no_stream', actual: 0 },
        { conflict: 'stream_exists on a missing stream', existing: 0, expected: 'stream_exists', actual: 'no_stream' },
        { conflict: 'an exact revision on a missing stream', existing: 0, expected: 0, actual: 'no_stream' },
      ] as const)(
        'refuses $conflict with ConcurrencyError and writes nothing',
        async ({ existing, expected, actual }) => {
          if (existing > 0) {
            await store.append(stream('a'), Array.from({ length: existing }, () => newEvent()), {
              expectedRevision: 'no_stream',
            });
          }
          const before = await store.readStream(stream('a'));

          const refused = store.append(stream('a'), [newEvent()], { expectedRevision: expected });

          await expect(refused).rejects.toBeInstanceOf(ConcurrencyError);
          await expect(refused).rejects.toMatchObject({
            code: 'CONCURRENCY_CONFLICT',
            stream: stream('a'),
            expected,
            actual,
          });
          expect(await store.readStream(stream('a'))).toEqual(before);
        },
        timeoutMs,
      );

      it(
        're-appending the same event ids with the same expected revision is a no-op returning the original result',
        async () => {
          const opening = [newEvent(), newEvent()];
          const first = await store.append(stream('a'), opening, { expectedRevision: 'no_stream' });
          const followUp = [newEvent()];
          const second = await store.append(stream('a'), followUp, { expectedRevision: 1 });
          // The stream moves on before the retries arrive.
          await store.append(stream('a'), [newEvent()], { expectedRevision: 2 });

          await expect(store.append(stream('a'), opening, { expectedRevision: 'no_stream' })).resolves.toEqual(first);
          await expect(store.append(stream('a'), followUp, { expectedRevision: 1 })).resolves.toEqual(second);
          expect(await store.readStream(stream('a'))).toHaveLength(4);
        },
        timeoutMs,
      );

      it(
        'lets exactly one of several concurrent writers at the same expected revision win',
        async () => {
          await store.append(stream('a'), [newEvent()], { expectedRevision: 'no_stream' });

          const outcomes = await Promise.allSettled(
            Array.from({ length: 10 }, () => store.append(stream('a'), [newEvent()], { expectedRevision: 0 })),
          );

          const won = outcomes.filter((o) => o.status === 'fulfilled');
          const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
          expect(won).toHaveLength(1);
          expect(lost).toHaveLength(9);
          for (const { reason } of lost) {
            expect(reason).toBeInstanceOf(ConcurrencyError);
            expect(reason).toMatchObject({ expected: 0, actual: 1 });
          }
          expect(await store.readStream(stream('a'))).toHaveLength(2);
        },
        timeoutMs,
      );

      it(
        'accepts many concurrent appends to different streams',
        async () => {
          const count = 100;
          const results = await Promise.all(
            Array.from({ length: count }, (_, i) =>
              store.append(stream(`s${i}`), [newEvent()], { expectedRevision: 'no_stream' }),
            ),
          );

          expect(new Set(results.map((r) => r.position)).size).toBe(count);
          for (let i = 0; i < count; i++) {
            const stored = await store.readStream(stream(`s${i}`));
            expect(stored.map((e) => e.position)).toEqual([results[i].position]);
          }
        },
        timeoutMs,
      );
    });

    describe('retries', () => {
      it(
        'recognises a retry with any: the same ids again return the original result and write nothing',
        async () => {
          await store.append(stream('a'), [newEvent()], { expectedRevision: 'no_stream' });
          const events = [newEvent(), newEvent()];
          const first = await store.append(stream('a'), events, { expectedRevision: 'any' });

          const retried = await store.append(stream('a'), events, { expectedRevision: 'any' });

          expect(retried).toEqual(first);
          expect((await store.readStream(stream('a'))).map((e) => e.id).slice(1)).toEqual(events.map((e) => e.id));
        },
        timeoutMs,
      );

      it(
        'stores events once when retries of the same ids overlap, and answers each with the same result',
        async () => {
          const events = [newEvent(), newEvent()];
          const outcomes = await Promise.allSettled([
            store.append(stream('a'), events, { expectedRevision: 'no_stream' }),
            store.append(stream('a'), events, { expectedRevision: 'no_stream' }),
            store.append(stream('a'), events, { expectedRevision: 'no_stream' }),
          ]);

          const stored = await store.readStream(stream('a'));
          expect(stored.map((e) => e.id)).toEqual(events.map((e) => e.id));
          for (const outcome of outcomes) {
            expect(outcome).toEqual({ status: 'fulfilled', value: { nextExpectedRevision: 1, position: stored[1].position } });
          }
        },
        timeoutMs,
      );

      it(
        'stores events once when retries with any overlap',
        async () => {
          await store.append(stream('a'), [newEvent()], { expectedRevision: 'no_stream' });
          const events = [newEvent()];
          const outcomes = await Promise.allSettled([
            store.append(stream('a'), events, { expectedRevision: 'any' }),
            store.append(stream('a'), events, { expectedRevision: 'any' }),
          ]);

          const stored = await store.readStream(stream('a'));
          expect(stored.map((e) => e.id).slice(1)).toEqual(events.map((e) => e.id));
          for (const outcome of outcomes) {
            expect(outcome).toEqual({ status: 'fulfilled', value: { nextExpectedRevision: 1, position: stored[1].position } });
          }
        },
        timeoutMs,
      );
    });

    describe('reading', () => {
      it(
        'reads a stream in order, from a revision, at most maxCount events',
        async () => {
          const events = Array.from({ length: 5 }, (_, i) => newEvent('Counted', { i }));
          await store.append(stream('a'), events, { expectedRevision: 'no_stream' });
          const revisions = (stored: StoredEvent[]) => stored.map((e) => e.revision);

          const all = await store.readStream(stream('a'));
          expect(all.map((e) => e.data)).toEqual(events.map((e) => e.data));
          expect(revisions(all)).toEqual([0, 1, 2, 3, 4]);
          expect(revisions(await store.readStream(stream('a'), { fromRevision: 2 }))).toEqual([2, 3, 4]);
          expect(revisions(await store.readStream(stream('a'), { maxCount: 2 }))).toEqual([0, 1]);
          expect(revisions(await store.readStream(stream('a'), { fromRevision: 3, maxCount: 1 }))).toEqual([3]);
          expect(await store.readStream(stream('a'), { fromRevision: 5 })).toEqual([]);
        },
        timeoutMs,
      );

      it(
        'reads a stream that does not exist as []',
        async () => {
          expect(await store.readStream(stream('missing'))).toEqual([]);
        },
        timeoutMs,
      );

      it(
        'keeps every field of a stored event',
        async () => {
          const before = Date.now();
          const events: NewEvent[] = [
            {
              id: randomUUID(),
              type: 'ReturnRequested',
              data: {
                caseId: 'case-1',
                text: 'Grüße — 你好 🚀 "quoted" \\ back',
                amount: 12345,
                ratio: 0.5,
                negative: -3,
                flags: [true, false, null],
                nested: { lines: [{ lineId: 'l-1', quantity: 2 }], empty: {} },
              },
              metadata: {
                actor: { role: 'buyer', id: 'buyer-1' },
                channel: 'web',
                correlationId: randomUUID(),
                schemaVersion: 1,
                occurredAt: '2025-01-02T03:04:05.678Z',
              },
            },
            { id: randomUUID(), type: 'ListRecorded', data: [1, 'two', { three: 3 }], metadata: {} },
            { id: randomUUID().toUpperCase(), type: 'TextRecorded', data: 'plain text', metadata: { n: 1 } },
          ];
          const start = await store.headPosition();
          await store.append(stream('a'), events, { expectedRevision: 'no_stream' });
          const after = Date.now();

          const check = (stored: StoredEvent[]) => {
            expect(stored).toHaveLength(events.length);
            stored.forEach((event, i) => {
              expect(event).toEqual({
                id: events[i].id.toLowerCase(),
                streamName: stream('a'),
                type: events[i].type,
                data: events[i].data,
                metadata: events[i].metadata,
                revision: i,
                position: expect.any(Number),
                recordedAt: expect.any(Date),
              });
              expect(event.position).toBeGreaterThan(start);
              expect(event.recordedAt.getTime()).toBeGreaterThanOrEqual(before - clockToleranceMs);
              expect(event.recordedAt.getTime()).toBeLessThanOrEqual(after + clockToleranceMs);
            });
          };

          const fromStream = await store.readStream(stream('a'));
          check(fromStream);
          const fromAll = (await readAllMine(store, start, mine)).events;
          expect(fromAll).toEqual(fromStream);
          const subscription = store.subscribeToAll({ after: start });
          const collector = collect(subscription, mine);
          try {
            expect(await collector.until(events.length, timeoutMs / 2)).toEqual(fromStream);
          } finally {
            await subscription.close();
            await collector.done;
          }
        },
        timeoutMs,
      );

      it(
        'gives events strictly increasing global positions across streams',
        async () => {
          const start = await store.headPosition();
          const results = [];
          for (let i = 0; i < 6; i++) {
            results.push(
              await store.append(stream(`s${i % 3}`), [newEvent(), newEvent()], {
                expectedRevision: i < 3 ? 'no_stream' : 1,
              }),
            );
          }
          const positions = results.map((r) => r.position);
          expect(positions).toEqual([...positions].sort((a, b) => a - b));
          expect(new Set(positions).size).toBe(positions.length);

          const all = (await readAllMine(store, start, mine, 1000)).events;
          const allPositions = all.map((e) => e.position);
          expect(allPositions).toHaveLength(12);
          for (let i = 1; i < allPositions.length; i++) expect(allPositions[i]).toBeGreaterThan(allPositions[i - 1]);
          expect(all.filter((e) => e.revision === 1).map((e) => e.position)).toEqual(positions.slice(0, 3));
        },
        timeoutMs,
      );

      it(
        'reads all events after a position, in batches',
        async () => {
          const start = await store.headPosition();
          const appended: NewEvent[] = [];
          for (let i = 0; i < 7; i++) {
            const event = newEvent('Counted', { i });
            appended.push(event);
            await store.append(stream(`s${i % 2}`), [event], { expectedRevision: i < 2 ? 'no_stream' : Math.floor(i / 2) - 1 });
          }

          const { events, batches } = await readAllMine(store, start, mine, 3);
          expect(events.map((e) => e.id)).toEqual(appended.map((e) => e.id));
          for (const batch of batches) {
            expect(batch.length).toBeLessThanOrEqual(3);
            expect(batch.every((e) => e.position > start)).toBe(true);
          }

          const fromFourth = await store.readAll({ after: events[3].position, maxCount: 1000 });
          expect(fromFourth.filter(mine).map((e) => e.id)).toEqual(appended.slice(4).map((e) => e.id));
          expect(fromFourth.every((e) => e.position > events[3].position)).toBe(true);
        },
        timeoutMs,
      );

      it(
        'reports a head position at or after the last append',
        async () => {
          const result = await store.append(stream('a'), [newEvent()], { expectedRevision: 'no_stream' });
          expect(await store.headPosition()).toBeGreaterThanOrEqual(result.position);
        },
        timeoutMs,
      );
    });

    describe('durable', () => {
      it(
        'resolves on a store with nothing new to make durable',
        async () => {
          await expect(withTimeout(store.durable(), timeoutMs / 2, 'durable()')).resolves.toBeUndefined();
        },
        timeoutMs,
      );

      it(
        'resolves once what a stream read showed is durable, and readAll then shows it too',
        async () => {
          const events = [newEvent(), newEvent()];
          const appending = store.append(stream('a'), events, { expectedRevision: 'no_stream' });
          // Not awaited: an adapter may show an append to stream reads before acknowledging it.
          let seen: StoredEvent[] = [];
          const deadline = Date.now() + timeoutMs / 2;
          while (seen.length < 2 && Date.now() < deadline) {
            seen = await store.readStream(stream('a'));
            if (seen.length < 2) await new Promise((resolve) => setImmediate(resolve));
          }
          expect(seen.map((e) => e.id)).toEqual(events.map((e) => e.id));

          await withTimeout(store.durable(), timeoutMs / 2, 'durable()');

          const { events: all } = await readAllMine(store, seen[0].position - 1, mine, 100);
          expect(all.map((e) => e.id)).toEqual(events.map((e) => e.id));
          await appending;
        },
        timeoutMs,
      );

      it(
        'resolves every call made while appends are under way',
        async () => {
          const outcomes = await withTimeout(
            Promise.all([
              store.append(stream('a'), [newEvent()], { expectedRevision: 'no_stream' }),
              store.durable(),
              store.append(stream('b'), [newEvent()], { expectedRevision: 'no_stream' }),
              store.durable(),
              store.durable(),
            ]),
            timeoutMs / 2,
            'appends and durable()',
          );
          expect([outcomes[1], outcomes[3], outcomes[4]]).toEqual([undefined, undefined, undefined]);
        },
        timeoutMs,
      );

      it(
        'rejects once the store is closed',
        async () => {
          await store.close();
          await expect(store.durable()).rejects.toBeInstanceOf(EventStoreUnavailableError);
        },
        timeoutMs,
      );
    });

    describe('subscribeToAll', () => {
      it(
        'catches up from a checkpoint, then delivers events appended after caughtUp',
        async () => {
          const start = await store.headPosition();
          const history = [newEvent(), newEvent(), newEvent()];
          await store.append(stream('a'), history, { expectedRevision: 'no_stream' });

          const subscription = store.subscribeToAll({ after: start });
          const collector = collect(subscription, mine);
          try {
            await withTimeout(subscription.caughtUp, timeoutMs / 2, 'caughtUp');
            expect(collector.events.map((e) => e.id)).toEqual(history.map((e) => e.id));

            const live = [newEvent(), newEvent()];
            await store.append(stream('a'), live, { expectedRevision: 2 });
            await store.append(stream('b'), [newEvent(), newEvent()], { expectedRevision: 'no_stream' });

            const received = await collector.until(7, timeoutMs / 2);
            expect(received.slice(0, 5).map((e) => e.id)).toEqual([...history, ...live].map((e) => e.id));
            expectStrictlyIncreasing(received.map((e) => e.position));
          } finally {
            await subscription.close();
            await collector.done;
          }
        },
        timeoutMs,
      );

      it(
        'resumes from a checkpoint with no repeats and no gaps',
        async () => {
          const start = await store.headPosition();
          const events = Array.from({ length: 5 }, (_, i) => newEvent('Counted', { i }));
          await store.append(stream('a'), events, { expectedRevision: 'no_stream' });

          const first = store.subscribeToAll({ after: start });
          const firstCollector = collect(first, mine);
          const [, second] = await firstCollector.until(2, timeoutMs / 2);
          await first.close();
          await firstCollector.done;
          const checkpoint = second.position;

          const resumed = store.subscribeToAll({ after: checkpoint });
          const collector = collect(resumed, mine);
          try {
            await withTimeout(resumed.caughtUp, timeoutMs / 2, 'caughtUp');
            const live = newEvent('Counted', { i: 5 });
            await store.append(stream('a'), [live], { expectedRevision: 4 });
            // A last event proves nothing else (a repeat) was delivered before it.
            const sentinel = newEvent('Sentinel');
            await store.append(stream('b'), [sentinel], { expectedRevision: 'no_stream' });

            const received = await collector.until(5, timeoutMs / 2);
            expect(received.map((e) => e.id)).toEqual([...events.slice(2), live, sentinel].map((e) => e.id));
            expect(received.every((e) => e.position > checkpoint)).toBe(true);
          } finally {
            await resumed.close();
            await collector.done;
          }
        },
        timeoutMs,
      );

      it(
        'yields only the event types asked for, in order, and reports the positions it passes over',
        async () => {
          const start = await store.headPosition();
          // Types unique to this test: a shared server holds other tests' events too.
          const wanted = `${category}Wanted`;
          const other = `${category}Other`;
          const history = [newEvent(wanted), newEvent(other), newEvent(wanted), newEvent(other)];
          await store.append(stream('a'), history, { expectedRevision: 'no_stream' });

          const subscription = store.subscribeToAll({ after: start, eventTypes: [wanted, `${category}Unused`] });
          const checkpoints: number[] = [];
          subscription.onCheckpoint((position) => checkpoints.push(position));
          const collector = collect(subscription, mine);
          try {
            await withTimeout(subscription.caughtUp, timeoutMs / 2, 'caughtUp');
            const stored = await store.readStream(stream('a'));
            expect(collector.events.map((e) => e.id)).toEqual([history[0].id, history[2].id]);
            // The last event was passed over; the subscription still says it got that far.
            await waitUntil(() => checkpoints.some((p) => p >= stored[3].position), timeoutMs / 2, 'a checkpoint past the last event');
            expectStrictlyIncreasing(checkpoints);

            const live = [newEvent(other), newEvent(wanted)];
            await store.append(stream('b'), live, { expectedRevision: 'no_stream' });
            const received = await collector.until(3, timeoutMs / 2);
            expect(received.map((e) => e.id)).toEqual([history[0].id, history[2].id, live[1].id]);
            expect(received.every((e) => e.type === wanted)).toBe(true);
          } finally {
            await subscription.close();
            await collector.done;
          }
        },
        timeoutMs,
      );

      it(
        'catches up with a filter that matches nothing',
        async () => {
          await store.append(stream('a'), [newEvent(), newEvent()], { expectedRevision: 'no_stream' });
          const subscription = store.subscribeToAll({ eventTypes: [`${category}Nothing`] });
          const collector = collect(subscription, () => true);
          try {
            await withTimeout(subscription.caughtUp, timeoutMs / 2, 'caughtUp');
            expect(collector.events).toEqual([]);
          } finally {
            await subscription.close();
            await collector.done;
          }
        },
        timeoutMs,
      );

      it(
        'delivers events appended during catch-up once each, in order',
        async () => {
          const start = await store.headPosition();
          const history = Array.from({ length: 20 }, (_, i) => newEvent('Counted', { i }));
          await store.append(stream('a'), history, { expectedRevision: 'no_stream' });

          const subscription = store.subscribeToAll({ after: start });
          const collector = collect(subscription, mine);
          try {
            // Appended while the subscription starts and reads its history.
            const during: NewEvent[] = [];
            for (let i = 0; i < 10; i++) {
              const event = newEvent('Counted', { i: 20 + i });
              during.push(event);
              await store.append(stream('a'), [event], { expectedRevision: 19 + i });
            }
            await withTimeout(subscription.caughtUp, timeoutMs / 2, 'caughtUp');
            const sentinel = newEvent('Sentinel');
            await store.append(stream('b'), [sentinel], { expectedRevision: 'no_stream' });

            const received = await collector.until(31, timeoutMs / 2);
            expect(received.map((e) => e.id)).toEqual([...history, ...during, sentinel].map((e) => e.id));
          } finally {
            await subscription.close();
            await collector.done;
          }
        },
        timeoutMs,
      );

      it(
        'catches up through a history longer than a read batch and an adapter buffer, handing every event over before caughtUp',
        async () => {
          const start = await store.headPosition();
          const total = 2_500;
          const chunk = 100;
          const ids: string[] = [];
          for (let first = 0; first < total; first += chunk) {
            const events = Array.from({ length: chunk }, (_, k) => newEvent('Counted', { i: first + k }));
            ids.push(...events.map((e) => e.id));
            await store.append(stream('a'), events, { expectedRevision: first === 0 ? 'no_stream' : first - 1 });
          }

          const subscription = store.subscribeToAll({ after: start });
          const received: StoredEvent[] = [];
          let receivedAtCaughtUp = -1;
          void subscription.caughtUp.then(() => (receivedAtCaughtUp = received.length), () => undefined);
          const consuming = (async () => {
            for await (const event of subscription) {
              if (mine(event)) received.push(event);
              // A slow consumer: the adapter has to hold back what it reads ahead.
              if (received.length % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
            }
          })();
          try {
            await withTimeout(subscription.caughtUp, timeoutMs, 'caughtUp');
            expect(receivedAtCaughtUp).toBe(total);
            expect(received.map((e) => e.id)).toEqual(ids);
            expectStrictlyIncreasing(received.map((e) => e.position));
          } finally {
            await subscription.close();
            await withTimeout(consuming, timeoutMs / 2, 'the end of the iteration');
          }
        },
        timeoutMs * 2,
      );

      it(
        'serves several subscribers at once, each every event in the same order',
        async () => {
          const start = await store.headPosition();
          await store.append(stream('a'), [newEvent(), newEvent()], { expectedRevision: 'no_stream' });
          const subscriptions = Array.from({ length: 3 }, () => store.subscribeToAll({ after: start }));
          const collectors = subscriptions.map((subscription) => collect(subscription, mine));
          try {
            await Promise.all(subscriptions.map((subscription) => withTimeout(subscription.caughtUp, timeoutMs / 2, 'caughtUp')));
            await store.append(stream('b'), [newEvent(), newEvent()], { expectedRevision: 'no_stream' });
            await store.append(stream('a'), [newEvent()], { expectedRevision: 1 });

            const seen = await Promise.all(collectors.map((collector) => collector.until(5, timeoutMs / 2)));
            const expected = (await readAllMine(store, start, mine, 100)).events.map((e) => e.id);
            for (const events of seen) expect(events.map((e) => e.id)).toEqual(expected);
          } finally {
            await Promise.all(subscriptions.map((subscription) => subscription.close()));
            await Promise.all(collectors.map((collector) => collector.done));
          }
        },
        timeoutMs,
      );

      it('refuses an empty or malformed list of event types as a programming error', () => {
        expect(() => store.subscribeToAll({ eventTypes: [] })).toThrow(RangeError);
        expect(() => store.subscribeToAll({ eventTypes: [''] })).toThrow(RangeError);
        expect(() => store.subscribeToAll({ eventTypes: 'Wanted' as unknown as string[] })).toThrow(RangeError);
      });

      it(
        'ends the iteration when closed',
        async () => {
          const subscription = store.subscribeToAll({ after: await store.headPosition() });
          const collector = collect(subscription, mine);
          await withTimeout(subscription.caughtUp, timeoutMs / 2, 'caughtUp');

          await subscription.close();

          await expect(withTimeout(collector.done, timeoutMs / 2, 'the end of the iteration')).resolves.toBeUndefined();
        },
        timeoutMs,
      );
    });

    describe('validation', () => {
      const circular: Record<string, unknown> = { a: 1 };
      circular.self = circular;
      const malformed: Array<[string, (valid: NewEvent) => unknown[]]> = [
        ['no events', () => []],
        ['events that are not an array', (valid) => valid as unknown as unknown[]],
        ['a missing type', (valid) => [valid, { id: randomUUID(), data: {}, metadata: {} }]],
        ['an empty type', (valid) => [valid, { ...newEvent(), type: '' }]],
        ['a type that is not a string', (valid) => [valid, { ...newEvent(), type: 42 }]],
        ['a type starting with $', (valid) => [valid, { ...newEvent(), type: '$metadata' }]],
        ['undefined data', (valid) => [valid, { ...newEvent(), data: undefined }]],
        ['a function in data', (valid) => [valid, { ...newEvent(), data: { f: () => 1 } }]],
        ['a BigInt in data', (valid) => [valid, { ...newEvent(), data: { amount: 10n } }]],
        ['a circular object in data', (valid) => [valid, { ...newEvent(), data: circular }]],
        ['a symbol in data', (valid) => [valid, { ...newEvent(), data: { s: Symbol('s') } }]],
        ['a non-finite number in data', (valid) => [valid, { ...newEvent(), data: { n: Number.NaN } }]],
        ['undefined in an array', (valid) => [valid, { ...newEvent(), data: [1, undefined] }]],
        ['metadata that is not an object', (valid) => [valid, { ...newEvent(), metadata: 'web' }]],
        ['null metadata', (valid) => [valid, { ...newEvent(), metadata: null }]],
        ['a BigInt in metadata', (valid) => [valid, { ...newEvent(), metadata: { n: 1n } }]],
        ['an id that is not a uuid', (valid) => [valid, { ...newEvent(), id: 'event-1' }]],
        ['a missing id', (valid) => [valid, { type: 'T', data: {}, metadata: {} }]],
        ['the same id twice', (valid) => [valid, { ...newEvent(), id: valid.id }]],
        ['an event that is not an object', (valid) => [valid, null]],
      ];

      it.each(malformed)(
        'refuses %s with InvalidEventError and writes nothing',
        async (_case, build) => {
          const attempt = store.append(stream('a'), build(newEvent()) as NewEvent[], { expectedRevision: 'any' });

          await expect(attempt).rejects.toBeInstanceOf(InvalidEventError);
          await expect(attempt).rejects.toMatchObject({ code: 'INVALID_EVENT' });
          expect(await store.readStream(stream('a'))).toEqual([]);
        },
        timeoutMs,
      );

      const badNames: unknown[] = [
        '',
        'order',
        'order-',
        '-1',
        'Order-1',
        '1order-1',
        '$ce-order',
        'order-$1',
        'ord_er-1',
        'order-a b',
        'order-a/b',
        'order-é',
        `o${'x'.repeat(64)}-1`,
        `order-${'x'.repeat(129)}`,
        42,
        undefined,
      ];

      it.each(badNames)(
        'refuses the stream name %p with InvalidStreamNameError and writes nothing',
        async (streamName) => {
          const head = await store.headPosition();

          const attempt = store.append(streamName as string, [newEvent()], { expectedRevision: 'any' });

          await expect(attempt).rejects.toBeInstanceOf(InvalidStreamNameError);
          await expect(attempt).rejects.toMatchObject({ code: 'INVALID_STREAM_NAME' });
          await expect(store.readStream(streamName as string)).rejects.toBeInstanceOf(InvalidStreamNameError);
          expect(await store.headPosition()).toBe(head);
        },
        timeoutMs,
      );

      it(
        'accepts stream names at the limits',
        async () => {
          const longCategory = `${category}${'x'.repeat(64 - category.length)}`;
          const names = [stream('a-b_C-9'), stream('x'.repeat(128)), `${longCategory}-1`];
          for (const name of names) {
            await store.append(name, [newEvent()], { expectedRevision: 'no_stream' });
            expect(await store.readStream(name)).toHaveLength(1);
          }
        },
        timeoutMs,
      );
    });
  });
}

function newEvent(type = 'ThingHappened', data: unknown = { at: 1 }): NewEvent {
  return { id: randomUUID(), type, data, metadata: { schemaVersion: 1 } };
}

function expectStrictlyIncreasing(values: number[]): void {
  for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]);
}

/** Reads the whole log after `after` in batches, keeping this test's events. */
async function readAllMine(
  store: EventStore,
  after: number,
  keep: (event: StoredEvent) => boolean,
  maxCount = 3,
): Promise<{ events: StoredEvent[]; batches: StoredEvent[][] }> {
  const events: StoredEvent[] = [];
  const batches: StoredEvent[][] = [];
  let position = after;
  for (;;) {
    const batch = await store.readAll({ after: position, maxCount });
    if (batch.length === 0) return { events, batches };
    batches.push(batch);
    events.push(...batch.filter(keep));
    position = batch[batch.length - 1].position;
  }
}

interface Collector {
  readonly events: StoredEvent[];
  /** Resolves with the events once at least `count` have arrived. */
  until(count: number, timeoutMs: number): Promise<StoredEvent[]>;
  /** Settles when the iteration ends. */
  readonly done: Promise<void>;
}

function collect(subscription: EventSubscription, keep: (event: StoredEvent) => boolean): Collector {
  const events: StoredEvent[] = [];
  const waiters = new Set<() => void>();
  let ended = false;
  let failure: unknown;
  const done = (async () => {
    try {
      for await (const event of subscription) {
        if (!keep(event)) continue;
        events.push(event);
        for (const waiter of [...waiters]) waiter();
      }
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      ended = true;
      for (const waiter of [...waiters]) waiter();
    }
  })();
  done.catch(() => undefined);

  return {
    events,
    done,
    until(count, timeoutMs) {
      return new Promise<StoredEvent[]>((resolve, reject) => {
        const check = (): void => {
          if (events.length >= count) finish(() => resolve([...events]));
          else if (ended) finish(() => reject(failure ?? new Error(`Subscription ended after ${events.length} of ${count} events`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`Received ${events.length} of ${count} events in ${timeoutMs} ms`))),
          timeoutMs,
        );
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
  };
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
